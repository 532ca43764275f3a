// Retry with exponential backoff and full jitter, for failures that say they are retriable and nothing else.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
// ClickHouse server codes that mean "try again later": timeouts, too many parts/queries, memory, shutting down.
const RETRIABLE_CLICKHOUSE_CODES = new Set(['159', '164', '202', '203', '209', '210', '241', '252', '285', '319', '425', '999']);

/** An error and what it wraps, outermost first: kafkajs keeps the wrapped error in `originalError`, Node in `cause`. */
export function* errorChain(err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  for (let e = err; typeof e === 'object' && e !== null && !seen.has(e); ) {
    seen.add(e);
    const o = e as Record<string, unknown>;
    yield o;
    e = o.originalError ?? o.cause;
  }
}

/** Whether a failure is worth retrying: network trouble, timeouts, a busy server. Errors may say so themselves. */
export function isRetriable(err: unknown): boolean {
  for (const e of errorChain(err)) {
    if (typeof e.retriable === 'boolean') return e.retriable;
    const code = e.code === undefined ? '' : String(e.code);
    if (NETWORK_CODES.has(code) || RETRIABLE_CLICKHOUSE_CODES.has(code)) return true;
    if (/socket hang up|timeout|ECONNREFUSED|ECONNRESET/i.test(String(e.message ?? ''))) return true;
  }
  return false;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Full jitter: a random wait up to min(maxMs, initialMs × 2^(attempt-1)). */
export const backoffMs = (attempt: number, initialMs: number, maxMs: number): number =>
  Math.round(Math.random() * Math.min(maxMs, initialMs * 2 ** (attempt - 1)));
