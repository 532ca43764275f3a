// kill -9 the ingest process at random moments and start it again: nothing lost, nothing counted twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { SESSION_TIMEOUT_MS } from '../ingest/consumer.js';
import { produceLines } from '../ingest/produce.js';
import { Rng } from '../simulator/rng.js';
import { queryRows } from '../warehouse/client.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { rawCounts } from '../warehouse/summary.js';
import { makeTestTopics, topicsEnv } from './helpers/kafka.js';
import { expectedFamilies, plainStream } from './helpers/stream.js';
import { distinctAndTotal, expectRollupsToMatchRaw } from './helpers/truth.js';
import { within } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const EVENTS = 200_000;
const KILLS = 5;
const RESTART_BUDGET_MS = 3 * SESSION_TIMEOUT_MS + 15_000;
const MAX_STARTS = 2 * KILLS + 1;
const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));

describe('ingest killed with SIGKILL and restarted', () => {
  let t: TestWarehouse;
  let env: NodeJS.ProcessEnv;
  const seed = Number(process.env.POLICYLENS_CRASH_SEED ?? Date.now() % 100_000);
  const log: string[] = [];

  beforeAll(async () => {
    t = await openTestWarehouse();
    await t.wh.close(); // the ingest process must own the data directory
    const k = await makeTestTopics(t.config, 6);
    env = {
      ...process.env,
      ...t.env,
      ...topicsEnv(k),
      // Small flushes (a flush takes all that is held, and reading waits past twice the bound): the stream takes ten
      // or more, so a kill after a few of them lands mid-stream even when the ingest fetches everything at once.
      POLICYLENS_BATCH_MAX_ROWS: '5000',
      POLICYLENS_MAX_HELD_ROWS: '10000',
      // debug: the kills are timed by the ingest's own 'flushed' lines, so they land mid-stream however fast it runs.
      POLICYLENS_LOG_LEVEL: 'debug',
    };
    await produceLines(k.kafka, plainStream(EVENTS, 'crash'), { topics: k.topics });
  });

  afterAll(async () => t?.dispose());

  const startIngest = (args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [BIN, 'ingest', '--no-metrics', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr!.on('data', (d) => log.push(String(d)));
    child.stdout!.on('data', (d) => log.push(String(d)));
    return child;
  };
  // Resolves once the child has logged `message` `times` times (or has exited).
  const logged = (child: ChildProcess, message: string, times = 1) =>
    new Promise<void>((resolve) => {
      if (times <= 0) return resolve();
      let seen = 0;
      const onData = (d: Buffer) => {
        seen += String(d).split(`"${message}"`).length - 1;
        if (seen >= times) {
          child.stderr!.off('data', onData);
          resolve();
        }
      };
      child.stderr!.on('data', onData);
      child.once('exit', () => resolve());
    });
  const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const eventsWritten = async (): Promise<number> => {
    const ready = await openReadyWarehouse(t.config);
    try {
      const [{ n }] = await queryRows<{ n: string }>(ready.wh, 'SELECT count() AS n FROM event_ids');
      return Number(n);
    } finally {
      await ready.wh.close();
    }
  };

  it(
    `loses and doubles nothing across ${KILLS} kills (seed ${seed})`,
    async () => {
      // The project's seeded generator, so a failing run can be repeated with the same kill times.
      const random = new Rng(seed, 0);
      const progress: number[] = [];
      // At least KILLS kills, and more (up to 2×) until one has landed mid-stream, however slow the machine is.
      for (let i = 0; i < KILLS || (!progress.some((n) => n > 0 && n < EVENTS) && i < MAX_STARTS - 1); i++) {
        const child = startIngest([]);
        // A restarted process waits for the group to give up on the killed one (one session) before it gets
        // partitions: the budget follows from that.
        await within(logged(child, 'partitions assigned'), RESTART_BUDGET_MS, `start ${i + 1}: the ingest gets its partitions`);
        // Kill it after 0–3 of its own flushes and a little more, so the kill falls before the first write, between
        // flushes or inside one: counted in flushes rather than milliseconds, a fast warehouse cannot outrun it.
        const flushes = random.below(4);
        const after = random.below(250);
        // Once the stream is all written there are no more flushes to count: then it is killed idle.
        await Promise.race([logged(child, 'flushed', flushes), new Promise((r) => setTimeout(r, 5_000))]);
        await new Promise((r) => setTimeout(r, after));
        child.kill('SIGKILL');
        await exited(child);
        progress.push(await eventsWritten());
        log.push(`killed ${after} ms after ${flushes} flushes with ${progress.at(-1)} events written\n`);
      }
      // The kills must have landed mid-stream, not all before the first write or after the last.
      expect(
        progress.some((n) => n > 0 && n < EVENTS),
        progress.join(', '),
      ).toBe(true);
      const last = startIngest(['--until-idle', '3']);
      const code = await exited(last);
      expect(code, log.join('').slice(-4000)).toBe(0);

      const ready = await openReadyWarehouse(t.config);
      try {
        const raw = await rawCounts(ready.wh);
        const want = expectedFamilies(EVENTS);
        expect(raw.sends).toBe(want.sends);
        expect(Object.values(raw.engagements).reduce((a, b) => a + b, 0)).toBe(want.engagements);
        expect(Object.values(raw.subscriptions).reduce((a, b) => a + b, 0)).toBe(want.subscriptions);
        const dups = await distinctAndTotal(ready.wh);
        expect(dups.total).toBe(EVENTS);
        expect(dups.distinct).toBe(EVENTS);
        await expectRollupsToMatchRaw(ready.wh);
      } finally {
        await ready.wh.close();
      }
      // Each start may wait out a dead member's session; on a loaded machine five of them outlast the default timeout.
    },
    MAX_STARTS * RESTART_BUDGET_MS,
  );
});
