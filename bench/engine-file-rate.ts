// The engine's own NDJSON ingest of a file (INSERT … SELECT FROM file()), the yardstick our rates are shown against.
import type { Warehouse } from '../warehouse/client.js';

export async function engineFileRate(wh: Warehouse, file: string): Promise<{ rows: number; seconds: number; rate: number }> {
  await wh.client.command({ query: 'DROP TABLE IF EXISTS bench_file_ingest' });
  await wh.client.command({
    query: `CREATE TABLE bench_file_ingest (
      event_id String, type String, occurred_at String, business_id String, user_id String, channel String,
      category Nullable(String), frequency Nullable(String), topic Nullable(String), campaign_id Nullable(String),
      cost_usd Nullable(Float64), send_id Nullable(String), revenue_usd Nullable(Float64), reason Nullable(String)
    ) ENGINE = MergeTree ORDER BY tuple()`,
  });
  const started = performance.now();
  // Bad lines are part of the file; the engine is allowed to skip them, as our loader sets them aside.
  await wh.client.command({
    query: `INSERT INTO bench_file_ingest SELECT * FROM file({path:String}, 'JSONEachRow',
      'event_id String, type String, occurred_at String, business_id String, user_id String, channel String, category Nullable(String), frequency Nullable(String), topic Nullable(String), campaign_id Nullable(String), cost_usd Nullable(Float64), send_id Nullable(String), revenue_usd Nullable(Float64), reason Nullable(String)')`,
    query_params: { path: file },
    clickhouse_settings: { input_format_allow_errors_ratio: 0.1, input_format_skip_unknown_fields: 1, insert_deduplicate: 0 },
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = Number(
    ((await (await wh.client.query({ query: 'SELECT count() AS n FROM bench_file_ingest', format: 'JSONEachRow' })).json()) as { n: string }[])[0].n,
  );
  await wh.client.command({ query: 'DROP TABLE bench_file_ingest' });
  return { rows, seconds, rate: rows / seconds };
}
