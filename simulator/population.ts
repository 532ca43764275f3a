// Businesses and users. Businesses are few (hundreds) and kept whole; users are only a counter:
// every user attribute (country) is a hash of the user's index, so nothing per user is stored.
import { CHANNELS, type Channel } from '../events/types.js';
import { WHATSAPP_COUNTRIES, PRICE_DERIVATION } from './params-prices.js';
import { VERTICALS, WORLD } from './params-world.js';
import { type Rng, cumulativeOf, hash32 } from './rng.js';
import { DAY } from './time.js';

export interface Business {
  id: string;
  joinAt: number;
  weight: number;
  /** Cumulative weights over CHANNELS (messenger, instagram, whatsapp). */
  channelCumulative: Float64Array;
  topics: string[];
  /** Adopts paid Marketing Messages when they open. */
  paidMarketingAdopter: boolean;
  whatsappMarketing: boolean;
  whatsappAuth: boolean;
  /** Small enough to stay inside WhatsApp's free conversation tier. */
  freeTier: boolean;
}

export function businessCountFor(events: number): number {
  return Math.max(WORLD.minBusinesses, Math.round(WORLD.businessesPerMillionEvents * Math.sqrt(events / 1e6)));
}

const COUNTRY_CUMULATIVE = cumulativeOf(WHATSAPP_COUNTRIES.map((c) => c.share));

export class Population {
  /** Sorted by joinAt, so the businesses active at t are a prefix. */
  readonly businesses: Business[];
  private readonly cumulative: Float64Array;
  private activeCount = 0;
  private users = 0;
  private readonly userSalt: number;

  constructor(count: number, simStart: number, from: number, to: number, rng: Rng, seed: number) {
    const profiles = cumulativeOf(WORLD.channelProfiles.map((p) => p.share));
    const joinSpan = Math.max(0, to - 60 * DAY - from);
    const list: Business[] = [];
    for (let i = 0; i < count; i++) {
      const profile = WORLD.channelProfiles[rng.pickCumulative(profiles)];
      const vertical = rng.pick(VERTICALS);
      list.push({
        id: '',
        joinAt: i === 0 || rng.chance(WORLD.businessesAtStart) ? simStart : from + Math.floor(joinSpan * rng.float() ** 0.8),
        weight: Math.min(WORLD.businessSizeCap, (1 - rng.float()) ** -WORLD.businessSizeExponent),
        channelCumulative: cumulativeOf(CHANNELS.map((c) => profile.weights[c])),
        topics: vertical.topics,
        paidMarketingAdopter: rng.chance(WORLD.paidMarketingAdopterShare),
        whatsappMarketing: rng.chance(WORLD.whatsappMarketingShare),
        whatsappAuth: rng.chance(WORLD.whatsappAuthShare),
        freeTier: rng.chance(PRICE_DERIVATION.freeTierBusinessShare),
      });
    }
    list.sort((a, b) => a.joinAt - b.joinAt);
    list.forEach((b, i) => {
      b.id = `b-${i.toString(36)}`;
    });
    this.businesses = list;
    this.cumulative = cumulativeOf(list.map((b) => b.weight));
    this.userSalt = hash32(seed);
  }

  /** A business active at t, by size. Calls must come with non-decreasing t. */
  pickBusiness(t: number, rng: Rng): number {
    while (this.activeCount < this.businesses.length && this.businesses[this.activeCount].joinAt <= t) this.activeCount++;
    return rng.pickCumulative(this.cumulative, Math.max(1, this.activeCount));
  }

  pickChannel(business: Business, rng: Rng): Channel {
    return CHANNELS[rng.pickCumulative(business.channelCumulative)];
  }

  newUser(): number {
    return this.users++;
  }

  /** A user who already exists (to subscribe elsewhere), or -1 when there is none yet. */
  existingUser(rng: Rng): number {
    return this.users === 0 ? -1 : rng.below(this.users);
  }

  get userCount(): number {
    return this.users;
  }

  userId(user: number): string {
    return `u-${user.toString(36)}`;
  }

  /** Index into WHATSAPP_COUNTRIES; a pure function of the user. */
  countryOf(user: number): number {
    const u = hash32(user ^ this.userSalt) / 4294967296;
    let i = 0;
    while (i < COUNTRY_CUMULATIVE.length - 1 && COUNTRY_CUMULATIVE[i] <= u) i++;
    return i;
  }
}
