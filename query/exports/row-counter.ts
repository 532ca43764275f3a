// Counting the rows of an export as its bytes go by, for progress and for the datapackage's row count,
// without parsing the rows: newlines outside quotes (CSV), newlines (JSON Lines), data-page headers (Parquet).
import { parquetCounter } from './parquet-rows.js';
import type { ExportFormat, RowCounter } from './spec.js';

const NL = 0x0a;
const QUOTE = 0x22;

/** JSON Lines: one row per newline (JSON strings escape their newlines). */
export function jsonlCounter(): RowCounter {
  let rows = 0;
  return {
    push(chunk) {
      const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let i = b.indexOf(NL); i !== -1; i = b.indexOf(NL, i + 1)) rows++;
    },
    get rows() {
      return rows;
    },
  };
}

/** CSV with a header row: newlines outside double quotes, less the header. A quote inside a field is doubled, which toggles twice. */
export function csvCounter(): RowCounter {
  let lines = 0;
  let quoted = false;
  return {
    push(chunk) {
      const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let i = 0;
      while (i < b.length) {
        if (quoted) {
          const q = b.indexOf(QUOTE, i);
          if (q === -1) break;
          quoted = false;
          i = q + 1;
        } else {
          const q = b.indexOf(QUOTE, i);
          const n = b.indexOf(NL, i);
          if (n !== -1 && (q === -1 || n < q)) {
            lines++;
            i = n + 1;
          } else if (q !== -1) {
            quoted = true;
            i = q + 1;
          } else break;
        }
      }
    },
    get rows() {
      return Math.max(0, lines - 1);
    },
  };
}

export function rowCounter(format: ExportFormat, columns: number): RowCounter {
  switch (format) {
    case 'csv':
      return csvCounter();
    case 'jsonl':
      return jsonlCounter();
    case 'parquet':
      return parquetCounter(columns);
  }
}
