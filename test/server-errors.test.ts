// What a user sees when the ClickHouse server cannot be used: one line naming the server and the reason, exit
// code 1, no stack trace. Server mode only.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from './helpers/local-server.js';

const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));

async function policylens(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('a server that cannot be used', () => {
  it('nothing listening: says so in one line, exit 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await policylens(['migrate'], { POLICYLENS_CLICKHOUSE_URL: url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The ClickHouse server at ${url} (POLICYLENS_CLICKHOUSE_URL) could not be used: nothing answers there`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a user the server does not know: names the settings to check, exit 1', async () => {
    const url = process.env.POLICYLENS_TEST_CLICKHOUSE_URL!;
    const r = await policylens(['summary'], { POLICYLENS_CLICKHOUSE_URL: url, POLICYLENS_CLICKHOUSE_USER: 'nobody', POLICYLENS_CLICKHOUSE_PASSWORD: 'wrong' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not be used: the user or password was refused \(POLICYLENS_CLICKHOUSE_USER \/ _PASSWORD\)/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
