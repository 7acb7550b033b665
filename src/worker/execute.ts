/**
 * Running one task's call or fused chain against a worker's store, and describing what went
 * wrong (the runtime's loop, runtime.ts, decides when; this is what it runs).
 */

import { serializeError, type SerializedError } from "../errors.js";
import type { Key } from "../graph/task.js";
import type { WorkerId } from "../scheduler/events.js";
import type { WireCall } from "./protocol.js";
import type { OpRegistry } from "./registry.js";
import type { ChunkStore } from "./store.js";
import { InnerFailure, MissingInput, discardAll, isThenable, type LocalTask } from "./local-task.js";
import { decodeArgs } from "./wire.js";

/** One call of task `t`: its inputs from `scope` (a fused chain's earlier results) or the store, each pinned as it is read. */
export function callOp(registry: OpRegistry, store: ChunkStore, t: LocalTask, c: WireCall, scope: Map<Key, unknown> | undefined): unknown {
  const fn = registry.get(c.op);
  const args = decodeArgs(c.args, (k) => {
    if (scope !== undefined && scope.has(k)) return scope.get(k);
    // Pinned before the next input is read: reading a spilled one may spill others.
    const v = store.borrow(k);
    if (v === undefined && !store.has(k)) throw new MissingInput(k);
    (t.pinned ??= []).push(k);
    return v;
  });
  return fn.apply(t, args);
}

/**
 * The calls of a fused task from `from` on, each result in `scope` for the next; the last one's
 * result is the task's. An error names the call it came from (InnerFailure); the intermediates
 * are discarded either way.
 */
export function runFused(registry: OpRegistry, store: ChunkStore, t: LocalTask, calls: readonly (WireCall & { key: Key })[], from: number, scope: Map<Key, unknown>): unknown {
  for (let i = from; i < calls.length; i++) {
    const c = calls[i]!;
    let v: unknown;
    try {
      v = callOp(registry, store, t, c, scope);
    } catch (err) {
      discardAll(scope.values(), undefined);
      throw err instanceof MissingInput ? err : new InnerFailure(c.key, c.op, err);
    }
    if (isThenable(v)) {
      return Promise.resolve(v).then(
        (x) => {
          scope.set(c.key, x);
          return runFused(registry, store, t, calls, i + 1, scope);
        },
        (err: unknown) => {
          discardAll(scope.values(), undefined);
          throw new InnerFailure(c.key, c.op, err);
        },
      );
    }
    scope.set(c.key, v);
  }
  const result = scope.get(calls[calls.length - 1]!.key);
  discardAll(scope.values(), result);
  return result;
}

/** A task's error for the scheduler: the key and op of the call that failed (inside a fused chain, that call's), and the worker. */
export function describeError(t: LocalTask, err: unknown, worker: WorkerId): SerializedError {
  let key = t.key;
  let op = "fused" in t.run ? "" : t.run.op;
  if (err instanceof InnerFailure) {
    key = err.key;
    op = err.op;
    err = err.error;
  }
  const e = serializeError(err);
  if (e.name === "ReferenceError" && op.includes("src:")) {
    e.message +=
      " (a function shipped as source runs on the worker without its closure: pass the value as an argument, or register a module)";
  }
  return { ...e, key, op, worker };
}

/** setImmediate where it exists (Node); otherwise a MessageChannel tick (not clamped like setTimeout). */
export function defaultDefer(): (fn: () => void) => void {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (typeof g.setImmediate === "function") return (fn) => void g.setImmediate!(fn);
  const ch = new MessageChannel();
  const queue: (() => void)[] = [];
  ch.port1.onmessage = () => queue.shift()?.();
  return (fn) => {
    queue.push(fn);
    ch.port2.postMessage(0);
  };
}
