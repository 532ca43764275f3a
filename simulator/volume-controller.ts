// How many new threads (subscriptions, conversations) arrive each day, so that the written
// events follow a growth curve and reach exactly `events` just before `to`.
//
// Why a controller: a thread emits events for weeks or months after it arrives, and how many
// depends on policy (daily subscribers send far more than monthly ones), so a fixed arrival rate
// would miss the target by a wide margin. Each day we learn h[a], the mean events a thread emits
// on its a-th day of life (decayed, so policy changes are followed), forecast what existing
// threads will emit over the next H days, and choose today's arrivals so that existing plus new
// threads meet the target H days out (receding horizon). The last day may add "forced" arrivals
// so the total is exact; with the margin before `to` this is normally zero.
import { DAY } from './time.js';

const AGE_BINS = 730;
const HORIZON_DAYS = 45;
/** Decay per day of what was learned (half-life ~140 days). */
const DECAY = 0.995;
/** Weight, in arrivals, of the prior profile. */
const PRIOR_WEIGHT = 3;
/** Target volume grows linearly over the range: rate(x) = 1 + GROWTH * x. Assumption. */
export const VOLUME_GROWTH = 2.5;
/** Days before `to` at which the target reaches `events`, so the run normally ends just before `to`. */
export const TARGET_MARGIN_DAYS = 3;

export interface VolumePlan {
  events: number;
  simStart: number;
  from: number;
  to: number;
}

export class VolumeController {
  private readonly hEvents = new Float64Array(AGE_BINS);
  private readonly hExposure = new Float64Array(AGE_BINS);
  private readonly prior = new Float64Array(AGE_BINS);
  private readonly h = new Float64Array(AGE_BINS);
  private readonly hCumulative = new Float64Array(AGE_BINS);
  private readonly arrivals: Float64Array;
  private readonly targetEnd: number;
  private readonly totalWeight: number;
  private readonly warmRatePerDay: number;
  private carry = 0;
  private olderArrivals = 0;
  forced = 0;
  private readonly plan: VolumePlan;

  constructor(plan: VolumePlan) {
    this.plan = plan;
    const days = Math.ceil((plan.to - plan.simStart) / DAY) + 1;
    this.arrivals = new Float64Array(days);
    const margin = Math.min(TARGET_MARGIN_DAYS * DAY, (plan.to - plan.from) * 0.05);
    this.targetEnd = plan.to - margin;
    this.totalWeight = this.weightUpTo(this.targetEnd);
    this.warmRatePerDay = this.totalWeight > 0 ? plan.events / (this.totalWeight / DAY) : 0;
    for (let a = 0; a < AGE_BINS; a++) this.prior[a] = a === 0 ? 3 : 2 * Math.exp(-a / 120);
  }

  /** Integral of the growth curve from `from` to ms (in ms-weighted units). */
  private weightUpTo(ms: number): number {
    const { from, to } = this.plan;
    const end = Math.min(Math.max(ms, from), this.targetEnd);
    const span = to - from;
    const x = (end - from) / span;
    return span * (x + (VOLUME_GROWTH * x * x) / 2);
  }

  /** Target count at ms: warm-up events before `from` (not written), written events after. */
  private targetAt(ms: number, warm: boolean): number {
    const written = this.totalWeight > 0 ? (this.plan.events * this.weightUpTo(ms)) / this.totalWeight : 0;
    if (!warm) return written;
    return (this.warmRatePerDay * (Math.min(ms, this.plan.from) - this.plan.simStart)) / DAY + written;
  }

  recordEvent(arrivalDay: number, day: number): void {
    const a = day - arrivalDay;
    this.hEvents[a < AGE_BINS ? a : AGE_BINS - 1]++;
  }

  /**
   * Arrivals for `day`. `progress` is the number of events simulated so far during warm-up, or
   * written so far afterwards; `remaining` is what is still to be written.
   */
  arrivalsFor(day: number, dayStart: number, progress: number, remaining: number): number {
    const warm = dayStart < this.plan.from;
    const { h, hCumulative: hc } = this;
    let sum = 0;
    for (let a = 0; a < AGE_BINS; a++) {
      h[a] = (this.hEvents[a] + PRIOR_WEIGHT * this.prior[a]) / (this.hExposure[a] + PRIOR_WEIGHT);
      sum += h[a];
      hc[a] = sum;
    }
    const last = h[AGE_BINS - 1];
    const cum = (x: number): number => (x < 0 ? 0 : x < AGE_BINS ? hc[x] : hc[AGE_BINS - 1] + (x - AGE_BINS + 1) * last);

    const horizonEnd = Math.max(Math.min(dayStart + HORIZON_DAYS * DAY, this.targetEnd), dayStart + DAY);
    const horizon = Math.max(1, Math.round((horizonEnd - dayStart) / DAY));
    // Events existing threads will emit over the horizon.
    let existing = this.olderArrivals * last * horizon;
    const back = Math.min(day, AGE_BINS - 1);
    for (let a = 1; a <= back; a++) {
      const n = this.arrivals[day - a];
      if (n > 0) existing += n * (cum(a + horizon - 1) - cum(a - 1));
    }
    // Events per daily arrival, if the same number arrives every day of the horizon.
    let perDailyArrival = 0;
    for (let m = 0; m < horizon; m++) perDailyArrival += cum(m);

    const wanted = this.targetAt(dayStart + horizon * DAY, warm) - progress - existing;
    let rate = Math.max(0, wanted / perDailyArrival);
    if (!warm) rate = Math.min(rate, remaining);
    const lastDay = dayStart + DAY >= this.plan.to;
    let count = Math.floor(rate + this.carry);
    this.carry = rate + this.carry - count;
    // Exactness: every arrival writes one event at its arrival time, so on the last day enough
    // arrivals guarantee the total even if the forecast was wrong.
    if (!warm && lastDay && count < remaining) {
      this.forced += remaining - count;
      count = remaining;
    }
    this.arrivals[day] = count;
    return count;
  }

  /** Close a day: exposure of every age, then decay. */
  endDay(day: number): void {
    const top = Math.min(day, AGE_BINS - 2);
    for (let a = 0; a <= top; a++) this.hExposure[a] += this.arrivals[day - a];
    if (day >= AGE_BINS - 1) {
      this.olderArrivals += this.arrivals[day - (AGE_BINS - 1)];
      this.hExposure[AGE_BINS - 1] += this.olderArrivals;
    }
    for (let a = 0; a < AGE_BINS; a++) {
      this.hEvents[a] *= DECAY;
      this.hExposure[a] *= DECAY;
    }
  }
}
