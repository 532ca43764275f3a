// GET /v1/regimes (role grants "query") and PUT /v1/regimes (role grants "regimes"): the policy regime table.
// After a PUT, queries follow the new table at once: rows whose event did not name a regime are resolved from
// the table at query time (regimes_dict, migration 04), so nothing stored is rewritten.
import type { FastifyInstance } from 'fastify';
import { CHANNELS } from '../../../events/types.js';
import { readRegimes, reloadRegimes, replaceRegimes } from '../../../warehouse/migrate.js';
import { checkRegimes, type Regime } from '../../../warehouse/regimes.js';
import type { Warehouse } from '../../../warehouse/client.js';
import type { RouteModule } from '../route-module.js';
import { ApiError } from '../../../common/errors.js';

export const MAX_REGIMES = 500;

const regimeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['channel', 'regime', 'start'],
  properties: {
    channel: { type: 'string', maxLength: 32, description: CHANNELS.join(', ') },
    regime: { type: 'string', maxLength: 64, description: 'Name, [a-z0-9_]{1,64}.' },
    start: { type: 'string', maxLength: 10, description: 'First day in force (UTC), YYYY-MM-DD.' },
    end: { type: ['string', 'null'], maxLength: 10, default: null, description: 'First day no longer in force (exclusive), or null while in force.' },
    label: { type: 'string', maxLength: 200, default: '' },
  },
} as const;

const tableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['regimes'],
  properties: { regimes: { type: 'array', minItems: 1, maxItems: MAX_REGIMES, items: regimeSchema } },
} as const;

/** Replaces the table and makes queries use it; one replacement at a time per process. */
let chain: Promise<unknown> = Promise.resolve();
export function putRegimes(wh: Warehouse, regimes: Regime[]): Promise<Regime[]> {
  const run = chain.then(async () => {
    await replaceRegimes(wh, regimes);
    await reloadRegimes(wh);
    return readRegimes(wh);
  });
  chain = run.catch(() => undefined);
  return run;
}

export const routes: RouteModule = (app: FastifyInstance, { wh }) => {
  app.get(
    '/v1/regimes',
    {
      config: { permission: 'query' },
      schema: { tags: ['regimes'], summary: 'The policy regime table', response: { 200: tableSchema } },
    },
    async () => ({ regimes: await readRegimes(wh) }),
  );

  app.put<{ Body: { regimes: Regime[] } }>(
    '/v1/regimes',
    {
      config: { permission: 'regimes' },
      schema: {
        tags: ['regimes'],
        summary: 'Replace the policy regime table',
        description:
          'Half-open UTC date ranges [start, end) per channel; ranges of one channel must not overlap (INVALID_REGIMES). ' +
          'Queries follow the new table immediately. Needs a key whose role grants "regimes" (admin).',
        body: tableSchema,
        response: { 200: tableSchema },
      },
    },
    async (req) => {
      const regimes = req.body.regimes.map((r) => ({ ...r, end: r.end ?? null, label: r.label ?? '' }));
      const problems = checkRegimes(regimes);
      if (problems.length) throw new ApiError('INVALID_REGIMES', problems.slice(0, 20).join('; '));
      return { regimes: await putRegimes(wh, regimes) };
    },
  );
};
