import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGAGEMENT_TYPES, MAX_EVENT_BYTES } from '../events/types.js';
import { parseEvent } from '../events/parse.js';
import { loadDefaultRegimes, regimeResolver } from '../warehouse/regimes.js';
import { BAD_KINDS, createSimulation, simulateToFile, POLICY_DATES, type CellRealized, type SimulatedLine, type Truth } from '../simulator/index.js';
import { HOUR } from './helpers/time.js';

// ---- the contract: the project's own validator is the authority ----

/** The reason a line breaks the contract, or null when it is a valid event. */
function contractViolation(line: string): string | null {
  const r = parseEvent(line);
  return r.ok ? null : `${r.rejection.reason} ${r.rejection.path}: ${r.rejection.problem}`;
}

type Obj = Record<string, unknown>;

// ---- helpers ----

const toMs = (v: unknown): number => (typeof v === 'number' ? v : Date.parse(v as string));
/** A JSON money number as integer micro-dollars, from its text, so sums are exact. */
const microsOf = (text: string): number => {
  const [w, f = ''] = text.split('.');
  expect(f.length).toBeLessThanOrEqual(6);
  return Number(w) * 1e6 + Number(f.padEnd(6, '0'));
};
const moneyText = (line: string, field: string): string => new RegExp(`"${field}":(-?[0-9.]+)`).exec(line)![1];

interface SendRec {
  t: number;
  b: string;
  u: string;
  c: string;
  category: string;
  frequency: string | null;
  cell: string;
  index: number;
}

/** Parse a run the way the pipeline would: validate, dedupe by event_id, attribute spam-risk events. */
function analyse(lines: SimulatedLine[], from: string, to: string) {
  const resolve = regimeResolver(loadDefaultRegimes());
  const fromMs = Date.parse(`${from}T00:00:00Z`);
  const toMsEnd = Date.parse(`${to}T00:00:00Z`);
  const seen = new Map<string, string>();
  const sends = new Map<string, SendRec>();
  const sendsByTriple = new Map<string, SendRec[]>();
  const stages = new Map<string, Map<string, number>>();
  const valid: Obj[] = [];
  const problems: string[] = [];
  let bad = 0;
  let dups = 0;
  let costMicros = 0;
  let revenueMicros = 0;
  lines.forEach((l, index) => {
    const why = contractViolation(l.line);
    if (why !== null) {
      bad++;
      if (l.family !== null) problems.push(`valid-flagged line rejected (${why}): ${l.line.slice(0, 200)}`);
      return;
    }
    if (l.family === null) problems.push(`bad line accepted: ${l.line.slice(0, 200)}`);
    const e = JSON.parse(l.line) as Obj;
    const id = e.event_id as string;
    if (seen.has(id)) {
      dups++;
      if (seen.get(id) !== l.line) problems.push(`duplicate ${id} is not a byte copy`);
      if (!l.duplicate) problems.push(`repeated event_id ${id} not flagged duplicate`);
      return;
    }
    if (l.duplicate) problems.push(`first occurrence flagged duplicate: ${id}`);
    seen.set(id, l.line);
    if (l.key !== e.user_id) problems.push(`key ${l.key} is not user_id`);
    const t = toMs(e.occurred_at);
    if (t < fromMs || t >= toMsEnd) problems.push(`occurred_at out of range: ${l.line}`);
    e.__t = t;
    e.__index = index;
    valid.push(e);
    if (e.type === 'send') {
      costMicros += microsOf(moneyText(l.line, 'cost_usd'));
      const rec: SendRec = {
        t,
        b: e.business_id as string,
        u: e.user_id as string,
        c: e.channel as string,
        category: e.category as string,
        frequency: (e.frequency as string | null) ?? null,
        cell: `${e.channel}|${e.category}|${e.frequency ?? null}|${resolve(e.channel as never, t)}`,
        index,
      };
      sends.set(id, rec);
      const k = `${rec.b}|${rec.u}|${rec.c}`;
      const list = sendsByTriple.get(k) ?? [];
      list.push(rec);
      sendsByTriple.set(k, list);
    } else if ((ENGAGEMENT_TYPES as readonly unknown[]).includes(e.type)) {
      const s = sends.get(e.send_id as string);
      if (!s) problems.push(`engagement before (or without) its send: ${l.line}`);
      else {
        if (s.b !== e.business_id || s.u !== e.user_id || s.c !== e.channel) problems.push(`engagement ${id} differs from its send`);
        if (!(t > s.t)) problems.push(`engagement ${id} not after its send`);
        const m = stages.get(e.send_id as string) ?? new Map<string, number>();
        if (m.has(e.type as string)) problems.push(`second ${e.type} for send ${e.send_id}`);
        m.set(e.type as string, t);
        stages.set(e.send_id as string, m);
      }
      if (e.type === 'converted') {
        const r = microsOf(moneyText(l.line, 'revenue_usd'));
        if (!(r > 0)) problems.push(`converted without revenue: ${id}`);
        revenueMicros += r;
      }
    }
  });
  return { valid, sends, sendsByTriple, stages, bad, dups, costMicros, revenueMicros, problems, resolve };
}

/** The pipeline's rule: the latest send, same business, user and channel, at or before, within 72 h. */
function attribute(a: ReturnType<typeof analyse>, e: Obj): SendRec | null {
  const list = a.sendsByTriple.get(`${e.business_id}|${e.user_id}|${e.channel}`) ?? [];
  const t = e.__t as number;
  let best: SendRec | null = null;
  for (const s of list) if (s.t <= t && (best === null || s.t > best.t)) best = s;
  return best && t - best.t <= 72 * HOUR ? best : null;
}

const FROM = '2019-01-01';
const TO = '2026-10-31';
const N = 40_000;
const run = (seed: number, extra: { badRatio?: number; dupRatio?: number; events?: number } = {}) => {
  const sim = createSimulation({ events: N, seed, ...extra });
  const lines = [...sim.lines()];
  return { lines, truth: sim.truth() };
};
const digest = (lines: SimulatedLine[]): string => {
  const h = createHash('sha256');
  for (const l of lines) h.update(`${l.key}\t${l.family}\t${l.duplicate}\t${l.line}\n`);
  return h.digest('hex');
};

const main = run(7, { badRatio: 0.02, dupRatio: 0.015 });
const analysed = analyse(main.lines, FROM, TO);

describe('simulator', () => {
  it('is deterministic: same seed gives identical lines, another seed different ones', () => {
    const again = run(7, { badRatio: 0.02, dupRatio: 0.015 });
    expect(digest(again.lines)).toBe(digest(main.lines));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(main.truth));
    const other = run(8, { badRatio: 0.02, dupRatio: 0.015 });
    expect(digest(other.lines)).not.toBe(digest(main.lines));
  });

  it('writes the same valid events whatever the bad and duplicate ratios', () => {
    const clean = run(7);
    const validOnly = (ls: SimulatedLine[]) => ls.filter((l) => l.family !== null && !l.duplicate).map((l) => l.line);
    expect(validOnly(clean.lines)).toEqual(validOnly(main.lines));
  });

  it('every line is classified correctly by the contract', () => {
    expect(analysed.problems.slice(0, 5)).toEqual([]);
  });

  it('honours the counts: exactly N valid unique events, round(N*ratio) bad and duplicate lines', () => {
    const c = main.truth.counts;
    expect(main.truth.complete).toBe(true);
    expect(analysed.valid.length).toBe(N);
    expect(analysed.bad).toBe(Math.round(N * 0.02));
    expect(analysed.dups).toBe(Math.round(N * 0.015));
    expect(main.lines.length).toBe(N + Math.round(N * 0.02) + Math.round(N * 0.015));
    expect(c).toMatchObject({ lines: main.lines.length, valid: N, bad: analysed.bad, duplicates: analysed.dups });
    expect(main.lines.filter((l) => l.duplicate).length).toBe(c.duplicates);
    expect(main.lines.filter((l) => l.family === null).length).toBe(c.bad);
  });

  it('covers every bad-line kind, and the truth counts them', () => {
    const kinds = main.truth.counts.badByKind;
    for (const k of BAD_KINDS) expect(kinds[k], k).toBeGreaterThan(0);
    expect(Object.values(kinds).reduce((a, b) => a + b, 0)).toBe(main.truth.counts.bad);
    const longest = Math.max(...main.lines.filter((l) => l.family === null).map((l) => Buffer.byteLength(l.line)));
    expect(longest).toBeGreaterThan(MAX_EVENT_BYTES);
  });

  it('truth counts equal what the lines contain', () => {
    const c = main.truth.counts;
    const byType: Record<string, number> = {};
    const byFamily: Record<string, number> = { sends: 0, engagements: 0, subscriptions: 0 };
    const byCategory: Record<string, number> = {};
    const byFrequency: Record<string, number> = { daily: 0, weekly: 0, monthly: 0, none: 0 };
    const byChannelRegime: Record<string, Record<string, number>> = { messenger: {}, instagram: {}, whatsapp: {} };
    let epoch = 0;
    for (const e of analysed.valid) {
      byType[e.type as string] = (byType[e.type as string] ?? 0) + 1;
      byFamily[e.type === 'send' ? 'sends' : (ENGAGEMENT_TYPES as readonly unknown[]).includes(e.type) ? 'engagements' : 'subscriptions']++;
      if (typeof e.occurred_at === 'number') epoch++;
      if (e.type === 'send') {
        byCategory[e.category as string] = (byCategory[e.category as string] ?? 0) + 1;
        byFrequency[(e.frequency as string) ?? 'none']++;
        const r = analysed.resolve(e.channel as never, e.__t as number);
        byChannelRegime[e.channel as string][r] = (byChannelRegime[e.channel as string][r] ?? 0) + 1;
      }
    }
    expect(Object.fromEntries(Object.entries(c.validByType).filter(([, n]) => n > 0))).toEqual(byType);
    expect(c.validByFamily).toEqual(byFamily);
    expect(c.sendsByCategory).toEqual(byCategory);
    expect(c.sendsByFrequency).toEqual(byFrequency);
    expect(c.sendsByChannelRegime).toEqual(byChannelRegime);
    expect(c.epochMsTimestamps).toBe(epoch);
    expect(epoch / N).toBeGreaterThan(0.03);
    expect(epoch / N).toBeLessThan(0.07);
    expect(c.costMicros).toBe(analysed.costMicros);
    expect(c.revenueMicros).toBe(analysed.revenueMicros);
    expect(c.costUsd).toBe(Number((analysed.costMicros / 1e6).toFixed(6)));
    expect(Object.values(c.validByMonth).reduce((a, b) => a + b, 0)).toBe(N);
  });

  it('every engagement follows its send and respects the funnel', () => {
    let checked = 0;
    for (const [sendId, m] of analysed.stages) {
      const s = analysed.sends.get(sendId)!;
      const t = (k: string) => m.get(k)!;
      expect(m.has('delivered')).toBe(true);
      if (m.has('read')) expect(t('read')).toBeGreaterThan(t('delivered'));
      if (m.has('clicked')) expect(m.has('read') && t('clicked') > t('read')).toBe(true);
      if (m.has('replied')) expect(m.has('read') && t('replied') > t('read')).toBe(true);
      if (m.has('converted')) expect(m.has('clicked') && t('converted') > t('clicked')).toBe(true);
      expect(t('delivered')).toBeGreaterThan(s.t);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('spam-risk events are recoverable with the 72-hour latest-send rule', () => {
    const c = main.truth.counts.spamRisk;
    const attributed = { opt_out: 0, block: 0, spam_report: 0 };
    let unattributed = 0;
    const stopped = new Map<string, number>();
    for (const e of analysed.valid) {
      if (e.type !== 'opt_out' && e.type !== 'block' && e.type !== 'spam_report') continue;
      const s = attribute(analysed, e);
      if (s === null) {
        expect(e.type).toBe('opt_out');
        unattributed++;
      } else {
        attributed[e.type]++;
        expect((e.__t as number) - s.t).toBeLessThanOrEqual(HOUR);
      }
      if (e.type !== 'spam_report') stopped.set(`${e.business_id}|${e.user_id}|${e.channel}`, e.__t as number);
    }
    expect(attributed).toEqual(c.attributed);
    expect(unattributed).toBe(c.unattributed.opt_out);
    expect(c.attributed.opt_out + c.attributed.block).toBeGreaterThan(20);
    // After an opt_out or a block, that business never sends to that user on that channel again.
    for (const [triple, at] of stopped) for (const s of analysed.sendsByTriple.get(triple) ?? []) expect(s.t).toBeLessThan(at);
  });

  it('per-cell realized counts in the truth are exactly what the pipeline measures', () => {
    // The cell's counts; money is compared separately.
    type Acc = Omit<CellRealized, 'cost_micros' | 'revenue_micros'>;
    const cells = new Map<string, Acc>();
    const acc = (cell: string): Acc => {
      let a = cells.get(cell);
      if (!a) cells.set(cell, (a = { sends: 0, delivered: 0, read: 0, clicked: 0, replied: 0, converted: 0, opt_out: 0, block: 0, spam_report: 0 }));
      return a;
    };
    for (const e of analysed.valid) {
      if (e.type === 'send') acc(analysed.sends.get(e.event_id as string)!.cell).sends++;
      else if ((ENGAGEMENT_TYPES as readonly unknown[]).includes(e.type)) acc(analysed.sends.get(e.send_id as string)!.cell)[e.type as 'read']++;
      else if (e.type !== 'opt_in') {
        const s = attribute(analysed, e);
        if (s) acc(s.cell)[e.type as 'block']++;
      }
    }
    const truthCells = new Map(main.truth.cells.map((c) => [`${c.channel}|${c.category}|${c.frequency}|${c.regime}`, c]));
    expect([...truthCells.keys()].sort()).toEqual([...cells.keys()].sort());
    for (const [key, a] of cells) {
      const t = truthCells.get(key)!;
      const { cost_micros, revenue_micros, cost_usd, revenue_usd, ...counts } = t.realized;
      expect(counts, key).toEqual(a);
      expect(t.realized_rates.delivery_rate).toBeCloseTo(a.delivered / a.sends, 12);
    }
  });

  it('measured rates agree with the truth probabilities within sampling error', () => {
    for (const c of main.truth.cells) {
      const x = c.realized;
      const within = (count: number, n: number, p: number) => {
        if (n < 400) return;
        const sd = Math.sqrt((p * (1 - p)) / n);
        expect(Math.abs(count / n - p), `${c.channel}/${c.category}/${c.frequency}/${c.regime} ${count}/${n} vs ${p}`).toBeLessThanOrEqual(4.5 * sd + 2 / n);
      };
      within(x.delivered, x.sends, c.rates.delivery_rate);
      within(x.read, x.delivered, c.rates.read_rate);
      within(x.clicked, x.delivered, c.rates.click_rate);
      within(x.replied, x.delivered, c.rates.reply_rate);
    }
  });

  it('follows the policy calendar', () => {
    const at = (d: string) => Date.parse(`${d}T00:00:00Z`);
    let recurring = 0;
    for (const e of analysed.valid) {
      const t = e.__t as number;
      if (e.type === 'send') {
        const cat = e.category as string;
        if (cat === 'recurring_notification') {
          recurring++;
          expect(t).toBeGreaterThanOrEqual(at(POLICY_DATES.recurringLaunch));
          expect(t).toBeLessThan(at(POLICY_DATES.utilityTakeover));
        }
        if (cat === 'marketing_message') {
          expect(t).toBeGreaterThanOrEqual(at(POLICY_DATES.paidMarketingMessages));
          expect(Number(e.cost_usd)).toBeGreaterThan(0);
        }
        if (cat === 'one_time_notification') expect(t).toBeGreaterThanOrEqual(at(POLICY_DATES.end24Plus1));
        if (cat === 'response') expect(e.cost_usd).toBe(0);
        if (cat === 'service' && t >= at(POLICY_DATES.whatsappServiceFree)) expect(e.cost_usd).toBe(0);
        if (e.channel === 'whatsapp') expect(['marketing_template', 'utility_template', 'authentication_template', 'service']).toContain(cat);
        else expect(['response', 'message_tag', 'one_time_notification', 'recurring_notification', 'marketing_message', 'utility_template']).toContain(cat);
        if (e.channel !== 'whatsapp' && cat === 'utility_template') expect(t).toBeGreaterThanOrEqual(at(POLICY_DATES.utilityTakeover));
      }
      if (e.type === 'opt_in' && e.channel !== 'whatsapp') {
        expect(t).toBeGreaterThanOrEqual(at(POLICY_DATES.recurringLaunch));
        // Renewals of tokens created before the withdrawal fall back to daily too, so any weekly/monthly opt-in is early.
        if (e.frequency !== 'daily') expect(t).toBeLessThan(at(POLICY_DATES.weeklyMonthlyWithdrawn));
      }
    }
    expect(recurring).toBeGreaterThan(100);
  });

  it('covers every regime of every channel, and the calendar contains every regime boundary', () => {
    const regimes = loadDefaultRegimes();
    const byChannel = main.truth.counts.sendsByChannelRegime;
    for (const r of regimes) expect(byChannel[r.channel][r.regime] ?? 0, `${r.channel}/${r.regime}`).toBeGreaterThan(0);
    const dates = new Set(Object.values(POLICY_DATES));
    for (const r of regimes) if (r.start !== '2010-01-01') expect(dates.has(r.start as never), r.start).toBe(true);
  });

  it('event ids are unique and short; money has at most 6 decimals', () => {
    const ids = new Set(analysed.valid.map((e) => e.event_id as string));
    expect(ids.size).toBe(N);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
  });

  it('ends exactly at N even for short ranges and tiny counts', () => {
    for (const [events, from, to] of [
      [1, '2024-01-01', '2024-01-02'],
      [500, '2025-06-01', '2025-08-01'],
      [0, FROM, TO],
    ] as const) {
      const sim = createSimulation({ events, seed: 3, from, to, badRatio: 0.1, dupRatio: 0.1 });
      const lines = [...sim.lines()];
      const a = analyse(lines, from, to);
      expect(a.problems).toEqual([]);
      expect(a.valid.length).toBe(events);
      expect(sim.truth().counts.valid).toBe(events);
      expect(lines.length).toBe(sim.totalLines);
    }
  });

  it('rejects options the contract could not honour', () => {
    expect(() => createSimulation({ events: -1, seed: 1 })).toThrow();
    expect(() => createSimulation({ events: 10, seed: 1, badRatio: 2 })).toThrow();
    expect(() => createSimulation({ events: 10, seed: 1, from: '2009-01-01' })).toThrow();
    expect(() => createSimulation({ events: 10, seed: 1, to: '2999-01-01' })).toThrow();
  });

  it('simulateToFile writes the lines and <name>.truth.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policylens-sim-'));
    try {
      const out = join(dir, 'e.ndjson');
      const truth = await simulateToFile({ events: 5000, seed: 11, badRatio: 0.01, dupRatio: 0.01, out });
      const text = readFileSync(out, 'utf8');
      const sim = createSimulation({ events: 5000, seed: 11, badRatio: 0.01, dupRatio: 0.01 });
      expect(text).toBe([...sim.lines()].map((l) => `${l.line}\n`).join(''));
      expect(existsSync(join(dir, 'e.truth.json'))).toBe(true);
      const onDisk = JSON.parse(readFileSync(join(dir, 'e.truth.json'), 'utf8')) as Truth;
      expect(onDisk).toEqual(JSON.parse(JSON.stringify(truth)));
      expect(onDisk.counts.lines).toBe(text.split('\n').length - 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
