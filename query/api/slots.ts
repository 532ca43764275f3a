// A fixed number of slots for one kind of work, so that it can never take more than its share: exports hold a
// warehouse connection (and on the embedded engine, the engine) for as long as they stream, and queries must keep
// theirs. A request that finds no slot free is refused at once rather than queued behind work that may last minutes.
export class Slots {
  private used = 0;
  readonly size: number;

  constructor(size: number) {
    this.size = size;
  }

  get running(): number {
    return this.used;
  }

  /** Takes a slot: the function that gives it back (once, however often it is called), or null when none is free. */
  take(): (() => void) | null {
    if (this.used >= this.size) return null;
    this.used++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used--;
    };
  }
}
