// A logger that keeps its lines, for tests that check what the app logs and at which level.
import type { Logger } from '../../common/log.js';

export interface Line {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(lines: Line[], base: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, msg, fields: { ...base, ...fields } });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (f) => recordingLogger(lines, { ...base, ...f }) };
}
