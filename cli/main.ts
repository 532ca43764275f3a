// Entry point of the `policylens` command: one small module per subcommand.
import { debugFromEnv } from '../common/config.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: policylens <command> [options]

commands:
  simulate --events N --seed S (--out FILE.ndjson | --kafka) [--bad-ratio R] [--dup-ratio R]
           [--format events|meta-webhooks [--app-secret S]]
                      write a deterministic simulated event stream and FILE.truth.json beside it,
                      or produce it to the Kafka topics (truth to .policylens/kafka-truth.json);
                      meta-webhooks: signed webhook POSTs, and FILE.sendlog.ndjson for the rest
  load FILE.ndjson [--batch-rows N]
                      validate and load events; bad lines go to FILE.rejected.ndjson with a reason
  kafka start|stop|status|fetch
                      run a local Apache Kafka broker (KRaft, 127.0.0.1:9092) from the official jars
  clickhouse start|stop|status [--shards N] [--http-port P] [--tcp-port P] [--user U --password P]
                      run a local ClickHouse server (127.0.0.1, http 8123, tcp 9000; shard k on each + k-1)
                      from the installed engine library; start prints the POLICYLENS_CLICKHOUSE_* to use it
  ingest [--until-idle SECONDS] [--metrics-port N | --no-metrics]
                      consume the topics into the warehouse; with --until-idle, exit once caught up
  map [--from-beginning] [--until-idle SECONDS] [--metrics-port N]
                      map Meta's webhooks on the raw topic to events on the event topics (docs/sources.md);
                      --from-beginning maps the whole raw topic again
  export DATASET --out FILE [--format parquet|csv|jsonl] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
                      sends, engagements, subscriptions or daily_metrics with datapackage.json beside it;
                      identifiers pseudonymised (needs POLICYLENS_EXPORT_SECRET, except daily_metrics)
  dashboards build [--out DIR] [--api URL] [--from D --to D]
                      build the static dashboards (default .policylens/dashboards, served at /dashboards/)
  collect [--port N]  Meta's webhooks and POST /v1/events into Kafka (POLICYLENS_COLLECT_PORT, default 8788;
                      docs/collect.md); also run by serve/up when POLICYLENS_KAFKA_BROKERS is set
  replay-webhooks FILE --url URL [--concurrency N] [--retries N]
                      post a file of signed webhook requests to collect, retrying 5xx and connection errors
  serve [--port N]    the HTTP API (POLICYLENS_PORT, default 8787; keys from POLICYLENS_API_KEYS)
  up [--port N]       ingest, mapping stage and API in one process (how embedded mode runs them)
  migrate             apply warehouse migrations (also done on every start)
  summary             print counts and engagement by frequency and regime
  demo [--source simulator|meta-webhooks] [--events N] [--no-serve]
                      simulate, load and summarise, then serve (what \`npm run demo\` runs);
                      meta-webhooks: the same world as Meta's webhooks and a send log through collect (needs Kafka)

environment: POLICYLENS_DATA_DIR (embedded data, default ./.policylens/data),
  POLICYLENS_CLICKHOUSE_URL, _USER, _PASSWORD, _DATABASE (use a ClickHouse server instead),
  POLICYLENS_KAFKA_BROKERS (default 127.0.0.1:9092), POLICYLENS_KAFKA_PARTITIONS (default 6)`;

// Loaded on demand: `ingest` should not pay for the simulator, nor `kafka status` for the warehouse.
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  simulate: async (argv) => (await import('./simulate.js')).runSimulate(argv),
  load: async (argv) => (await import('./load.js')).runLoad(argv),
  kafka: async (argv) => (await import('./kafka.js')).runKafka(argv),
  clickhouse: async (argv) => (await import('./clickhouse.js')).runClickHouse(argv),
  ingest: async (argv) => (await import('./ingest.js')).runIngestCommand(argv),
  map: async (argv) => (await import('./map.js')).runMapCommand(argv),
  migrate: async () => (await import('./migrate.js')).runMigrate(),
  summary: async () => (await import('./summary.js')).runSummary(),
  export: async (argv) => (await import('./export.js')).runExport(argv),
  dashboards: async (argv) => (await import('./dashboards.js')).runDashboards(argv),
  collect: async (argv) => (await import('./collect.js')).runCollect(argv),
  'replay-webhooks': async (argv) => (await import('./replay-webhooks.js')).runReplayWebhooks(argv),
  serve: async (argv) => (await import('./serve.js')).runServe(argv, false),
  up: async (argv) => (await import('./serve.js')).runServe(argv, true),
  demo: async (argv) => (await import('./demo.js')).runDemo(argv),
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`policylens: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    const code = (err as { code?: unknown }).code; // a string from Node, a number from some libraries
    if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`policylens ${command}: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`policylens ${command}: ${(err as Error).message}`);
    if (debugFromEnv()) console.error(err);
    return 1;
  }
}
