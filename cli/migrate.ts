import { loadConfig } from '../common/config.js';
import { openReadyWarehouse } from '../warehouse/open.js';

export async function runMigrate(): Promise<number> {
  const { wh, migrations } = await openReadyWarehouse(loadConfig());
  await wh.close();
  const applied = migrations.applied.length ? migrations.applied.join(', ') : 'none';
  console.log(`migrations applied: ${applied}; already applied: ${migrations.alreadyApplied}`);
  return 0;
}
