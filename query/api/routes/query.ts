// POST /v1/query: metrics by dimensions over a date range, shaped like the Plausible Stats API v2.
import type { RouteModule } from '../route-module.js';
import { warehouseExtent } from '../../metrics/extent.js';
import { needsExtent, normalizeQuery, queryRequestSchema, queryResponseSchema, type QueryRequest } from '../../metrics/request.js';
import { runMetricsQuery } from '../../metrics/query.js';

export const routes: RouteModule = (app, { wh, config }) => {
  app.post<{ Body: QueryRequest }>(
    '/v1/query',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['query'],
        summary: 'Metrics by dimensions over a date range',
        description:
          'Engagement, spam-risk and revenue metrics of sends, grouped by send dimensions; every rate and per-1k metric ' +
          'comes with a 95% interval as <metric>_ci95. Definitions: docs/metrics.md. Needs a key whose role grants "query".',
        body: queryRequestSchema,
        response: { 200: queryResponseSchema },
      },
    },
    async (req) => {
      const extent = needsExtent(req.body) ? await warehouseExtent(wh) : undefined;
      return runMetricsQuery(wh, normalizeQuery(req.body, { extent }), { attributionWindowHours: config.attributionWindowHours });
    },
  );
};
