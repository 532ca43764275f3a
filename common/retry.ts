// Retry with exponential backoff and full jitter, for failures that say they are retriable and nothing else.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
// ClickHouse server codes that mean "try again later": timeouts, too many parts/queries, memory, shutting down.
const RETRIABLE_CLICKHOUSE_CODES = new Set(['159', '164', '202', '203', '209', '210', '241', '252', '285', '319', '425', '999']);

/** Whether a failure is worth retrying: network trouble, timeouts, a busy server. Errors may say so themselves. */
export function isRetriable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { retriable?: boolean; code?: string; cause?: unknown; message?: string };
  if (typeof e.retriable === 'boolean') return e.retriable;
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.code && RETRIABLE_CLICKHOUSE_CODES.has(String(e.code))) return true;
  if (/socket hang up|timeout|ECONNREFUSED|ECONNRESET/i.test(e.message ?? '')) return true;
  return e.cause !== undefined && e.cause !== err ? isRetriable(e.cause) : false;
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
export const backoffMs = (attempt: number, initialMs: number, maxMs: number): number => Math.round(Math.random() * Math.min(maxMs, initialMs * 2 ** (attempt - 1)));
