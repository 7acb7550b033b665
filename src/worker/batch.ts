/**
 * Reading compute batches and writing reports: the column layouts of protocol.ts, turned into
 * per-task lists on the way in, and the empty report the runtime fills on the way out.
 */

import { isContainer } from "../graph/task.js";
import type { DepLocation } from "../scheduler/events.js";
import type { ComputeBatch, Report, WireArg, WireCall, WireInner } from "./protocol.js";

/** Task i's op and arguments, from either layout of the batch. */
export function taskCall(c: ComputeBatch, i: number): WireCall {
  if (c.opIndex === undefined) return { op: c.ops![i]!, args: c.args![i]! };
  const from = i === 0 ? 0 : c.argEnd![i - 1]!;
  const to = c.argEnd![i]!;
  return { op: c.opNames![c.opIndex[i]!]!, args: to === from ? NO_ARGS : c.argv!.slice(from, to) };
}

const NO_ARGS: readonly WireArg[] = [];

/**
 * Values that survive a structured clone unchanged and cheaply: primitives, plain arrays and
 * objects of them. Class instances (their prototype would be lost) and functions are not.
 */
export function isPlainData(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== "object") return typeof v !== "function" && typeof v !== "symbol";
  if (depth > 2) return false;
  if (ArrayBuffer.isView(v)) {
    // Only a view that owns its whole (unshared) buffer: cloning a view clones all of its buffer.
    const shared = typeof SharedArrayBuffer !== "undefined" && v.buffer instanceof SharedArrayBuffer;
    return !shared && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
  }
  if (!isContainer(v)) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (!isPlainData(x, depth + 1)) return false;
  return true;
}

/** The batch's dependency columns, grouped per task index (undefined: no remote inputs). */
export function unpackDeps(c: ComputeBatch): DepLocation[][] | undefined {
  if (!c.depTask) return undefined;
  const out: DepLocation[][] = [];
  for (let j = 0; j < c.depTask.length; j++) {
    const i = c.depTask[j]!;
    const h = c.depHolders![j]!;
    (out[i] ??= []).push({ key: c.depKey![j]!, holders: typeof h === "string" ? [h] : h, nbytes: c.depBytes![j]!, move: c.depMove![j]! });
  }
  return out;
}

export function unpackFused(c: ComputeBatch): { fused: readonly WireInner[] }[] | undefined {
  if (!c.fusedTask) return undefined;
  const out: { fused: readonly WireInner[] }[] = [];
  for (let j = 0; j < c.fusedTask.length; j++) out[c.fusedTask[j]!] = { fused: c.fused![j]! };
  return out;
}

export function emptyReport(): Report {
  return {
    t: "report",
    done: [],
    refs: [],
    nbytes: [],
    start: [],
    stop: [],
    smallIndex: [],
    smallValue: [],
    erred: [],
    replicaKeys: [],
    replicaBytes: [],
    stolen: [],
    missing: [],
  };
}

