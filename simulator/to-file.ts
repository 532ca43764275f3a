// simulateToFile: stream the lines to an NDJSON file (respecting backpressure) and write the
// truth next to it: e.ndjson -> e.truth.json.
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createProgress } from '../common/progress.js';
import type { SimulateOptions } from './options.js';
import { createSimulation } from './simulation.js';
import type { Truth } from './truth.js';

const CHUNK_CHARS = 1 << 16;

export function truthPathFor(out: string): string {
  return `${out.endsWith('.ndjson') ? out.slice(0, -'.ndjson'.length) : out}.truth.json`;
}

export async function simulateToFile(opts: SimulateOptions & { out: string; progress?: boolean }): Promise<Truth> {
  const { out, progress: showProgress, ...options } = opts;
  const sim = createSimulation(options);
  const progress = showProgress ? createProgress('simulate', sim.totalLines) : null;
  const stream = createWriteStream(out);
  const failed = new Promise<never>((_, reject) => stream.once('error', reject));
  failed.catch(() => {}); // observed through the races below

  let buffer = '';
  let written = 0;
  try {
    for (const l of sim.lines()) {
      buffer += `${l.line}\n`;
      written++;
      if (buffer.length >= CHUNK_CHARS) {
        const ok = stream.write(buffer);
        buffer = '';
        if (!ok) await Promise.race([once(stream, 'drain'), failed]);
        if (progress && (written & 0xfff) < 0x100) progress.tick(written);
      }
    }
    if (buffer) stream.write(buffer);
    stream.end();
    await Promise.race([once(stream, 'finish'), failed]);
  } catch (err) {
    stream.destroy();
    throw err;
  }

  const truth = sim.truth();
  await writeFile(truthPathFor(out), `${JSON.stringify(truth, null, 2)}\n`);
  progress?.tick(written);
  progress?.finish(`-> ${out}`);
  return truth;
}
