// The outside tools the external checks run: schemathesis and frictionless (PyPI, pinned, in a virtualenv under
// .policylens/tools/ made on first use and remade when the pins change) and promtool (Debian's `prometheus`
// package, found on PATH: it is no PyPI package, so it is installed by the machine, .ci/run in CI).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What the checks were written against; a newer schemathesis may add checks or change their defaults. */
export const PYTHON_PINS = ['schemathesis==4.32.5', 'frictionless[json]==5.21.0'];

export interface Tools {
  schemathesis: string;
  frictionless: string;
  promtool: string;
}

export class MissingTool extends Error {}

function onPath(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new MissingTool(`${what} failed (${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal})`);
}

/** Makes (or reuses) the virtualenv with the pinned Python tools, and finds promtool. */
export function ensureTools(root: string, log: (line: string) => void): Tools {
  const promtool = onPath('promtool');
  if (!promtool)
    throw new MissingTool('promtool is not on PATH: install Debian\'s "prometheus" package (apt-get install prometheus), or put promtool on PATH.');
  const python = onPath('python3');
  if (!python) throw new MissingTool('python3 is not on PATH: install it (apt-get install python3 python3-venv).');

  const dir = resolve(root, '.policylens/tools/venv');
  const bin = join(dir, 'bin');
  const stamp = join(dir, 'policylens-pins.txt');
  const pins = `${PYTHON_PINS.join('\n')}\n`;
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== pins) {
    log(`installing ${PYTHON_PINS.join(', ')} into ${dir}`);
    mkdirSync(dir, { recursive: true });
    const venv = spawnSync(python, ['-m', 'venv', '--clear', dir], { encoding: 'utf8' });
    if (venv.status !== 0)
      throw new MissingTool(`python3 could not make a virtualenv in ${dir} (install python3-venv: apt-get install python3-venv): ${venv.stderr.trim()}`);
    run(join(bin, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PYTHON_PINS], 'installing the Python tools');
    writeFileSync(stamp, pins);
  }
  return { schemathesis: join(bin, 'schemathesis'), frictionless: join(bin, 'frictionless'), promtool };
}
