/**
 * The workers as the feed shows them: the scheduler's view of each, plus what the last poll of
 * its metrics gave (memory figures, tasks executed, ~2/s) and what two polls tell apart: its
 * CPU over the interval (its event loop's utilization where it measures it, Node; else the time
 * its tasks took, counted by the collector's tap) and its spills, recorded as activity.
 */

import type { Runner } from "../cluster/runner.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { WorkerMetrics } from "../worker/control.js";
import type { LoopTime } from "../worker/protocol.js";
import { SPILL, UNSPILL, type FeedWorker } from "./protocol.js";
import type { ActivityBuffer } from "./task-buffer.js";

/** What the last metrics poll of a worker gave, and when (for differences between polls). */
interface Polled {
  at: number;
  metrics: WorkerMetrics & { loop?: LoopTime };
  /** Task time (ms) the tap counted for this worker when the poll came back. */
  busy: number;
  /** Busy share over the interval before this poll (see FeedWorker.cpu). */
  cpu?: number;
  cpuSource?: "loop" | "tasks";
}

export class WorkerPolls {
  private readonly polled = new Map<string, Polled>();
  /** Task time (ms) reported by each worker (by index) since the tap was installed. */
  private busy = new Float64Array(16);
  private readonly polling = new Set<string>();
  private lastPoll = 0;

  constructor(
    private readonly runner: Runner,
    /** Milliseconds between polls. */
    private readonly interval: number,
    /** Where spills are recorded; undefined while no feed subscriber wants them. */
    private readonly spills: () => ActivityBuffer | undefined,
  ) {}

  /** Count `ms` of task time reported by the worker of index `wi`. */
  addBusy(wi: number, ms: number): void {
    if (wi >= this.busy.length) {
      const grown = new Float64Array(Math.max(wi + 1, this.busy.length * 2));
      grown.set(this.busy);
      this.busy = grown;
    }
    this.busy[wi]! += ms;
  }

  /** Every worker the scheduler knows, with its last poll's figures. */
  feed(s: Scheduler): FeedWorker[] {
    return s.byIndex.map((w) => {
      const out: FeedWorker = {
        index: w.index,
        id: w.id,
        running: w.running,
        nthreads: w.nthreads,
        memoryLimit: w.memoryLimit,
        processing: w.processing.size,
        occupancy: Math.round(w.occupancy * 1e6) / 1e6,
        nbytes: w.nbytes,
      };
      const p = w.running ? this.polled.get(w.id) : undefined;
      if (p) {
        out.executed = p.metrics.executed;
        if (p.metrics.memory) out.memory = p.metrics.memory;
        if (p.cpu !== undefined) {
          out.cpu = p.cpu;
          out.cpuSource = p.cpuSource!;
        }
      }
      return out;
    });
  }

  /** Ask each worker for its metrics, at most every interval, one request per worker at a time. */
  poll(now: number): void {
    if (now - this.lastPoll < this.interval) return;
    this.lastPoll = now;
    for (const id of this.runner.workerIds) {
      if (this.polling.has(id)) continue; // a worker that died never answers: it stays here
      const link = this.runner.link(id);
      if (!link) continue;
      this.polling.add(id);
      link.control.metrics().then(
        (m) => {
          this.polling.delete(id);
          this.polled.set(id, this.compare(id, m as Polled["metrics"]));
        },
        () => this.polling.delete(id),
      );
    }
  }

  /** A worker's new poll against its previous one: CPU over the interval, and spills as activity. */
  private compare(id: string, m: Polled["metrics"]): Polled {
    const at = Date.now();
    const w = this.runner.scheduler.workers.get(id);
    const wi = w ? w.index : -1;
    const busy = wi >= 0 ? (this.busy[wi] ?? 0) : 0;
    const now: Polled = { at, metrics: m, busy };
    const prev = this.polled.get(id);
    if (!prev || at <= prev.at) return now;
    // An interval that measured nothing keeps the last figure.
    if (prev.cpu !== undefined) {
      now.cpu = prev.cpu;
      now.cpuSource = prev.cpuSource!;
    }
    if (m.loop && prev.metrics.loop) {
      const active = m.loop.active - prev.metrics.loop.active;
      const idle = m.loop.idle - prev.metrics.loop.idle;
      if (active + idle > 0) {
        now.cpu = round3(active / (active + idle));
        now.cpuSource = "loop";
      }
    } else if (w) {
      now.cpu = round3(Math.min(1, (busy - prev.busy) / ((at - prev.at) * Math.max(1, w.nthreads))));
      now.cpuSource = "tasks";
    }
    const a = m.memory;
    const b = prev.metrics.memory;
    const activity = this.spills();
    if (a && b && wi >= 0 && activity) {
      if (a.spillCount > b.spillCount) activity.push(SPILL, wi, -1, "", a.spillCount - b.spillCount, a.spillBytes - b.spillBytes, prev.at, at);
      if (a.unspillCount > b.unspillCount) activity.push(UNSPILL, wi, -1, "", a.unspillCount - b.unspillCount, a.unspillBytes - b.unspillBytes, prev.at, at);
    }
    return now;
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
