/**
 * Errors, and how they cross thread, process and network boundaries.
 *
 * An op that throws on a worker becomes a SerializedError (plain data: structured-clonable and
 * msgpack-able), travels to the scheduler and on to the client, and is rebuilt there as a
 * TaskError whose message names the task key and op, whose `cause` is the original error
 * (its own name, message and the worker's stack), and whose `cause.cause` chain is kept.
 * Dependents of a failed task fail with the same TaskError, not a new one.
 */

import type { Key } from "./graph/task.js";

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The key of the task that raised it (for dependents: the original failing task). */
  key?: Key;
  op?: string;
  worker?: string;
  cause?: SerializedError;
  /** Own enumerable data fields of the error (e.g. `code`), when they are plain values. */
  data?: Record<string, string | number | boolean | null>;
}

const MAX_CAUSE_DEPTH = 8;

/** Turn anything thrown into plain data. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message };
    if (err.stack) out.stack = err.stack;
    const data: Record<string, string | number | boolean | null> = {};
    let hasData = false;
    for (const k of Object.keys(err)) {
      if (k === "cause" || k === "key" || k === "op" || k === "worker") continue;
      const v = (err as unknown as Record<string, unknown>)[k];
      if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
        data[k] = v;
        hasData = true;
      }
    }
    if (hasData) out.data = data;
    if (err instanceof TaskError) {
      out.key = err.key;
      out.op = err.op;
      if (err.worker) out.worker = err.worker;
    }
    if (err.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(err.cause, depth + 1);
    return out;
  }
  let message: string;
  try {
    message = typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
  } catch {
    message = String(err);
  }
  return { name: "NonErrorThrown", message: `a non-Error value was thrown: ${message}` };
}

/** Rebuild an Error (not a TaskError) from its serialized form, keeping stack and cause. */
export function deserializeError(s: SerializedError): Error {
  const cause = s.cause ? deserializeError(s.cause) : undefined;
  const err = cause ? new Error(s.message, { cause }) : new Error(s.message);
  err.name = s.name;
  if (s.stack) err.stack = s.stack;
  if (s.data) Object.assign(err, s.data);
  return err;
}

/**
 * A task failed. `key` is the task that raised the error; `cause` is the error the op threw,
 * rebuilt with the worker's stack.
 */
export class TaskError extends Error {
  override name = "TaskError";
  readonly key: Key;
  readonly op: string | undefined;
  readonly worker: string | undefined;
  constructor(s: SerializedError) {
    const where = s.op ? `task ${s.key} (op ${s.op})` : `task ${s.key}`;
    const on = s.worker ? ` on worker ${s.worker}` : "";
    super(`${where} failed${on}: ${s.name}: ${s.message}`, { cause: deserializeError(s) });
    this.key = s.key ?? "";
    this.op = s.op;
    this.worker = s.worker;
  }
}

/** A key was cancelled (by `cancel()`, an AbortSignal, or closing the client). */
export class CancelledError extends Error {
  override name = "CancelledError";
  constructor(
    readonly key: Key,
    reason?: string,
  ) {
    super(`${key} was cancelled${reason ? `: ${reason}` : ""}`);
  }
}

/** Misuse of the API: bad arguments, unknown ops, closed clients. */
export class TesseraError extends Error {
  override name = "TesseraError";
}
