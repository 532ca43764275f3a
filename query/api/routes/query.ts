// POST /v1/query: metrics by dimensions over a date range, shaped like the Plausible Stats API v2.
import type { RouteModule } from '../route-module.js';
import type { Extent } from '../../metrics/date-range.js';
import { warehouseExtent } from '../../metrics/extent.js';
import { needsExtent, normalizeQuery, queryRequestSchema, queryResponseSchema, type NormalizedQuery, type QueryRequest } from '../../metrics/request.js';
import { runMetricsQuery } from '../../metrics/query.js';
import { VersionedStore } from '../../versioned-store.js';

/** The request as the answer depends on it: a filter's values are a set, so their order does not matter. */
const answerKey = (q: NormalizedQuery, attributionWindowHours: number) => ({
  ...q,
  filters: q.filters.map((f) => ({ ...f, values: [...new Set(f.values)].sort() })),
  attributionWindowHours,
});

export const routes: RouteModule = (app, { wh, config, answers, daySums }) => {
  // The extent of relative ranges, kept per warehouse version by the answers' own rule.
  const extents = new VersionedStore<Extent | null>({ entries: 1, size: 1 }, async () => (await answers.currentVersion()) ?? '');
  const extentAt = async (version: string | null): Promise<Extent | null> => {
    if (version === null) return warehouseExtent(wh);
    const { value } = await extents.get(
      'extent',
      version,
      () => warehouseExtent(wh),
      () => 0,
    );
    return value;
  };
  app.post<{ Body: QueryRequest }>(
    '/v1/query',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['query'],
        summary: 'Metrics by dimensions over a date range',
        description:
          'Engagement, spam-risk and revenue metrics of sends, grouped by send dimensions; every rate and per-1k metric ' +
          'comes with a 95% interval as <metric>_ci95. Definitions: docs/metrics.md. Needs a key whose role grants "query".',
        body: queryRequestSchema,
        response: { 200: queryResponseSchema },
      },
    },
    async (req, reply) => {
      // One version read for the request: the extent of a relative range is kept per version like the answers,
      // so that a kept answer to "30d" costs no query of the warehouse's extent.
      const version = await answers.currentVersion();
      const extent = needsExtent(req.body) ? await extentAt(version) : undefined;
      const q = normalizeQuery(req.body, { extent });
      const opts = { attributionWindowHours: config.attributionWindowHours };
      return answers.reply(
        reply,
        answerKey(q, opts.attributionWindowHours),
        (v) => runMetricsQuery(wh, q, v === null ? opts : { ...opts, daySums: { cache: daySums, version: v } }),
        version,
      );
    },
  );
};
