// createSimulation: interleaves the world's valid events with bad and duplicate lines at
// pseudo-random positions, with exact counts (sequential sampling without replacement).
// Mixing, bad lines and duplicate choices draw from their own random streams, so the valid
// events of a seed are the same whatever badRatio and dupRatio are.
import { BadLineMaker } from './emit-bad.js';
import { resolveOptions, type SimulateOptions } from './options.js';
import { OUTPUT, WORLD } from './params-world.js';
import { Rng } from './rng.js';
import { TruthRecorder, type Truth } from './truth.js';
import { DAY } from './time.js';
import { World } from './world.js';
import type { SimulatedLine } from './event-lines.js';

export interface Simulation {
  /** Every line, in order. Each call starts the same run afresh. */
  lines(): Generator<SimulatedLine>;
  /** The truth of the latest run of lines(); complete only after lines() is exhausted. */
  truth(): Truth;
  /** How many lines lines() yields: the events, the bad lines and the repeated ones. */
  readonly totalLines: number;
}

const MIX_STREAM = 2;
const BAD_STREAM = 3;

export function createSimulation(options: SimulateOptions): Simulation {
  const opts = resolveOptions(options);
  const publicOptions = { events: opts.events, seed: opts.seed, badRatio: opts.badRatio, dupRatio: opts.dupRatio, from: opts.from, to: opts.to };
  const newRecorder = (): TruthRecorder => new TruthRecorder(publicOptions, opts.fromMs - WORLD.warmupDays * DAY, opts.fromMs, opts.toMs);
  let recorder = newRecorder();
  let world: World | null = null;

  function* lines(): Generator<SimulatedLine> {
    recorder = newRecorder();
    const w = new World(opts, recorder);
    world = w;
    const truth = recorder;
    const mix = new Rng(opts.seed, MIX_STREAM);
    const bad = new BadLineMaker(new Rng(opts.seed, BAD_STREAM), opts.seed.toString(36));
    const window = OUTPUT.duplicateWindow;
    const recent: SimulatedLine[] = [];
    let recentNext = 0;
    let valid = opts.events;
    let badLeft = opts.badLines;
    let dupLeft = opts.duplicateLines;

    while (valid + badLeft + dupLeft > 0) {
      const x = mix.float() * (valid + badLeft + dupLeft);
      if (x < badLeft) {
        badLeft--;
        const ids = w.sampleIds(mix);
        const b = bad.make(w.clock, ids.businessId, ids.userId);
        truth.lines++;
        truth.bad++;
        truth.badByKind[b.kind]++;
        yield { line: b.line, key: b.key, family: null, duplicate: false };
      } else if (x < badLeft + dupLeft && recent.length > 0) {
        dupLeft--;
        const original = recent[mix.below(recent.length)];
        truth.lines++;
        truth.duplicates++;
        truth.duplicatesByFamily[original.family!]++;
        yield { line: original.line, key: original.key, family: original.family, duplicate: true };
      } else if (valid > 0) {
        valid--;
        const line = w.next();
        if (line === null) throw new Error('the world ran out of events before the requested count');
        if (recent.length < window) recent.push(line);
        else recent[recentNext] = line;
        recentNext = (recentNext + 1) % window;
        yield line;
      } else {
        // Only duplicates remain but nothing valid was ever written (events = 0 cannot get here).
        throw new Error('duplicates requested without any valid line to copy');
      }
    }
    truth.complete = true;
  }

  return {
    lines,
    truth: () => recorder.build(world ? world.cells : []),
    totalLines: opts.events + opts.badLines + opts.duplicateLines,
  };
}
