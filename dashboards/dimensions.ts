// The fixed vocabularies the dashboards plot (channels, frequencies, funnel stages, metrics) and the order
// they are drawn in, so every chart and table lists them the same way.

export const CHANNELS = ['messenger', 'instagram', 'whatsapp'] as const;
export const FREQUENCIES = ['daily', 'weekly', 'monthly'] as const;
export const FUNNEL_STAGES = ['sends', 'delivered', 'read', 'clicked', 'converted'] as const;
export const IMPACT_METRICS = ['opt_outs_per_1k', 'net_revenue_per_1k'] as const;
export type ImpactMetric = (typeof IMPACT_METRICS)[number];

export const FREQUENCY_METRICS = ['opt_outs_per_1k', 'read_rate', 'click_rate', 'net_revenue_per_send', 'expected_net_revenue_per_subscriber'] as const;
export type FrequencyMetric = (typeof FREQUENCY_METRICS)[number];

export const freqOrder = (f: string) => {
  const i = (FREQUENCIES as readonly string[]).indexOf(f);
  return i < 0 ? FREQUENCIES.length : i;
};
export const channelOrder = (c: string) => {
  const i = (CHANNELS as readonly string[]).indexOf(c);
  return i < 0 ? CHANNELS.length : i;
};
