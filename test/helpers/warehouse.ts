import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../common/config.js';
import { openReadyWarehouse, type ReadyWarehouse } from '../../warehouse/open.js';

export interface TestWarehouse extends ReadyWarehouse {
  dir: string;
  config: Config;
  dispose(): Promise<void>;
}

/** A fresh embedded warehouse in its own temporary directory. */
export async function openTestWarehouse(env: Record<string, string> = {}): Promise<TestWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'policylens-test-'));
  const config = loadConfig({ ...process.env, POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data'), ...env });
  const ready = await openReadyWarehouse(config);
  return {
    ...ready,
    dir,
    config,
    async dispose() {
      await ready.wh.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
