/**
 * The scheduler's whole interface: events in, instructions out (see scheduler.ts).
 *
 * Events are what happened (a client submitted a graph, a worker finished a task); instructions
 * are what the runner must now do (send a task to a worker, free a key, tell a client). Both are
 * plain data so that a test can feed events and compare instruction lists, and so that the same
 * state machine runs behind a MessagePort, a WebSocket or an inline call.
 */

import type { Key } from "../graph/task.js";
import type { SerializedError } from "../errors.js";

export type WorkerId = string;
export type ClientId = string;

export type TaskStateName = "released" | "waiting" | "ready" | "processing" | "memory" | "erred" | "forgotten";

/** One task as submitted to the scheduler. `run` is opaque here: the runner ships it to a worker. */
export interface TaskSpec {
  key: Key;
  deps: readonly Key[];
  /** Graph order from graph/order.ts: lower runs first. */
  order: number;
  /** User priority, higher first (default 0). */
  priority?: number;
  retries?: number;
  /** Only these workers may run the task. */
  workers?: readonly WorkerId[];
  /** `workers` are only preferred: while none of them can take work, any worker may run the task. */
  allowOtherWorkers?: boolean;
  run: unknown;
}

export type SchedulerEvent =
  | {
      type: "update-graph";
      client: ClientId;
      /** Distinct keys (a graph's): the scheduler does not check a submission against itself. */
      tasks: readonly TaskSpec[];
      wanted: readonly Key[];
      /**
       * Optional: tasks[i].deps[k] is tasks[depIndex[depStart[i] + k]] (-1: look it up by key).
       * Saves a key lookup per edge when the client knows its graph's positions.
       */
      depStart?: Int32Array;
      depIndex?: Int32Array;
    }
  | { type: "client-release"; client: ClientId; keys: readonly Key[] }
  | { type: "cancel"; client: ClientId; keys: readonly Key[]; reason?: string }
  | { type: "worker-added"; worker: WorkerId; nthreads: number; memoryLimit: number }
  | { type: "worker-removed"; worker: WorkerId; reason: string }
  /** A worker went over (paused) or back under (not paused) its memory pause threshold. */
  | { type: "worker-paused"; worker: WorkerId; paused: boolean }
  | {
      type: "task-finished";
      worker: WorkerId;
      key: Key;
      nbytes: number;
      /** Seconds the op ran, measured on the worker. */
      duration: number;
      /** The ref from the compute instruction, when the worker echoed it. */
      ref?: number;
      /** The value itself, when it is small (see SMALL_VALUE_BYTES): kept by the scheduler. */
      small?: { value: unknown };
    }
  /**
   * Many task-finished events from one worker report, as columns (no object per task).
   * Times are milliseconds; `small` holds the values of small results by index into `keys`.
   */
  | {
      type: "tasks-finished";
      worker: WorkerId;
      keys: readonly Key[];
      refs: readonly number[];
      nbytes: readonly number[];
      start: readonly number[];
      stop: readonly number[];
      smallIndex: readonly number[];
      smallValue: readonly unknown[];
    }
  | { type: "task-erred"; worker: WorkerId; key: Key; error: SerializedError }
  /** A worker now also holds `key` (it fetched a copy, or a holder moved it here). */
  | { type: "replica-added"; worker: WorkerId; key: Key; nbytes: number; movedFrom?: WorkerId }
  /** Data put on a worker directly (scatter). */
  | { type: "data-added"; client: ClientId; worker: WorkerId; key: Key; nbytes: number }
  | { type: "steal-response"; worker: WorkerId; key: Key; stolen: boolean }
  /** A worker could not fetch `dep` (needed by `key`) from `holder`. */
  | { type: "missing-data"; worker: WorkerId; key: Key; dep: Key; holder: WorkerId }
  /** Spread these keys (every key in memory when undefined) evenly over the workers (rebalance.ts). */
  | { type: "rebalance"; client: ClientId; id: number; keys?: readonly Key[] };

/**
 * Where a task's remote input lives, and whether the holder may hand over its only copy. A
 * small input travels inline instead (`small`), so the worker fetches nothing.
 */
export interface DepLocation {
  key: Key;
  holders: readonly WorkerId[];
  nbytes: number;
  /** The task is the last user of this key and nobody else wants it: move instead of copy. */
  move: boolean;
  small?: { value: unknown };
}

/**
 * Results this small (bytes, by sizeOf) are sent with the worker's report and kept by the
 * scheduler, so tasks that need them get them inline and clients get them without asking a
 * worker (Ray passes small objects by value the same way).
 */
export const SMALL_VALUE_BYTES = 256;

export type Instruction =
  | {
      type: "compute";
      worker: WorkerId;
      key: Key;
      /** The scheduler's handle for this task (its wire ref: a small integer); workers echo it in reports (cheaper than the key). */
      ref: number;
      run: unknown;
      priority: number;
      deps: readonly DepLocation[];
    }
  /** Drop these keys (one instruction per worker per batch of events). */
  | { type: "free"; worker: WorkerId; keys: Key[] }
  | { type: "steal"; worker: WorkerId; key: Key }
  | { type: "cancel-task"; worker: WorkerId; key: Key }
  /** Fetch these keys from their holders (a rebalance moving them here). */
  | { type: "acquire"; worker: WorkerId; keys: Key[]; holders: WorkerId[] }
  /** Every move of a rebalance request has ended. */
  | { type: "rebalanced"; client: ClientId; id: number; moved: number; bytes: number }
  | { type: "report"; client: ClientId; key: Key; state: "memory"; nbytes: number }
  | { type: "report"; client: ClientId; key: Key; state: "erred"; error: SerializedError }
  | { type: "report"; client: ClientId; key: Key; state: "cancelled"; reason: string };

export interface StoryEntry {
  key: Key;
  from: TaskStateName;
  to: TaskStateName;
  /** The event type that caused it, with a sequence number: `task-finished-1734`. */
  stimulus: string;
  worker?: WorkerId;
  time: number;
  /** Why, where the states alone do not say: `no-worker: ...` for a ready task no worker may take. */
  note?: string;
}
