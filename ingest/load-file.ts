// Loads an NDJSON file through the shared batching writer; bad lines go to FILE.rejected.ndjson with a reason.
import { createReadStream, createWriteStream, existsSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import type { EventFamily } from '../events/types.js';
import { createProgress } from '../common/progress.js';
import type { BatchWriter, PreparedBlock } from '../warehouse/writer.js';
import { parseStep } from './steps.js';

export interface LoadResult {
  lines: number;
  loaded: number;
  duplicates: number;
  rejected: number;
  rejectedFile: string | null;
  seconds: number;
}

export interface LoadOptions {
  batchRows: number;
  progress?: boolean;
  now?: number;
}

export function rejectedPathFor(file: string): string {
  return file.endsWith('.ndjson') ? `${file.slice(0, -'.ndjson'.length)}.rejected.ndjson` : `${file}.rejected.ndjson`;
}

export async function loadFile(file: string, writer: BatchWriter, opts: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const now = opts.now ?? Date.now();
  const rejectedFile = rejectedPathFor(file);
  const total = statSync(file).size;
  const progress = opts.progress ? createProgress('load', total) : null;
  const result: LoadResult = { lines: 0, loaded: 0, duplicates: 0, rejected: 0, rejectedFile: null, seconds: 0 };
  // Rows are held as their insert lines, built while the previous batch is in the engine.
  const buffers: Record<EventFamily, PreparedBlock> = {
    sends: writer.emptyBlock('sends'),
    engagements: writer.emptyBlock('engagements'),
    subscriptions: writer.emptyBlock('subscriptions'),
  };
  let rejects: WriteStream | null = null;
  // One write in flight while the next batch is parsed; writes stay in order so a duplicate is always seen.
  let inFlight: Promise<void> = Promise.resolve();

  const flush = async (family: EventFamily): Promise<void> => {
    const block = buffers[family];
    if (block.ids.length === 0) return;
    buffers[family] = writer.emptyBlock(family);
    await inFlight;
    inFlight = writer.writePrepared([block]).then(([w]) => {
      result.loaded += w.written;
      result.duplicates += w.duplicates;
    });
  };

  const handleLine = async (line: Buffer): Promise<void> => {
    result.lines++;
    if (line.length === 0 || (line.length === 1 && line[0] === 13)) return;
    // Bytes, not text, go to the parser, so invalid UTF-8 is rejected rather than silently replaced.
    const step = parseStep(line[line.length - 1] === 13 ? line.subarray(0, -1) : line, now);
    if (step.kind === 'ok') {
      const { family, row } = step.value;
      writer.add(buffers[family], row);
      if (buffers[family].ids.length >= opts.batchRows) await flush(family);
      return;
    }
    result.rejected++;
    rejects ??= createWriteStream(rejectedFile);
    const ok = rejects.write(`${JSON.stringify({ line: result.lines, reason: step.reason, error: step.detail, raw: line.toString('utf8') })}\n`);
    if (!ok) await new Promise<void>((r) => rejects!.once('drain', () => r()));
  };

  let carry: Buffer = Buffer.alloc(0);
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    bytes += (chunk as Buffer).length;
    const data = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    let nl: number;
    while ((nl = data.indexOf(10, start)) !== -1) {
      await handleLine(data.subarray(start, nl));
      start = nl + 1;
    }
    carry = Buffer.from(data.subarray(start));
    progress?.tick(bytes);
  }
  if (carry.length) await handleLine(carry);
  for (const family of Object.keys(buffers) as EventFamily[]) await flush(family);
  await inFlight;
  if (rejects) {
    await new Promise<void>((resolve, reject) => (rejects as WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
    result.rejectedFile = rejectedFile;
  } else if (existsSync(rejectedFile)) {
    unlinkSync(rejectedFile); // a stale file from an earlier load would describe lines this load did not reject
  }
  result.seconds = (Date.now() - started) / 1000;
  progress?.finish(`loaded ${result.loaded}, duplicates ${result.duplicates}, rejected ${result.rejected}`);
  return result;
}
