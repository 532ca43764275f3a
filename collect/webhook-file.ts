// The file `replay-webhooks` posts, and `simulate --format meta-webhooks` writes: NDJSON, one webhook request a
// line, `{"headers": {"x-hub-signature-256": "sha256=…", …}, "body": "<the body, as a string>"}` (docs/collect.md).
// The body is sent as its UTF-8 bytes, which are the bytes the signature was computed over.
import { closeSync, openSync, readSync } from 'node:fs';
import type { OutgoingRequest } from './replay.js';

export interface WebhookLine {
  headers: Record<string, string>;
  body: string;
}

/** Headers the HTTP client sets itself from the connection and the body. */
const OWN_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);

/** One line of the file to a request on `path`; throws with the line number when it is not a webhook line. */
export function webhookRequest(line: string, lineNo: number, path: string): OutgoingRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`line ${lineNo}: not JSON`);
  }
  const { headers, body } = (value ?? {}) as Partial<WebhookLine>;
  if (typeof body !== 'string' || typeof headers !== 'object' || headers === null)
    throw new Error(`line ${lineNo}: needs "headers" (an object) and "body" (a string)`);
  const out: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(headers)) if (!OWN_HEADERS.has(k.toLowerCase())) out[k.toLowerCase()] = String(v);
  return { path, headers: out, body: Buffer.from(body, 'utf8') };
}

/** The non-empty lines of a file, read a chunk at a time so a large file is never held whole. */
export function* fileLines(file: string): Generator<{ line: string; lineNo: number }> {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let rest = '';
  let lineNo = 0;
  const decoder = new TextDecoder('utf-8');
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      const text = rest + (n > 0 ? decoder.decode(chunk.subarray(0, n), { stream: true }) : decoder.decode());
      const lines = text.split('\n');
      rest = n > 0 ? lines.pop()! : '';
      for (const line of lines) {
        lineNo++;
        if (line.trim() !== '') yield { line, lineNo };
      }
      if (n === 0) return;
    }
  } finally {
    closeSync(fd);
  }
}
