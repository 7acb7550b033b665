/**
 * The lean, batched task protocol between the scheduler's runner and a worker, and between two
 * workers. One message carries everything the runner decided for that worker since the last
 * flush (a postMessage round trip costs ~75 µs, so one message per task would cap throughput
 * near 13k tasks/s); one report carries everything the worker finished since its last flush.
 * Setup, module registration and metrics go over a separate comlink channel (control.ts).
 *
 * Task arguments travel encoded (wire.ts) so that a reference to another key can never be
 * confused with user data.
 */

import type { Key } from "../graph/task.js";
import type { SerializedError } from "../errors.js";
import type { WorkerId } from "../scheduler/events.js";

/** An encoded task argument: a primitive, or a tagged object. */
export type WireArg =
  | string
  | number
  | boolean
  | bigint
  | null
  | undefined
  | { $: 0; k: Key } /* reference to another key's value */
  | { $: 1; a: WireArg[] } /* array holding references */
  | { $: 2; o: Record<string, WireArg> } /* plain object holding references */
  | { $: 3; v: unknown } /* literal data, passed as is */
  | { $: 4; ks: Key[] }; /* an array of references only (a fan-in): strings clone far cheaper than objects */

export interface WireCall {
  op: string;
  args: readonly WireArg[];
}

export interface WireInner extends WireCall {
  key: Key;
}

/** What a worker runs for one key: one call, or a fused chain whose last call gives the value. */
export type WireTask = WireCall | { fused: readonly WireInner[] };

/**
 * Tasks to run, in columns: structured clone pays per object, so a batch of n tasks as n
 * objects costs ~8x more to post than these parallel arrays (measured: 1.5 vs 0.17 µs/task).
 * Optional columns are absent when every entry would be the default.
 *
 * Each task's call comes in one of two layouts (taskCall reads either): `ops`/`args`, an op
 * and an argument array per task; or packed, as the runner sends them: op names once with an
 * index per task, and all arguments in one array. Structured clone pays again per array and
 * per string, so the packed form costs a third as much to post.
 */
export interface ComputeBatch {
  keys: Key[];
  /** The scheduler's ref per task, echoed back in reports. */
  refs: number[];
  /** Op per task; "" for a fused task, whose calls are in `fused`. */
  ops?: string[];
  args?: (readonly WireArg[])[];
  /** Packed: task i calls opNames[opIndex[i]] with argv[argEnd[i - 1] .. argEnd[i]) (from 0 for i = 0). */
  opNames?: string[];
  opIndex?: Int32Array | number[];
  argv?: WireArg[];
  argEnd?: Int32Array | number[];
  /** Fused tasks: task index and its calls. */
  fusedTask?: number[];
  fused?: (readonly WireInner[])[];
  /** User priority per task (default 0). */
  priority?: number[];
  /** Inputs the worker does not hold: task index, key, holders, bytes, move. */
  depTask?: number[];
  depKey?: Key[];
  /** A single holder as a string (the common case), several as an array. */
  depHolders?: (WorkerId | WorkerId[])[];
  depBytes?: number[];
  depMove?: boolean[];
}

export interface SourceDef {
  op: string;
  name: string;
  source: string;
}

/** Runner -> worker. */
export type ToWorker =
  | {
      t: "batch";
      defs?: SourceDef[];
      compute?: ComputeBatch;
      free?: Key[];
      steal?: Key[];
      cancel?: Key[];
      /** Fetch these keys from these holders and keep them (a rebalance). */
      acquire?: { keys: Key[]; holders: WorkerId[] };
    }
  /** Store these values (a scatter); the worker answers `stored` with the same id once they are. */
  | { t: "put"; id: number; keys: Key[]; values: unknown[] }
  /** Send these values to the runner; `move` hands over the only copy (no copy made). */
  | { t: "gather"; id: number; keys: Key[]; move: boolean };

/** Worker -> runner: everything since the last flush, as parallel arrays. */
export interface Report {
  t: "report";
  /** Finished tasks. Times are epoch milliseconds (performance.timeOrigin + now()). */
  done: Key[];
  /** Refs of the finished tasks (from the compute batch). */
  refs: number[];
  /** Values of small results: index into `done`, and the value (see SMALL_VALUE_BYTES). */
  smallIndex: number[];
  smallValue: unknown[];
  nbytes: number[];
  start: number[];
  stop: number[];
  erred: { key: Key; error: SerializedError; start: number; stop: number }[];
  /**
   * Inputs this worker copied from peers and now also holds. Inputs moved here (the task was
   * their last user) are not reported: the worker drops them when that task is done (unless it
   * leaves without running: `moved`).
   */
  replicaKeys: Key[];
  replicaBytes: number[];
  /**
   * Inputs moved here for a task that then left without running (cancelled, stolen, another
   * input missing, failed): this worker holds the only copy now, not `from`.
   */
  moved?: { key: Key; from: WorkerId; nbytes: number }[];
  stolen: { key: Key; stolen: boolean }[];
  missing: { key: Key; dep: Key; holder: WorkerId }[];
  /** The worker went over (true) or back under (false) its pause threshold since the last report. */
  paused?: boolean;
  /** Inputs fetched from peers since the last report, moved or copied (for the dashboard's task stream; epoch ms). */
  fetched?: { key: Key; from: WorkerId; nbytes: number; start: number; stop: number }[];
}

/** A worker thread's event-loop time since it started, in ms (Node's performance.eventLoopUtilization; absent elsewhere). */
export interface LoopTime {
  active: number;
  idle: number;
}

export interface Gathered {
  t: "gathered";
  id: number;
  values: unknown[];
  /** Keys the worker did not hold. */
  missing: Key[];
}

/**
 * The worker is over its memory terminate threshold and asks to be replaced. `key` is the task
 * that finished as it went over: not reported done, so the scheduler counts it as running on a
 * worker that died (a task that always does this errs instead of killing workers forever).
 */
export interface Terminate {
  t: "terminate";
  reason: string;
  key?: Key;
}

/**
 * The values of put `id` are in this worker's store. The runner tells the scheduler only now:
 * a peer that the scheduler sent for them could otherwise ask before the put arrived (messages
 * on different channels keep no order between them).
 */
export interface Stored {
  t: "stored";
  id: number;
}

/** Worker -> runner. */
export type FromWorker = Report | Gathered | Terminate | Stored;

/** Worker <-> worker over a direct MessageChannel. */
export type PeerMessage =
  | { t: "fetch"; id: number; keys: Key[]; move: boolean[] }
  | {
      t: "fetched";
      id: number;
      keys: Key[];
      values: unknown[];
      /** Keys not held. */
      missing: Key[];
    };
