// Where the dashboards read their numbers: the HTTP API, always through its HTTP semantics, so the pages use
// exactly the API's metric definitions. Three ways to reach it: over the network (`--api URL`), in-process
// through fastify's inject() (the default for `policylens dashboards build`), or recorded request/response
// pairs (fixtures, for tests and the benchmark). Every source answers `request(method, path, query, body)`.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

export type Query = Record<string, string | number | undefined>;

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Query;
  body?: unknown;
}

export interface Source {
  /** Resolves with the parsed JSON body of a 2xx answer; rejects with ApiRequestError otherwise. */
  request(req: ApiRequest): Promise<unknown>;
  /** In words, for the pages' footers and the build log: "in-process API", "http://…", "fixtures …". */
  readonly describe: string;
}

export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly request: ApiRequest;
  constructor(status: number, code: string, message: string, request: ApiRequest) {
    super(`${request.method} ${request.path}: ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.request = request;
  }
}

/** The query string of a request, keys sorted and undefined values dropped: also the key of caches and fixtures. */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const k of Object.keys(query).sort()) {
    const v = query[k];
    if (v !== undefined) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A stable text key for a request: method, path with sorted query, and the body as canonical JSON. */
export function requestKey(req: ApiRequest): string {
  return `${req.method} ${req.path}${queryString(req.query)}${req.body === undefined ? '' : ` ${canonicalJson(req.body)}`}`;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function errorOf(status: number, body: unknown, req: ApiRequest): ApiRequestError {
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return new ApiRequestError(status, e?.code ?? `HTTP_${status}`, e?.message ?? 'no error body', req);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The API over the network, e.g. a running `policylens serve`. The key needs the "query" permission. */
export function httpSource(baseUrl: string, key: string | null): Source {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    describe: base,
    async request(req) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (key) headers.authorization = `Bearer ${key}`;
      if (req.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${base}${req.path}${queryString(req.query)}`, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
      const body = parse(await res.text());
      if (!res.ok) throw errorOf(res.status, body, req);
      return body;
    },
  };
}

/** The API in this process, through app.inject(): the same routes, schemas and auth as over the network. */
export function injectSource(app: FastifyInstance, key: string): Source {
  return {
    describe: 'in-process API',
    async request(req) {
      const res = await app.inject({
        method: req.method,
        url: `${req.path}${queryString(req.query)}`,
        headers: { authorization: `Bearer ${key}`, ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
        payload: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
      const body = parse(res.body);
      if (res.statusCode < 200 || res.statusCode > 299) throw errorOf(res.statusCode, body, req);
      return body;
    },
  };
}

/** One recorded exchange: a fixture file is a JSON array of these. */
export interface Exchange {
  request: ApiRequest;
  status: number;
  response: unknown;
}

/** Answers from recorded exchanges; a request that was not recorded fails loudly, naming itself. */
export function fixtureSource(exchanges: readonly Exchange[], describe = 'fixtures'): Source {
  const byKey = new Map(exchanges.map((e) => [requestKey(e.request), e]));
  return {
    describe,
    async request(req) {
      const e = byKey.get(requestKey(req));
      if (!e) throw new ApiRequestError(404, 'NOT_RECORDED', `no fixture for ${requestKey(req)}`, req);
      if (e.status < 200 || e.status > 299) throw errorOf(e.status, e.response, req);
      return structuredClone(e.response);
    },
  };
}

export function readExchanges(files: readonly string[]): Exchange[] {
  return files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as Exchange[]);
}

/** Wraps a source and keeps every exchange (errors too), e.g. to write fixtures. */
export function recordingSource(inner: Source): Source & { exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  return {
    describe: inner.describe,
    exchanges,
    async request(req) {
      try {
        const response = await inner.request(req);
        exchanges.push({ request: req, status: 200, response });
        return response;
      } catch (err) {
        if (err instanceof ApiRequestError) exchanges.push({ request: req, status: err.status, response: { error: { code: err.code, message: err.message } } });
        throw err;
      }
    },
  };
}

/** Caches by request key (the pages ask for the same frontier from several charts) and bounds concurrency. */
export function cachingSource(inner: Source, opts: { concurrency?: number } = {}): Source & { stats: { requests: number; hits: number; ms: number } } {
  const limit = Math.max(1, opts.concurrency ?? 4);
  const cache = new Map<string, Promise<unknown>>();
  const stats = { requests: 0, hits: 0, ms: 0 };
  let active = 0;
  const waiting: (() => void)[] = [];
  const acquire = async () => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
  };
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    describe: inner.describe,
    stats,
    request(req) {
      const key = requestKey(req);
      const hit = cache.get(key);
      if (hit) {
        stats.hits++;
        return hit;
      }
      const p = (async () => {
        await acquire();
        const t = performance.now();
        try {
          stats.requests++;
          return await inner.request(req);
        } finally {
          stats.ms += performance.now() - t;
          release();
        }
      })();
      cache.set(key, p);
      return p;
    },
  };
}
