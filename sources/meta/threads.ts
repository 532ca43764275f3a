// What the Messenger mapping must remember between webhooks: the sends seen per thread (page × user) and the
// highest delivery and read watermarks. A watermark covers every send of the thread at or before it, whichever
// arrives first, so each is kept until the other side comes (docs/sources.md, "Watermarks").
//
// The state is derived from the raw topic alone: replaying the topic from its start (or rebuilding the state from
// what was mapped before the committed offsets) gives the same state, and the same events, since their ids are
// deterministic.

export type Receipt = 'delivered' | 'read';

export interface KnownSend {
  /** The message id (mid) the send's event id is derived from. */
  mid: string;
  /** When it was sent, epoch ms (the echo's timestamp). */
  at: number;
  delivered: boolean;
  read: boolean;
}

interface Watermark {
  /** Every send of the thread at or before this instant (epoch ms). */
  upTo: number;
  /** When the receipt happened, for the events it yields. */
  at: number;
}

interface Thread {
  /** In arrival order; kept small by `prune`. */
  sends: KnownSend[];
  delivered: Watermark | null;
  read: Watermark | null;
}

/** A receipt the mapping now knows for a send: emit it as an engagement. */
export interface CoveredSend {
  mid: string;
  type: Receipt;
  at: number;
}

/** Sends kept per thread once fully receipted; the latest ones are still needed for quick replies and postbacks. */
const KEEP_RECEIPTED = 4;
/**
 * Sends kept per thread at most: a user who never reads would otherwise grow the book for ever. The oldest go first;
 * a watermark that reaches back further than this many sends no longer covers them.
 */
export const MAX_SENDS_PER_THREAD = 1000;

export class ThreadBook {
  private readonly threads = new Map<string, Thread>();

  static key(channel: string, businessId: string, userId: string): string {
    return `${channel}\u0000${businessId}\u0000${userId}`;
  }

  get size(): number {
    return this.threads.size;
  }

  private thread(key: string): Thread {
    let t = this.threads.get(key);
    if (!t) {
      t = { sends: [], delivered: null, read: null };
      this.threads.set(key, t);
    }
    return t;
  }

  /** A send (echo) seen: the receipts that watermarks already cover. Seeing the same mid again changes nothing. */
  addSend(key: string, mid: string, at: number): CoveredSend[] {
    const t = this.thread(key);
    if (t.sends.some((s) => s.mid === mid)) return [];
    const send: KnownSend = { mid, at, delivered: false, read: false };
    t.sends.push(send);
    const covered = [...cover(send, 'delivered', t.delivered), ...cover(send, 'read', t.read)];
    prune(t);
    return covered;
  }

  /** A watermark seen: the receipts of known sends it covers for the first time. A read implies delivery. */
  addWatermark(key: string, type: Receipt, upTo: number, at: number): CoveredSend[] {
    const t = this.thread(key);
    const types: Receipt[] = type === 'read' ? ['delivered', 'read'] : ['delivered'];
    const out: CoveredSend[] = [];
    for (const r of types) {
      const w = t[r];
      // The highest watermark wins; its receipt time is the earliest one seen for it, as a retry is the same receipt.
      if (!w || upTo > w.upTo) t[r] = { upTo, at };
      else if (upTo === w.upTo && at < w.at) w.at = at;
      for (const s of t.sends) out.push(...cover(s, r, t[r]));
    }
    prune(t);
    return out;
  }

  /** A receipt named by mid (a `mids` list, Instagram's per-message seen): remembered so a watermark does not repeat it. */
  markReceipt(key: string, mid: string, type: Receipt): void {
    const s = this.threads.get(key)?.sends.find((x) => x.mid === mid);
    if (!s) return;
    s.delivered = true;
    if (type === 'read') s.read = true;
  }

  /** The latest send of the thread at or before `at`: what a quick reply or a postback without a named message answers. */
  latestSendAt(key: string, at: number): KnownSend | null {
    let best: KnownSend | null = null;
    for (const s of this.threads.get(key)?.sends ?? []) if (s.at <= at && (!best || s.at >= best.at)) best = s;
    return best;
  }
}

function cover(send: KnownSend, type: Receipt, w: Watermark | null): CoveredSend[] {
  if (!w || send.at > w.upTo || send[type]) return [];
  send[type] = true;
  return [{ mid: send.mid, type, at: Math.max(w.at, send.at) }];
}

function prune(t: Thread): void {
  if (t.sends.length <= KEEP_RECEIPTED * 2) return;
  const latest = new Set([...t.sends].sort((a, b) => b.at - a.at).slice(0, KEEP_RECEIPTED));
  // A send not yet read may still be covered by a later watermark, so it stays (up to the cap).
  t.sends = t.sends.filter((s) => latest.has(s) || !s.read);
  if (t.sends.length > MAX_SENDS_PER_THREAD) t.sends = t.sends.sort((a, b) => a.at - b.at).slice(-MAX_SENDS_PER_THREAD);
}
