// The questions `npm run bench:api` asks: 50 that dashboards and product teams ask again and again, and a stream of
// new ones, each different from every other (its date range is its own).
import type { QueryRequest } from '../query/metrics/request.js';

const METRIC_SETS = [
  ['sends', 'delivery_rate', 'read_rate', 'click_rate'],
  ['sends', 'opt_outs_per_1k', 'blocks_per_1k', 'spam_reports_per_1k'],
  ['sends', 'revenue_per_1k', 'net_revenue_per_1k', 'conversion_rate'],
  ['sends', 'read_rate', 'opt_outs_per_1k', 'spam_risk_per_1k', 'net_revenue_per_1k'],
  ['sends', 'cost_usd', 'revenue_usd'],
];
const DIMENSION_SETS = [['frequency'], ['regime'], ['channel', 'regime'], ['frequency', 'regime'], ['channel', 'category'], ['time:month'], []];
const YEARS = ['2021', '2022', '2023', '2024', '2025'];

/** Fifty questions: a metric set by dimensions over a calendar year or a quarter. */
export function repeatedQuestions(): QueryRequest[] {
  const out: QueryRequest[] = [];
  for (let i = 0; out.length < 50; i++) {
    const year = YEARS[i % YEARS.length];
    const quarter = Math.floor(i / YEARS.length) % 5;
    const date_range: [string, string] =
      quarter === 4
        ? [`${year}-01-01`, `${year}-12-31`]
        : [`${year}-${String(quarter * 3 + 1).padStart(2, '0')}-01`, `${year}-${String(quarter * 3 + 3).padStart(2, '0')}-28`];
    out.push({ metrics: METRIC_SETS[i % METRIC_SETS.length], dimensions: DIMENSION_SETS[i % DIMENSION_SETS.length], date_range });
  }
  return out;
}

const DAY_MS = 86_400_000;
const FIRST = Date.UTC(2020, 0, 1);

/**
 * The k-th new question: a range starting on one of 1,500 days and 30 to 400 days long, never asked before. A new
 * question shares its metrics, dimensions and filters with others (a date picker moving over a dashboard's question),
 * so the API answers most from kept day sums. `novel` adds a filter of its own that changes no answer (a category
 * that does not exist), so nothing is shared and each takes a query of its own: the cost of questions nobody asked.
 */
export function newQuestion(k: number, novel = false): QueryRequest {
  const from = FIRST + (k % 1_500) * DAY_MS;
  const to = from + (30 + (Math.floor(k / 1_500) % 370)) * DAY_MS;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const q: QueryRequest = {
    metrics: METRIC_SETS[k % METRIC_SETS.length],
    dimensions: DIMENSION_SETS[k % DIMENSION_SETS.length],
    date_range: [day(from), day(to)],
  };
  return novel ? { ...q, filters: [['is_not', 'category', [`bench-novel-${k}`]]] } : q;
}
