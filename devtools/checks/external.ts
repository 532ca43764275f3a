// `npm run check:external`: the API, the exports and the metrics as tools nobody here wrote see them.
// Over a small simulated warehouse it runs `policylens up` (API and Kafka ingest) and checks
//   - schemathesis against the served /openapi.json, with each role's key and without one;
//   - frictionless validate on the datapackage.json of exports written by the CLI and downloaded over HTTP;
//   - promtool check metrics on the API's /metrics and the ingest's.
// Exit 1 with a summary when any check fails. README.md beside this file says what each check covers and why.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools, MissingTool } from './tools.js';
import { answers, exportDatasets, freePort, policylens, runProgram, startPolicylens, waitFor, type Running } from './world.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, '.policylens/checks');
const ROLES = ['analyst', 'product', 'researcher', 'admin'] as const;
/** Parquet is left out: frictionless reads it through pandas, which counts no bytes and turns null integers into NaN. */
const FORMATS = ['csv', 'jsonl'] as const;
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance', 'unsupported_method'];

const { values: opts } = parseArgs({
  options: {
    examples: { type: 'string', default: '15' },
    seed: { type: 'string', default: '13' },
    events: { type: 'string', default: '20000' },
  },
});

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  detail?: string;
}
const outcomes: Outcome[] = [];
const say = (line: string) => console.log(`== ${line}`);

async function check(name: string, body: () => Promise<string | undefined>): Promise<void> {
  const started = Date.now();
  try {
    const detail = await body();
    outcomes.push({ name, ok: true, seconds: (Date.now() - started) / 1000, detail: detail || undefined });
    say(`ok    ${name}`);
  } catch (err) {
    const detail = (err as Error).message;
    outcomes.push({ name, ok: false, seconds: (Date.now() - started) / 1000, detail });
    say(`FAIL  ${name}\n${detail}`);
  }
}

async function frictionless(bin: string, dir: string): Promise<void> {
  const r = await runProgram(bin, ['validate', '--json', 'datapackage.json'], { cwd: dir });
  let report: { valid: boolean; tasks: { name: string; valid: boolean; errors: { message: string }[] }[] };
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`frictionless exited ${r.code} without a report: ${r.stderr.slice(-2000)}`);
  }
  if (report.valid && r.code === 0) return;
  const errors = report.tasks.filter((t) => !t.valid).flatMap((t) => t.errors.slice(0, 5).map((e) => `  ${t.name}: ${e.message}`));
  throw new Error(`frictionless: ${dir}/datapackage.json is not valid\n${errors.join('\n')}`);
}

async function promtool(bin: string, file: string, text: string): Promise<void> {
  writeFileSync(file, text);
  const r = await runProgram(bin, ['check', 'metrics'], { stdin: text });
  if (r.code !== 0) throw new Error(`promtool check metrics (${file}):\n${r.stdout}${r.stderr}`);
}

async function fetchOk(url: string, key?: string): Promise<Response> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res;
}

async function main(): Promise<number> {
  const started = Date.now();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const tools = ensureTools(ROOT, say);

  const brokers = process.env.POLICYLENS_KAFKA_BROKERS || '127.0.0.1:9092';
  if (!(await answers(brokers.split(',')[0].trim())))
    throw new MissingTool(`no Kafka broker answers at ${brokers}: start one (npx policylens kafka start) or set POLICYLENS_KAFKA_BROKERS.`);

  const keys = Object.fromEntries(ROLES.map((r) => [r, `${r}-${randomBytes(12).toString('hex')}`])) as Record<(typeof ROLES)[number], string>;
  const [port, metricsPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    POLICYLENS_DATA_DIR: join(OUT, 'data'),
    POLICYLENS_DASHBOARDS_DIR: join(OUT, 'dashboards'),
    POLICYLENS_DASHBOARDS_EVERY: '0',
    POLICYLENS_EXPORT_SECRET: randomBytes(24).toString('hex'),
    POLICYLENS_API_KEYS: ROLES.map((r) => `${keys[r]}:${r}`).join(','),
    // The fuzzer sends thousands of requests a minute; the limit itself has its tests.
    POLICYLENS_RATE_LIMIT: '100000000',
    POLICYLENS_PORT: String(port),
    POLICYLENS_METRICS_PORT: String(metricsPort),
    POLICYLENS_KAFKA_BROKERS: brokers,
    POLICYLENS_TOPIC_PREFIX: 'policylens-check',
    POLICYLENS_KAFKA_GROUP: 'policylens-check',
    POLICYLENS_LOG_LEVEL: 'warn',
  };
  delete env.POLICYLENS_CLICKHOUSE_URL; // the embedded engine, in a data directory of the check's own

  say(`seeding a warehouse of ${opts.events} simulated events in ${OUT}`);
  const events = join(OUT, 'events.ndjson');
  await policylens(['simulate', '--events', opts.events, '--seed', opts.seed, '--out', events], env);
  await policylens(['load', events], env);

  // Every dataset the command offers, so a new one is checked without a list here to update.
  for (const dataset of await exportDatasets(env)) {
    for (const format of FORMATS) {
      await check(`frictionless: CLI export ${dataset} (${format})`, async () => {
        const dir = join(OUT, 'exports-cli', `${dataset}-${format}`);
        await policylens(['export', dataset, '--format', format, '--out', join(dir, `${dataset}.${format}`)], env);
        await frictionless(tools.frictionless, dir);
        return undefined;
      });
    }
  }

  say(`starting policylens up on 127.0.0.1:${port} (ingest metrics on ${metricsPort})`);
  const up: Running = startPolicylens(['up'], env, join(OUT, 'up.log'));
  try {
    const api = `http://127.0.0.1:${port}`;
    const ingestMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    const early = up.exited.then((code) => {
      throw new Error(`policylens up exited ${code} (see ${join(OUT, 'up.log')})`);
    });
    await Promise.race([early, waitFor('the API', 120, async () => ((await fetch(`${api}/readyz`)).ok ? true : null))]);
    await Promise.race([early, waitFor('the ingest metrics', 120, async () => ((await fetch(ingestMetrics)).ok ? true : null))]);

    await check('promtool: the ingest /metrics after a Kafka ingest', async () => {
      const out = await policylens(['simulate', '--events', '2000', '--seed', String(Number(opts.seed) + 1), '--kafka'], env);
      const produced = Number(/produced ([\d,]+) messages/.exec(out)?.[1].replace(/,/g, '') ?? 'NaN');
      const consumed = (text: string) => [...text.matchAll(/^policylens_ingest_events_consumed_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
      const text = await waitFor(`the ingest to consume ${produced} messages`, 120, async () => {
        const t = await (await fetch(ingestMetrics)).text();
        return consumed(t) >= produced ? t : null;
      });
      await promtool(tools.promtool, join(OUT, 'ingest-metrics.txt'), text);
      return `${consumed(text)} messages consumed`;
    });

    await check('frictionless: HTTP exports (datapackage.json and the file it names, downloaded)', async () => {
      for (const [dataset, format] of [
        ['sends', 'csv'],
        ['daily_metrics', 'jsonl'],
      ] as const) {
        const dir = join(OUT, 'exports-http', `${dataset}-${format}`);
        mkdirSync(dir, { recursive: true });
        const text = await (await fetchOk(`${api}/v1/exports/${dataset}/datapackage.json?format=${format}`, keys.researcher)).text();
        const pkg = JSON.parse(text) as { resources: { path: string }[]; policylens: { download: { url: string } } };
        const data = await fetchOk(pkg.policylens.download.url, keys.researcher);
        const named = /filename="([^"]+)"/.exec(data.headers.get('content-disposition') ?? '')?.[1];
        if (named !== pkg.resources[0].path) throw new Error(`the download is named ${named}, the datapackage's path is ${pkg.resources[0].path}`);
        writeFileSync(join(dir, named), Buffer.from(await data.arrayBuffer()));
        writeFileSync(join(dir, 'datapackage.json'), text);
        await frictionless(tools.frictionless, dir);
      }
      return undefined;
    });

    for (const role of [...ROLES, null]) {
      await check(`schemathesis: ${role ? `${role} key` : 'no key'}`, async () => {
        const args = ['run', `${api}/openapi.json`, '--checks', CHECKS.join(','), '--max-examples', opts.examples, '--seed', opts.seed, '--workers', '1'];
        if (role) args.push('--header', `Authorization: Bearer ${keys[role]}`);
        // Its example database (.schemathesis/) goes with the other output, not into the checkout.
        const r = await runProgram(tools.schemathesis, args, { env: { ...process.env, NO_COLOR: '1' }, cwd: OUT });
        const log = join(OUT, `schemathesis-${role ?? 'no-key'}.log`);
        writeFileSync(log, r.stdout + r.stderr);
        const last = r.stdout.trim().split('\n').at(-1) ?? '';
        if (r.code !== 0) {
          const failures = r.stdout.indexOf('FAILURES');
          throw new Error(`schemathesis exited ${r.code} (${log}):\n${(failures >= 0 ? r.stdout.slice(failures) : r.stdout + r.stderr).slice(-6000)}`);
        }
        return last.replace(/=/g, '').trim();
      });
    }

    await check('promtool: the API /metrics after the fuzzing', async () => {
      await promtool(tools.promtool, join(OUT, 'api-metrics.txt'), await (await fetchOk(`${api}/metrics`)).text());
      return undefined;
    });
  } finally {
    const code = await up.stop();
    if (code !== 0)
      outcomes.push({ name: 'policylens up stops cleanly on SIGTERM', ok: false, seconds: 0, detail: `exit ${code}; see ${join(OUT, 'up.log')}` });
  }

  const failed = outcomes.filter((o) => !o.ok);
  console.log(`\nexternal checks: ${outcomes.length - failed.length} of ${outcomes.length} passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  for (const o of outcomes) console.log(`  ${o.ok ? 'ok  ' : 'FAIL'}  ${o.name} (${o.seconds.toFixed(1)} s)${o.ok && o.detail ? `: ${o.detail}` : ''}`);
  console.log(`logs, metrics and exports: ${OUT}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`!! external checks could not run: ${err.message}`);
    process.exit(err instanceof MissingTool ? 3 : 1);
  },
);
