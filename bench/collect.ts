// npm run bench:collect — `policylens collect` as its own process against the Kafka broker: (1) webhook POSTs of
// 10 updates each, signed, and (2) POST /v1/events batches of 1,000 events; requests/s, events/s and p50/p99 latency
// as the client sees them (every answer came after Kafka's acknowledgement, acks=all). The load generator runs in
// this process over kept-alive connections (collect/replay.ts), on the same machine; collect's own CPU seconds per
// phase are reported beside the rates, since on a shared machine they say more about collect than the rates do.
// Usage: npm run bench:collect -- [webhooks=20000] [batches=300] [--concurrency=32] [--cpu-prof (of collect, into $TMPDIR/policylens-collect-profile/)]
//   (starts the local broker unless POLICYLENS_KAFKA_BROKERS is set; topics get a fresh prefix, deleted after)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { postAll, type OutgoingRequest } from '../collect/replay.js';
import { signBody } from '../sources/meta/signature.js';
import { startBroker } from '../devtools/kafka/local-broker.js';
import { allTopics, topicNames } from '../events/topics.js';
import { createKafka, withAdmin } from '../ingest/kafka.js';
import { freePort } from '../test/helpers/local-server.js';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const WEBHOOKS = Number(positional[0] ?? 20_000);
const BATCHES = Number(positional[1] ?? 300);
const CONCURRENCY = Number(args.find((a) => a.startsWith('--concurrency='))?.split('=')[1] ?? 32);
const UPDATES_PER_WEBHOOK = 10;
const EVENTS_PER_BATCH = 1_000;
const SECRET = 'bench-app-secret-0123456789abcdef';
const KEY = 'bench-producer-key-0123456789';
const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));

function webhook(i: number): OutgoingRequest {
  const page = `page-${i % 50}`;
  const messaging = Array.from({ length: UPDATES_PER_WEBHOOK }, (_, j) => ({
    sender: { id: page },
    recipient: { id: `psid-${(i * 7 + j) % 10_000}` },
    timestamp: 1_700_000_000_000 + i * 10 + j,
    message: {
      is_echo: true,
      app_id: 1517776481860111,
      metadata: `campaign-${i % 20}`,
      mid: `m_${i}_${j}`,
      text: 'Weekly deals: caf\u00e9 \u00e4\u00f6\u00e5',
    },
  }));
  const body = JSON.stringify({ object: 'page', entry: [{ id: page, time: 1_700_000_000_000 + i, messaging }] });
  return { path: '/v1/webhooks/meta', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, SECRET) }, body };
}

function batch(b: number): OutgoingRequest {
  const events = Array.from({ length: EVENTS_PER_BATCH }, (_, j) => ({
    event_id: `bench-${b}-${j}`,
    type: 'send',
    occurred_at: new Date(Date.UTC(2024, 0, 1) + (b * EVENTS_PER_BATCH + j) * 1000).toISOString(),
    business_id: `b${j % 13}`,
    user_id: `u${(b * 31 + j) % 50_000}`,
    channel: j % 5 === 0 ? 'whatsapp' : 'messenger',
    category: 'message_tag',
    cost_usd: 0.001,
  }));
  return { path: '/v1/events', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(events) };
}

/** CPU seconds (user + system) a process has used so far, from /proc: collect's own cost, apart from the machine's load. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(base: string, pid: number, name: string, requests: OutgoingRequest[], concurrency: number, eventsPerRequest: number) {
  const ms: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const load0 = loadavg()[0];
  const summary = await postAll(base, requests, { concurrency, retries: 0, onDone: (_r, o) => o.status === 200 && ms.push(o.ms) });
  ms.sort((a, b) => a - b);
  const seconds = summary.ms / 1000;
  const result = {
    name,
    requests: summary.requests,
    by_status: summary.byStatus,
    concurrency,
    seconds: Number(seconds.toFixed(2)),
    requests_per_s: Math.round(ms.length / seconds),
    events_per_s: Math.round((ms.length * eventsPerRequest) / seconds),
    p50_ms: Number(quantile(ms, 0.5).toFixed(1)),
    p99_ms: Number(quantile(ms, 0.99).toFixed(1)),
    collect_cpu_seconds: Number((cpuSeconds(pid) - cpu0).toFixed(2)),
    requests_per_collect_cpu_second: Math.round(ms.length / (cpuSeconds(pid) - cpu0)),
    load_average_1m: [Number(load0.toFixed(1)), Number(loadavg()[0].toFixed(1))],
  };
  console.log(JSON.stringify(result));
  return result;
}

async function main() {
  if (!process.env.POLICYLENS_KAFKA_BROKERS) await startBroker();
  const prefix = `bench${Date.now().toString(36)}`;
  const port = await freePort();
  const env = {
    ...process.env,
    POLICYLENS_KAFKA_BROKERS: process.env.POLICYLENS_KAFKA_BROKERS ?? '127.0.0.1:9092',
    POLICYLENS_TOPIC_PREFIX: prefix,
    POLICYLENS_COLLECT_PORT: String(port),
    POLICYLENS_META_APP_SECRET: SECRET,
    POLICYLENS_API_KEYS: `${KEY}:producer`,
    POLICYLENS_COLLECT_RATE_LIMIT: '1000000',
    POLICYLENS_LOG_LEVEL: 'info',
  };
  const config = loadConfig(env);
  const kafka = createKafka(config, createLogger({ component: 'bench' }, 'warn'));
  const profile = args.includes('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'policylens-collect-profile')}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, BIN, 'collect'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => String(d).includes('"collect listening"') && resolve());
    child.once('exit', (code) => reject(new Error(`collect exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const hooks = Array.from({ length: WEBHOOKS }, (_, i) => webhook(i));
    const batches = Array.from({ length: BATCHES }, (_, b) => batch(b));
    await run(base, child.pid!, 'warm-up', [...hooks.slice(0, 2_000), ...batches.slice(0, 20)], CONCURRENCY, UPDATES_PER_WEBHOOK);
    const webhooks = WEBHOOKS > 0 ? await run(base, child.pid!, 'webhooks (10 updates each)', hooks, CONCURRENCY, UPDATES_PER_WEBHOOK) : null;
    const events = BATCHES > 0 ? await run(base, child.pid!, 'POST /v1/events (1,000 events each)', batches, 8, EVENTS_PER_BATCH) : null;
    const result = { date: new Date().toISOString(), webhooks, events, targets: { webhook_posts_per_s: 2_000, webhook_p99_ms: 100, events_per_s: 50_000 } };
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('./results/collect.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: allTopics(topicNames(prefix)) })).catch(() => undefined);
  }
}

await main();
