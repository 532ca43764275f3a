// Answers kept for reuse: dashboards and product teams ask the same questions again and again. An answer is keyed by
// its route, the request as the route checked it (names resolved, defaults filled in, so that requests that mean the
// same share an entry), and the warehouse version (warehouse/version.ts), which every write moves. Nothing is ever
// stale: a request is answered from a version read that began after it arrived, and an answer is kept only when the
// version did not move while it was computed. Bounded by entries and bytes, least recently used first out.
import type { FastifyReply } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../../common/config.js';
import type { Warehouse } from '../../warehouse/client.js';
import { VersionReader } from '../../warehouse/version.js';
import { VersionedStore } from '../versioned-store.js';

export const CACHE_HEADER = 'x-policylens-cache';

/** JSON with object keys sorted, so that key order in a request never makes two entries. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export class AnswerCache {
  /** Answers' JSON text by route and request, sized by their bytes. */
  private readonly store: VersionedStore<string>;
  private readonly versions: VersionReader;
  private readonly maxEntries: number;
  private readonly hits: Counter<'route'>;
  private readonly misses: Counter<'route'>;

  constructor(wh: Warehouse, settings: Config['answerCache'], registry: Registry, versions = new VersionReader(wh)) {
    this.versions = versions;
    this.maxEntries = settings.entries;
    this.store = new VersionedStore({ entries: settings.entries, size: settings.maxBytes }, () => versions.current());
    this.hits = new Counter({
      name: 'policylens_api_cache_hits_total',
      help: 'Answers served without running their query: kept from before, or shared with an identical request running at the same time, by route pattern',
      labelNames: ['route'],
      registers: [registry],
    });
    this.misses = new Counter({
      name: 'policylens_api_cache_misses_total',
      help: 'Answers computed by running their query (every answer while the cache is off), by route pattern',
      labelNames: ['route'],
      registers: [registry],
    });
    const entries = () => this.store.count;
    const bytes = () => this.store.size;
    new Gauge({
      name: 'policylens_api_cache_entries',
      help: 'Answers kept',
      registers: [registry],
      collect() {
        this.set(entries());
      },
    });
    new Gauge({
      name: 'policylens_api_cache_bytes',
      help: 'Bytes of the answers kept (their JSON text)',
      registers: [registry],
      collect() {
        this.set(bytes());
      },
    });
  }

  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /**
   * Sends the answer to `request` (what the answer depends on, as the route checked it) on the reply's route: kept,
   * shared, or computed by `compute` and serialised with the route's response schema. Sets the x-policylens-cache header to hit or miss.
   * `version`: one the route already read for this request (`currentVersion`), so that it is not read twice.
   */
  async reply(reply: FastifyReply, request: unknown, compute: (version: string | null) => Promise<unknown>, version?: string | null): Promise<FastifyReply> {
    const route = reply.request.routeOptions.url ?? reply.request.url;
    const { body, hit } = await this.answer(route, request, async (v) => reply.serialize(await compute(v)) as string, version);
    (hit ? this.hits : this.misses).inc({ route });
    return reply
      .header(CACHE_HEADER, hit ? 'hit' : 'miss')
      .type('application/json; charset=utf-8')
      .send(body);
  }

  /** The warehouse version now (a read that began after the call; warehouse/version.ts); null while the cache is off. */
  currentVersion(): Promise<string | null> {
    return this.enabled ? this.versions.current() : Promise.resolve(null);
  }

  /**
   * The answer's JSON text, and whether it was had without computing it here. `compute` is told the version the
   * answer is kept under (null while the cache is off), so that what it reuses is of that version too.
   */
  async answer(
    route: string,
    request: unknown,
    compute: (version: string | null) => Promise<string>,
    given?: string | null,
  ): Promise<{ body: string; hit: boolean }> {
    if (!this.enabled) return { body: await compute(null), hit: false };
    const key = `${route}\n${canonicalJson(request)}`;
    const version = given ?? (await this.versions.current());
    const { value, shared } = await this.store.get(
      key,
      version,
      () => compute(version),
      (body) => Buffer.byteLength(body),
    );
    return { body: value, hit: shared };
  }
}
