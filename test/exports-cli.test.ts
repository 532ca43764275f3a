// `policylens export`: the file, the datapackage.json beside it (rows, bytes, sha256), the progress bar,
// usage errors, and a run in its own process against the same data directory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngagementRow, SendRow, SubscriptionRow } from '../events/types.js';
import { exportToFile, runExport } from '../cli/export.js';
import { loadConfig } from '../common/config.js';
import { UsageError } from '../cli/usage-error.js';
import { DATASET_SPECS } from '../query/exports/datasets.js';
import { EXPORT_SECRET_ENV, pseudonymise } from '../query/exports/pseudonym.js';
import { queryRows } from '../warehouse/client.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const SECRET = 'cli-test-secret-0123456789';
const N_SENDS = 2_000;

/** A stand-in for stderr that keeps what is written. */
function fakeTerminal(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    isTTY,
    write(s: string) {
      chunks.push(s);
      return true;
    },
    text: () => chunks.join(''),
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('policylens export', () => {
  let t: TestWarehouse;
  let env: NodeJS.ProcessEnv;
  let n = 0;
  const outDir = () => {
    const d = join(t.dir, `out-${++n}`);
    mkdirSync(d);
    return d;
  };
  const count = async (table: string) => Number((await queryRows<{ n: string }>(t.wh, `SELECT count() AS n FROM ${table}`))[0].n);
  // The command's configuration as loaded from this environment (the test warehouse's, with the secret).
  const run = (argv: string[], progress = fakeTerminal(false), extraEnv: NodeJS.ProcessEnv = {}) =>
    exportToFile(argv, { wh: t.wh, config: loadConfig({ ...env, ...extraEnv }), progress });

  beforeAll(async () => {
    t = await openTestWarehouse();
    env = { ...process.env, ...t.env, [EXPORT_SECRET_ENV]: SECRET };
    const base = Date.parse('2022-06-01T00:00:00Z');
    const sends: SendRow[] = Array.from({ length: N_SENDS }, (_, i) => ({
      event_id: `cli-send-${i}`,
      occurred_at: base + i * 60_000,
      business_id: `cli-biz-${i % 7}`,
      user_id: `cli-user-${i % 211}`,
      channel: i % 3 === 0 ? 'whatsapp' : 'messenger',
      regime: null,
      category: i % 3 === 0 ? 'utility_template' : 'recurring_notification',
      frequency: i % 3 === 0 ? null : 'daily',
      topic: i % 5 === 0 ? 'line one\nline "two", three' : null,
      campaign_id: i % 2 ? `cli-campaign-${i % 4}` : null,
      cost_usd: 0.005,
    }));
    const engagements: EngagementRow[] = sends
      .filter((_, i) => i % 2 === 0)
      .map((s, i) => ({
        event_id: `cli-eng-${i}`,
        occurred_at: s.occurred_at + 1000,
        business_id: s.business_id,
        user_id: s.user_id,
        channel: s.channel,
        regime: null,
        type: 'delivered',
        send_id: s.event_id,
        revenue_usd: 0,
      }));
    const subs: SubscriptionRow[] = sends
      .filter((_, i) => i % 50 === 0)
      .map((s, i) => ({
        event_id: `cli-sub-${i}`,
        occurred_at: s.occurred_at + 5000,
        business_id: s.business_id,
        user_id: s.user_id,
        channel: s.channel,
        regime: null,
        type: 'opt_out',
        topic: null,
        frequency: null,
        reason: null,
      }));
    await t.writer.write('sends', sends);
    await t.writer.write('engagements', engagements);
    await t.writer.write('subscriptions', subs);
  });

  afterAll(async () => {
    await t?.dispose();
  });

  it('writes Parquet that the engine and hyparquet read, and a datapackage.json with rows, bytes and sha256', async () => {
    const dir = outDir();
    const out = join(dir, 'sends.parquet');
    const progress = fakeTerminal(false);
    const result = await run(['sends', '--format', 'parquet', '--out', out], progress);
    expect(result.rows).toBe(N_SENDS);
    const pkg = JSON.parse(readFileSync(join(dir, 'datapackage.json'), 'utf8'));
    expect(pkg.$schema).toBe('https://datapackage.org/profiles/2.0/datapackage.json');
    const res = pkg.resources[0];
    expect(res).toMatchObject({
      name: 'sends',
      type: 'table',
      path: 'sends.parquet',
      format: 'parquet',
      rows: N_SENDS,
      bytes: statSync(out).size,
      hash: `sha256:${sha256(out)}`,
    });
    expect(res.schema.fields.map((f: { name: string }) => f.name)).toEqual(DATASET_SPECS.sends.fields.map((f) => f.name));
    expect(pkg.resources[1].name).toBe('regimes');
    expect(pkg.resources[1].format).toBeUndefined(); // inline data: frictionless would look for a file of that format
    expect(pkg.policylens.download).toBeUndefined();
    const [engine] = await queryRows<{ n: string; users: string }>(t.wh, 'SELECT count() AS n, uniqExact(user_id) AS users FROM file({p:String}, Parquet)', {
      p: out,
    });
    expect([Number(engine.n), Number(engine.users)]).toEqual([N_SENDS, 211]);
    const b = readFileSync(out);
    const rows = (await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, compressors })) as Record<
      string,
      unknown
    >[];
    expect(rows).toHaveLength(N_SENDS);
    expect(new Set(rows.map((r) => r.user_id)).has(pseudonymise(SECRET, 'user', 'cli-user-0'))).toBe(true);
    expect(progress.text()).toMatch(/export sends .*2,000 rows, [\d,]+ bytes -> .*sends\.parquet/);
    expect(readdirSync(dir).sort()).toEqual(['datapackage.json', 'sends.parquet']); // no partial file left
  });

  it('writes CSV and JSON Lines with exact row counts (a quoted newline is not a row)', async () => {
    for (const [dataset, format] of [
      ['sends', 'csv'],
      ['engagements', 'jsonl'],
      ['subscriptions', 'csv'],
      ['daily_metrics', 'jsonl'],
    ] as const) {
      const dir = outDir();
      const out = join(dir, `${dataset}.${format}`);
      const result = await run([dataset, '--format', format, '--out', out]);
      const pkg = JSON.parse(readFileSync(join(dir, 'datapackage.json'), 'utf8'));
      const expected =
        dataset === 'daily_metrics'
          ? Number(
              (
                await queryRows<{ n: string }>(
                  t.wh,
                  'SELECT count() AS n FROM (SELECT DISTINCT toDate(occurred_at), channel, regime, category, frequency FROM sends)',
                )
              )[0].n,
            )
          : await count(dataset);
      expect(result.rows, `${dataset} ${format}`).toBe(expected);
      expect(pkg.resources[0]).toMatchObject({ rows: expected, bytes: statSync(out).size, hash: `sha256:${sha256(out)}`, encoding: 'utf-8' });
      // The engine agrees on what the file holds.
      const [engine] = await queryRows<{ n: string }>(t.wh, `SELECT count() AS n FROM file({p:String}, ${format === 'csv' ? 'CSVWithNames' : 'JSONEachRow'})`, {
        p: out,
      });
      expect(Number(engine.n)).toBe(expected);
    }
  });

  it('honours --from/--to and records the window', async () => {
    const dir = outDir();
    const out = join(dir, 'sends.jsonl');
    // 2,000 minutes from 2022-06-01 00:00: 1,440 on the 1st, 560 on the 2nd.
    const r = await run(['sends', '--format', 'jsonl', '--from', '2022-06-02', '--to', '2022-06-02', '--out', out]);
    expect(r.rows).toBe(560);
    const pkg = JSON.parse(readFileSync(join(dir, 'datapackage.json'), 'utf8'));
    expect(pkg.policylens.window).toMatchObject({ from: '2022-06-02', to: '2022-06-02' });
  });

  it('draws a progress bar on a terminal', async () => {
    const tty = fakeTerminal(true);
    await run(['engagements', '--format', 'csv', '--out', join(outDir(), 'e.csv')], tty);
    expect(tty.text()).toMatch(/export engagements \[#+\.*\] 100\.0% 1,000\/1,000/);
  });

  it('refuses bad calls with usage errors, and identifiers without the secret', async () => {
    const out = join(outDir(), 'x.parquet');
    for (const argv of [
      [],
      ['sends', 'engagements', '--out', out],
      ['users', '--out', out],
      ['sends', '--format', 'xml', '--out', out],
      ['sends'],
      ['sends', '--out', out, '--from', '2022-02-30'],
      ['sends', '--out', out, '--from', '2022-06-02', '--to', '2022-06-01'],
      ['sends', '--out', out, '--bogus', '1'],
    ]) {
      await expect(run(argv), JSON.stringify(argv)).rejects.toSatisfy(
        (e: Error) => e instanceof UsageError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION',
      );
    }
    await expect(run(['sends', '--out', out], fakeTerminal(false), { [EXPORT_SECRET_ENV]: '' })).rejects.toThrow(/POLICYLENS_EXPORT_SECRET/);
    expect(existsSync(out)).toBe(false);
    // daily_metrics has no identifiers: no secret needed
    const ok = await run(['daily_metrics', '--format', 'csv', '--out', join(outDir(), 'd.csv')], fakeTerminal(false), { [EXPORT_SECRET_ENV]: '' });
    expect(ok.rows).toBeGreaterThan(0);
  });

  it('runs as its own process (opening the configured warehouse) and exits 0', async () => {
    const expected = await count('sends');
    await t.wh.close(); // one process per data directory: hand it over
    const dir = outDir();
    const out = join(dir, 'sends.parquet');
    const script = "const { runExport } = await import('./cli/export.ts'); process.exitCode = await runExport(process.argv.slice(1));";
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', './bin/register-ts.js', '--input-type=module', '-e', script, '--', 'sends', '--format', 'parquet', '--out', out],
      {
        cwd: join(import.meta.dirname, '..'),
        env: { ...env, ...t.env },
      },
    );
    expect(stderr).toMatch(/2,000 rows/);
    const pkg = JSON.parse(readFileSync(join(dir, 'datapackage.json'), 'utf8'));
    expect(pkg.resources[0]).toMatchObject({ rows: expected, bytes: statSync(out).size, hash: `sha256:${sha256(out)}` });
    void runExport; // the entry the lead wires into cli/main.ts
  });
});
