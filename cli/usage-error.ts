/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function positiveInt(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return n;
}

export function ratio(name: string, raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new UsageError(`--${name} must be a number in [0, 1), got ${JSON.stringify(raw)}`);
  return n;
}
