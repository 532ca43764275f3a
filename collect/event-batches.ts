// A business's event log sent to POST /v1/events as its producer would: NDJSON bodies of up to `batch` lines, with
// its API key, a few at a time. The demo and the tests send the simulated send log this way.
import { EVENTS_PATH } from './events.js';
import { postAll, type OutgoingRequest, type PostAllOptions, type PostAllSummary } from './replay.js';

export function* eventRequests(lines: Iterable<string>, apiKey: string, batch = 1_000): Generator<OutgoingRequest> {
  const headers = { 'content-type': 'application/x-ndjson', authorization: `Bearer ${apiKey}` };
  let body: string[] = [];
  for (const line of lines) {
    body.push(line);
    if (body.length >= batch) {
      yield { path: EVENTS_PATH, headers, body: `${body.join('\n')}\n` };
      body = [];
    }
  }
  if (body.length > 0) yield { path: EVENTS_PATH, headers, body: `${body.join('\n')}\n` };
}

export interface EventLogSummary extends PostAllSummary {
  /** Events the answers accepted and rejected, over the requests answered 200. */
  accepted: number;
  rejected: number;
}

export async function postEventLog(
  baseUrl: string,
  lines: Iterable<string>,
  apiKey: string,
  opts: Omit<PostAllOptions, 'onDone'> & { batch?: number },
): Promise<EventLogSummary> {
  let accepted = 0;
  let rejected = 0;
  const summary = await postAll(baseUrl, eventRequests(lines, apiKey, opts.batch), {
    ...opts,
    onDone: (_req, outcome) => {
      if (outcome.status !== 200) return;
      const answer = JSON.parse(outcome.body) as { accepted: number; rejected: unknown[] };
      accepted += answer.accepted;
      rejected += answer.rejected.length;
    },
  });
  return { ...summary, accepted, rejected };
}
