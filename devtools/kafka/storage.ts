/**
 * The broker's data dir: formatting it once with a new cluster id, and
 * refusing data written by a newer Kafka than the one being started.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classpath, jvmArgs } from './config-files.js';
import type { Resolved } from './options.js';
import { run, tail } from '../../common/processes.js';

/** Kafka's Uuid.toString: URL-safe base64 of 16 random bytes, never starting with "-". */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function isFormatted(dataDir: string): boolean {
  return existsSync(join(dataDir, 'meta.properties'));
}

/** Kafka ignores plain files in a log dir, so the formatting version can live beside meta.properties. */
const FORMAT_NOTE = 'policylens-format.json';

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * An older Kafka cannot read metadata written by a newer one (3.9 dies with
 * "Can't read version 4 of BrokerEndpoint" on 4.x data), so say so plainly
 * instead of letting the broker crash on it.
 */
export function assertDataReadable(r: Resolved): void {
  let formattedBy: string | undefined;
  try {
    formattedBy = (JSON.parse(readFileSync(join(r.paths.dataDir, FORMAT_NOTE), 'utf8')) as { version?: string }).version;
  } catch {
    return; // not formatted yet, or formatted by hand
  }
  if (formattedBy && compareVersions(r.version, formattedBy) < 0) {
    throw new Error(
      `${r.paths.dataDir} was formatted by Kafka ${formattedBy}; Kafka ${r.version} cannot read its newer metadata. ` +
        `Use ${formattedBy} or newer, pass another dataDir, or delete ${r.paths.dataDir} (its topics are lost).`,
    );
  }
}

export async function formatStorage(r: Resolved, java: string, libs: string, loggingFlag: string): Promise<void> {
  if (isFormatted(r.paths.dataDir)) return;
  mkdirSync(r.paths.dataDir, { recursive: true });
  const clusterId = newClusterId();
  r.log(`Formatting ${r.paths.dataDir} (cluster id ${clusterId}) ...`);
  const result = await run(java, [
    ...jvmArgs(r, loggingFlag),
    '-cp',
    classpath(libs),
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    clusterId,
    '--config',
    r.paths.serverProps,
    '--ignore-formatted',
  ]);
  if (result.code !== 0) {
    throw new Error(`Formatting the Kafka storage in ${r.paths.dataDir} failed (exit ${result.code}):\n${tail(result.stdout + result.stderr, 30)}`);
  }
  const note = { version: r.version, clusterId, formattedAt: new Date().toISOString() };
  writeFileSync(join(r.paths.dataDir, FORMAT_NOTE), `${JSON.stringify(note, null, 2)}\n`);
}
