// TabSeparated lines kept as UTF-8 bytes in large shared buffers. A line built by a template literal is a tree
// of the strings it was made from (about 1.3 KB a row, measured); its bytes take about 170. The buffers are
// also the insert's body as they stand.
const CHUNK_BYTES = 256 * 1024;

export class LineArena {
  private readonly chunks: Buffer[] = [];
  /** Bytes used in each chunk. */
  private readonly used: number[] = [];
  /** For each line: its chunk and where it starts there. */
  private readonly chunkOf: number[] = [];
  private readonly startOf: number[] = [];

  get length(): number {
    return this.chunkOf.length;
  }

  /** Appends one line (without its newline). */
  push(line: string): void {
    let k = this.chunks.length - 1;
    // A UTF-16 unit takes at most 3 UTF-8 bytes, so this much room always holds the line and its newline.
    const room = line.length * 3 + 1;
    if (k < 0 || this.chunks[k].length - this.used[k] < room) {
      this.chunks.push(Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room)));
      this.used.push(0);
      k++;
    }
    const at = this.used[k];
    const n = this.chunks[k].write(line, at);
    this.chunks[k][at + n] = 0x0a;
    this.used[k] = at + n + 1;
    this.chunkOf.push(k);
    this.startOf.push(at);
  }

  /** Line i's bytes, with its newline. */
  bytes(i: number): Buffer {
    const k = this.chunkOf[i];
    const end = i + 1 < this.chunkOf.length && this.chunkOf[i + 1] === k ? this.startOf[i + 1] : this.used[k];
    return this.chunks[k].subarray(this.startOf[i], end);
  }

  /** Line i as text, without its newline. */
  line(i: number): string {
    const b = this.bytes(i);
    return b.toString('utf8', 0, b.length - 1);
  }

  /** Every line, as the buffers that hold them. */
  all(): Buffer[] {
    return this.chunks.map((c, k) => c.subarray(0, this.used[k]));
  }

  /** The lines at these positions, in the order given, as one buffer. */
  pick(positions: number[]): Buffer {
    return Buffer.concat(positions.map((i) => this.bytes(i)));
  }

  /** Appends every line of another arena, sharing its buffers. */
  append(other: LineArena): void {
    const base = this.chunks.length;
    for (let k = 0; k < other.chunks.length; k++) {
      this.chunks.push(other.chunks[k]);
      this.used.push(other.used[k]);
    }
    for (let i = 0; i < other.chunkOf.length; i++) {
      this.chunkOf.push(base + other.chunkOf[i]);
      this.startOf.push(other.startOf[i]);
    }
  }
}
