// Meta's webhooks into the raw topic: the handshake, signatures over the bytes as received, and what reaches Kafka
// (the body byte for byte, with its headers) only once Kafka acknowledged it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { buildCollectApp } from '../collect/app.js';
import { createKafkaSink } from '../collect/kafka-sink.js';
import { signBody } from '../sources/meta/signature.js';
import { createKeyRing } from '../common/api-keys.js';
import { createKafka } from '../ingest/kafka.js';
import { RAW_HEADERS } from '../events/topics.js';
import { APP_SECRET, VERIFY_TOKEN, collectEnv, openTestCollect, type TestCollect } from './helpers/collect.js';

const URL = '/v1/webhooks/meta';
let c: TestCollect;
beforeAll(async () => {
  c = await openTestCollect();
});
afterAll(async () => c?.close());

const post = (body: string | Buffer, signature: string | null = signBody(body, APP_SECRET), app: FastifyInstance = c.app) =>
  app.inject({
    method: 'POST',
    url: URL,
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'x-hub-signature-256': signature }) },
    payload: body,
  });

const messaging = (page: string, i: number) => ({
  sender: { id: `psid-${i}` },
  recipient: { id: page },
  timestamp: 1_700_000_000_000 + i,
  message: { mid: `m_${i}`, text: `hello ${i}` },
});
const pagePayload = (page: string, n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    object: 'page',
    entry: [{ id: page, time: 1_700_000_000_000, messaging: Array.from({ length: n }, (_, i) => messaging(page, i)) }],
    ...extra,
  });

/** The raw topic's messages whose value holds `marker`. */
const rawWith = async (marker: string) => (await c.read(c.k.rawTopic)).filter((m) => m.value?.includes(marker));

describe('GET /v1/webhooks/meta (the handshake)', () => {
  const get = (query: string) => c.app.inject({ url: `${URL}?${query}` });
  it('answers the challenge as text to subscribe with the configured token', async () => {
    const res = await get(`hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('1158201444');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('answers 403 to a wrong token, another mode, or a missing part', async () => {
    for (const q of [
      'hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong',
      `hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=${VERIFY_TOKEN}`,
      `hub.mode=subscribe&hub.challenge=1`,
      `hub.challenge=1&hub.verify_token=${VERIFY_TOKEN}`,
      `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}`,
      '',
    ]) {
      const res = await get(q);
      expect(res.statusCode, q).toBe(403);
      expect(res.json().error.code).toBe('VERIFY_TOKEN_MISMATCH');
    }
  });
});

describe('POST /v1/webhooks/meta', () => {
  it('appends a signed body byte for byte, escaped unicode and all, with its headers, keyed by the account', async () => {
    // Meta hashes the escaped form; JSON.stringify of the parsed body writes é and would not match.
    const body = `{"object":"page","entry":[{"id":"page-uni","time":1,"messaging":[{"sender":{"id":"u1"},"message":{"text":"caf\\u00e9 \\u00e4\\u00f6\\u00e5"}}]}]}`;
    expect(JSON.stringify(JSON.parse(body))).not.toBe(body);
    const before = Date.now();
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(200);
    const [m, ...more] = await rawWith('page-uni');
    expect(more).toHaveLength(0);
    expect(m.value!.equals(Buffer.from(body))).toBe(true);
    expect(m.key?.toString()).toBe('page-uni');
    const receivedAt = String(m.headers![RAW_HEADERS.receivedAt]);
    expect(receivedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(receivedAt)).toBeGreaterThanOrEqual(before - 1);
    expect(String(m.headers![RAW_HEADERS.source])).toBe('meta');
    // The signature of the re-serialised body is not the signature of what was sent.
    const reserialised = signBody(JSON.stringify(JSON.parse(body)), APP_SECRET);
    expect((await post(body, reserialised)).statusCode).toBe(401);
  });

  it('refuses a missing, malformed, legacy-only or wrongly keyed signature with 401, counts it, and appends nothing', async () => {
    const before = (await c.metrics.badSignatures.get()).values[0]?.value ?? 0;
    const body = pagePayload('page-badsig', 1);
    const attempts: [string | null, Record<string, string>][] = [
      [null, {}],
      ['sha256=', {}],
      ['sha256=zz', {}],
      [signBody(body, 'another-secret'), {}],
      [signBody(body, APP_SECRET).replace('sha256=', 'sha1='), {}],
      [`${signBody(body, APP_SECRET)}00`, {}],
      [signBody(`${body} `, APP_SECRET), {}],
    ];
    for (const [sig] of attempts) {
      const res = await post(body, sig);
      expect(res.statusCode, String(sig)).toBe(401);
      expect(res.json().error.code).toBe('BAD_SIGNATURE');
    }
    const legacy = await c.app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/json', 'x-hub-signature': 'sha1=00' },
      payload: body,
    });
    expect(legacy.statusCode).toBe(401);
    expect((await c.metrics.badSignatures.get()).values[0].value - before).toBe(attempts.length + 1);
    expect(await rawWith('page-badsig')).toHaveLength(0);
  });

  it('takes a batch of 1,000 entries in one POST as one message', async () => {
    const body = pagePayload('page-batch', 1000);
    expect((await post(body)).statusCode).toBe(200);
    const got = await rawWith('page-batch');
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0].value!.toString()).entry[0].messaging).toHaveLength(1000);
  });

  it('appends the same POST delivered three times three times: dropping repeats is the mapping’s job', async () => {
    const body = pagePayload('page-thrice', 2);
    for (let i = 0; i < 3; i++) expect((await post(body)).statusCode).toBe(200);
    const got = await rawWith('page-thrice');
    expect(got).toHaveLength(3);
    for (const m of got) expect(m.value!.equals(Buffer.from(body))).toBe(true);
  });

  it('takes a 3 MB payload whole', async () => {
    let n = 1;
    while (pagePayload('page-3mb', n).length < 3_000_000) n *= 2;
    const body = pagePayload('page-3mb', n);
    expect(body.length).toBeGreaterThan(3_000_000);
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(200);
    const got = await rawWith('page-3mb');
    expect(got).toHaveLength(1);
    expect(got[0].value!.equals(Buffer.from(body))).toBe(true);
  });

  it('appends unknown fields and unknown objects as they are, counting the unknown objects as other', async () => {
    const unknownField = pagePayload('page-unknown-field', 1, { future_field: { nested: [1, 2] } });
    const unknownObject = JSON.stringify({ object: 'permissions', entry: [{ id: 'acct-unknown-object', changes: [{ field: 'x', value: {} }] }] });
    const whatsapp = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'waba-1', changes: [{ field: 'messages', value: { statuses: [] } }] }],
    });
    for (const body of [unknownField, unknownObject, whatsapp]) expect((await post(body)).statusCode).toBe(200);
    expect((await rawWith('future_field'))[0].value!.toString()).toBe(unknownField);
    expect((await rawWith('acct-unknown-object'))[0].value!.toString()).toBe(unknownObject);
    const counts = Object.fromEntries((await c.metrics.webhooksAppended.get()).values.map((v) => [v.labels.object, v.value]));
    expect(counts.other).toBe(1);
    expect(counts.whatsapp_business_account).toBe(1);
    const text = (await c.app.inject({ url: '/metrics' })).body;
    expect(text).toContain('policylens_collect_webhooks_appended_total{object="other"} 1');
    expect(text).toContain('policylens_collect_requests_total{method="POST",route="/v1/webhooks/meta",status="401"}');
  });

  it('refuses a signed body that is not JSON with an object field (400), appending nothing', async () => {
    for (const body of ['not json at all page-notjson', '["page-notjson"]', '{"entry":[],"tag":"page-notjson"}', '{"object":"","tag":"page-notjson"}']) {
      const res = await post(body);
      expect(res.statusCode, body).toBe(400);
      expect(res.json().error.code).toBe('BAD_WEBHOOK');
    }
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect((await post(bad)).statusCode).toBe(400);
    expect(await rawWith('page-notjson')).toHaveLength(0);
  });

  it('refuses a body over the limit with 413 BODY_TOO_LARGE', async () => {
    const small = await buildCollectApp({
      config: loadConfig(collectEnv(c.k.prefix, { POLICYLENS_COLLECT_WEBHOOK_MAX_BYTES: '2048' })),
      keys: createKeyRing([]),
      sink: c.sink,
      log: createLogger({}, 'error'),
    });
    const body = pagePayload('page-too-large', 50);
    const res = await post(body, undefined, small);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('BODY_TOO_LARGE');
    await small.close();
  });
});

describe('when Kafka does not answer', () => {
  it('answers 503 with Retry-After, so that Meta delivers again', async () => {
    const config = loadConfig(collectEnv(c.k.prefix, { POLICYLENS_KAFKA_BROKERS: '127.0.0.1:1' }));
    const log = createLogger({}, 'error');
    const sink = createKafkaSink(createKafka(config, log), log, { sendTimeoutMs: 3_000 });
    const app = await buildCollectApp({ config, keys: createKeyRing([]), sink, log });
    try {
      const body = pagePayload('page-down', 1);
      const res = await post(body, undefined, app);
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('KAFKA_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await app.close();
      await sink.close();
    }
  });
});

describe('without an app secret', () => {
  it('has no webhook routes', async () => {
    const config = loadConfig({ ...collectEnv(c.k.prefix), POLICYLENS_META_APP_SECRET: '' });
    const app = await buildCollectApp({ config, keys: createKeyRing([]), sink: c.sink, log: createLogger({}, 'error') });
    expect((await app.inject({ method: 'POST', url: URL, payload: '{}' })).statusCode).toBe(404);
    expect((await app.inject({ url: `${URL}?hub.mode=subscribe` })).statusCode).toBe(404);
    await app.close();
  });
});
