// A local ClickHouse server of a test's own (devtools/clickhouse): its own directory and free ports, stopped with
// the test run even if the run is killed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelPickedPort, portFree } from '../../common/processes.js';
import { startClickHouse, stopClickHouse } from '../../devtools/clickhouse/local-clickhouse.js';

// Ports handed out in this process, so two calls never give the same one before a server binds it.
const taken = new Set<number>();

/** n consecutive free ports (shard k of a local server listens on base + k - 1): the kernel's choice of port 0 and the next ones. */
export async function freePorts(n: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = await kernelPickedPort();
    const run = Array.from({ length: n }, (_, i) => base + i);
    if (run.some((p) => p > 65535 || taken.has(p))) continue;
    if (!(await Promise.all(run.map((p) => portFree(p)))).every(Boolean)) continue;
    for (const p of run) taken.add(p);
    return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

/** A port nothing listens on now. */
export const freePort = (): Promise<number> => freePorts(1);

export interface TestServer {
  url: string;
  /** Every server's URL: one, or one per shard of a cluster. */
  urls: string[];
  /** The cluster's name, or null for one server. */
  cluster: string | null;
  /** Kills one server of a cluster (1-based shard number) with SIGKILL, as a crash would, and waits until it is gone. */
  stopShard(shard: number): Promise<void>;
  /** Starts it again on the same ports and data after stop() (or starts the servers that are down). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
  /** A server process's peak resident memory so far (VmHWM), in MB: the first's, or shard k's. */
  peakRssMb(shard?: number): number;
}

/** One server, or with `shards` >= 2 that many forming a cluster (remote_servers named `policylens`). */
export async function startTestServer(label = 'server', shards = 1): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'policylens-ch-'));
  const [httpPort, tcpPort] = [await freePorts(shards), await freePorts(shards)];
  const opts = { dir, httpPort, tcpPort, shards, exitWithCaller: true, log: (m: string) => console.error(`[clickhouse ${label}] ${m}`) };
  let status = await startClickHouse(opts);
  return {
    url: status.url,
    urls: status.urls,
    cluster: status.cluster,
    start: async () => void (status = await startClickHouse(opts)),
    stopShard: async (shard) => {
      const pid = status.servers[shard - 1].pid!;
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`server ${shard} (pid ${pid}) did not die`);
    },
    stop: async () => void (await stopClickHouse(opts)),
    dispose: async () => {
      await stopClickHouse(opts);
      rmSync(dir, { recursive: true, force: true });
    },
    peakRssMb: (shard = 1) => {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${status.servers[shard - 1].pid}/status`, 'utf8'))?.[1];
      return Math.round(Number(kb) / 1024);
    },
  };
}
