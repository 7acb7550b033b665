/**
 * Reading compute batches and writing reports: the column layouts of protocol.ts, turned into
 * per-task lists on the way in, and the empty report the runtime fills on the way out.
 */

import { isContainer, type Key } from "../graph/task.js";
import type { DepLocation } from "../scheduler/events.js";
import type { ComputeBatch, Report, WireArg, WireInner } from "./protocol.js";

/** Batches smaller than this go as they are: packing them saves less than it costs. */
const PACK_MIN = 32;

/**
 * Packs a compute batch for posting (in place): ops as a table and an index per task, the
 * tasks' arguments in one flat array. A structured clone reads back one small array per task
 * at ~2.5 µs each; these few arrays cost ~0.1 µs a task in all.
 */
export function packCompute(c: ComputeBatch): void {
  const n = c.keys.length;
  if (n < PACK_MIN || c.opIndex) return;
  const opNames: string[] = [];
  const seen = new Map<string, number>();
  const opIndex = new Int32Array(n);
  const argEnd = new Int32Array(n);
  const argv: WireArg[] = [];
  for (let i = 0; i < n; i++) {
    const op = c.ops[i]!;
    let j = seen.get(op);
    if (j === undefined) {
      j = opNames.push(op) - 1;
      seen.set(op, j);
    }
    opIndex[i] = j;
    const a = c.args[i]!;
    for (let k = 0; k < a.length; k++) argv.push(a[k]!);
    argEnd[i] = argv.length;
  }
  c.opNames = opNames;
  c.opIndex = opIndex;
  c.argv = argv;
  c.argEnd = argEnd;
  c.ops = [];
  c.args = [];
}

/** Task i's op and arguments, from either layout. */
export function taskCall(c: ComputeBatch, i: number): { op: string; args: readonly WireArg[] } {
  if (!c.opIndex) return { op: c.ops[i]!, args: c.args[i]! };
  return { op: c.opNames![c.opIndex[i]!]!, args: c.argv!.slice(i === 0 ? 0 : c.argEnd![i - 1]!, c.argEnd![i]!) };
}

/** Small inputs per task index (undefined when the batch has none). */
export function unpackInline(c: ComputeBatch): Map<Key, unknown>[] | undefined {
  if (!c.inlineTask) return undefined;
  const out: Map<Key, unknown>[] = [];
  for (let j = 0; j < c.inlineTask.length; j++) (out[c.inlineTask[j]!] ??= new Map()).set(c.inlineKey![j]!, c.inlineValue![j]);
  return out;
}

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

