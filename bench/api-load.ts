// The load generator of `npm run bench:api`, in a process of its own so that it does not share the server's event
// loop: `connections` keep-alive connections, each sending POST /v1/query back to back for `seconds`, and optionally
// one more connection running Parquet exports back to back. Prints one JSON line: requests/s, p50/p99 and statuses.
//   node bin/run-ts.js bench/api-load.ts URL KEY CONNECTIONS SECONDS REPEAT_SHARE FIRST_NEW [--export] [--novel]
// FIRST_NEW numbers the first new question (bench/api-questions.ts), so that runs against one server never share one.
import { Agent, request } from 'node:http';
import { newQuestion, repeatedQuestions } from './api-questions.js';

const [url, key, connectionsArg, secondsArg, repeatArg, firstNewArg] = process.argv.slice(2);
const withExport = process.argv.includes('--export');
const novel = process.argv.includes('--novel');
const connections = Number(connectionsArg);
const seconds = Number(secondsArg);
const repeatShare = Number(repeatArg);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: connections + 1 });

interface Answer {
  status: number;
  bytes: number;
  cache: string | undefined;
  retryAfter: number;
}

function send(method: string, path: string, body?: string, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${key}` };
    if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = request({ host: target.hostname, port: target.port, method, path, agent, headers, signal }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          cache: res.headers['x-policylens-cache'] as string | undefined,
          retryAfter: Number(res.headers['retry-after'] ?? 0),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Which requests repeat a question and which, from one seed (the same in every run).
let seed = 7;
const random = () => {
  // xorshift32
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const repeated = repeatedQuestions().map((q) => JSON.stringify(q));
let fresh = Number(firstNewArg);

const latencies: number[] = [];
const statuses: Record<string, number> = {};
const cache: Record<string, number> = {};
let errors = 0;
const deadline = performance.now() + seconds * 1000;

async function connection(): Promise<void> {
  while (performance.now() < deadline) {
    const body = random() < repeatShare ? repeated[Math.floor(random() * repeated.length)] : JSON.stringify(newQuestion(fresh++, novel));
    const started = performance.now();
    try {
      const a = await send('POST', '/v1/query', body);
      latencies.push(performance.now() - started);
      statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      if (a.cache) cache[a.cache] = (cache[a.cache] ?? 0) + 1;
    } catch {
      errors++;
    }
  }
}

const exports = { finished: 0, refused: 0, cut_at_the_end: 0, mb: 0 };
async function exporting(): Promise<void> {
  // The export running at the end is cut off then: the run measures the queries, not the last export.
  const signal = AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now())));
  while (performance.now() < deadline) {
    const a = await send('GET', '/v1/exports/sends?format=parquet', undefined, signal).catch(() => null);
    if (!a) exports.cut_at_the_end++;
    else if (a.status === 200) {
      exports.finished++;
      exports.mb += a.bytes / 2 ** 20;
    } else {
      // As a well-behaved client does: wait as long as Retry-After says (the lane is full), up to the end of the run.
      exports.refused++;
      await new Promise((r) => setTimeout(r, Math.min(Math.max(1, a.retryAfter) * 1000, Math.max(0, deadline - performance.now()))));
    }
  }
}

const started = performance.now();
const exportLoop = withExport ? exporting() : Promise.resolve();
await Promise.all(Array.from({ length: connections }, connection));
const elapsed = (performance.now() - started) / 1000;
await exportLoop;
const sorted = latencies.sort((a, b) => a - b);
const at = (p: number) => +(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN).toFixed(1);
console.log(
  JSON.stringify({
    connections,
    repeat_share: repeatShare,
    novel,
    export_running: withExport,
    seconds: +elapsed.toFixed(1),
    requests: sorted.length,
    requests_per_s: Math.round(sorted.length / elapsed),
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    max_ms: +(sorted.at(-1) ?? NaN).toFixed(1),
    statuses,
    cache,
    errors,
    ...(withExport ? { exports: { ...exports, mb: Math.round(exports.mb) } } : {}),
  }),
);
agent.destroy();
