// Three ingest processes in one consumer group writing to one ClickHouse server (two, on a two-shard cluster); one
// of them killed with SIGKILL at random moments and started again, five times, then one more joins and one leaves
// cleanly, all while the stream is still arriving. The answers of POST /v1/query must equal the simulator's truth
// exactly, and every rollup must equal the raw tables (on a cluster, on every shard).
// Server and cluster mode only: the embedded engine holds its data directory in one process.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_TIMEOUT_MS } from '../ingest/consumer.js';
import { produceLines } from '../ingest/produce.js';
import { createSimulation, type Truth } from '../simulator/index.js';
import { Rng } from '../simulator/rng.js';
import { queryRows } from '../warehouse/client.js';
import { authAs, openTestApi, type TestApi } from './helpers/api.js';
import { topicsEnv, makeTestTopics } from './helpers/kafka.js';
import { expectWarehouseToMatchTruth } from './helpers/truth.js';
import { waitFor, waitForCount } from './helpers/wait.js';
import { testMode } from './helpers/warehouse.js';

const EVENTS = 150_000;
const PROCESSES = testMode() === 'cluster' ? 2 : 3;
const KILLS = 5;
const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));
const CELL = ['channel', 'category', 'frequency', 'regime'];
// A restarted member waits for the group to give up on the killed one (one session) before it is given partitions;
// with start-up and a rebuild on top, three sessions is a budget that only a real stall exceeds.
const RESTART_BUDGET_MS = 3 * SESSION_TIMEOUT_MS + 15_000;

interface Member {
  child: ChildProcess;
  startedAt: number;
  firstFlushAt: number | null;
  running: boolean;
  exit: Promise<number | null>;
}

describe(`${PROCESSES} ingest processes in one group, one killed and restarted ${KILLS} times, one joining, one leaving`, () => {
  let api: TestApi;
  let truth: Truth;
  let env: NodeJS.ProcessEnv;
  let producing: Promise<void>;
  const seed = Number(process.env.POLICYLENS_CRASH_SEED ?? Date.now() % 100_000);
  const log: string[] = [];

  beforeAll(async () => {
    api = await openTestApi();
    const k = await makeTestTopics(api.t.config, 6);
    env = {
      ...process.env,
      ...api.t.env,
      ...topicsEnv(k),
      POLICYLENS_BATCH_MAX_ROWS: '10000',
      POLICYLENS_BATCH_MAX_MS: '300',
      POLICYLENS_LOG_LEVEL: 'info',
    };
    // The stream arrives over about 80 s in 80 slices, so the kills, the join and the leave land while it is still coming.
    const sim = createSimulation({ events: EVENTS, seed: 11, badRatio: 0.002, dupRatio: 0.01 });
    const lines = [...sim.lines()];
    truth = sim.truth();
    const slice = Math.ceil(lines.length / 80);
    producing = (async () => {
      for (let i = 0; i < lines.length; i += slice) {
        await produceLines(k.kafka, lines.slice(i, i + slice), { topics: k.topics, batchSize: slice });
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();
  });

  const everyone: ChildProcess[] = [];
  afterAll(async () => {
    // The whole log of every member, for a failure's post-mortem (the assertion shows only its end).
    const file = join(tmpdir(), `policylens-scale-out-${seed}.log`);
    writeFileSync(file, log.join(''));
    console.error(`scale-out: members' log in ${file}`);
    for (const child of everyone) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await api?.close();
  });

  const start = (name: string): Member => {
    const child = spawn(process.execPath, [BIN, 'ingest', '--no-metrics'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    everyone.push(child);
    const member: Member = {
      child,
      startedAt: Date.now(),
      firstFlushAt: null,
      running: false,
      exit: new Promise((r) => child.once('exit', (code) => r(code))),
    };
    child.stderr!.on('data', (d: Buffer) => {
      const text = String(d);
      log.push(`[${name}] ${text}`);
      if (member.firstFlushAt === null && text.includes('"first flush committed"')) member.firstFlushAt = Date.now();
      if (text.includes('"ingest running"')) member.running = true;
    });
    return member;
  };

  const written = async () => Number((await queryRows<{ n: string }>(api.t.wh, 'SELECT count() AS n FROM event_ids'))[0].n);

  it(`answers exactly what the simulator wrote (seed ${seed})`, { timeout: 420_000 }, async () => {
    const random = new Rng(seed, 0);
    const members = Array.from({ length: PROCESSES }, (_, i) => start(`m${i}`));
    const restarts: number[] = [];
    const atKill: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 500 + random.below(2500)));
      const i = random.below(PROCESSES);
      members[i].child.kill('SIGKILL');
      await members[i].exit;
      atKill.push(await written());
      members[i] = start(`m${i}-${k + 1}`);
      const restarted = members[i];
      // The restarted process must get partitions and write within the budget, as long as there is work left.
      await waitFor(
        async () => restarted.firstFlushAt !== null || (await written()) === truth.counts.valid,
        `kill ${k + 1}: the restarted member's first flush`,
        RESTART_BUDGET_MS,
      );
      if (restarted.firstFlushAt !== null) restarts.push(restarted.firstFlushAt - restarted.startedAt);
    }
    log.push(`events written at each kill: ${atKill.join(', ')}; restart to first flush (ms): ${restarts.join(', ')}\n`);
    console.error(`scale-out (seed ${seed}): written at each kill ${atKill.join(', ')}; restart to first flush ${restarts.join(', ')} ms`);
    expect(
      atKill.some((n) => n < truth.counts.valid),
      `every kill came after the stream was written: ${atKill.join(', ')}`,
    ).toBe(true);

    // One more member joins, then one leaves cleanly, while the stream may still be arriving.
    const joined = start(`m${PROCESSES}`);
    members.push(joined);
    await waitFor(async () => joined.running || (await written()) === truth.counts.valid, 'the new member joined', RESTART_BUDGET_MS);
    const atJoin = await written();
    await waitFor(() => members[0].running, 'the leaving member running', RESTART_BUDGET_MS);
    const leaving = members.shift()!;
    leaving.child.kill('SIGTERM');
    expect(await leaving.exit, log.join('').slice(-4000)).toBe(0);
    console.error(`scale-out: member ${PROCESSES + 1} joined with ${atJoin} events written, one left cleanly with ${await written()}`);

    await producing;
    await waitForCount(written, truth.counts.valid, 'every valid event written', 180_000, 500);
    // A member still starting up has no SIGTERM handler yet; every member must be up before the clean stop.
    for (const m of members) await waitFor(() => m.running, 'every member running', RESTART_BUDGET_MS);
    const stopping = Date.now();
    for (const m of members) m.child.kill('SIGTERM');
    const codes = await Promise.all(members.map((m) => m.exit));
    console.error(`scale-out: ${members.length} members stopped in ${Date.now() - stopping} ms`);
    expect(codes, log.join('').slice(-4000)).toEqual(members.map(() => 0));

    await expectWarehouseToMatchTruth(api.t.wh, truth);
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/query',
      headers: authAs('analyst'),
      payload: {
        metrics: ['sends', 'delivered', 'read', 'clicked', 'replied', 'converted', 'opt_outs', 'blocks', 'spam_reports', 'cost_usd', 'revenue_usd'],
        dimensions: CELL,
        date_range: ['2019-01-01', '2026-10-31'],
        limit: 10_000,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const key = (d: Record<string, string | null>) => CELL.map((c) => d[c] ?? '').join('|');
    const got = new Map(
      (res.json().results as { dimensions: Record<string, string | null>; metrics: Record<string, number> }[]).map((r) => [key(r.dimensions), r.metrics]),
    );
    expect(got.size).toBe(truth.cells.length);
    const name: Record<string, string> = { opt_outs: 'opt_out', blocks: 'block', spam_reports: 'spam_report' };
    for (const c of truth.cells) {
      const cell = key(c as unknown as Record<string, string | null>);
      const realized = c.realized as unknown as Record<string, number>;
      const m = got.get(cell)!;
      expect({ cell, ...m }).toEqual({ cell, ...Object.fromEntries(Object.keys(m).map((k) => [k, realized[name[k] ?? k]])) });
    }
  });
});
