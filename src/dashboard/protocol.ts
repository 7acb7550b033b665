/**
 * The dashboard feed: the messages the metrics collector (collector.ts) publishes, in a browser
 * tab straight to `client.onMetrics(cb)` and from Node as Server-Sent Events (server.ts), one
 * JSON message per event. Plain data only, so the same object crosses either way.
 *
 * A subscriber's first message is a snapshot: the state now (every prefix's progress, every
 * worker, the kept errors, every op name) and the recent task stream. Then come updates, one per
 * tick (every ~200 ms while anything changes, else a heartbeat every second), each holding what
 * changed since the previous one. Applying a snapshot replaces what a reader held; applying an
 * update adds to it:
 *
 *   tasks     finished and failed tasks since the last message, in columns (no object per
 *             task); when many finish, 1 in `stride` is kept (failed ones always), `seen`
 *             counts all of them
 *   progress  prefixes whose counts changed (snapshot: all)
 *   workers   every worker, every message (there are few)
 *   errors    tasks that failed since the last message (snapshot: the most recent kept)
 *   ops       op names new since the last message: task op ids index the list of all of them
 *   activity  what workers did besides running tasks: inputs fetched from peers (exact times),
 *             and values spilled to / read back from disk (counted per metrics poll, so their
 *             times span the poll interval, not each write)
 */

import type { Key } from "../graph/task.js";
import type { WorkerMetrics } from "../worker/control.js";

/** A worker's memory and spill figures, as its metrics report them. */
export type FeedMemory = NonNullable<WorkerMetrics["memory"]>;

/** Finished and failed tasks, one entry per task in each column. */
export interface FeedTasks {
  /** Tasks that finished or failed in the interval, kept or not. */
  seen: number;
  /** 1 in `stride` finished tasks is kept (failed tasks always are). */
  stride: number;
  key: Key[];
  /** Prefix id (see FeedPrefix.id). */
  prefix: number[];
  /** Op id: index into the op names received so far. */
  op: number[];
  /** Worker index (see FeedWorker.index). */
  worker: number[];
  /** Milliseconds since the message's `base`, at microsecond precision. */
  start: number[];
  stop: number[];
  /** 1 where the task failed. */
  erred: number[];
}

/** Progress of the tasks of one key prefix (`inc-3fa9c2` -> `inc`) since it was last idle. */
export interface FeedPrefix {
  id: number;
  name: string;
  total: number;
  /** Reached memory. */
  done: number;
  erred: number;
  /** Running or queued on a worker now. */
  processing: number;
}

/** Kinds of FeedActivity entries. */
export const TRANSFER = 0;
export const SPILL = 1;
export const UNSPILL = 2;

/** Worker activity besides tasks, in columns like FeedTasks (times relative to the message's `base`). */
export interface FeedActivity {
  /** Entries in the interval, kept or not (transfers are capped per message, like tasks). */
  seen: number;
  /** TRANSFER, SPILL or UNSPILL. */
  kind: number[];
  /** Worker index: who fetched, or who spilled / read back. */
  worker: number[];
  /** TRANSFER: the worker index fetched from (-1 if unknown); otherwise -1. */
  peer: number[];
  /** TRANSFER: the key fetched; otherwise "". */
  key: Key[];
  /** Values moved: 1 per transfer; values spilled / read back during the poll interval. */
  count: number[];
  nbytes: number[];
  start: number[];
  stop: number[];
}

export interface FeedWorker {
  /** Position among all workers ever added: the row of the task stream. */
  index: number;
  id: string;
  /** False once the worker is gone. */
  running: boolean;
  nthreads: number;
  memoryLimit: number;
  /** Tasks assigned and not finished. */
  processing: number;
  /** Estimated seconds of work assigned and not finished. */
  occupancy: number;
  /** Bytes of the keys it holds, as the scheduler knows them. */
  nbytes: number;
  /** Tasks run since it started (from its last metrics poll). */
  executed?: number;
  /** Its memory and spill figures (from its last metrics poll; absent for the inline worker). */
  memory?: FeedMemory;
  /**
   * Share of the last metrics interval its thread was busy, 0 to 1: its event loop's
   * utilization where the worker measures it (Node worker_threads), else time in tasks
   * (browsers) divided by threads; absent until known.
   */
  cpu?: number;
  /** Where `cpu` comes from: "loop" (event-loop utilization) or "tasks" (task time). */
  cpuSource?: "loop" | "tasks";
}

export interface FeedError {
  key: Key;
  op: string;
  worker: string;
  /** The error's name, message and stack as the worker raised it. */
  name: string;
  message: string;
  stack?: string;
  /** When it failed, epoch milliseconds. */
  time: number;
}

export interface FeedMessage {
  kind: "snapshot" | "update";
  /** Counts messages of this collector (a snapshot repeats the seq of the update it follows). */
  seq: number;
  /** When it was made, epoch milliseconds. */
  time: number;
  /** Task times are milliseconds after this (epoch milliseconds). */
  base: number;
  tasks: FeedTasks;
  activity: FeedActivity;
  progress: FeedPrefix[];
  workers: FeedWorker[];
  errors: FeedError[];
  /** Op names new in this message, in id order, starting at id `opsFrom`. */
  ops: string[];
  opsFrom: number;
  /**
   * Points of named series (client.logMetric: a training loss per step, samples per second):
   * new ones in an update, those kept in a snapshot.
   */
  series: FeedSeries[];
}

export interface FeedSeries {
  name: string;
  x: number[];
  y: number[];
}

/** Overall progress: sums over prefixes, and each prefix (client.onProgress). */
export interface ProgressEvent {
  time: number;
  total: number;
  done: number;
  erred: number;
  processing: number;
  prefixes: FeedPrefix[];
}

/** Progress of one compute() call: the tasks of its graph (after optimization). */
export interface ComputeProgress {
  total: number;
  done: number;
  erred: number;
  /** Seconds since it was submitted. */
  elapsed: number;
  /** True on the last event, when the results are in (or the computation failed). */
  finished: boolean;
}

/**
 * The task graph the scheduler holds now (its tasks not yet forgotten), for the graph page:
 * columns by node, edges as pairs of node indices. Above the limit asked for, only `total`.
 */
export interface FeedGraph {
  time: number;
  /** Tasks the scheduler holds. */
  total: number;
  /** True when total is above the limit: no nodes or edges are sent. */
  tooLarge: boolean;
  limit: number;
  key: Key[];
  prefix: number[];
  /** Prefix names by prefix id, for the prefixes in `prefix`. */
  prefixes: Record<number, string>;
  /** State names (scheduler/table.ts STATE_NAMES): released, waiting, ready, processing, memory, erred. */
  state: string[];
  /** Dependency edges: `from[i]` (a dependency) -> `to[i]` (its dependent), node indices. */
  from: number[];
  to: number[];
}
