/**
 * Encoding graph nodes for the wire, and decoding their arguments on a worker.
 *
 * Primitives travel as themselves. Every object is wrapped in a tagged envelope, so a reference
 * to another key ({$:0}) can never be confused with user data that happens to look like one.
 * Arrays and plain objects are walked (they may hold references); anything else (typed arrays,
 * Maps, class instances) is literal data ({$:3}) and is not walked.
 */

import { Alias, DataNode, Fused, Task, TaskRef, isContainer, type GraphNode, type Key } from "../graph/task.js";
import type { WireArg, WireCall, WireInner, WireTask } from "./protocol.js";

export const IDENTITY_OP = "tessera.identity";

export function encodeArg(v: unknown): WireArg {
  if (v === null || typeof v !== "object") {
    if (typeof v === "function" || typeof v === "symbol") {
      throw new TypeError(`a ${typeof v} cannot be a task argument; wrap functions with delayed() or register them as ops`);
    }
    return v as WireArg;
  }
  if (v instanceof TaskRef) return { $: 0, k: v.key };
  if (isContainer(v)) {
    if (Array.isArray(v)) {
      if (v.length > 1 && v.every((x) => x instanceof TaskRef)) return { $: 4, ks: v.map((x) => (x as TaskRef).key) };
      const a = new Array<WireArg>(v.length);
      for (let i = 0; i < v.length; i++) a[i] = encodeArg(v[i]);
      return { $: 1, a };
    }
    const o: Record<string, WireArg> = {};
    for (const k in v) o[k] = encodeArg(v[k]);
    return { $: 2, o };
  }
  return { $: 3, v };
}

/** Encoded arguments; arguments that are all primitives are their own encoding (no copy). */
export function encodeArgs(args: readonly unknown[]): readonly WireArg[] {
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if ((a !== null && typeof a === "object") || typeof a === "function" || typeof a === "symbol") break;
  }
  if (i === args.length) return args as readonly WireArg[];
  const out = new Array<WireArg>(args.length);
  for (let j = 0; j < args.length; j++) out[j] = encodeArg(args[j]);
  return out;
}

function encodeCall(node: Exclude<GraphNode, { kind: "fused" }>): WireCall {
  switch (node.kind) {
    case "task":
      return { op: node.op, args: encodeArgs(node.args) };
    case "alias":
      return { op: IDENTITY_OP, args: [{ $: 0, k: node.target }] };
    case "data":
      return { op: IDENTITY_OP, args: [encodeArg(node.value)] };
  }
}

/** Graph nodes are what a local runner holds; anything else is already encoded. */
export function isGraphNode(x: unknown): x is GraphNode {
  return x instanceof Task || x instanceof Fused || x instanceof Alias || x instanceof DataNode;
}

export function encodeNode(node: GraphNode): WireTask {
  if (node.kind !== "fused") return encodeCall(node);
  const fused: WireInner[] = node.tasks.map((t) => ({ key: t.key, ...encodeCall(t) }));
  return { fused };
}

/** Decode one argument, replacing references by `lookup(key)`. */
export function decodeArg(a: WireArg, lookup: (key: Key) => unknown): unknown {
  if (a === null || typeof a !== "object") return a;
  switch (a.$) {
    case 0:
      return lookup(a.k);
    case 1: {
      const src = a.a;
      const out = new Array<unknown>(src.length);
      for (let i = 0; i < src.length; i++) out[i] = decodeArg(src[i]!, lookup);
      return out;
    }
    case 2: {
      const out: Record<string, unknown> = {};
      for (const k in a.o) out[k] = decodeArg(a.o[k]!, lookup);
      return out;
    }
    case 3:
      return a.v;
    case 4: {
      const ks = a.ks;
      const out = new Array<unknown>(ks.length);
      for (let i = 0; i < ks.length; i++) out[i] = lookup(ks[i]!);
      return out;
    }
  }
}

export function decodeArgs(args: readonly WireArg[], lookup: (key: Key) => unknown): unknown[] {
  const out = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) out[i] = decodeArg(args[i]!, lookup);
  return out;
}
