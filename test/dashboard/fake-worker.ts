// A fake worker for tests over a real Runner and Scheduler with no threads: it keeps the
// batches the scheduler sends it, and reports what the test says (collector and report tests).
import type { WorkerLink } from "../../src/cluster/link.js";
import { Task } from "../../src/graph/task.js";
import type { TaskSpec } from "../../src/scheduler/events.js";
import type { WorkerMetrics } from "../../src/worker/control.js";
import type { ComputeBatch, FromWorker, Report, ToWorker } from "../../src/worker/protocol.js";

export interface FakeWorker extends WorkerLink {
  /** Compute batches received, oldest first. */
  batches: ComputeBatch[];
  /** Scattered values received and not yet acknowledged. */
  puts: Extract<ToWorker, { t: "put" }>[];
  report(r: Partial<Report>): void;
  /** Say every put received so far is stored. */
  storePuts(): void;
  /** The worker's thread ends: the runner hears it is gone. */
  exit(reason: string): void;
}

export function fakeWorker(id: string, metrics: Partial<WorkerMetrics> = {}): FakeWorker {
  let onMessage: ((m: FromWorker) => void) | undefined;
  let onExit: ((reason: string) => void) | undefined;
  const batches: ComputeBatch[] = [];
  const puts: Extract<ToWorker, { t: "put" }>[] = [];
  return {
    id,
    nthreads: 1,
    memoryLimit: 1e9,
    sharesMemory: true,
    exited: new Promise<string>(() => {}),
    batches,
    puts,
    control: {
      registerModule: async () => [],
      connectPeer: async () => {},
      disconnectPeer: async () => {},
      metrics: async () => ({ id, stored: 0, nbytes: 0, queued: 0, executed: 7, movedKeys: 0, movedBytes: 0, copiedKeys: 0, copiedBytes: 0, ...metrics }),
      state: async () => ({ id, tasks: [], readyQueued: 0, looping: false, loopScheduled: false, paused: false, fetches: [], fetchRequests: [], deferredFetches: [], pendingReports: 0 }),
      close: async () => {},
    },
    post(msg: ToWorker) {
      if (msg.t === "batch" && msg.compute) batches.push(msg.compute);
      if (msg.t === "put") puts.push(msg);
    },
    listen(m, exit) {
      onMessage = m;
      onExit = exit;
    },
    async terminate() {},
    report(r) {
      const full: Report = { t: "report", done: [], refs: [], smallIndex: [], smallValue: [], nbytes: [], start: [], stop: [], erred: [], replicaKeys: [], replicaBytes: [], stolen: [], missing: [], ...r };
      onMessage?.(full);
    },
    storePuts() {
      for (const p of puts.splice(0)) onMessage?.({ t: "stored", id: p.id });
    },
    exit(reason) {
      onExit?.(reason);
    },
  };
}

/** Let the runner's microtask run the scheduler. */
export const settle = () => new Promise<void>((r) => setTimeout(r, 0));

export const task = (key: string, op: string, deps: string[] = [], order = 0): TaskSpec => ({ key, deps, order, run: new Task(key, op, deps.map(() => 0)) });

/** Report the tasks of the worker's pending batches as finished, 2 ms each from t0. */
export function finishPending(w: FakeWorker, t0: number): string[] {
  const keys: string[] = [];
  const refs: number[] = [];
  for (const b of w.batches.splice(0)) {
    keys.push(...b.keys);
    refs.push(...b.refs);
  }
  w.report({ done: keys, refs, nbytes: keys.map(() => 8), start: keys.map((_, i) => t0 + 2 * i), stop: keys.map((_, i) => t0 + 2 * i + 2) });
  return keys;
}
