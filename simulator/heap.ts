// A binary min-heap of scheduled items ordered by (t, seq). seq is a push counter, so items due
// at the same millisecond come out in the order they were scheduled: deterministic and stable.

export interface Scheduled {
  t: number;
  seq: number;
}

export class MinHeap<T extends Scheduled> {
  private items: T[] = [];
  private counter = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T, t: number): void {
    item.t = t;
    item.seq = this.counter++;
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = a[parent];
      if (p.t < t || (p.t === t && p.seq < item.seq)) break;
      a[i] = p;
      i = parent;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (a[r].t < a[l].t || (a[r].t === a[l].t && a[r].seq < a[l].seq))) c = r;
        const child = a[c];
        if (last.t < child.t || (last.t === child.t && last.seq < child.seq)) break;
        a[i] = child;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
