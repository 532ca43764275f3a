// Exports read back: Parquet by the engine and by an independent reader (hyparquet), CSV and JSON Lines parsed;
// row counts, pseudonyms, suppression, auth, errors and injection attempts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngagementRow, SendRow, SubscriptionRow } from '../events/types.js';
import { loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { createKeyRing, parseKeySpec } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { DATASET_SPECS } from '../query/exports/datasets.js';
import { exportQuery } from '../query/exports/request.js';
import type { DatasetName } from '../query/exports/spec.js';
import { parseWindow } from '../query/exports/window.js';
import { parquetCounter, parquetFooterRows } from '../query/exports/parquet-rows.js';
import { csvCounter, jsonlCounter } from '../query/exports/row-counter.js';
import { keyFingerprint, pseudonymise, SQL_KEY_PADS } from '../query/exports/pseudonym.js';
import { openExportStream, sweepStaleExports } from '../query/exports/stream.js';
import { queryRows } from '../warehouse/client.js';
import { readRegimes } from '../warehouse/migrate.js';
import { waitFor } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';
import { parseCsv } from '../dashboards/csv.js';

const SECRET_A = 'secret-A-0123456789abcdef';
const SECRET_B = 'secret-B-fedcba9876543210';
const KEYS = {
  analyst: 'analyst-key-0000000001',
  product: 'product-key-0000000001',
  researcher: 'researcher-key-0000001',
  admin: 'admin-key-000000000001',
};
const auth = (role: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[role]}` });

// ---------------------------------------------------------------------------------------------------------
// Fixture: hand-made events whose daily metrics are known.

const at = (iso: string) => Date.parse(iso);
const minutes = (n: number) => n * 60_000;
const TOPIC_B = 'deals, "hot"\nnew';

function send(id: string, occurred: number, over: Partial<SendRow> = {}): SendRow {
  return {
    event_id: id,
    occurred_at: occurred,
    business_id: 'raw-biz-alpha',
    user_id: 'raw-user-0',
    channel: 'messenger',
    regime: null,
    category: 'recurring_notification',
    frequency: 'daily',
    topic: 'deals',
    campaign_id: null,
    cost_usd: 0.01,
    ...over,
  };
}

const sends: SendRow[] = [
  // cell A: 2022-06-01 messenger recurring daily, 9 sends (suppressed)
  ...Array.from({ length: 9 }, (_, i) => send(`raw-send-a-${i}`, at('2022-06-01T10:00:00Z') + minutes(i), { user_id: `raw-user-${i}` })),
  // cell B: 2022-06-01 messenger recurring weekly, 10 sends (shown)
  ...Array.from({ length: 10 }, (_, i) =>
    send(`raw-send-b-${i}`, at('2022-06-01T12:00:00Z') + minutes(i), {
      user_id: `raw-user-${i}`,
      frequency: 'weekly',
      topic: TOPIC_B,
      campaign_id: 'raw-campaign-spring',
      cost_usd: 0.02,
    }),
  ),
  // cell C: 2022-06-02 whatsapp marketing_template, 13 sends, the last in the last millisecond of the day
  ...Array.from({ length: 12 }, (_, i) =>
    send(`raw-send-c-${i}`, at('2022-06-02T08:00:00Z') + minutes(5 * i), {
      business_id: 'raw-biz-beta',
      user_id: `raw-user-${i % 4}`,
      channel: 'whatsapp',
      category: 'marketing_template',
      frequency: null,
      topic: null,
      cost_usd: 0.0618,
    }),
  ),
  send('raw-send-c-late', at('2022-06-02T23:59:59.999Z'), {
    business_id: 'raw-biz-beta',
    user_id: 'raw-user-1',
    channel: 'whatsapp',
    category: 'marketing_template',
    frequency: null,
    topic: null,
    cost_usd: 0.0618,
  }),
  // just outside a 2022-06-01..2022-06-02 window
  send('raw-send-early', at('2022-05-31T23:59:59.999Z'), { category: 'response', frequency: null }),
  send('raw-send-next', at('2022-06-03T00:00:00.000Z'), { category: 'response', frequency: null }),
  // two sends in the same millisecond to one person: a later opt-out goes to the larger event_id
  send('raw-send-tie-a', at('2022-06-05T09:00:00Z'), { user_id: 'raw-user-tie', frequency: 'daily' }),
  send('raw-send-tie-b', at('2022-06-05T09:00:00Z'), { user_id: 'raw-user-tie', frequency: 'monthly' }),
];

let engCounter = 0;
function engagement(sendId: string, type: EngagementRow['type'], revenue = 0): EngagementRow {
  const s = sends.find((x) => x.event_id === sendId)!;
  engCounter++;
  return {
    event_id: `raw-eng-${engCounter}`,
    occurred_at: s.occurred_at + minutes(1),
    business_id: s.business_id,
    user_id: s.user_id,
    channel: s.channel,
    regime: null,
    type,
    send_id: sendId,
    revenue_usd: revenue,
  };
}

const engagements: EngagementRow[] = [
  ...Array.from({ length: 10 }, (_, i) => engagement(`raw-send-b-${i}`, 'delivered')),
  ...Array.from({ length: 6 }, (_, i) => engagement(`raw-send-b-${i}`, 'read')),
  engagement('raw-send-b-0', 'read'), // a second read of the same send counts once
  ...Array.from({ length: 3 }, (_, i) => engagement(`raw-send-b-${i}`, 'clicked')),
  engagement('raw-send-b-0', 'converted', 12.5),
  engagement('raw-send-b-1', 'converted', 7.25),
  ...Array.from({ length: 9 }, (_, i) => engagement(`raw-send-a-${i}`, 'delivered')),
];

function subscription(id: string, type: SubscriptionRow['type'], user: string, iso: string, over: Partial<SubscriptionRow> = {}): SubscriptionRow {
  return {
    event_id: id,
    occurred_at: at(iso),
    business_id: 'raw-biz-alpha',
    user_id: user,
    channel: 'messenger',
    regime: null,
    type,
    topic: null,
    frequency: type === 'opt_in' ? 'weekly' : null,
    reason: type === 'opt_in' ? null : 'raw-reason-free-text',
    ...over,
  };
}

const subscriptions: SubscriptionRow[] = [
  subscription('raw-sub-in-0', 'opt_in', 'raw-user-0', '2022-05-30T09:00:00Z', { topic: 'deals' }),
  subscription('raw-sub-out-3', 'opt_out', 'raw-user-3', '2022-06-02T12:00:00Z'), // latest send: B #3 -> cell B
  subscription('raw-sub-spam-4', 'spam_report', 'raw-user-4', '2022-06-01T12:30:00Z'), // B #4 -> cell B
  subscription('raw-sub-block-5', 'block', 'raw-user-5', '2022-06-01T11:00:00Z'), // A #5 -> cell A
  subscription('raw-sub-out-nobody', 'opt_out', 'raw-user-nobody', '2022-06-01T13:00:00Z'), // no send: in no cell
  subscription('raw-sub-out-late', 'opt_out', 'raw-user-1', '2022-06-10T00:00:00Z'), // beyond 72 h: in no cell
  subscription('raw-sub-out-tie', 'opt_out', 'raw-user-tie', '2022-06-05T10:00:00Z'), // -> raw-send-tie-b (monthly)
];

// ---------------------------------------------------------------------------------------------------------
// Readers.

function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

const jsonl = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const arrayBufferOf = (b: Buffer): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

async function readParquet(b: Buffer): Promise<Record<string, unknown>[]> {
  return (await parquetReadObjects({ file: arrayBufferOf(b), compressors })) as Record<string, unknown>[];
}

describe('docs/exports.md', () => {
  it('lists every field of every dataset, in order', () => {
    const doc = readFileSync(new URL('../docs/exports.md', import.meta.url), 'utf8');
    for (const [name, spec] of Object.entries(DATASET_SPECS)) {
      const section = doc.split(`\n### ${name}\n`)[1]?.split('\n### ')[0] ?? '';
      const documented = [...section.matchAll(/^\| `([a-z_]+)` \| ([a-z]+)(, nullable)? \|/gm)].map((m) => [m[1], m[2], Boolean(m[3])]);
      expect(documented, name).toEqual(spec.fields.map((f) => [f.name, f.type, !f.constraints?.required]));
    }
  });
});

describe('exports', () => {
  let t: TestWarehouse;
  let app: FastifyInstance;
  let tmpDir: string;

  /** The API on the test warehouse, exporting under secret A to the test's temp directory with the default threshold, or `over`. */
  const appWith = (over: Partial<Config['exports']> = {}) =>
    buildApp({
      config: { ...t.config, exports: { ...t.config.exports, secret: SECRET_A, tmpDir, minCell: 10, ...over } },
      wh: t.wh,
      log: createLogger({ component: 'api' }, 'warn'),
      keys: createKeyRing(
        parseKeySpec(
          Object.entries(KEYS)
            .map(([role, key]) => `${key}:${role}`)
            .join(','),
        ),
      ),
    });
  /** Runs `fn` against an API whose export settings differ from the usual ones. */
  const withApp = async (over: Partial<Config['exports']>, fn: (other: FastifyInstance) => Promise<void>) => {
    const other = await appWith(over);
    try {
      await fn(other);
    } finally {
      await other.close();
    }
  };
  const get = (url: string, role: keyof typeof KEYS | null = 'researcher', on = app) => on.inject({ url, headers: role ? auth(role) : {} });
  const body = async (url: string, on = app) => {
    const res = await get(url, 'researcher', on);
    expect(res.statusCode, `${url}: ${res.statusCode} ${res.body.slice(0, 300)}`).toBe(200);
    return res.rawPayload;
  };
  const warehouseCount = async (table: string, where = '1') =>
    Number((await queryRows<{ n: string }>(t.wh, `SELECT count() AS n FROM ${table} WHERE ${where}`))[0].n);
  const windowWhere = `occurred_at >= toDateTime64('2022-06-01 00:00:00', 3, 'UTC') AND occurred_at < toDateTime64('2022-06-03 00:00:00', 3, 'UTC')`;

  beforeAll(async () => {
    t = await openTestWarehouse();
    tmpDir = join(t.dir, 'export-tmp');
    mkdirSync(tmpDir);
    await t.writer.write('sends', sends);
    await t.writer.write('engagements', engagements);
    await t.writer.write('subscriptions', subscriptions);
    app = await appWith();
  });

  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  describe('auth', () => {
    it('needs a researcher or admin key', async () => {
      for (const url of ['/v1/exports/sends?format=csv', '/v1/exports/sends/datapackage.json']) {
        const none = await get(url, null);
        expect(none.statusCode).toBe(401);
        expect(none.json().error.code).toBe('UNAUTHORIZED');
        for (const role of ['analyst', 'product'] as const) {
          const res = await get(url, role);
          expect(res.statusCode).toBe(403);
          expect(res.json().error.code).toBe('FORBIDDEN');
        }
        expect((await get(url, 'researcher')).statusCode).toBe(200);
        expect((await get(url, 'admin')).statusCode).toBe(200);
      }
    });
  });

  describe('row datasets read back', () => {
    it('Parquet: the engine and hyparquet read the same rows the warehouse has', async () => {
      for (const dataset of ['sends', 'engagements', 'subscriptions'] as const) {
        const buf = await body(`/v1/exports/${dataset}?format=parquet`);
        expect(buf.subarray(0, 4).toString()).toBe('PAR1');
        const path = join(t.dir, `${dataset}.parquet`);
        writeFileSync(path, buf);
        const n = await warehouseCount(dataset);
        // The engine itself, through the test warehouse.
        const [engine] = await queryRows<{ n: string; hex: string }>(
          t.wh,
          `SELECT count() AS n, countIf(match(event_id, '^[0-9a-f]{64}$') AND match(user_id, '^[0-9a-f]{64}$') AND match(business_id, '^[0-9a-f]{64}$')) AS hex
           FROM file({p:String}, Parquet)`,
          { p: path },
        );
        expect(Number(engine.n)).toBe(n);
        expect(Number(engine.hex)).toBe(n);
        const described = await queryRows<{ name: string }>(t.wh, 'DESCRIBE TABLE file({p:String}, Parquet)', { p: path });
        expect(described.map((d) => d.name)).toEqual(DATASET_SPECS[dataset].fields.map((f) => f.name));
        // An independent reader.
        const rows = await readParquet(buf);
        expect(rows).toHaveLength(n);
        expect(Object.keys(rows[0])).toEqual(DATASET_SPECS[dataset].fields.map((f) => f.name));
        expect(Number(parquetMetadata(arrayBufferOf(buf)).num_rows)).toBe(n);
        // The counters the CLI uses agree.
        expect(parquetFooterRows(buf)).toBe(n);
        const counter = parquetCounter(DATASET_SPECS[dataset].fields.length);
        for (let i = 0; i < buf.length; i += 1000) counter.push(buf.subarray(i, i + 1000));
        expect(counter.rows).toBe(n);
      }
    });

    it('Parquet values: types, decimals, nulls and timestamps survive', async () => {
      const rows = await readParquet(await body('/v1/exports/sends?format=parquet'));
      const b0 = rows.find((r) => r.event_id === pseudonymise(SECRET_A, 'event', 'raw-send-b-0'))!;
      expect(b0).toBeDefined();
      expect(b0.occurred_at).toEqual(new Date('2022-06-01T12:00:00.000Z'));
      expect(b0.cost_usd).toBeCloseTo(0.02, 9);
      expect(b0.topic).toBe(TOPIC_B);
      expect(b0.frequency).toBe('weekly');
      expect(b0.campaign_id).toBe(pseudonymise(SECRET_A, 'campaign', 'raw-campaign-spring'));
      expect(b0.regime).toBe('recurring_all_frequencies');
      const c0 = rows.find((r) => r.event_id === pseudonymise(SECRET_A, 'event', 'raw-send-c-0'))!;
      expect(c0.frequency).toBeNull();
      expect(c0.topic).toBeNull();
      expect(c0.campaign_id).toBeNull();
      const late = rows.find((r) => r.event_id === pseudonymise(SECRET_A, 'event', 'raw-send-c-late'))!;
      expect(late.occurred_at).toEqual(new Date('2022-06-02T23:59:59.999Z'));
    });

    it('CSV parses (RFC 4180) with the schema header and the warehouse row count', async () => {
      for (const dataset of ['sends', 'engagements', 'subscriptions'] as const) {
        const text = (await body(`/v1/exports/${dataset}?format=csv`)).toString('utf8');
        const [header, ...rows] = parseCsv(text);
        expect(header).toEqual(DATASET_SPECS[dataset].fields.map((f) => f.name));
        expect(rows).toHaveLength(await warehouseCount(dataset));
        for (const r of rows) expect(r).toHaveLength(header.length);
        const counter = csvCounter();
        counter.push(Buffer.from(text));
        expect(counter.rows).toBe(rows.length);
      }
      const sendsCsv = csvObjects((await body('/v1/exports/sends?format=csv')).toString('utf8'));
      const b0 = sendsCsv.find((r) => r.event_id === pseudonymise(SECRET_A, 'event', 'raw-send-b-0'))!;
      expect(b0.topic).toBe(TOPIC_B); // a comma, quotes and a newline inside one field
      expect(b0.occurred_at).toBe('2022-06-01T12:00:00.000Z');
      expect(Number(b0.cost_usd)).toBe(0.02);
      const c0 = sendsCsv.find((r) => r.event_id === pseudonymise(SECRET_A, 'event', 'raw-send-c-0'))!;
      expect([c0.frequency, c0.topic, c0.campaign_id]).toEqual(['', '', '']); // null is an empty field
    });

    it('JSON Lines parses with the warehouse row count', async () => {
      for (const dataset of ['sends', 'engagements', 'subscriptions'] as const) {
        const buf = await body(`/v1/exports/${dataset}?format=jsonl`);
        const rows = jsonl(buf.toString('utf8'));
        expect(rows).toHaveLength(await warehouseCount(dataset));
        expect(Object.keys(rows[0])).toEqual(DATASET_SPECS[dataset].fields.map((f) => f.name));
        const counter = jsonlCounter();
        counter.push(buf);
        expect(counter.rows).toBe(rows.length);
      }
      const conv = jsonl((await body('/v1/exports/engagements?format=jsonl')).toString('utf8')).filter((r) => r.type === 'converted');
      expect(conv.map((r) => r.revenue_usd).sort()).toEqual([12.5, 7.25]);
    });

    it('from/to are inclusive UTC days, each dataset by its own occurred_at', async () => {
      const q = 'from=2022-06-01&to=2022-06-02';
      for (const dataset of ['sends', 'engagements', 'subscriptions'] as const) {
        const n = await warehouseCount(dataset, windowWhere);
        expect(jsonl((await body(`/v1/exports/${dataset}?format=jsonl&${q}`)).toString('utf8'))).toHaveLength(n);
        expect(await readParquet(await body(`/v1/exports/${dataset}?format=parquet&${q}`))).toHaveLength(n);
      }
      const ids = new Set(jsonl((await body(`/v1/exports/sends?format=jsonl&${q}`)).toString('utf8')).map((r) => r.event_id));
      expect(ids.size).toBe(32);
      expect(ids.has(pseudonymise(SECRET_A, 'event', 'raw-send-c-late'))).toBe(true);
      expect(ids.has(pseudonymise(SECRET_A, 'event', 'raw-send-early'))).toBe(false);
      expect(ids.has(pseudonymise(SECRET_A, 'event', 'raw-send-next'))).toBe(false);
      expect(jsonl((await body('/v1/exports/sends?format=jsonl&from=2022-06-03')).toString('utf8'))).toHaveLength(3);
      expect(jsonl((await body('/v1/exports/sends?format=jsonl&to=2022-05-31')).toString('utf8'))).toHaveLength(1);
      expect((await body('/v1/exports/sends?format=jsonl&from=2030-01-01')).length).toBe(0);
      expect(parseCsv((await body('/v1/exports/sends?format=csv&from=2030-01-01')).toString('utf8'))).toHaveLength(1); // header only
      expect(await readParquet(await body('/v1/exports/sends?format=parquet&from=2030-01-01'))).toHaveLength(0);
    });

    it('sets content type and a file name, and leaves no temp files', async () => {
      const res = await get('/v1/exports/sends?format=parquet&from=2022-06-01&to=2022-06-02');
      expect(res.headers['content-type']).toBe('application/vnd.apache.parquet');
      expect(res.headers['content-disposition']).toBe('attachment; filename="sends_2022-06-01_2022-06-02.parquet"');
      expect((await get('/v1/exports/engagements?format=csv')).headers['content-type']).toBe('text/csv; charset=utf-8');
      expect((await get('/v1/exports/subscriptions?format=jsonl')).headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      await waitFor(() => readdirSync(tmpDir).length === 0, 'export temp files to be removed', 10_000);
    });

    it('sweeps temp directories of exports whose process is gone, and only those', async () => {
      const root = join(t.dir, 'sweep');
      const deadPid = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).toString());
      for (const name of [`policylens-export-${deadPid}-abc`, `policylens-export-${process.pid}-def`, 'policylens-export-x-ghi', 'unrelated']) {
        mkdirSync(join(root, name), { recursive: true });
        writeFileSync(join(root, name, 'export.csv'), 'x');
      }
      expect(await sweepStaleExports(root)).toBe(1);
      expect(readdirSync(root).sort()).toEqual([`policylens-export-${process.pid}-def`, 'policylens-export-x-ghi', 'unrelated']);
    });

    it('the server-mode path (HTTP body of exec) gives the same rows as the embedded one', async () => {
      const server = { ...t.wh, embedded: null, mode: 'server' as const };
      for (const format of ['csv', 'parquet'] as const) {
        const q = exportQuery({
          dataset: 'engagements',
          format,
          window: parseWindow(undefined, undefined),
          secret: SECRET_A,
          minCell: 10,
          attributionWindowHours: 72,
        });
        const read = async (wh: typeof t.wh) => {
          const ex = await openExportStream(wh, q, format, { secret: SECRET_A, tmpDir });
          const chunks: Buffer[] = [];
          for await (const c of ex.stream) chunks.push(c as Buffer);
          await ex.done;
          const buf = Buffer.concat(chunks);
          const rows = format === 'csv' ? csvObjects(buf.toString('utf8')) : await readParquet(buf);
          return rows.map((r) => JSON.stringify(r)).sort();
        };
        expect(await read(server)).toEqual(await read(t.wh));
      }
    });
  });

  describe('pseudonyms', () => {
    const userSet = (rows: Record<string, unknown>[], col = 'user_id') => new Set(rows.map((r) => r[col] as string));

    it('are HMAC-SHA256 of the raw ids under the secret, and no raw id leaves the warehouse', async () => {
      const expectedUsers = new Set(sends.map((s) => pseudonymise(SECRET_A, 'user', s.user_id)));
      for (const format of ['csv', 'jsonl', 'parquet'] as const) {
        const buf = await body(`/v1/exports/sends?format=${format}`);
        if (format !== 'parquet') expect(buf.toString('utf8')).not.toMatch(/raw-/);
        const rows = format === 'csv' ? csvObjects(buf.toString('utf8')) : format === 'jsonl' ? jsonl(buf.toString('utf8')) : await readParquet(buf);
        expect(userSet(rows)).toEqual(expectedUsers);
        expect(userSet(rows, 'event_id')).toEqual(new Set(sends.map((s) => pseudonymise(SECRET_A, 'event', s.event_id))));
        expect(userSet(rows, 'business_id')).toEqual(new Set(['raw-biz-alpha', 'raw-biz-beta'].map((b) => pseudonymise(SECRET_A, 'business', b))));
      }
      for (const dataset of ['engagements', 'subscriptions'] as const) {
        const text = (await body(`/v1/exports/${dataset}?format=csv`)).toString('utf8');
        expect(text).not.toMatch(/raw-/); // also: the free-text reason is not exported
      }
      // Parquet is compressed: look at the decoded values instead.
      const parquetValues = (await readParquet(await body('/v1/exports/subscriptions?format=parquet'))).flatMap((r) => Object.values(r).map(String));
      expect(parquetValues.filter((v) => v.includes('raw-'))).toEqual([]);
    });

    it('are consistent across datasets and formats: engagements join to sends, users and businesses match', async () => {
      const sendsRows = jsonl((await body('/v1/exports/sends?format=jsonl')).toString('utf8'));
      const engCsv = csvObjects((await body('/v1/exports/engagements?format=csv')).toString('utf8'));
      const engParquet = await readParquet(await body('/v1/exports/engagements?format=parquet'));
      const subs = await readParquet(await body('/v1/exports/subscriptions?format=parquet'));
      const bySendId = new Map(sendsRows.map((r) => [r.event_id, r]));
      for (const e of [...engCsv, ...engParquet]) {
        const s = bySendId.get(e.send_id);
        expect(s, 'every engagement joins to its send').toBeDefined();
        expect(e.user_id).toBe(s!.user_id);
        expect(e.business_id).toBe(s!.business_id);
      }
      expect(engCsv.map((r) => JSON.stringify([r.event_id, r.send_id, r.user_id])).sort()).toEqual(
        engParquet.map((r) => JSON.stringify([r.event_id, r.send_id, r.user_id])).sort(),
      );
      const sendUsers = userSet(sendsRows);
      expect(subs.filter((s) => s.user_id !== pseudonymise(SECRET_A, 'user', 'raw-user-nobody')).every((s) => sendUsers.has(s.user_id as string))).toBe(true);
    });

    it('are stable under the same secret and different under another', async () => {
      const ids = async (on = app) => {
        const rows = jsonl((await body('/v1/exports/engagements?format=jsonl', on)).toString('utf8'));
        return { users: userSet(rows), events: userSet(rows, 'event_id'), sendIds: userSet(rows, 'send_id') };
      };
      const a1 = await ids();
      const a2 = await ids();
      expect(a2).toEqual(a1);
      const fpA = (await get('/v1/exports/sends/datapackage.json')).json().policylens.pseudonymisation.key_fingerprint;
      await withApp({ secret: SECRET_B }, async (underB) => {
        const b = await ids(underB);
        expect(b.users.size).toBe(a1.users.size);
        for (const k of ['users', 'events', 'sendIds'] as const) expect([...b[k]].filter((x) => a1[k].has(x))).toEqual([]);
        const fpB = (await get('/v1/exports/sends/datapackage.json', 'researcher', underB)).json().policylens.pseudonymisation.key_fingerprint;
        expect(fpA).toBe(keyFingerprint(SECRET_A));
        expect(fpB).toBe(keyFingerprint(SECRET_B));
        expect(fpB).not.toBe(fpA);
      });
    });

    it('refuses identifier datasets without the secret (or with a short one); daily_metrics needs none', async () => {
      for (const secret of [null, '', 'too-short']) {
        await withApp({ secret }, async (without) => {
          for (const dataset of ['sends', 'engagements', 'subscriptions'] as const) {
            for (const url of [`/v1/exports/${dataset}?format=csv`, `/v1/exports/${dataset}/datapackage.json`]) {
              const res = await get(url, 'researcher', without);
              expect(res.statusCode).toBe(409);
              expect(res.json().error.code).toBe('EXPORT_SECRET_MISSING');
            }
          }
          expect((await get('/v1/exports/daily_metrics?format=csv', 'researcher', without)).statusCode).toBe(200);
          expect((await get('/v1/exports/daily_metrics/datapackage.json', 'researcher', without)).statusCode).toBe(200);
        });
      }
    });

    it('the secret never shows in an engine error (masked by the engine, redacted by us)', async () => {
      const broken = { sql: `${SQL_KEY_PADS}\nSELECT pl_key + 1 AS x FROM sends`, params: { pl_secret: SECRET_A } };
      const err = await openExportStream(t.wh, broken, 'csv', { secret: SECRET_A, tmpDir }).then(
        () => null,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).not.toContain(SECRET_A);
      expect(err!.message).toMatch(/HIDDEN|\[secret\]/);
    });
  });

  describe('daily_metrics', () => {
    type Cell = Record<string, unknown>;
    const find = (rows: Cell[], day: string, frequency: string | null, channel = 'messenger') =>
      rows.find((r) => String(r.day).startsWith(day) && r.channel === channel && (r.frequency ?? null) === frequency);
    const MEASURES = ['sends', 'cost_usd', 'delivered', 'read', 'clicked', 'replied', 'converted', 'revenue_usd', 'opt_outs', 'blocks', 'spam_reports'];

    it('suppresses a cell of 9 sends and shows one of 10, with exact measures (JSON Lines)', async () => {
      const rows = jsonl(await body('/v1/exports/daily_metrics?format=jsonl&from=2022-06-01&to=2022-06-02').then((b) => b.toString('utf8')));
      expect(rows.map((r) => [r.day, r.channel, r.category, r.frequency])).toEqual([
        ['2022-06-01', 'messenger', 'recurring_notification', 'daily'],
        ['2022-06-01', 'messenger', 'recurring_notification', 'weekly'],
        ['2022-06-02', 'whatsapp', 'marketing_template', null],
      ]);
      const a = find(rows, '2022-06-01', 'daily')!;
      expect(a.suppressed).toBe(true);
      for (const m of MEASURES) expect(a[m], m).toBeNull();
      expect(find(rows, '2022-06-01', 'weekly')).toEqual({
        day: '2022-06-01',
        channel: 'messenger',
        regime: 'recurring_all_frequencies',
        category: 'recurring_notification',
        frequency: 'weekly',
        suppressed: false,
        sends: 10,
        cost_usd: 0.2,
        delivered: 10,
        read: 6,
        clicked: 3,
        replied: 0,
        converted: 2,
        revenue_usd: 19.75,
        opt_outs: 1,
        blocks: 0,
        spam_reports: 1,
      });
      const c = find(rows, '2022-06-02', null, 'whatsapp')!;
      expect(c).toMatchObject({ suppressed: false, sends: 13, regime: 'whatsapp_conversation_pricing', delivered: 0, opt_outs: 0 });
      expect(c.cost_usd).toBeCloseTo(13 * 0.0618, 9);
    });

    it('shows suppressed cells as empty fields in CSV and nulls in Parquet', async () => {
      const csv = csvObjects((await body('/v1/exports/daily_metrics?format=csv')).toString('utf8'));
      expect(Object.keys(csv[0])).toEqual(DATASET_SPECS.daily_metrics.fields.map((f) => f.name));
      const a = find(csv, '2022-06-01', 'daily')!;
      expect(a.suppressed).toBe('true');
      for (const m of MEASURES) expect(a[m], m).toBe('');
      const b = find(csv, '2022-06-01', 'weekly')!;
      expect([b.suppressed, b.sends, b.read, b.revenue_usd]).toEqual(['false', '10', '6', '19.75']);
      // the days just outside the window have one send each
      for (const day of ['2022-05-31', '2022-06-03', '2022-06-05']) expect(csv.find((r) => r.day === day)!.suppressed).toBe('true');

      const pqBuf = await body('/v1/exports/daily_metrics?format=parquet');
      const pq = await readParquet(pqBuf);
      const pa = pq.find((r) => (r.day as Date).toISOString().startsWith('2022-06-01') && r.frequency === 'daily')!;
      expect(pa.suppressed).toBe(true);
      for (const m of MEASURES) expect(pa[m], m).toBeNull();
      const pb = pq.find((r) => (r.day as Date).toISOString().startsWith('2022-06-01') && r.frequency === 'weekly')!;
      expect([pb.suppressed, Number(pb.sends), Number(pb.opt_outs), pb.revenue_usd]).toEqual([false, 10, 1, 19.75]);
      const path = join(t.dir, 'daily.parquet');
      writeFileSync(path, pqBuf);
      const [engine] = await queryRows<{ n: string; shown: string; nulls: string }>(
        t.wh,
        'SELECT count() AS n, countIf(NOT suppressed) AS shown, countIf(suppressed AND sends IS NULL AND revenue_usd IS NULL) AS nulls FROM file({p:String}, Parquet)',
        { p: path },
      );
      expect([Number(engine.n), Number(engine.shown), Number(engine.nulls)]).toEqual([pq.length, 2, pq.length - 2]);
    });

    it('takes its threshold from POLICYLENS_EXPORT_MIN_CELL', async () => {
      const { minCell } = loadConfig({ ...process.env, ...t.env, POLICYLENS_EXPORT_MIN_CELL: '11' }).exports;
      await withApp({ minCell }, async (at11) => {
        const rows = jsonl((await body('/v1/exports/daily_metrics?format=jsonl&from=2022-06-01&to=2022-06-02', at11)).toString('utf8'));
        expect(find(rows, '2022-06-01', 'weekly')!.suppressed).toBe(true);
        expect(find(rows, '2022-06-02', null, 'whatsapp')!.suppressed).toBe(false);
        const pkg = (await get('/v1/exports/daily_metrics/datapackage.json', 'researcher', at11)).json();
        expect(pkg.policylens.min_cell).toBe(11);
      });
    });

    it('attributes a spam-risk event to the latest send, ties to the larger event_id (threshold 1 shows every cell)', async () => {
      await withApp({ minCell: 1 }, async (at1) => {
        const rows = jsonl((await body('/v1/exports/daily_metrics?format=jsonl&from=2022-06-05&to=2022-06-05', at1)).toString('utf8'));
        expect(rows.map((r) => [r.frequency, r.sends, r.opt_outs, r.suppressed])).toEqual([
          ['daily', 1, 0, false],
          ['monthly', 1, 1, false],
        ]);
        const june1 = jsonl((await body('/v1/exports/daily_metrics?format=jsonl&from=2022-06-01&to=2022-06-01', at1)).toString('utf8'));
        expect(find(june1, '2022-06-01', 'daily')).toMatchObject({ sends: 9, blocks: 1, delivered: 9, opt_outs: 0 });
        // the window cuts by send day: the opt-out of 2022-06-02 still counts with its send of 2022-06-01
        expect(find(june1, '2022-06-01', 'weekly')).toMatchObject({ sends: 10, opt_outs: 1 });
      });
    });

    it('agrees with the raw tables on the unsuppressed totals', async () => {
      const rows = jsonl((await body('/v1/exports/daily_metrics?format=jsonl')).toString('utf8'));
      const shown = rows.filter((r) => !r.suppressed);
      const [w] = await queryRows<{ n: string }>(
        t.wh,
        // GLOBAL: on a cluster a cell's sends sit on several shards, so the cells are counted over all of them.
        `SELECT count() AS n FROM sends WHERE (toDate(occurred_at), channel, category, frequency) GLOBAL IN
           (SELECT toDate(occurred_at), channel, category, frequency FROM sends GROUP BY 1, 2, 3, 4 HAVING count() >= 10)`,
      );
      expect(shown.reduce((a, r) => a + (r.sends as number), 0)).toBe(Number(w.n));
    });
  });

  describe('datapackage.json', () => {
    it('describes the export as a Frictionless Data Package v2 with fields, metrics, regimes and window', async () => {
      const res = await get('/v1/exports/engagements/datapackage.json?format=csv&from=2022-06-01&to=2022-06-02');
      expect(res.statusCode).toBe(200);
      const pkg = res.json();
      expect(pkg.$schema).toBe('https://datapackage.org/profiles/2.0/datapackage.json');
      expect(pkg.name).toBe('policylens-engagements');
      const [data, regimes] = pkg.resources;
      expect(data).toMatchObject({ name: 'engagements', type: 'table', format: 'csv', mediatype: 'text/csv', encoding: 'utf-8' });
      // The path is the file as downloaded (a URL needing a key is no path frictionless can open); the URL is beside it.
      const download = await get('/v1/exports/engagements?format=csv&from=2022-06-01&to=2022-06-02');
      expect(download.headers['content-disposition']).toBe(`attachment; filename="${data.path}"`);
      expect(data.path).toBe('engagements_2022-06-01_2022-06-02.csv');
      expect(pkg.policylens.download).toMatchObject({ save_as: data.path, authorization: 'Bearer <a researcher or admin key>' });
      expect(pkg.policylens.download.url).toMatch(/^http:\/\/[^/]+\/v1\/exports\/engagements\?format=csv&from=2022-06-01&to=2022-06-02$/);
      expect(data.schema.fields.map((f: { name: string }) => f.name)).toEqual(DATASET_SPECS.engagements.fields.map((f) => f.name));
      for (const f of data.schema.fields) {
        expect(f.description.length, f.name).toBeGreaterThan(10);
        expect(['string', 'integer', 'number', 'boolean', 'date', 'datetime']).toContain(f.type);
      }
      expect(data.schema.fields.find((f: { name: string }) => f.name === 'user_id').constraints).toEqual({ required: true, pattern: '^[0-9a-f]{64}$' });
      expect(data.schema.fields.find((f: { name: string }) => f.name === 'type').constraints.enum).toEqual([
        'delivered',
        'read',
        'clicked',
        'replied',
        'converted',
      ]);
      expect(data.schema.primaryKey).toEqual(['event_id']);
      expect(regimes).toMatchObject({ name: 'regimes', type: 'table' });
      // Inline data: a format or media type would make frictionless look for a file (scheme "None" is not supported).
      expect(Object.keys(regimes).filter((k) => ['format', 'mediatype', 'path', 'encoding'].includes(k))).toEqual([]);
      expect(regimes.data).toEqual(await readRegimes(t.wh));
      expect(pkg.policylens.window).toMatchObject({ from: '2022-06-01', to: '2022-06-02', timezone: 'UTC', inclusive: true });
      expect(pkg.policylens.pseudonymisation.method).toBe('HMAC-SHA256');
      expect(pkg.policylens.pseudonymisation.fields.map((f: { name: string }) => f.name)).toEqual(['event_id', 'business_id', 'user_id', 'send_id']);
      expect(pkg.policylens.metrics.map((m: { name: string }) => m.name)).toEqual([
        'sends',
        'cost_usd',
        'delivered',
        'read',
        'clicked',
        'replied',
        'converted',
        'revenue_usd',
        'opt_outs',
        'blocks',
        'spam_reports',
      ]);
      expect(JSON.stringify(pkg)).not.toContain(SECRET_A);
    });

    it('for daily_metrics: no pseudonyms, the threshold, the attribution window', async () => {
      const pkg = (await get('/v1/exports/daily_metrics/datapackage.json?format=parquet')).json();
      expect(pkg.resources[0]).toMatchObject({ format: 'parquet', mediatype: 'application/vnd.apache.parquet' });
      expect(pkg.policylens).toMatchObject({ pseudonymisation: null, min_cell: 10, attribution_window_hours: 72, window: { from: null, to: null } });
      expect(pkg.resources[0].schema.fields.find((f: { name: string }) => f.name === 'suppressed').type).toBe('boolean');
    });
  });

  describe('bad requests', () => {
    const expectError = async (url: string, status: number, code: string) => {
      const res = await get(url);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(status);
      expect(Object.keys(res.json())).toEqual(['error']);
      expect(res.json().error.code).toBe(code);
      expect(typeof res.json().error.message).toBe('string');
    };

    it('unknown dataset 404, bad format 400, bad dates 400, unknown parameters 400', async () => {
      await expectError('/v1/exports/users?format=csv', 404, 'NOT_FOUND');
      await expectError('/v1/exports/users/datapackage.json', 404, 'NOT_FOUND');
      await expectError('/v1/exports/sends?format=xml', 400, 'BAD_REQUEST');
      await expectError('/v1/exports/sends?format=csv&format=jsonl', 400, 'BAD_REQUEST');
      await expectError('/v1/exports/sends?format=csv&limit=5', 400, 'BAD_REQUEST');
      for (const bad of ['2022-13-01', '2022-02-30', '22-06-01', '2022-6-1', 'yesterday', '', '1969-12-31', '2300-01-01']) {
        await expectError(`/v1/exports/sends?format=csv&from=${encodeURIComponent(bad)}`, 400, 'INVALID_DATE_RANGE');
        await expectError(`/v1/exports/daily_metrics?format=csv&to=${encodeURIComponent(bad)}`, 400, 'INVALID_DATE_RANGE');
      }
      await expectError('/v1/exports/sends?format=csv&from=2022-06-02&to=2022-06-01', 400, 'INVALID_DATE_RANGE');
      await expectError('/v1/exports/sends/datapackage.json?from=2022-06-02&to=2022-06-01', 400, 'INVALID_DATE_RANGE');
    });

    it('injection attempts in every parameter are refused or inert', async () => {
      const before = await Promise.all((['sends', 'engagements', 'subscriptions', 'regimes'] as const).map((x) => warehouseCount(x)));
      const datasets = [
        'sends; DROP TABLE sends',
        "sends' OR '1'='1",
        'sends FORMAT CSV --',
        '../../../etc/passwd',
        'sends%00',
        'system.users',
        'sends UNION ALL SELECT * FROM regimes',
      ];
      for (const d of datasets) {
        const res = await get(`/v1/exports/${encodeURIComponent(d)}?format=csv`);
        expect([404], `${d}: ${res.body}`).toContain(res.statusCode);
        expect(res.json().error.code).toBe('NOT_FOUND');
      }
      for (const f of ["csv' --", 'Parquet', 'CSV', 'parquet) SETTINGS max_threads=1 --', 'jsonl\nFORMAT TSV', 'TabSeparated']) {
        await expectError(`/v1/exports/sends?format=${encodeURIComponent(f)}`, 400, 'BAD_REQUEST');
      }
      for (const d of [
        "2022-06-01' OR '1'='1",
        "2022-06-01')) --",
        '2022-06-01;DROP TABLE sends',
        '2022-06-01 00:00:00',
        '{pl_secret:String}',
        '2022-06-01\n',
      ]) {
        for (const p of ['from', 'to']) {
          const res = await get(`/v1/exports/sends?format=csv&${p}=${encodeURIComponent(d)}`);
          expect([400], `${p}=${d}: ${res.body}`).toContain(res.statusCode);
        }
      }
      // A secret full of SQL is only ever a parameter value: the export works and matches the JS reference.
      const nasty = "x'); DROP TABLE sends; -- \\' {pl_secret:String} \\N\té"; // (an environment variable cannot hold NUL)
      const { secret } = loadConfig({ ...process.env, ...t.env, POLICYLENS_EXPORT_SECRET: nasty }).exports;
      await withApp({ secret }, async (underNasty) => {
        const rows = jsonl((await body('/v1/exports/sends?format=jsonl', underNasty)).toString('utf8'));
        expect(new Set(rows.map((r) => r.user_id))).toEqual(new Set(sends.map((s) => pseudonymise(nasty, 'user', s.user_id))));
      });
      // The threshold is a typed parameter too: a non-number is refused when the configuration loads, and one
      // put into a configuration anyway fails the request instead of reaching SQL text.
      const injected = '10) OR (1=1';
      expect(() => loadConfig({ ...process.env, ...t.env, POLICYLENS_EXPORT_MIN_CELL: injected })).toThrow(/POLICYLENS_EXPORT_MIN_CELL/);
      await withApp({ minCell: injected as unknown as number }, async (badCell) => {
        const res = await get('/v1/exports/daily_metrics?format=csv', 'researcher', badCell);
        expect(res.statusCode).toBe(500);
        expect(res.json().error.code).toBe('INTERNAL');
      });
      const after = await Promise.all((['sends', 'engagements', 'subscriptions', 'regimes'] as const).map((x) => warehouseCount(x)));
      expect(after).toEqual(before);
    });
  });

  describe('analysis_panel', () => {
    const MEASURES = ['sends', 'cost_usd', 'delivered', 'read', 'clicked', 'replied', 'converted', 'revenue_usd', 'opt_outs', 'blocks', 'spam_reports'];

    it('sums to daily_metrics per channel and regime, with pseudonymised businesses and weeks counted from the from date', async () => {
      await withApp({ minCell: 1 }, async (at1) => {
        const panel = jsonl((await body('/v1/exports/analysis_panel?format=jsonl&from=2022-05-28&to=2022-06-10', at1)).toString('utf8'));
        const daily = jsonl((await body('/v1/exports/daily_metrics?format=jsonl&from=2022-05-28&to=2022-06-10', at1)).toString('utf8'));
        expect(Object.keys(panel[0])).toEqual(DATASET_SPECS.analysis_panel.fields.map((f) => f.name));
        expect(new Set(panel.map((r) => r.week))).toEqual(new Set(['2022-05-28', '2022-06-04']));
        expect(new Set(panel.map((r) => r.business_id))).toEqual(
          new Set(['raw-biz-alpha', 'raw-biz-beta'].map((b) => pseudonymise(SECRET_A, 'business', b)).filter((p) => panel.some((r) => r.business_id === p))),
        );
        expect(panel.some((r) => String(r.business_id).startsWith('raw-'))).toBe(false);
        const sums = (rows: Record<string, unknown>[], week: (r: Record<string, unknown>) => string) => {
          const out = new Map<string, number[]>();
          for (const r of rows) {
            const k = `${week(r)}|${r.channel}|${r.regime}`;
            const acc = out.get(k) ?? MEASURES.map(() => 0);
            MEASURES.forEach((m, i) => {
              acc[i] += Number(r[m]);
            });
            out.set(k, acc);
          }
          return out;
        };
        const weekOf = (day: string) => (day < '2022-06-04' ? '2022-05-28' : '2022-06-04');
        const a = sums(panel, (r) => String(r.week));
        const b = sums(daily, (r) => weekOf(String(r.day)));
        expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
        for (const [k, v] of a) for (const [i, x] of v.entries()) expect(x, `${k} ${MEASURES[i]}`).toBeCloseTo(b.get(k)![i], 9);
        // No from date: Monday weeks.
        const all = jsonl((await body('/v1/exports/analysis_panel?format=jsonl', at1)).toString('utf8'));
        for (const r of all) expect(new Date(`${r.week}T00:00:00Z`).getUTCDay(), String(r.week)).toBe(1);
        expect(all.reduce((acc, r) => acc + Number(r.sends), 0)).toBe(await warehouseCount('sends'));
      });
    });

    it('needs the secret, and describes itself in its datapackage', async () => {
      await withApp({ secret: null }, async (without) => {
        expect((await get('/v1/exports/analysis_panel?format=csv', 'researcher', without)).json().error.code).toBe('EXPORT_SECRET_MISSING');
      });
      const pkg = (await get('/v1/exports/analysis_panel/datapackage.json?from=2022-05-31')).json();
      expect(pkg.resources[0].schema.primaryKey).toEqual(['week', 'business_id', 'channel', 'regime']);
      expect(pkg.policylens).toMatchObject({ attribution_window_hours: 72, window: { from: '2022-05-31', applies_to: 'send day' } });
      expect(pkg.policylens.min_cell).toBeUndefined();
      expect(pkg.policylens.pseudonymisation.fields).toEqual([{ name: 'business_id', domain: 'business' }]);
    });
  });

  it('exports every dataset in every format through exportQuery without the API too', async () => {
    for (const dataset of Object.keys(DATASET_SPECS) as DatasetName[]) {
      for (const format of ['parquet', 'csv', 'jsonl'] as const) {
        const q = exportQuery({ dataset, format, window: parseWindow('2022-06-01', '2022-06-02'), secret: SECRET_A, minCell: 10, attributionWindowHours: 72 });
        expect(q.sql).not.toContain(SECRET_A);
        expect(q.sql).not.toContain('2022-06-01');
        const ex = await openExportStream(t.wh, q, format, { secret: SECRET_A, tmpDir });
        let bytes = 0;
        for await (const c of ex.stream) bytes += (c as Buffer).length;
        await ex.done;
        expect(bytes).toBeGreaterThan(0);
      }
    }
  });
});
