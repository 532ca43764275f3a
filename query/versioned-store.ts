// Values kept for reuse under the warehouse version they were computed at (warehouse/version.ts): the API's answers
// (query/api/answer-cache.ts) and /v1/query's day sums (query/metrics/day-partials.ts). One rule for both: a value
// is used only at its own version, kept only if the version did not move while it was computed, computed once for
// identical requests that arrive meanwhile, and bounded by count and size, least recently used out first.

export interface StoreLimits {
  /** At most this many values. */
  entries: number;
  /** At most this much of their size (each value's size is the caller's measure: bytes, rows). */
  size: number;
}

interface Kept<T> {
  version: string;
  value: T;
  size: number;
}

export class VersionedStore<T> {
  private readonly kept = new Map<string, Kept<T>>();
  private readonly computing = new Map<string, Promise<T>>();
  private total = 0;
  private readonly limits: StoreLimits;
  private readonly versionNow: () => Promise<string>;

  /** `versionNow`: a version read that begins after the call. */
  constructor(limits: StoreLimits, versionNow: () => Promise<string>) {
    this.limits = limits;
    this.versionNow = versionNow;
  }

  get count(): number {
    return this.kept.size;
  }

  get size(): number {
    return this.total;
  }

  /** The value kept for key at version (and now the most recently used), if any. */
  lookup(key: string, version: string): T | undefined {
    const k = this.kept.get(key);
    if (k?.version !== version) return undefined;
    this.kept.delete(key);
    this.kept.set(key, k);
    return k.value;
  }

  /**
   * The value of key at version: kept, shared with an identical computation running, or computed by `compute` and
   * kept (measured by `sizeOf`) if the version is still the same afterwards. `shared` tells whether it was had
   * without computing it here.
   */
  async get(key: string, version: string, compute: () => Promise<T>, sizeOf: (value: T) => number): Promise<{ value: T; shared: boolean }> {
    const kept = this.lookup(key, version);
    if (kept !== undefined) return { value: kept, shared: true };
    const id = `${version}\n${key}`;
    const running = this.computing.get(id);
    if (running) return { value: await running, shared: true };
    const computed = compute();
    this.computing.set(id, computed);
    // Shared until it is kept or known too late to keep, so that no identical request computes it again meanwhile.
    void computed
      .then((value) => this.keepIfCurrent(key, version, value, sizeOf(value)))
      .catch(() => undefined)
      .finally(() => this.computing.delete(id));
    return { value: await computed, shared: false };
  }

  /** Keeps a value only if no write ended while it was computed (the version is the same after as before). */
  private async keepIfCurrent(key: string, version: string, value: T, size: number): Promise<void> {
    const after = await this.versionNow().catch(() => null);
    if (after !== version || size > this.limits.size) return;
    this.remove(key);
    this.kept.set(key, { version, value, size });
    this.total += size;
    for (const [oldest] of this.kept) {
      if (this.kept.size <= this.limits.entries && this.total <= this.limits.size) break;
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const k = this.kept.get(key);
    if (!k) return;
    this.kept.delete(key);
    this.total -= k.size;
  }
}
