// The served OpenAPI document is complete enough to build every valid request and to expect every answer: it is
// valid OpenAPI 3.1, every operation declares the errors any route can answer, and the allow-lists checked in code
// are enums taken from their one definition.
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { IMPACT_METRICS } from '../query/analyses/policy-impact-sql.js';
import { RETENTION_GROUPS } from '../query/analyses/retention-sql.js';
import { errorStatusesOf } from '../query/api/openapi.js';
import { errorSchema } from '../common/errors.js';
import { DATASETS, FORMATS } from '../query/exports/spec.js';
import { DIMENSIONS, DIMENSION_NAMES, METRIC_NAMES } from '../query/metrics/catalog.js';
import { RELATIVE_RANGES } from '../query/metrics/date-range.js';
import { authAs, useTestApi } from './helpers/api.js';

type Schema = { enum?: unknown[]; items?: Schema | Schema[]; prefixItems?: Schema[]; properties?: Record<string, Schema> };
interface Operation {
  parameters?: { name: string; in: string; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

const api = useTestApi({ POLICYLENS_EXPORT_SECRET: 'a-secret-of-at-least-16-chars' });
const load = async (): Promise<Doc> => (await api.app.inject({ url: '/openapi.json' })).json();
const operations = (doc: Doc) => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
const parameter = (op: Operation, name: string) => op.parameters?.find((p) => p.name === name)?.schema;
const errorBodyOf = (op: Operation, status: number) => op.responses[status]?.content?.['application/json']?.schema;

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const doc = await load();
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    // The validator does not look inside schemas: a draft-07 tuple (items as a list) is not JSON Schema 2020-12.
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/"items":\[|"additionalItems"/);
    expect(text).toContain('"prefixItems"');
  });

  it('declares 429 and 500 with the error schema on every operation, 401, 403 and 503 on every keyed one, 400 where there is a request to refuse', async () => {
    const doc = await load();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(8);
    for (const { path, method, op } of ops) {
      for (const status of [429, 500]) expect(errorBodyOf(op, status), `${method} ${path} ${status}`).toEqual(errorSchema);
      if (path.startsWith('/v1/')) {
        for (const status of [401, 403, 503]) expect(errorBodyOf(op, status), `${method} ${path} ${status}`).toEqual(errorSchema);
      }
      if (op.parameters?.length || op.requestBody) expect(errorBodyOf(op, 400), `${method} ${path} 400`).toEqual(errorSchema);
    }
    const exportOp = doc.paths['/v1/exports/{dataset}'].get;
    expect(errorBodyOf(exportOp, 404)).toEqual(errorSchema);
    expect(errorBodyOf(exportOp, 409)).toEqual(errorSchema);
    expect(errorBodyOf(doc.paths['/v1/query'].post, 413)).toEqual(errorSchema);
    expect(errorBodyOf(doc.paths['/v1/policy-impact'].get, 422)).toEqual(errorSchema);
    // A route's own declaration wins: /readyz answers 503 with its status body, not an error.
    expect(errorBodyOf(doc.paths['/readyz'].get, 503)).not.toEqual(errorSchema);
  });

  it('derives the statuses from what a route is', () => {
    expect(errorStatusesOf({ schema: {} })).toEqual([429, 500]);
    expect(errorStatusesOf({ schema: { body: {} }, config: { permission: 'query' } })).toEqual([400, 401, 403, 413, 429, 500, 503]);
    expect(errorStatusesOf({ schema: { params: {} }, config: { permission: 'exports' } })).toEqual([400, 401, 403, 404, 414, 429, 500, 503]);
  });

  it('declares 414 on every operation with a path parameter, which answers it for a parameter over 100 characters', async () => {
    const doc = await load();
    const withParams = operations(doc).filter(({ op }) => op.parameters?.some((p) => p.in === 'path'));
    expect(withParams.map(({ method, path }) => `${method} ${path}`).sort()).toEqual([
      'get /v1/exports/{dataset}',
      'get /v1/exports/{dataset}/datapackage.json',
    ]);
    for (const { path, method, op } of withParams) expect(errorBodyOf(op, 414), `${method} ${path}`).toEqual(errorSchema);
    // Found by schemathesis: a dataset name over 100 characters answered a 414 the document did not declare.
    const res = await api.app.inject({ url: `/v1/exports/${'%C2%A6'.repeat(101)}/datapackage.json`, headers: authAs('researcher') });
    expect(res.statusCode).toBe(414);
    expect(res.json().error.code).toBe('URL_TOO_LONG');
  });

  it('gives /v1/query the catalog’s metric and dimension names and the relative date ranges as enums', async () => {
    const body = (await load()).paths['/v1/query'].post.requestBody?.content['application/json'].schema;
    const props = body?.properties ?? {};
    expect((props.metrics.items as Schema).enum).toEqual([...METRIC_NAMES]);
    expect((props.dimensions.items as Schema).enum).toEqual([...DIMENSION_NAMES]);
    const filter = props.filters.items as Schema;
    const filterDimension = (filter.prefixItems ?? [])[1];
    expect(filterDimension.enum).toEqual(DIMENSION_NAMES.filter((d) => DIMENSIONS[d].filterable));
    const order = props.order_by.items as Schema;
    expect((order.prefixItems ?? [])[0]?.enum).toEqual([...METRIC_NAMES, ...DIMENSION_NAMES]);
    const dateRange = (props.date_range as { anyOf?: Schema[] }).anyOf ?? [];
    expect(dateRange.map((alternative) => alternative.enum)).toEqual([undefined, [...RELATIVE_RANGES]]);
  });

  it('gives the export, policy-impact and retention parameters their enums', async () => {
    const doc = await load();
    for (const path of ['/v1/exports/{dataset}', '/v1/exports/{dataset}/datapackage.json']) {
      const op = doc.paths[path].get;
      expect(parameter(op, 'dataset')?.enum, path).toEqual([...DATASETS]);
      expect(parameter(op, 'format')?.enum, path).toEqual([...FORMATS]);
    }
    expect(parameter(doc.paths['/v1/policy-impact'].get, 'metric')?.enum).toEqual(Object.keys(IMPACT_METRICS));
    expect(parameter(doc.paths['/v1/retention'].get, 'by')?.enum).toEqual(Object.keys(RETENTION_GROUPS));
  });

  it('documents the enums without making them refusals of the schema: the catalog’s codes still answer', async () => {
    const base = { metrics: ['sends'], date_range: ['2025-01-01', '2025-01-31'] };
    const ask = async (body: object) =>
      (await api.app.inject({ method: 'POST', url: '/v1/query', headers: authAs('analyst'), payload: body })).json().error?.code;
    expect(await ask({ ...base, metrics: ['visitors'] })).toBe('UNKNOWN_METRIC');
    expect(await ask({ ...base, dimensions: ['country'] })).toBe('UNKNOWN_DIMENSION');
    expect(await ask({ ...base, date_range: 'yesterday' })).toBe('INVALID_DATE_RANGE');
    const res = await api.app.inject({ url: '/v1/exports/nope?format=csv', headers: authAs('researcher') });
    expect(res.statusCode).toBe(404);
  });
});
