// Generation speed, without disk: `node bin/run-ts.js simulator/bench.ts [events] [seed]`.
// Builds every line (valid, bad, duplicate) and counts bytes, then reports events per second.
import { createSimulation } from './simulation.js';

const events = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const started = process.hrtime.bigint();
const sim = createSimulation({ events, seed, badRatio: 0.01, dupRatio: 0.01 });
let lines = 0;
let bytes = 0;
for (const l of sim.lines()) {
  lines++;
  bytes += Buffer.byteLength(l.line) + 1;
}
const secs = Number(process.hrtime.bigint() - started) / 1e9;
const truth = sim.truth();
console.log(
  JSON.stringify({
    events,
    lines,
    seconds: Number(secs.toFixed(2)),
    validEventsPerSecond: Math.round(events / secs),
    linesPerSecond: Math.round(lines / secs),
    megabytes: Number((bytes / 1e6).toFixed(1)),
    peakHeapMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    lastOccurredAt: truth.world.lastOccurredAt,
    forcedArrivals: truth.world.forcedArrivals,
  }),
);
