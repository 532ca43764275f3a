import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { loadFile, type LoadResult } from '../ingest/load-file.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { positiveInt, UsageError } from './usage-error.js';

export async function runLoad(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'batch-rows': { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new UsageError('load needs a file: policylens load FILE.ndjson');
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
  const config = loadConfig();
  const batchRows = positiveInt('batch-rows', values['batch-rows'], config.ingest.batchMaxRows);
  const { wh, writer } = await openReadyWarehouse(config);
  try {
    const r = await loadFile(file, writer, { batchRows, progress: true });
    printLoadResult(r);
  } finally {
    await wh.close();
  }
  return 0;
}

export function printLoadResult(r: LoadResult): void {
  const rate = r.seconds > 0 ? Math.round((r.loaded + r.duplicates + r.rejected) / r.seconds) : 0;
  console.log(`loaded ${r.loaded}  duplicates ${r.duplicates}  rejected ${r.rejected}  (${r.seconds.toFixed(1)} s, ${rate} events/s)`);
  if (r.rejectedFile) console.log(`rejected lines and their reasons: ${r.rejectedFile}`);
}
