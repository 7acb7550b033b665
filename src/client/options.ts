/**
 * Checks on the options of calls (delayed, submitWith, map) and of computations (compute,
 * persist), made when the call is made: a malformed option would otherwise be ignored, coerced
 * (a priority of "high" orders as NaN) or park a task for good (a restriction to no worker).
 */

import { TesseraError } from "../errors.js";
import type { Key } from "../graph/task.js";
import type { WorkerId } from "../scheduler/events.js";
import type { ComputeOptions } from "./current.js";
import type { DelayedOptions } from "./delayed.js";

export interface SubmitOptions extends DelayedOptions {
  /** Use this key instead of `<name>-<token>`. */
  key?: Key;
}

export interface ScatterOptions {
  /** Put the data only on these workers (round robin among them). */
  workers?: readonly WorkerId[];
  /** Key the data by a hash of its contents (default true) or by a random token. */
  hash?: boolean;
}

const TASK_OPTIONS = ["name", "pure", "retries", "priority", "workers", "allowOtherWorkers"];

const shown = (v: unknown): string => (typeof v === "function" ? "a function" : typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)));

function checkRetries(v: unknown, where: string): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 0)) throw new TesseraError(`${where}retries must be a whole number of retries (0 or more), got ${shown(v)}`);
}

function checkPriority(v: unknown, where: string): void {
  if (v !== undefined && !(typeof v === "number" && Number.isFinite(v))) throw new TesseraError(`${where}priority must be a finite number (higher runs first), got ${shown(v)}`);
}

/** A call's options; `extra` names the caller's own options (submitWith: key). */
export function checkTaskOptions(o: SubmitOptions, extra: readonly string[] = []): void {
  if (o === null || typeof o !== "object") throw new TesseraError(`options must be an object, got ${shown(o)}`);
  for (const k of Object.keys(o)) {
    if (!TASK_OPTIONS.includes(k) && !extra.includes(k)) {
      throw new TesseraError(`${JSON.stringify(k)} is not a task option; the options are ${[...TASK_OPTIONS, ...extra].join(", ")}`);
    }
  }
  if (o.key !== undefined && (typeof o.key !== "string" || o.key === "")) throw new TesseraError(`key must be a non-empty string, got ${shown(o.key)}`);
  if (o.name !== undefined && (typeof o.name !== "string" || o.name === "")) throw new TesseraError(`name must be a non-empty string, got ${shown(o.name)}`);
  if (o.pure !== undefined && typeof o.pure !== "boolean") throw new TesseraError(`pure must be true or false, got ${shown(o.pure)}`);
  checkRetries(o.retries, "");
  checkPriority(o.priority, "");
  // Dask's checks on workers= and allow_other_workers=.
  const { workers, allowOtherWorkers } = o;
  if (workers !== undefined && !(Array.isArray(workers) && workers.every((w) => typeof w === "string"))) {
    throw new TesseraError(`workers must be an array of worker ids (see client.workers), got ${shown(workers)}`);
  }
  if (allowOtherWorkers === undefined) return;
  if (typeof allowOtherWorkers !== "boolean") throw new TesseraError(`allowOtherWorkers must be true or false, got ${shown(allowOtherWorkers)}`);
  if (allowOtherWorkers && workers === undefined) {
    throw new TesseraError("allowOtherWorkers: true needs workers, the workers to prefer (as in Dask); without workers any worker may run the task already");
  }
}

/** A computation's options (the fields it knows; others pass, as callers extend them). */
export function checkComputeOptions(o: ComputeOptions, what: string): void {
  if (o === null || typeof o !== "object") throw new TesseraError(`${what}: options must be an object, got ${shown(o)}`);
  const where = `${what}: `;
  checkRetries(o.retries, where);
  checkPriority(o.priority, where);
  if (o.optimize !== undefined && typeof o.optimize !== "boolean") throw new TesseraError(`${where}optimize must be true or false, got ${shown(o.optimize)}`);
  if (o.signal !== undefined && !(typeof AbortSignal !== "undefined" && o.signal instanceof AbortSignal)) {
    throw new TesseraError(`${where}signal must be an AbortSignal (new AbortController().signal), got ${shown(o.signal)}`);
  }
  if (o.progress !== undefined && typeof o.progress !== "boolean" && typeof o.progress !== "function") {
    throw new TesseraError(`${where}progress must be true, false or a function of the progress, got ${shown(o.progress)}`);
  }
}
