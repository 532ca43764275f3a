// An app over a fresh test warehouse with one key per role, and a way to load NDJSON text into it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Logger } from '../../common/log.js';
import { loadFile } from '../../ingest/load-file.js';
import { ROLES, createKeyRing, type Role } from '../../common/api-keys.js';
import { buildApp } from '../../query/api/app.js';
import { simulateToFile, type SimulateOptions, type Truth } from '../../simulator/index.js';
import { openTestWarehouse, type TestWarehouse } from './warehouse.js';

export const TEST_KEYS = Object.fromEntries(ROLES.map((r) => [r, `${r}-test-key-0123456789`])) as Record<Role, string>;
export const authAs = (role: Role) => ({ authorization: `Bearer ${TEST_KEYS[role]}` });

export interface TestApi {
  t: TestWarehouse;
  app: FastifyInstance;
  /** Loads NDJSON text through the real loader; every line must be accepted. */
  load(name: string, text: string): Promise<void>;
  /** Simulates events into a file beside the warehouse and loads them all; returns the simulator's truth. */
  loadSimulated(opts: SimulateOptions): Promise<Truth>;
  close(): Promise<void>;
}

/**
 * Tests make many requests with one key; the rate limit stays out of their way unless a test sets it. A test that
 * checks what the app logs passes its own logger.
 */
export async function openTestApi(env: Record<string, string> = {}, rateLimitPerMinute = 100_000, log?: Logger): Promise<TestApi> {
  const t = await openTestWarehouse(env);
  const keys = createKeyRing(ROLES.map((role) => ({ key: TEST_KEYS[role], role })));
  const app = await buildApp({ config: t.config, wh: t.wh, keys, rateLimitPerMinute, log });
  return {
    t,
    app,
    async load(name, text) {
      const file = join(t.dir, name);
      writeFileSync(file, text);
      const r = await loadFile(file, t.writer, { batchRows: 50_000 });
      expect(r.rejected).toBe(0);
    },
    async loadSimulated(opts) {
      const out = join(t.dir, 'sim.ndjson');
      const truth = await simulateToFile({ ...opts, out });
      const r = await loadFile(out, t.writer, { batchRows: 50_000 });
      expect(r.loaded).toBe(opts.events);
      return truth;
    },
    async close() {
      await app.close();
      await t.dispose();
    },
  };
}

/** One test API for a whole file: opened before its tests and closed after them (registers the hooks itself). */
export function useTestApi(env: Record<string, string> = {}, rateLimitPerMinute?: number, log?: Logger): Omit<TestApi, 'close'> {
  let api: TestApi | undefined;
  beforeAll(async () => {
    api = await openTestApi(env, rateLimitPerMinute, log);
  });
  afterAll(async () => api?.close());
  const current = (): TestApi => {
    if (!api) throw new Error('the test API is opened in beforeAll; use it inside tests and hooks');
    return api;
  };
  return {
    get t() {
      return current().t;
    },
    get app() {
      return current().app;
    },
    load: (name, text) => current().load(name, text),
    loadSimulated: (opts) => current().loadSimulated(opts),
  };
}
