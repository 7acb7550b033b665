/**
 * A task as one worker sees it: queued (fetching inputs, or ready), running, or gone; plus the
 * small classes the runtime uses to tell failures apart.
 */

import type { Key } from "../graph/task.js";
import type { WorkerId } from "../scheduler/events.js";
import type { WireTask } from "./protocol.js";
import type { TaskContext } from "./registry.js";
import { REFS, RELEASE, isResource } from "./resource.js";

export const FETCHING = 0;
export const READY = 1;
export const RUNNING = 2;
export const CANCELLED = 3;

export class LocalTask implements TaskContext {
  state = FETCHING;
  missing = 0;
  /**
   * Inputs moved here for this task alone (their holder handed over its only copy): dropped
   * once it has run; kept and reported as held here if it leaves without running.
   */
  movedIn: { key: Key; from: WorkerId; nbytes: number }[] | undefined;
  /** Stored inputs this task read, pinned in memory (not spilled) until it has run. */
  pinned: Key[] | undefined;
  private ac: AbortController | null = null;
  constructor(
    readonly key: Key,
    readonly ref: number,
    readonly run: WireTask,
    readonly priority: number,
    readonly seq: number,
    readonly worker: WorkerId,
  ) {}
  get signal(): AbortSignal {
    return (this.ac ??= new AbortController()).signal;
  }
  abort(reason: string): void {
    this.ac?.abort(new Error(reason));
  }
}

export const runsFirst = (a: LocalTask, b: LocalTask): boolean => (a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq);


/** A call inside a fused chain failed: the error belongs to that call's key and op. */
export class InnerFailure {
  constructor(
    readonly key: Key,
    readonly op: string,
    readonly error: unknown,
  ) {}
}

/** Thrown when a task's input is not in the store although the scheduler thought it was. */
export class MissingInput extends Error {
  constructor(readonly dep: Key) {
    super(`input ${dep} is not held by this worker`);
  }
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { then?: unknown }).then === "function";
}

/** Intermediates in wasm memory that nothing holds (not `keep`, not stored) are garbage. */
export function discardAll(values: Iterable<unknown>, keep: unknown): void {
  for (const v of values) if (v !== keep && isResource(v) && v[REFS] === 0) v[RELEASE]();
}

