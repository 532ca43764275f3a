// `replay-webhooks FILE --url URL`: posts a file of signed webhook requests to collect (or anything that takes
// Meta's webhooks), a few at a time over kept-alive connections, retrying 5xx, 429 and connection errors with
// backoff and jitter, as Meta does; prints progress and a summary, and fails when any request was not taken.
import { parseArgs } from 'node:util';
import { createProgress } from '../common/progress.js';
import { postAll, statusCounts } from '../collect/replay.js';
import { fileLines, webhookRequest } from '../collect/webhook-file.js';
import { WEBHOOK_PATH } from '../collect/webhooks.js';
import { positiveInt, UsageError } from './usage-error.js';

export async function runReplayWebhooks(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { url: { type: 'string' }, concurrency: { type: 'string' }, retries: { type: 'string' } },
  });
  const [file] = positionals;
  if (!file) throw new UsageError('the file of webhook requests is required');
  if (!values.url) throw new UsageError('--url is required (collect, e.g. http://127.0.0.1:8788)');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url is not a URL: ${JSON.stringify(values.url)}`);
  }
  // A bare collect address posts to its webhook route; a URL with a path is taken as the callback URL itself.
  const path = url.pathname === '/' ? WEBHOOK_PATH : url.pathname;
  const concurrency = positiveInt('concurrency', values.concurrency, 8);
  const retries = values.retries === undefined ? 8 : Number(values.retries);
  if (!Number.isInteger(retries) || retries < 0) throw new UsageError(`--retries must be a whole number, got ${JSON.stringify(values.retries)}`);

  const progress = createProgress('replay', null);
  const failures: string[] = [];
  let done = 0;
  const requests = (function* () {
    for (const { line, lineNo } of fileLines(file)) yield { ...webhookRequest(line, lineNo, path), lineNo };
  })();
  const summary = await postAll(url.origin, requests, {
    concurrency,
    retries,
    onDone: (req, outcome) => {
      progress.tick(++done);
      if (outcome.status !== 200 && failures.length < 10) {
        failures.push(`line ${(req as { lineNo?: number }).lineNo}: ${outcome.status || 'no answer'} ${outcome.body.slice(0, 200)}`);
      }
    },
  });
  const ok = summary.byStatus['200'] ?? 0;
  progress.finish();
  const statuses = statusCounts(summary);
  console.log(
    `replayed ${summary.requests} requests in ${(summary.ms / 1000).toFixed(1)} s (${Math.round(summary.requests / (summary.ms / 1000 || 1))}/s): ${statuses}; ${summary.retries} retries`,
  );
  for (const f of failures) console.error(f);
  return ok === summary.requests ? 0 : 1;
}
