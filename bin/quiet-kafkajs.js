// kafkajs 2.2.4 (its last release) schedules its request-queue check with a negative delay whenever
// nothing is throttled (tulios/kafkajs#1751). Node has always run such a timer after 1 ms; since Node 24
// it also prints a TimeoutNegativeWarning, once per process, which tells an operator nothing. Only that
// warning, raised from kafkajs, is dropped.
const emitWarning = process.emitWarning;

process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'TimeoutNegativeWarning' && /[\\/]kafkajs[\\/]/.test(new Error().stack ?? '')) return;
  return emitWarning.call(process, warning, ...rest);
};
