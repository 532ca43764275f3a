// `policylens clickhouse start|stop|status`: the local ClickHouse server of devtools/clickhouse/.
// `start` prints the settings that point policylens at it on stdout (and the rest on stderr), so
// `eval "$(npx policylens clickhouse start)"` sets them in the shell.
import { parseArgs } from 'node:util';
import { clickhouseStatus, startClickHouse, stopClickHouse, type ClickHouseStatus } from '../devtools/clickhouse/local-clickhouse.js';
import { positiveInt, UsageError } from './usage-error.js';

const say = (m: string) => console.error(m);

const START_ONLY = ['shards', 'http-port', 'tcp-port', 'user', 'password', 'cluster'] as const;

function port(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = positiveInt(name, raw);
  if (n > 65535) throw new UsageError(`--${name} must be a port number (1-65535), got ${n}`);
  return n;
}

/** Single-quoted for sh, so a password with spaces or quotes survives eval. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function exports(s: ClickHouseStatus): string[] {
  const lines = [`export POLICYLENS_CLICKHOUSE_URL=${s.url}`];
  if (s.cluster !== null) {
    // Local servers share one host, so their HTTP ports cannot be found from system.clusters: name each.
    lines.push(`export POLICYLENS_CLICKHOUSE_CLUSTER=${s.cluster}`, `export POLICYLENS_CLICKHOUSE_NODES=${s.urls.join(',')}`);
  }
  if (s.user !== 'default' || s.password !== '') {
    lines.push(`export POLICYLENS_CLICKHOUSE_USER=${shellQuote(s.user)}`, `export POLICYLENS_CLICKHOUSE_PASSWORD=${shellQuote(s.password)}`);
  }
  return lines;
}

function describe(s: ClickHouseStatus): string {
  return s.servers
    .map(
      (x) =>
        `  shard ${x.shard}: ${x.running ? (x.answering ? 'answering' : 'NOT answering') : 'not running'} on ${x.url} (tcp ${x.tcpPort})` +
        `${x.pid !== null ? `, pid ${x.pid}` : ''}; data ${x.dataDir}; log ${x.logFile}`,
    )
    .join('\n');
}

export async function runClickHouse(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      shards: { type: 'string' },
      'http-port': { type: 'string' },
      'tcp-port': { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      cluster: { type: 'string' },
      dir: { type: 'string' },
    },
  });
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`clickhouse takes one action, got ${JSON.stringify(positionals)}`);
  if (action !== 'start') {
    const misplaced = START_ONLY.filter((o) => values[o] !== undefined);
    if (misplaced.length > 0 && (action === 'stop' || action === 'status')) {
      throw new UsageError(`--${misplaced.join(', --')} only apply to clickhouse start`);
    }
  }
  const dir = values.dir;
  switch (action) {
    case 'start': {
      if ((values.user === undefined) !== (values.password === undefined)) throw new UsageError('--user and --password go together');
      const s = await startClickHouse({
        dir,
        shards: values.shards === undefined ? undefined : positiveInt('shards', values.shards),
        httpPort: port('http-port', values['http-port']),
        tcpPort: port('tcp-port', values['tcp-port']),
        user: values.user,
        password: values.password,
        cluster: values.cluster,
        log: say,
      });
      say(`clickhouse ${s.version ?? '?'} running, ${s.shards} server(s)${s.cluster ? ` in cluster ${s.cluster}` : ''}:\n${describe(s)}`);
      say('point policylens at it with (or eval "$(npx policylens clickhouse start ...)"):');
      console.log(exports(s).join('\n'));
      return 0;
    }
    case 'stop': {
      const r = await stopClickHouse({ dir, log: say });
      console.log(
        r.stopped
          ? `clickhouse stopped (${r.servers.map((x) => `shard ${x.shard} pid ${x.pid}${x.killed ? ', killed' : ''}`).join('; ')})`
          : 'clickhouse was not running',
      );
      return 0;
    }
    case 'status': {
      const s = await clickhouseStatus({ dir });
      const anyRunning = s.servers.some((x) => x.running);
      console.log(
        anyRunning
          ? `clickhouse ${s.version ?? '?'}, ${s.shards} server(s)${s.cluster ? ` in cluster ${s.cluster}` : ''}, user ${s.user}:\n${describe(s)}`
          : 'clickhouse is not running',
      );
      return s.running && s.answering ? 0 : 1;
    }
    default:
      throw new UsageError('clickhouse needs an action: start, stop or status');
  }
}
