// A business's event log as POST /v1/events requests: NDJSON bodies of up to `batch` lines each, with its API key.
// The demo and the tests send the simulated send log this way, as a business's own producer would.
import { EVENTS_PATH } from './events.js';
import type { OutgoingRequest } from './replay.js';

export function* eventRequests(lines: Iterable<string>, apiKey: string, batch = 1_000): Generator<OutgoingRequest & { events: number }> {
  const headers = { 'content-type': 'application/x-ndjson', authorization: `Bearer ${apiKey}` };
  let body: string[] = [];
  for (const line of lines) {
    body.push(line);
    if (body.length >= batch) {
      yield { path: EVENTS_PATH, headers, body: `${body.join('\n')}\n`, events: body.length };
      body = [];
    }
  }
  if (body.length > 0) yield { path: EVENTS_PATH, headers, body: `${body.join('\n')}\n`, events: body.length };
}
