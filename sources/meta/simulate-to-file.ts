// `simulate --format meta-webhooks`: the webhook POSTs as NDJSON ({headers, body} per line), the business's send
// log beside them (FILE.sendlog.ndjson), and the same truth file as the plain format.
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { truthPathFor, type Truth } from '../../simulator/index.js';
import { simulateMetaWebhooks, type MetaSimulationOptions } from './simulated-webhooks.js';

export const sendLogPathFor = (out: string): string => `${out.endsWith('.ndjson') ? out.slice(0, -'.ndjson'.length) : out}.sendlog.ndjson`;

export interface MetaFileResult {
  truth: Truth;
  posts: number;
  sendLogLines: number;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

export async function simulateMetaToFile(opts: MetaSimulationOptions & { out: string }): Promise<MetaFileResult> {
  const { out, ...options } = opts;
  const sim = simulateMetaWebhooks(options);
  const posts = createWriteStream(out);
  const log = createWriteStream(sendLogPathFor(out));
  let n = 0;
  let logLines = 0;
  try {
    for (const o of sim.outputs()) {
      if (o.kind === 'webhook') {
        n++;
        await write(posts, `${JSON.stringify(o.post)}\n`);
      } else {
        logLines++;
        await write(log, `${o.line}\n`);
      }
    }
    await Promise.all([close(posts), close(log)]);
  } catch (err) {
    posts.destroy();
    log.destroy();
    throw err;
  }
  const truth = sim.truth();
  await writeFile(truthPathFor(out), `${JSON.stringify(truth, null, 2)}\n`);
  return { truth, posts: n, sendLogLines: logLines };
}
