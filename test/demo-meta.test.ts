// `demo --source meta-webhooks` as a user runs it: a child process that posts the simulated world through collect,
// maps and ingests it, prints the summary with what went through collect, and then serves the API, whose answers
// hold the sends of the truth file. Without a broker and without Java it says so and exits 2; an unknown source is
// a usage error naming the choices.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Truth } from '../simulator/index.js';
import { brokers } from './helpers/kafka.js';
import { freePort } from './helpers/local-server.js';
import { waitFor } from './helpers/wait.js';
import { freshWarehouseEnv } from './helpers/warehouse.js';

const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;

describe('demo --source meta-webhooks', () => {
  it('posts the world through collect, prints what went through it and the summary, then serves the truth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policylens-demo-'));
    dirs.push(dir);
    const id = randomBytes(4).toString('hex');
    const [apiPort, collectPort] = [await freePort(), await freePort()];
    const env = {
      ...process.env,
      ...freshWarehouseEnv(dir),
      POLICYLENS_KAFKA_BROKERS: brokers(),
      POLICYLENS_TOPIC_PREFIX: `t${id}`,
      POLICYLENS_KAFKA_GROUP: `g${id}`,
      POLICYLENS_KAFKA_PARTITIONS: '3',
      POLICYLENS_PORT: String(apiPort),
      POLICYLENS_COLLECT_PORT: String(collectPort),
      POLICYLENS_API_KEYS: '',
      POLICYLENS_LOG_LEVEL: 'error',
    };
    const child = spawn(process.execPath, [BIN, 'demo', '--source', 'meta-webhooks', '--events', '10000'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await waitFor(() => out.includes('policylens collect on') || child.exitCode !== null, 'the demo to serve', 90_000);
      expect(child.exitCode, `${out}\n${err}`).toBeNull();
      const demoDir = join(dir, 'demo');
      const truth = JSON.parse(readFileSync(join(demoDir, 'meta-webhooks.truth.json'), 'utf8')) as Truth;
      const [posts, logLines] = [lines(join(demoDir, 'meta-webhooks.ndjson')), lines(join(demoDir, 'meta-webhooks.sendlog.ndjson'))];
      const s = (n: number) => n.toLocaleString('en-US');
      const serving = out.indexOf('serving the API');
      const summary = out.slice(0, serving);
      expect(serving).toBeGreaterThan(0);
      expect(summary).toMatch(
        new RegExp(
          `through collect: ${s(posts)} webhook POSTs \\(${s(posts)} bodies mapped to [\\d,]+ events, 0 dead-lettered\\) and \\d+ POST /v1/events requests \\(${s(logLines)} events accepted, 0 rejected\\)`,
        ),
      );
      expect(summary).toContain('dead-lettered 0');
      expect(summary).toContain(`warehouse: ${truth.counts.validByType.send} sends`);
      expect(summary).toContain('Recurring notifications: engagement and opt-outs by frequency and regime');

      const key = /an admin key for this run only: (\S+)/.exec(out)?.[1];
      expect(key).toBeTruthy();
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ metrics: ['sends', 'converted'], date_range: ['2019-01-01', '2026-10-31'] }),
      });
      expect(res.status).toBe(200);
      const [row] = ((await res.json()) as { results: { metrics: Record<string, number> }[] }).results;
      expect(row.metrics).toEqual({ sends: truth.counts.validByType.send, converted: truth.counts.validByType.converted });
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      await exited;
      clearTimeout(timer);
    }
  }, 120_000);

  it('without a broker and without Java, says the source needs the broker and exits 2', () => {
    const env: Record<string, string> = { PATH: '/nonexistent', POLICYLENS_DATA_DIR: join(tmpdir(), 'policylens-unused') };
    const r = spawnSync(process.execPath, [BIN, 'demo', '--source', 'meta-webhooks'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('--source meta-webhooks needs a Kafka broker');
  });

  it('refuses an unknown source with the choices', () => {
    const r = spawnSync(process.execPath, [BIN, 'demo', '--source', 'kafka'], { env: { ...process.env }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--source must be one of simulator, meta-webhooks');
  });
});
