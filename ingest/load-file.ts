// Loads an NDJSON file through the shared batching writer; bad lines go to FILE.rejected.ndjson with a reason.
import { createReadStream, createWriteStream, existsSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import type { EventFamily, NormalizedEvent } from '../events/types.js';
import { createProgress } from '../common/progress.js';
import type { BatchWriter } from '../warehouse/writer.js';
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
  const buffers: Record<EventFamily, NormalizedEvent['row'][]> = { sends: [], engagements: [], subscriptions: [] };
  let rejects: WriteStream | null = null;
  // One write in flight while the next batch is parsed; writes stay in order so a duplicate is always seen.
  let inFlight: Promise<void> = Promise.resolve();

  const flush = async (family: EventFamily): Promise<void> => {
    const rows = buffers[family];
    if (rows.length === 0) return;
    buffers[family] = [];
    await inFlight;
    inFlight = writer.write(family, rows as never).then((w) => {
      result.loaded += w.written;
      result.duplicates += w.duplicates;
    });
  };

  const handleLine = async (line: string): Promise<void> => {
    result.lines++;
    if (line.trim() === '') return;
    const step = parseStep(line, now);
    if (step.kind === 'ok') {
      const { family, row } = step.value;
      buffers[family].push(row);
      if (buffers[family].length >= opts.batchRows) await flush(family);
      return;
    }
    if (step.kind === 'dlq') {
      result.rejected++;
      rejects ??= createWriteStream(rejectedFile);
      const ok = rejects.write(`${JSON.stringify({ line: result.lines, reason: step.reason, error: step.detail, raw: line })}\n`);
      if (!ok) await new Promise<void>((r) => rejects!.once('drain', () => r()));
    }
  };

  let carry = '';
  let bytes = 0;
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    bytes += Buffer.byteLength(chunk as string);
    const text = carry + (chunk as string);
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      await handleLine(text.slice(start, nl));
      start = nl + 1;
    }
    carry = text.slice(start);
    progress?.tick(bytes);
  }
  if (carry !== '') await handleLine(carry);
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
