// The simulator's public surface: deterministic NDJSON events with exact ground truth.
export type { SimulateOptions } from './options.js';
export type { SimulatedLine } from './event-lines.js';
export type { Simulation } from './simulation.js';
export { createSimulation } from './simulation.js';
export { simulateToFile, truthPathFor } from './to-file.js';
export type { Truth, TruthCell, BadKind, RealizedRates } from './truth.js';
export { BAD_KINDS, TRUTH_FORMAT } from './truth.js';
export type { SendRates } from './params-rates.js';
export { cellRates } from './params-rates.js';
export type { CellKey, CellRealized } from './cells.js';
export { POLICY_DATES } from './policy-calendar.js';
