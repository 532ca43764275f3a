// Posting many requests to collect over kept-alive connections, a few at a time: `replay-webhooks`, the benchmark
// and the crash test all drive collect this way. A 5xx, a 429 or a broken connection is retried after a backoff
// with full jitter, as Meta and a well-behaved producer do; anything else is an answer.
import { Agent, request } from 'node:http';
import { backoffMs, sleep } from '../common/retry.js';

export interface OutgoingRequest {
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface Outcome {
  /** The last answer's status, or 0 when the last attempt got no answer (connection refused or reset). */
  status: number;
  attempts: number;
  /** Milliseconds of the last attempt alone. */
  ms: number;
  body: string;
}

export interface PostAllOptions {
  concurrency: number;
  /** Attempts after the first; Infinity retries until an answer that is not retried. */
  retries: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called once per request with its final outcome, in the order they finish. */
  onDone?: (req: OutgoingRequest, outcome: Outcome, index: number) => void;
  signal?: AbortSignal;
}

export interface PostAllSummary {
  requests: number;
  /** Final answers by status; `0` counts requests that never got one. */
  byStatus: Record<string, number>;
  retries: number;
  ms: number;
}

/** The final answers by status, as the commands print them: `200: 950, no answer: 2`. */
export const statusCounts = (s: PostAllSummary): string =>
  Object.entries(s.byStatus)
    .map(([status, n]) => `${status === '0' ? 'no answer' : status}: ${n}`)
    .join(', ');

const retried = (status: number) => status === 0 || status === 429 || status >= 500;

function once(agent: Agent, base: URL, req: OutgoingRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
    const r = request(
      {
        agent,
        hostname: base.hostname,
        port: base.port,
        method: 'POST',
        path: `${base.pathname.replace(/\/$/, '')}${req.path}`,
        headers: { ...req.headers, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', () => resolve({ status: 0, body: '' }));
      },
    );
    r.on('error', (err) => resolve({ status: 0, body: err.message }));
    r.end(body);
  });
}

export async function postAll(baseUrl: string, requests: Iterable<OutgoingRequest>, opts: PostAllOptions): Promise<PostAllSummary> {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const summary: PostAllSummary = { requests: 0, byStatus: {}, retries: 0, ms: 0 };
  const started = performance.now();
  const iterator = requests[Symbol.iterator]();
  let index = 0;
  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const next = iterator.next();
      if (next.done) return;
      const i = index++;
      const req = next.value;
      let attempts = 0;
      let outcome: Outcome;
      for (;;) {
        attempts++;
        const t0 = performance.now();
        const { status, body } = await once(agent, base, req);
        outcome = { status, attempts, ms: performance.now() - t0, body };
        if (!retried(status) || attempts > opts.retries || opts.signal?.aborted) break;
        summary.retries++;
        await sleep(backoffMs(attempts, opts.initialBackoffMs ?? 100, opts.maxBackoffMs ?? 5_000), opts.signal);
      }
      summary.requests++;
      summary.byStatus[outcome.status] = (summary.byStatus[outcome.status] ?? 0) + 1;
      opts.onDone?.(req, outcome, i);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  summary.ms = performance.now() - started;
  return summary;
}
