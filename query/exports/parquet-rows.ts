// Counting the rows of a Parquet export as its bytes go by, and reading the row count off a whole file: a
// minimal reader of the Thrift compact protocol, enough for page headers and the footer's num_rows.
import type { RowCounter } from './spec.js';

class NeedMore extends Error {}
class NotThrift extends Error {}

class Compact {
  pos = 0;
  private readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  byte(): number {
    if (this.pos >= this.b.length) throw new NeedMore();
    return this.b[this.pos++];
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const x = this.byte();
      result |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new NotThrift();
    }
  }
  zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }
  skipBytes(n: number): void {
    if (this.pos + n > this.b.length) throw new NeedMore();
    this.pos += n;
  }
  skip(type: number, depth = 0): void {
    if (depth > 16) throw new NotThrift();
    switch (type) {
      case 1: // BOOLEAN_TRUE
      case 2: // BOOLEAN_FALSE
        return;
      case 3: // BYTE
        this.skipBytes(1);
        return;
      case 4: // I16
      case 5: // I32
      case 6: // I64
        this.varint();
        return;
      case 7: // DOUBLE
        this.skipBytes(8);
        return;
      case 8: // BINARY
        this.skipBytes(Number(this.varint()));
        return;
      case 9: // LIST
      case 10: {
        // SET
        const h = this.byte();
        let size = h >> 4;
        if (size === 15) size = Number(this.varint());
        const et = h & 0x0f;
        for (let i = 0; i < size; i++) et === 1 || et === 2 ? this.skipBytes(1) : this.skip(et, depth + 1);
        return;
      }
      case 11: {
        // MAP
        const size = Number(this.varint());
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(kv >> 4, depth + 1);
          this.skip(kv & 0x0f, depth + 1);
        }
        return;
      }
      case 12: // STRUCT
        this.struct(() => false, depth + 1);
        return;
      default:
        throw new NotThrift();
    }
  }
  /** Reads a struct; `onField` returns true when it consumed the field's value itself. */
  struct(onField: (id: number, type: number) => boolean, depth = 0): void {
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return;
      const type = h & 0x0f;
      const delta = h >> 4;
      const id = delta ? last + delta : Number(this.zigzag());
      last = id;
      if (!onField(id, type)) this.skip(type, depth);
    }
  }
}

/** A Parquet page header: its type, its compressed size, and how many rows (v2) or values (v1) it holds. */
function readPageHeader(c: Compact): { type: number; compressed: number; values: number; rows: number | null } {
  let type = -1;
  let compressed = -1;
  let values = 0;
  let rows: number | null = null;
  c.struct((id, t) => {
    const i32 = () => {
      if (t !== 5) throw new NotThrift();
      return Number(c.zigzag());
    };
    if (id === 1) type = i32();
    else if (id === 2) i32();
    else if (id === 3) compressed = i32();
    else if (id === 5 || id === 8) {
      if (t !== 12) throw new NotThrift();
      c.struct((sid, st) => {
        if (sid === 1 && st === 5) values = Number(c.zigzag());
        else if (id === 8 && sid === 3 && st === 5) rows = Number(c.zigzag());
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  if (type < 0 || type > 3 || compressed < 0) throw new NotThrift();
  return { type, compressed, values, rows };
}

/**
 * Parquet: after the 4-byte magic, column chunks are sequences of pages, each a Thrift page header and its
 * bytes, sometimes followed by the chunk's metadata (another Thrift struct). For flat columns a v1 data page's
 * num_values is its row count, so the rows so far are the values of all data pages divided by the number of
 * columns (rounded down, so a row group counts once all its columns are written). Structs that are not pages
 * (chunk metadata, page indexes, the footer) are skipped; anything else stops the count.
 */
export function parquetCounter(columns: number): RowCounter {
  let pending = Buffer.alloc(0);
  let skip = 4; // magic "PAR1"
  let values = 0;
  let stopped = false;
  return {
    push(chunk) {
      if (stopped) return;
      let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (pending.length) b = Buffer.concat([pending, b]);
      pending = Buffer.alloc(0);
      let pos = 0;
      while (pos < b.length) {
        if (skip > 0) {
          const n = Math.min(skip, b.length - pos);
          skip -= n;
          pos += n;
          continue;
        }
        try {
          const c = new Compact(b.subarray(pos));
          try {
            const h = readPageHeader(c);
            if (h.type === 0) values += h.values;
            else if (h.type === 3) values += h.rows ?? h.values;
            pos += c.pos;
            skip = h.compressed;
          } catch (err) {
            if (!(err instanceof NotThrift)) throw err;
            // Not a page: a column chunk's metadata, which some writers put after its pages. Skip the struct.
            const s = new Compact(b.subarray(pos));
            s.struct(() => false);
            pos += s.pos;
          }
        } catch (err) {
          if (err instanceof NeedMore && b.length - pos < 1 << 20) pending = Buffer.from(b.subarray(pos));
          else stopped = true;
          return;
        }
      }
    },
    get rows() {
      return Math.floor(values / columns);
    },
  };
}

/** num_rows from a whole Parquet file's footer (FileMetaData field 3), or null when it is not a Parquet file. */
export function parquetFooterRows(tail: Uint8Array): number | null {
  const n = tail.length;
  if (n < 12) return null;
  const magic = Buffer.from(tail.buffer, tail.byteOffset + n - 4, 4).toString('latin1');
  if (magic !== 'PAR1') return null;
  const len = Buffer.from(tail.buffer, tail.byteOffset, n).readUInt32LE(n - 8);
  if (len + 8 > n) return null;
  const c = new Compact(tail.subarray(n - 8 - len, n - 8));
  let rows: number | null = null;
  try {
    c.struct((id, t) => {
      if (id === 3 && t === 6) {
        rows = Number(c.zigzag());
        return true;
      }
      return false;
    });
  } catch {
    return null;
  }
  return rows;
}
