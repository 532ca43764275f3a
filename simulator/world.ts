// The simulated world: a discrete-event loop over threads (user-business-channel relationships)
// and pending events, in time order. It yields valid events one at a time and never holds more
// than the active threads plus the events due within the next day or so.
import { DEFAULT_ATTRIBUTION_WINDOW_HOURS } from '../events/attribution.js';
import type { Channel, EngagementType, Frequency, SendCategory, SubscriptionType } from '../events/types.js';
import { loadDefaultRegimes, regimeResolver } from '../warehouse/regimes.js';
import { CellRegistry, type Cell } from './cells.js';
import { engagementLine, sendLine, subscriptionLine } from './event-lines.js';
import { MinHeap } from './heap.js';
import type { ResolvedOptions } from './options.js';
import { FREQUENCY_SCHEDULE, OUTPUT, REASONS, TAGS, TIMING, UTILITY_TOPICS, WORLD } from './params-world.js';
import { POLICY_MS } from './policy-calendar.js';
import { Population, businessCountFor } from './population.js';
import { sendCostMicros } from './pricing.js';
import { Rng } from './rng.js';
import {
  ARRIVAL,
  AUXILIARY,
  CONVERSATION,
  FUNNEL,
  IN_SESSION_UTILITY,
  MARKETING,
  MARKETING_MESSAGES,
  PAID_MARKETING,
  Pending,
  RECURRING,
  RELEASE,
  RESPONSE,
  SESSION,
  SPAM_RISK,
  STAGE_TYPES,
  STREAMS,
  SUBSCRIPTION,
  TOKEN,
  TRANSACTIONAL,
  Thread,
  WHATSAPP,
} from './thread.js';
import type { TruthRecorder } from './truth.js';
import { DAY, HOUR, SECOND, occurredAtJson } from './time.js';
import { VolumeController } from './volume-controller.js';
import type { SimulatedLine } from './event-lines.js';

type Item = Thread | Pending;

const FREQUENCY_OF_MIX = (mix: Record<Frequency, number>): { values: Frequency[]; cumulative: number[] } => {
  const values = Object.keys(mix) as Frequency[];
  let sum = 0;
  return { values, cumulative: values.map((f) => (sum += mix[f])) };
};
const RECURRING_MIX = FREQUENCY_OF_MIX(WORLD.recurringFrequencyMix);
const WHATSAPP_MIX = FREQUENCY_OF_MIX(WORLD.whatsappFrequencyMix);
const CHANNEL_INDEX: Record<Channel, number> = { messenger: 0, instagram: 1, whatsapp: 2 };
const GEOMETRIC_Q = WORLD.extraResponsesMean / (1 + WORLD.extraResponsesMean);
const ATTRIBUTION_WINDOW = DEFAULT_ATTRIBUTION_WINDOW_HOURS * HOUR;
/** A send is never followed by another in the same thread sooner than this, so a spam-risk event fits between. */
const MIN_GAP_AFTER_SPAM_RISK = 2 * SECOND;

export class World {
  readonly cellRegistry = new CellRegistry();
  private readonly rng: Rng;
  private readonly heap = new MinHeap<Item>();
  private readonly population: Population;
  private readonly controller: VolumeController;
  private readonly regimeOf: (channel: Channel, ms: number) => string;
  private readonly activeKeys = new Set<number>();
  /** Triples that opted out or blocked: never reused for a new thread (one entry per such event, so small). */
  private readonly leftKeys = new Set<number>();
  private readonly simStart: number;
  private readonly idPrefix: string;
  private readonly businessCount: number;
  private day = -1;
  private dayStart = 0;
  private dayEnd = -Infinity;
  private idCounter = 0;
  private written = 0;
  private warmEvents = 0;
  private clockMs: number;
  private readonly opts: ResolvedOptions;
  private readonly truth: TruthRecorder;

  constructor(opts: ResolvedOptions, truth: TruthRecorder) {
    this.opts = opts;
    this.truth = truth;
    this.rng = new Rng(opts.seed, 0);
    this.simStart = opts.fromMs - WORLD.warmupDays * DAY;
    this.businessCount = businessCountFor(opts.events);
    this.population = new Population(this.businessCount, this.simStart, opts.fromMs, opts.toMs, new Rng(opts.seed, 1), opts.seed);
    this.controller = new VolumeController({ events: opts.events, simStart: this.simStart, from: opts.fromMs, to: opts.toMs });
    this.regimeOf = regimeResolver(loadDefaultRegimes());
    this.idPrefix = opts.seed.toString(36);
    this.clockMs = opts.fromMs;
    truth.businesses = this.businessCount;
  }

  get cells(): readonly Cell[] {
    return this.cellRegistry.cells;
  }

  /** Time of the latest written event (bad lines borrow it). */
  get clock(): number {
    return this.clockMs;
  }

  /** Ids of a random existing business and user, for bad lines (drawn from the caller's rng). */
  sampleIds(rng: Rng): { businessId: string; userId: string } {
    const b = this.population.businesses[rng.below(this.population.businesses.length)];
    const users = this.population.userCount;
    return { businessId: b.id, userId: this.population.userId(users > 0 ? rng.below(users) : 0) };
  }

  /** The next valid event, or null when `events` have been written. */
  next(): SimulatedLine | null {
    if (this.written >= this.opts.events) return null;
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.t >= this.dayEnd) {
        if (!this.advanceDay()) throw new Error(`simulation ended at ${this.opts.to} after ${this.written} of ${this.opts.events} events`);
        continue;
      }
      this.heap.pop();
      const out = top.isThread ? this.runThread(top as Thread) : this.runPending(top as Pending);
      if (out !== null) return out;
    }
  }

  // ---- days and arrivals ----

  private advanceDay(): boolean {
    if (this.day >= 0) this.controller.endDay(this.day);
    this.day++;
    this.dayStart = this.simStart + this.day * DAY;
    if (this.dayStart >= this.opts.toMs) return false;
    this.dayEnd = Math.min(this.dayStart + DAY, this.opts.toMs);
    const warm = this.dayStart < this.opts.fromMs;
    const progress = warm ? this.warmEvents : this.written;
    const count = this.controller.arrivalsFor(this.day, this.dayStart, progress, this.opts.events - this.written);
    this.truth.forcedArrivals = this.controller.forced;
    const span = this.dayEnd - this.dayStart;
    for (let i = 0; i < count; i++) {
      const p = new Pending(ARRIVAL);
      this.heap.push(p, this.dayStart + Math.floor(this.rng.float() * span));
    }
    return true;
  }

  private arrive(t: number): SimulatedLine | null {
    const rng = this.rng;
    const pop = this.population;
    const businessIndex = pop.pickBusiness(t, rng);
    const business = pop.businesses[businessIndex];
    const channel = pop.pickChannel(business, rng);
    const ci = CHANNEL_INDEX[channel];
    let user = rng.chance(WORLD.userReuseShare) ? pop.existingUser(rng) : -1;
    let key = user < 0 ? -1 : (user * this.businessCount + businessIndex) * 3 + ci;
    if (user < 0 || this.activeKeys.has(key) || this.leftKeys.has(key)) {
      user = pop.newUser();
      key = (user * this.businessCount + businessIndex) * 3 + ci;
    }
    this.activeKeys.add(key);
    this.truth.threads++;
    this.truth.users = pop.userCount;

    let kind = CONVERSATION;
    if (channel === 'whatsapp') kind = WHATSAPP;
    else if (t >= POLICY_MS.recurringLaunch && rng.chance(WORLD.subscriptionShare)) {
      if (t >= POLICY_MS.utilityTakeover) kind = business.paidMarketingAdopter ? MARKETING_MESSAGES : CONVERSATION;
      else if (t >= POLICY_MS.paidMarketingMessages && business.paidMarketingAdopter && rng.chance(WORLD.marketingMessageShareAtAdopters))
        kind = MARKETING_MESSAGES;
      else kind = SUBSCRIPTION;
    }

    let frequency: Frequency | null = null;
    if (kind === SUBSCRIPTION) frequency = t < POLICY_MS.weeklyMonthlyWithdrawn ? RECURRING_MIX.values[rng.pickCumulative(RECURRING_MIX.cumulative)] : 'daily';
    else if (kind === MARKETING_MESSAGES)
      frequency = 'daily'; // the only frequency Messenger offered new opt-ins by then
    else if (kind === WHATSAPP) frequency = WHATSAPP_MIX.values[rng.pickCumulative(WHATSAPP_MIX.cumulative)];
    const topic = kind === CONVERSATION ? null : rng.pick(business.topics);
    const th = new Thread(
      kind,
      key,
      pop.userId(user),
      business,
      businessIndex,
      channel,
      this.day,
      topic,
      frequency,
      kind === WHATSAPP ? pop.countryOf(user) : 0,
      kind === WHATSAPP ? { convUntil: new Float64Array(4).fill(-Infinity), serviceWindowUntil: -Infinity } : null,
    );
    const n = th.next;
    let out: SimulatedLine | null;
    if (kind === CONVERSATION) {
      th.endAt = t + this.lifetime(WORLD.conversationLifetimeDays);
      n[SESSION] = t + rng.exponential(WORLD.sessionGapDays.conversation * DAY);
      n[TRANSACTIONAL] = t + rng.exponential(this.tagGapDays(t) * DAY);
      // The user wrote first; the thread's first event is the business's answer, now.
      this.startSession(th, t);
      out = this.respond(th, t);
    } else {
      if (kind === SUBSCRIPTION) {
        n[TOKEN] = this.tokenPromptAfter(t, frequency!);
        n[MARKETING] = t + FREQUENCY_SCHEDULE[frequency!].periodDays * DAY * rng.between(0.1, 1);
        n[SESSION] = t + rng.exponential(WORLD.sessionGapDays.subscription * DAY);
        n[TRANSACTIONAL] = t + rng.exponential(this.tagGapDays(t) * DAY);
      } else if (kind === MARKETING_MESSAGES) {
        th.mode = PAID_MARKETING;
        th.endAt = t + this.lifetime(WORLD.marketingMessageLifetimeDays);
        n[MARKETING] = t + rng.logUniform(HOUR, 3 * DAY);
        n[SESSION] = t + rng.exponential(WORLD.sessionGapDays.marketingMessages * DAY);
        n[TRANSACTIONAL] = t + rng.exponential(this.tagGapDays(t) * DAY);
      } else {
        th.endAt = t + this.lifetime(WORLD.whatsappLifetimeDays);
        if (business.whatsappMarketing) n[MARKETING] = t + FREQUENCY_SCHEDULE[frequency!].periodDays * DAY * rng.between(0.1, 1);
        n[SESSION] = t + rng.exponential(WORLD.sessionGapDays.whatsapp * DAY);
        n[TRANSACTIONAL] = t + rng.exponential(WORLD.whatsappUtilityGapDays * DAY);
        if (business.whatsappAuth) n[AUXILIARY] = t + rng.exponential(WORLD.whatsappAuthGapDays * DAY);
      }
      out = this.optIn(th, t, false);
    }
    if (th.alive) this.reschedule(th, t);
    return out;
  }

  private lifetime(spec: { mean: number; min: number; max: number }): number {
    return Math.min(spec.max, Math.max(spec.min, this.rng.exponential(spec.mean))) * DAY;
  }

  private tagGapDays(t: number): number {
    if (t < POLICY_MS.end24Plus1) return WORLD.tagGapDaysBefore2020;
    return t < POLICY_MS.utilityTakeover ? WORLD.tagGapDaysAfter2020 : WORLD.tagGapDaysUtilityEra;
  }

  /** The re-opt-in prompt comes the day before the token expires. */
  private tokenPromptAfter(t: number, frequency: Frequency): number {
    return t + FREQUENCY_SCHEDULE[frequency].tokenValidityDays * DAY - this.rng.float() * DAY;
  }

  // ---- threads ----

  private reschedule(th: Thread, t: number): void {
    const n = th.next;
    let m = n[0];
    for (let i = 1; i < STREAMS; i++) if (n[i] < m) m = n[i];
    if (m === Infinity || m >= th.endAt) this.finish(th, t, true);
    else this.heap.push(th, m);
  }

  private runThread(th: Thread): SimulatedLine | null {
    const t = th.t;
    const n = th.next;
    let s = 0;
    for (let i = 1; i < STREAMS; i++) if (n[i] < n[s]) s = i;
    n[s] = Infinity;
    let out: SimulatedLine | null = null;
    switch (s) {
      case MARKETING:
        out = this.marketing(th, t);
        break;
      case TOKEN:
        out = this.tokenPrompt(th, t);
        break;
      case SESSION:
        n[SESSION] = t + this.rng.exponential(this.sessionGapDays(th) * DAY);
        this.startSession(th, t);
        break;
      case RESPONSE:
        out = this.respond(th, t);
        break;
      case TRANSACTIONAL:
        out = this.transactional(th, t);
        break;
      case AUXILIARY:
        out = this.auxiliary(th, t);
        break;
      case IN_SESSION_UTILITY:
        out = this.send(th, t, 'utility_template', null, 'order_update', null);
        break;
    }
    if (th.alive) this.reschedule(th, t);
    return out;
  }

  private sessionGapDays(th: Thread): number {
    const g = WORLD.sessionGapDays;
    return th.kind === CONVERSATION
      ? g.conversation
      : th.kind === SUBSCRIPTION
        ? g.subscription
        : th.kind === MARKETING_MESSAGES
          ? g.marketingMessages
          : g.whatsapp;
  }

  private marketing(th: Thread, t: number): SimulatedLine | null {
    const rng = this.rng;
    const n = th.next;
    const campaign = `c-${th.channel[0]}${th.businessIndex.toString(36)}-${Math.floor(t / DAY).toString(36)}`;
    if (th.kind === WHATSAPP) {
      n[MARKETING] = t + FREQUENCY_SCHEDULE[th.frequency!].periodDays * DAY * rng.between(1, WORLD.cadenceJitter);
      return this.send(th, t, 'marketing_template', null, th.topic, campaign);
    }
    if (th.mode === RECURRING) {
      if (t < POLICY_MS.utilityTakeover) {
        n[MARKETING] = t + FREQUENCY_SCHEDULE[th.frequency!].periodDays * DAY * rng.between(1, WORLD.cadenceJitter);
        return this.send(th, t, 'recurring_notification', th.frequency, th.topic, campaign);
      }
      // Recurring marketing is deprecated: adopters move the subscriber to paid marketing messages.
      if (!this.switchToPaidMarketing(th, t)) return null;
    }
    n[MARKETING] = t + this.marketingCooldown(t) + rng.exponential(WORLD.marketingMessageMeanGapDays * DAY);
    return this.send(th, t, 'marketing_message', null, th.topic, campaign);
  }

  private switchToPaidMarketing(th: Thread, t: number): boolean {
    if (!th.business.paidMarketingAdopter) {
      this.finish(th, t, true);
      return false;
    }
    th.mode = PAID_MARKETING;
    th.next[TOKEN] = Infinity;
    th.endAt = t + this.lifetime(WORLD.marketingMessageLifetimeDays);
    return true;
  }

  private marketingCooldown(t: number): number {
    return (t < POLICY_MS.marketingCooldown48h ? WORLD.marketingCooldownHours : WORLD.marketingCooldownHoursFrom20250901) * HOUR;
  }

  private tokenPrompt(th: Thread, t: number): SimulatedLine | null {
    if (t >= POLICY_MS.utilityTakeover) {
      if (this.switchToPaidMarketing(th, t) && th.next[MARKETING] === Infinity) th.next[MARKETING] = t + this.marketingCooldown(t);
      return null;
    }
    const offered = th.frequency === 'daily' || t < POLICY_MS.weeklyMonthlyWithdrawn;
    if (!this.rng.chance(offered ? WORLD.reOptInProbability : WORLD.reOptInProbabilityForcedDaily)) {
      this.finish(th, t, true);
      return null;
    }
    if (!offered) th.frequency = 'daily';
    th.next[TOKEN] = this.tokenPromptAfter(t, th.frequency!);
    return this.optIn(th, t, true);
  }

  private startSession(th: Thread, t: number): void {
    const rng = this.rng;
    th.responsesLeft = 1 + Math.floor(Math.log(1 - rng.float()) / Math.log(GEOMETRIC_Q));
    th.followUpPending = false;
    th.next[RESPONSE] = t + rng.logUniform(TIMING.firstResponse[0], TIMING.firstResponse[1]);
    if (th.pricing) th.pricing.serviceWindowUntil = t + DAY;
  }

  /** A business answer inside a session, or the "+1" follow-up of the 24+1 era. */
  private respond(th: Thread, t: number): SimulatedLine | null {
    const rng = this.rng;
    const n = th.next;
    if (th.responsesLeft <= 0) {
      if (!th.followUpPending) return null;
      th.followUpPending = false;
      return this.send(th, t, 'response', null, null, null);
    }
    th.responsesLeft--;
    const whatsapp = th.channel === 'whatsapp';
    if (th.pricing) th.pricing.serviceWindowUntil = t + DAY; // the user keeps writing
    if (th.responsesLeft > 0) {
      n[RESPONSE] = t + rng.logUniform(TIMING.betweenResponses[0], TIMING.betweenResponses[1]);
    } else if (whatsapp) {
      if (rng.chance(WORLD.whatsappInSessionUtilityProbability))
        n[IN_SESSION_UTILITY] = t + rng.logUniform(TIMING.inSessionUtility[0], TIMING.inSessionUtility[1]);
    } else if (t < POLICY_MS.end24Plus1) {
      if (rng.chance(WORLD.plusOneFollowUpProbability)) {
        th.followUpPending = true;
        n[RESPONSE] = t + rng.logUniform(TIMING.plusOneFollowUp[0], TIMING.plusOneFollowUp[1]);
      }
    } else if (n[AUXILIARY] === Infinity && rng.chance(WORLD.oneTimeNotificationProbability)) {
      n[AUXILIARY] = t + rng.logUniform(TIMING.oneTimeNotification[0], TIMING.oneTimeNotification[1]);
    }
    return this.send(th, t, whatsapp ? 'service' : 'response', null, null, null);
  }

  private transactional(th: Thread, t: number): SimulatedLine | null {
    const rng = this.rng;
    if (th.channel === 'whatsapp') {
      th.next[TRANSACTIONAL] = t + rng.exponential(WORLD.whatsappUtilityGapDays * DAY);
      return this.send(th, t, 'utility_template', null, rng.pick(UTILITY_TOPICS), null);
    }
    th.next[TRANSACTIONAL] = t + rng.exponential(this.tagGapDays(t) * DAY);
    if (t < POLICY_MS.end24Plus1) return this.send(th, t, 'message_tag', null, rng.pick(TAGS.before2020), null);
    if (t < POLICY_MS.utilityTakeover) return this.send(th, t, 'message_tag', null, rng.pick(TAGS.after2020), null);
    if (rng.chance(WORLD.utilityShareAfterTakeover)) return this.send(th, t, 'utility_template', null, rng.pick(UTILITY_TOPICS), null);
    return this.send(th, t, 'message_tag', null, rng.pick(TAGS.afterUtilityTakeover), null);
  }

  private auxiliary(th: Thread, t: number): SimulatedLine | null {
    if (th.channel === 'whatsapp') {
      th.next[AUXILIARY] = t + this.rng.exponential(WORLD.whatsappAuthGapDays * DAY);
      return this.send(th, t, 'authentication_template', null, 'otp', null);
    }
    return this.send(th, t, 'one_time_notification', null, th.topic ?? this.rng.pick(th.business.topics), null);
  }

  /**
   * End a thread. Its key (user, business, channel) is released only after any pending spam-risk
   * event, so a new thread for the same triple can never send between a send and its consequence.
   */
  private finish(th: Thread, t: number, mayOptOutLater: boolean): void {
    th.alive = false;
    th.next.fill(Infinity);
    if (mayOptOutLater && th.kind !== CONVERSATION && this.rng.chance(WORLD.spontaneousOptOutShare)) {
      // A quiet subscriber opts out later in settings: more than 72 h after the last send, so no send explains it.
      const at = Math.max(t, th.lastSend + ATTRIBUTION_WINDOW) + this.rng.logUniform(TIMING.spontaneousOptOut[0], TIMING.spontaneousOptOut[1]);
      const p = new Pending(SPAM_RISK);
      p.thread = th;
      p.written = at >= this.opts.fromMs;
      p.spamType = 'opt_out';
      p.reason = this.reason('opt_out');
      p.attributed = false;
      p.releaseKey = true;
      this.leftKeys.add(th.key);
      this.heap.push(p, at);
    } else if (th.busyUntil >= t) {
      const p = new Pending(RELEASE);
      p.thread = th;
      this.heap.push(p, th.busyUntil + 1);
    } else {
      this.activeKeys.delete(th.key);
    }
  }

  // ---- events ----

  private nextId(letter: string): string {
    return `${letter}${this.idPrefix}-${(this.idCounter++).toString(36)}`;
  }

  /**
   * occurred_at text. Internal times carry fractions of a millisecond; written ones are floored.
   * Every ordering the world guarantees (send < its spam-risk event < next send; funnel stages)
   * keeps a gap of at least 1 ms, so flooring never makes two of them equal.
   */
  private timestamp(t: number): string {
    return occurredAtJson(Math.floor(t), this.rng.chance(OUTPUT.epochMsShare));
  }

  private produced(th: Thread): void {
    this.controller.recordEvent(th.arrivalDay, this.day);
    if (this.dayStart < this.opts.fromMs) this.warmEvents++;
  }

  private written1(family: SimulatedLine['family'], t: number, ts: string, line: string, key: string): SimulatedLine {
    this.written++;
    this.clockMs = Math.floor(t);
    this.truth.countValid(family!, this.clockMs, ts.charCodeAt(0) !== 34);
    return { line, key, family, duplicate: false };
  }

  private optIn(th: Thread, t: number, renewal: boolean): SimulatedLine | null {
    this.produced(th);
    if (t < this.opts.fromMs) return null;
    const ts = this.timestamp(t);
    const line = subscriptionLine(this.nextId('o'), 'opt_in', ts, th.business.id, th.userId, th.channel, th.topic, th.frequency, null);
    this.truth.validByType.opt_in++;
    this.truth.optInsByChannelFrequency[th.channel][th.frequency!]++;
    if (renewal) this.truth.optInRenewals++;
    return this.written1('subscriptions', t, ts, line, th.userId);
  }

  /** A send, with its funnel and possible spam-risk consequence decided now and scheduled for later. */
  private send(
    th: Thread,
    t: number,
    category: SendCategory,
    frequency: Frequency | null,
    topic: string | null,
    campaign: string | null,
  ): SimulatedLine | null {
    const rng = this.rng;
    const regime = this.regimeOf(th.channel, t);
    const cellId = this.cellRegistry.id(th.channel, category, frequency, regime);
    const cell = this.cellRegistry.cells[cellId];
    const cost = sendCostMicros(th.channel, category, t, th.country, th.business.freeTier, th.pricing);
    const written = t >= this.opts.fromMs;
    const sendId = written ? this.nextId('s') : '';
    th.lastSend = t;
    this.produced(th);

    if (rng.float() < cell.pDeliver) {
      const f = new Pending(FUNNEL);
      f.thread = th;
      f.written = written;
      f.cell = cellId;
      f.sendId = sendId;
      const at = f.stageAt;
      const tDel = t + rng.logUniform(TIMING.delivered[0], TIMING.delivered[1]);
      at[0] = tDel;
      if (rng.float() < cell.pRead) {
        const tRead = tDel + rng.logUniform(TIMING.read[0], TIMING.read[1]);
        at[1] = tRead;
        if (rng.float() < cell.pClickGivenRead) {
          at[2] = tRead + rng.logUniform(TIMING.clicked[0], TIMING.clicked[1]);
          if (rng.float() < cell.pConvertGivenClick) {
            at[4] = at[2] + rng.logUniform(TIMING.converted[0], TIMING.converted[1]);
            const cents = Math.max(1, Math.round(Math.exp(cell.revenueMu + OUTPUT.revenueLogSigma * rng.normal()) * 100));
            f.revenueMicros = cents * 10_000;
          }
        }
        if (rng.float() < cell.pReplyGivenRead) at[3] = tRead + rng.logUniform(TIMING.replied[0], TIMING.replied[1]);
      }
      f.stage = 0;
      this.heap.push(f, tDel);

      const u = rng.float();
      if (u < cell.pSpamCumGivenDelivered)
        this.spamRisk(th, t, tDel, cellId, written, u < cell.pOptOutGivenDelivered ? 'opt_out' : u < cell.pBlockCumGivenDelivered ? 'block' : 'spam_report');
    }

    if (!written) return null;
    const ts = this.timestamp(t);
    const line = sendLine(sendId, ts, th.business.id, th.userId, th.channel, category, frequency, topic, campaign, cost);
    this.truth.countSend(th.channel, regime, category, frequency, cost);
    cell.realized.sends++;
    cell.realized.cost_micros += cost;
    return this.written1('sends', t, ts, line, th.userId);
  }

  /**
   * Schedule the opt_out / block / spam_report a send caused: after delivery, within an hour of
   * the send and before the thread's next send, so "latest send at or before, within 72 h" finds it.
   */
  private spamRisk(th: Thread, t: number, tDelivered: number, cellId: number, written: boolean, type: SubscriptionType): void {
    const rng = this.rng;
    const ending = type !== 'spam_report';
    let at = Math.min(tDelivered + rng.logUniform(TIMING.spamRisk[0], TIMING.spamRisk[1]), t + TIMING.spamRiskMaxAfterSend - 1);
    if (ending) {
      // The user stops receiving this business on this channel: no further sends, ever.
      this.leftKeys.add(th.key);
      th.alive = false;
      th.next.fill(Infinity);
    } else {
      const n = th.next;
      let soonest = Infinity;
      for (let i = 0; i < STREAMS; i++) {
        if (n[i] < t + MIN_GAP_AFTER_SPAM_RISK) n[i] = t + MIN_GAP_AFTER_SPAM_RISK + i;
        if (n[i] < soonest) soonest = n[i];
      }
      at = Math.min(at, soonest - 1);
    }
    at = Math.max(at, t + 1);
    const p = new Pending(SPAM_RISK);
    p.thread = th;
    p.written = written;
    p.cell = cellId;
    p.spamType = type;
    p.reason = this.reason(type);
    p.releaseKey = ending;
    if (at > th.busyUntil) th.busyUntil = at;
    this.heap.push(p, at);
  }

  private reason(type: SubscriptionType): string | null {
    const rng = this.rng;
    if (rng.chance(REASONS.nullShare)) return null;
    return rng.pick(type === 'opt_out' ? REASONS.opt_out : type === 'block' ? REASONS.block : REASONS.spam_report);
  }

  private runPending(p: Pending): SimulatedLine | null {
    switch (p.tag) {
      case ARRIVAL:
        return this.arrive(p.t);
      case RELEASE:
        this.activeKeys.delete(p.thread!.key);
        return null;
      case SPAM_RISK:
        return this.emitSpamRisk(p);
      default:
        return this.emitFunnelStage(p);
    }
  }

  private emitSpamRisk(p: Pending): SimulatedLine | null {
    const th = p.thread!;
    if (p.releaseKey) this.activeKeys.delete(th.key);
    this.produced(th);
    if (!p.written) return null;
    const t = p.t;
    const ts = this.timestamp(t);
    const line = subscriptionLine(this.nextId('o'), p.spamType, ts, th.business.id, th.userId, th.channel, th.topic, null, p.reason);
    const truth = this.truth;
    truth.validByType[p.spamType]++;
    if (p.attributed) {
      truth.attributed[p.spamType as 'opt_out' | 'block' | 'spam_report']++;
      this.cellRegistry.cells[p.cell].realized[p.spamType as 'opt_out' | 'block' | 'spam_report']++;
    } else {
      truth.unattributed.opt_out++;
    }
    return this.written1('subscriptions', t, ts, line, th.userId);
  }

  /** Emit one funnel stage and reschedule the funnel at its next stage (sometimes late). */
  private emitFunnelStage(p: Pending): SimulatedLine | null {
    const th = p.thread!;
    const at = p.stageAt;
    const stage = p.stage;
    const occurred = at[stage];
    const emittedAt = p.t;
    at[stage] = Infinity;
    // Next stage in time order (clicked and replied race).
    let nextStage = -1;
    for (let i = 0; i < 5; i++) if (at[i] !== Infinity && (nextStage < 0 || at[i] < at[nextStage])) nextStage = i;
    if (nextStage >= 0) {
      const rng = this.rng;
      const late = rng.chance(TIMING.lateEngagementShare) ? rng.logUniform(TIMING.lateEngagementDelay[0], TIMING.lateEngagementDelay[1]) : 0;
      p.stage = nextStage;
      this.heap.push(p, Math.max(at[nextStage] + late, emittedAt));
    }
    this.produced(th);
    if (!p.written) return null;
    const type: EngagementType = STAGE_TYPES[stage];
    const ts = this.timestamp(occurred);
    const line = engagementLine(this.nextId('g'), type, ts, th.business.id, th.userId, th.channel, p.sendId, p.revenueMicros);
    const realized = this.cellRegistry.cells[p.cell].realized;
    realized[type]++;
    this.truth.validByType[type]++;
    if (type === 'converted') {
      realized.revenue_micros += p.revenueMicros;
      this.truth.revenueMicros += p.revenueMicros;
    }
    if (emittedAt > occurred) this.truth.engagementsWrittenLate++;
    return this.written1('engagements', occurred, ts, line, th.userId);
  }
}
