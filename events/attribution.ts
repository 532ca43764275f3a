// The attribution window's numbers, part of the metric definition (docs/metrics.md): the configuration checks
// the window against them, the query path chooses its tables by them, and the simulator's truth counts with
// the default. Kept here, below every layer that uses them.

/** Hours after a send within which an opt_out, block or spam_report counts against it, unless configured. */
export const DEFAULT_ATTRIBUTION_WINDOW_HOURS = 72;

/**
 * spam_pairs (migration 04) pairs each spam-risk event with the sends up to this long before it
 * (test/pairs-window.test.ts); a longer window is answered from the raw tables.
 */
export const PAIRS_MAX_WINDOW_HOURS = 168;

/**
 * The longest window the configuration accepts: a year. Longer ones would make every attributing query on the
 * raw path read sends from more than a year before its date range, for no metric anyone defined.
 */
export const MAX_ATTRIBUTION_WINDOW_HOURS = 8_760;
