/**
 * A priority queue: a binary min-heap plus a sorted run. Tasks usually arrive already in
 * priority order (a graph's tasks are submitted in order), so pushes that are not smaller than
 * the run's last entry append to the run in O(1) and pops take from its head in O(1); only
 * out-of-order pushes pay for the heap. Removal is lazy: callers skip popped entries that are
 * no longer valid (cheaper than tracking positions on the hot path).
 */
export class Heap<T> {
  private heap: T[] = [];
  private run: (T | undefined)[] = [];
  private head = 0;
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.heap.length + this.run.length - this.head;
  }

  push(item: T): void {
    const run = this.run;
    if (this.head === run.length || !this.less(item, run[run.length - 1]!)) {
      run.push(item);
      return;
    }
    this.heapPush(item);
  }

  peek(): T | undefined {
    const r = this.head < this.run.length ? this.run[this.head] : undefined;
    const h = this.heap[0];
    if (r === undefined) return h;
    if (h === undefined) return r;
    return this.less(h, r) ? h : r;
  }

  pop(): T | undefined {
    const r = this.head < this.run.length ? this.run[this.head] : undefined;
    const h = this.heap[0];
    if (r !== undefined && (h === undefined || !this.less(h, r))) {
      this.run[this.head++] = undefined;
      if (this.head === this.run.length) {
        this.run = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.run.length) {
        this.run = this.run.slice(this.head);
        this.head = 0;
      }
      return r;
    }
    return this.heapPop();
  }

  clear(): void {
    this.heap = [];
    this.run = [];
    this.head = 0;
  }

  /** Entries in no particular order. */
  values(): T[] {
    return [...this.heap, ...(this.run.slice(this.head) as T[])];
  }

  private heapPush(item: T): void {
    const a = this.heap;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, a[parent]!)) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = item;
  }

  private heapPop(): T | undefined {
    const a = this.heap;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(a[r]!, a[l]!) ? r : l;
        if (!this.less(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
