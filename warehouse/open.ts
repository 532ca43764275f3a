// Opens the warehouse ready for work: migrations applied, regimes read, a writer that derives regimes.
import type { Config } from '../common/config.js';
import { openWarehouse, type Warehouse } from './client.js';
import { migrate, readRegimes, type MigrateResult } from './migrate.js';
import { regimeResolver } from './regimes.js';
import { BatchWriter } from './writer.js';

export interface ReadyWarehouse {
  wh: Warehouse;
  writer: BatchWriter;
  migrations: MigrateResult;
}

export async function openReadyWarehouse(config: Config): Promise<ReadyWarehouse> {
  const wh = await openWarehouse(config);
  try {
    const migrations = await migrate(wh);
    const resolve = regimeResolver(await readRegimes(wh));
    const writer = new BatchWriter(wh, (row) => resolve(row.channel, row.occurred_at));
    return { wh, writer, migrations };
  } catch (err) {
    await wh.close();
    throw err;
  }
}
