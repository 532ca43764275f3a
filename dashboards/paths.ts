// Where built dashboards live by default. Kept free of Plot and jsdom: the API's route module imports it.
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../common/config.js';

/**
 * POLICYLENS_DASHBOARDS_DIR, else `dashboards` beside the data directory (./.policylens/dashboards by
 * default). A `dashboardsDir` on the config, should one be added there, wins over both.
 */
export function dashboardsDir(config: Pick<Config, 'dataDir'> & { dashboardsDir?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (config.dashboardsDir) return resolve(config.dashboardsDir);
  if (env.POLICYLENS_DASHBOARDS_DIR) return resolve(env.POLICYLENS_DASHBOARDS_DIR);
  return join(dirname(resolve(config.dataDir)), 'dashboards');
}
