/** Polls until check returns a truthy value, instead of sleeping a guessed time. */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The promise's value, or a failure naming what did not happen within ms. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls a count until it equals want. A timeout names the last count, so a failure says whether rows were missing or
 * written twice.
 */
export async function waitForCount(read: () => Promise<number>, want: number, what: string, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  await waitFor(
    async () => {
      const n = await read();
      if (n !== want) throw new Error(`${n.toLocaleString('en')} of ${want.toLocaleString('en')}${n > want ? ' (more than expected)' : ''}`);
      return true;
    },
    what,
    timeoutMs,
    everyMs,
  );
}
