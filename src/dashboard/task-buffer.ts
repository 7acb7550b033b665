/**
 * The task stream between two feed messages, in columns. Recording a task is seven array
 * pushes; when more tasks finish than a message should carry, the buffer halves itself (keeping
 * every other entry, and every failed one) and from then on keeps 1 in `stride` finished tasks,
 * so a burst of 100k tiny tasks costs a bounded message, and the picture stays evenly sampled.
 */

import type { Key } from "../graph/task.js";
import type { FeedActivity, FeedTasks } from "./protocol.js";

export class TaskBuffer {
  key: Key[] = [];
  prefix: number[] = [];
  op: number[] = [];
  worker: number[] = [];
  start: number[] = [];
  stop: number[] = [];
  erred: number[] = [];
  /** Tasks finished or failed since the last drain, kept or not. */
  seen = 0;
  stride = 1;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 2)) throw new RangeError(`TaskBuffer capacity must be at least 2, got ${capacity}`);
  }

  get length(): number {
    return this.key.length;
  }

  /** Count one finished task; true when it should be kept (1 in `stride`). */
  admit(): boolean {
    this.seen++;
    return this.count++ % this.stride === 0;
  }

  /** Count and keep one failed task (failures are always kept). */
  admitFailure(): void {
    this.seen++;
  }

  push(key: Key, prefix: number, op: number, worker: number, start: number, stop: number, erred: number): void {
    this.key.push(key);
    this.prefix.push(prefix);
    this.op.push(op);
    this.worker.push(worker);
    this.start.push(start);
    this.stop.push(stop);
    this.erred.push(erred);
    if (this.key.length >= this.capacity) this.halve();
  }

  /** The columns since the last drain, times made relative to `base`; the buffer starts afresh. */
  drain(base: number): FeedTasks {
    const out: FeedTasks = {
      seen: this.seen,
      stride: this.stride,
      key: this.key,
      prefix: this.prefix,
      op: this.op,
      worker: this.worker,
      start: rebase(this.start, base),
      stop: rebase(this.stop, base),
      erred: this.erred,
    };
    this.key = [];
    this.prefix = [];
    this.op = [];
    this.worker = [];
    this.start = [];
    this.stop = [];
    this.erred = [];
    this.seen = 0;
    this.count = 0;
    this.stride = 1;
    return out;
  }

  /** Earliest start recorded (Infinity when empty). */
  earliest(): number {
    let m = Infinity;
    for (let i = 0; i < this.start.length; i++) if (this.start[i]! < m) m = this.start[i]!;
    return m;
  }

  private halve(): void {
    const n = this.key.length;
    let failures = 0;
    for (let i = 0; i < n; i++) failures += this.erred[i]!;
    // Failures are kept unless they alone would fill the buffer.
    const keepFailures = failures * 2 < this.capacity;
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (i % 2 !== 0 && !(keepFailures && this.erred[i] === 1)) continue;
      this.key[j] = this.key[i]!;
      this.prefix[j] = this.prefix[i]!;
      this.op[j] = this.op[i]!;
      this.worker[j] = this.worker[i]!;
      this.start[j] = this.start[i]!;
      this.stop[j] = this.stop[i]!;
      this.erred[j] = this.erred[i]!;
      j++;
    }
    for (const col of [this.key, this.prefix, this.op, this.worker, this.start, this.stop, this.erred] as unknown[][]) col.length = j;
    this.stride *= 2;
  }
}

/** Milliseconds after `base`, rounded to microseconds (short JSON). */
function rebase(times: number[], base: number): number[] {
  for (let i = 0; i < times.length; i++) times[i] = Math.round((times[i]! - base) * 1000) / 1000;
  return times;
}

/** Columns of several drained batches as one, re-based to `base` (for snapshots). */
export function concatTasks(parts: readonly { base: number; tasks: FeedTasks }[], base: number): FeedTasks {
  const out: FeedTasks = { seen: 0, stride: 1, key: [], prefix: [], op: [], worker: [], start: [], stop: [], erred: [] };
  for (const { base: b, tasks: t } of parts) {
    const shift = b - base;
    out.seen += t.seen;
    out.stride = Math.max(out.stride, t.stride);
    for (let i = 0; i < t.key.length; i++) {
      out.key.push(t.key[i]!);
      out.prefix.push(t.prefix[i]!);
      out.op.push(t.op[i]!);
      out.worker.push(t.worker[i]!);
      out.start.push(Math.round((t.start[i]! + shift) * 1000) / 1000);
      out.stop.push(Math.round((t.stop[i]! + shift) * 1000) / 1000);
      out.erred.push(t.erred[i]!);
    }
  }
  return out;
}

/**
 * Worker activity besides tasks (transfers, spills) between two feed messages, in columns.
 * Past `capacity` entries in one interval, further ones are counted in `seen` and dropped: a
 * shuffle's thousands of fetches still cost a bounded message, and the stream shows the first.
 */
export class ActivityBuffer {
  kind: number[] = [];
  worker: number[] = [];
  peer: number[] = [];
  key: Key[] = [];
  count: number[] = [];
  nbytes: number[] = [];
  start: number[] = [];
  stop: number[] = [];
  seen = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.kind.length;
  }

  push(kind: number, worker: number, peer: number, key: Key, count: number, nbytes: number, start: number, stop: number): void {
    this.seen++;
    if (this.kind.length >= this.capacity) return;
    this.kind.push(kind);
    this.worker.push(worker);
    this.peer.push(peer);
    this.key.push(key);
    this.count.push(count);
    this.nbytes.push(nbytes);
    this.start.push(start);
    this.stop.push(stop);
  }

  earliest(): number {
    let m = Infinity;
    for (let i = 0; i < this.start.length; i++) if (this.start[i]! < m) m = this.start[i]!;
    return m;
  }

  /** The columns since the last drain, times relative to `base`; the buffer starts afresh. */
  drain(base: number): FeedActivity {
    const out: FeedActivity = {
      seen: this.seen,
      kind: this.kind,
      worker: this.worker,
      peer: this.peer,
      key: this.key,
      count: this.count,
      nbytes: this.nbytes,
      start: rebase(this.start, base),
      stop: rebase(this.stop, base),
    };
    this.kind = [];
    this.worker = [];
    this.peer = [];
    this.key = [];
    this.count = [];
    this.nbytes = [];
    this.start = [];
    this.stop = [];
    this.seen = 0;
    return out;
  }
}

export function emptyActivity(): FeedActivity {
  return { seen: 0, kind: [], worker: [], peer: [], key: [], count: [], nbytes: [], start: [], stop: [] };
}

/** Activity columns of several drained batches as one, re-based to `base` (for snapshots). */
export function concatActivity(parts: readonly { base: number; activity: FeedActivity }[], base: number): FeedActivity {
  const out = emptyActivity();
  for (const { base: b, activity: a } of parts) {
    const shift = b - base;
    out.seen += a.seen;
    for (let i = 0; i < a.kind.length; i++) {
      out.kind.push(a.kind[i]!);
      out.worker.push(a.worker[i]!);
      out.peer.push(a.peer[i]!);
      out.key.push(a.key[i]!);
      out.count.push(a.count[i]!);
      out.nbytes.push(a.nbytes[i]!);
      out.start.push(Math.round((a.start[i]! + shift) * 1000) / 1000);
      out.stop.push(Math.round((a.stop[i]! + shift) * 1000) / 1000);
    }
  }
  return out;
}
