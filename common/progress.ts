// A progress bar on a terminal, a line every few seconds elsewhere, so long jobs never look hung.
export interface Progress {
  tick(done: number): void;
  finish(summary?: string): void;
}

export function createProgress(label: string, total: number | null, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  const started = Date.now();
  let last = 0;
  let lastDone = 0;
  const render = (done: number): string => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    if (total && total > 0) {
      const frac = Math.min(1, done / total);
      const width = 30;
      const filled = Math.round(frac * width);
      return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${rate.toLocaleString('en-US')}/s`;
    }
    return `${label} ${done.toLocaleString('en-US')} ${rate.toLocaleString('en-US')}/s`;
  };
  return {
    tick(done) {
      lastDone = done;
      const now = Date.now();
      if (tty && now - last >= 100) {
        stream.write(`\r${render(done)}\x1b[K`);
        last = now;
      } else if (!tty && now - last >= 5000) {
        stream.write(`${render(done)}\n`);
        last = now;
      }
    },
    finish(summary) {
      const line = render(lastDone) + (summary ? ` ${summary}` : '');
      stream.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}
