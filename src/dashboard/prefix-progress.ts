/**
 * Progress by task prefix, for the feed and progress events: the counters the scheduler's
 * transitions keep per prefix (total, done, erred, restarts), plus the tasks on workers now,
 * counted once a tick by a scan of the workers' processing lists. `changed` compares them with
 * the last tick, so that an update carries only the prefixes that moved.
 */

import type { Scheduler } from "../scheduler/scheduler.js";
import type { FeedPrefix, ProgressEvent } from "./protocol.js";

export class PrefixProgress {
  /** Last progress values seen, by prefix id (total, done, erred, processing, restarts). */
  private last = new Int32Array(0);
  private processing = new Int32Array(0);

  /** Tasks on workers now, by prefix id: a scan of the workers' processing lists. */
  count(s: Scheduler): void {
    const n = s.prefixes.length;
    if (this.processing.length < n) this.processing = new Int32Array(Math.max(n, this.processing.length * 2, 16));
    else this.processing.fill(0, 0, n);
    const prefix = s.t.prefix;
    for (const w of s.byIndex) {
      const items = w.processing.items;
      for (let i = 0; i < items.length; i++) this.processing[prefix[items[i]!]!]!++;
    }
  }

  /** One prefix as the feed shows it, with its tasks on workers as of the last `count`. */
  entry(s: Scheduler, id: number): FeedPrefix {
    const p = s.prefixes[id]!;
    return { id, name: p.name, total: p.total, done: p.done, erred: p.erred, processing: this.processing[id] ?? 0 };
  }

  /** Prefixes whose counts changed since the last call. */
  changed(s: Scheduler): FeedPrefix[] {
    const n = s.prefixes.length;
    const F = 5;
    if (this.last.length < n * F) {
      const grown = new Int32Array(Math.max(n * F, this.last.length * 2, 80)).fill(-1);
      grown.set(this.last);
      this.last = grown;
    }
    const out: FeedPrefix[] = [];
    const last = this.last;
    for (let id = 0; id < n; id++) {
      const p = s.prefixes[id]!;
      const proc = this.processing[id]!;
      const j = id * F;
      if (last[j] === p.total && last[j + 1] === p.done && last[j + 2] === p.erred && last[j + 3] === proc && last[j + 4] === p.restarts) continue;
      last[j] = p.total;
      last[j + 1] = p.done;
      last[j + 2] = p.erred;
      last[j + 3] = proc;
      last[j + 4] = p.restarts;
      out.push(this.entry(s, id));
    }
    return out;
  }

  /** Overall progress: every prefix with tasks, and the sums. */
  event(s: Scheduler, now: number): ProgressEvent {
    const e: ProgressEvent = { time: now, total: 0, done: 0, erred: 0, processing: 0, prefixes: [] };
    for (let id = 0; id < s.prefixes.length; id++) {
      const p = s.prefixes[id]!;
      if (p.total === 0 && p.live === 0) continue;
      const entry = this.entry(s, id);
      e.prefixes.push(entry);
      // Sums cover what the scheduler works on now: prefixes with tasks not yet forgotten.
      if (p.live === 0) continue;
      e.total += entry.total;
      e.done += entry.done;
      e.erred += entry.erred;
      e.processing += entry.processing;
    }
    return e;
  }
}
