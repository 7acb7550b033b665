/**
 * A worker's compute batch as the runner fills it, one task at a time: in columns, and packed
 * as it goes (op names once with an index per task, every task's arguments in one array; see
 * ComputeBatch). A structured clone pays per array and per string, so posting an argument
 * array and an op name per task cost about three times the packed columns.
 *
 * Small inputs (values the scheduler holds, see SMALL_VALUE_BYTES) are written into the
 * task's arguments in place of their references: the worker looks nothing up for them, and
 * their keys are not sent (a tree reduction's node would otherwise send each input's key twice,
 * in its arguments and beside its value, and the worker would build a Map per task to find it).
 */

import type { Key } from "../graph/task.js";
import type { DepLocation, WorkerId } from "../scheduler/events.js";
import { Task, TaskRef, type GraphNode } from "../graph/task.js";
import type { ComputeBatch, WireArg, WireInner, WireTask } from "../worker/protocol.js";
import { encodeArg, encodeNode, isGraphNode } from "../worker/wire.js";

const NO_ARGS: readonly WireArg[] = [];

export class ComputeBatchBuilder {
  private readonly c: ComputeBatch & { opNames: string[]; opIndex: number[]; argv: WireArg[]; argEnd: number[] } = {
    keys: [],
    refs: [],
    opNames: [],
    opIndex: [],
    argv: [],
    argEnd: [],
  };
  private readonly opIds = new Map<string, number>();
  // Consecutive tasks mostly call the same op: compared by reference before any lookup.
  private lastOp: string | undefined;
  private lastIndex = -1;

  /**
   * Add a task: a graph node (a local client's, encoded here) or a task already encoded. A
   * plain Task's arguments are written straight into the batch: references to small inputs as
   * their values, no per-task argument array or envelope on the way.
   */
  add(key: Key, ref: number, run: GraphNode | WireTask, priority: number, deps: readonly DepLocation[]): void {
    const c = this.c;
    const i = c.keys.length;
    c.keys.push(key);
    c.refs.push(ref);
    if (run instanceof Task) {
      c.opIndex.push(this.opId(run.op));
      const args = run.args;
      // A few deps are scanned in place; a wide fan-in gets its lookup built once, when first needed.
      let small: SmallInputs | null | undefined;
      for (let j = 0; j < args.length; j++) {
        const a = args[j];
        if (a === null || typeof a !== "object") c.argv.push(encodeArg(a));
        else if (a instanceof TaskRef) {
          const lit = deps.length <= SCAN_DEPS ? smallLiteral(deps, a.key) : (small ??= smallInputsOf(deps))?.literal(a.key);
          c.argv.push(lit ?? { $: 0, k: a.key });
        } else {
          small ??= smallInputsOf(deps);
          c.argv.push(small ? substitute(encodeArg(a), small) : encodeArg(a));
        }
      }
    } else {
      const wire = isGraphNode(run) ? encodeNode(run) : run;
      const small = smallInputsOf(deps);
      const sent = small ? withSmallInputs(wire, small) : wire;
      let args: readonly WireArg[];
      if ("fused" in sent) {
        c.opIndex.push(this.opId(""));
        args = NO_ARGS;
        (c.fusedTask ??= []).push(i);
        (c.fused ??= []).push(sent.fused);
      } else {
        c.opIndex.push(this.opId(sent.op));
        args = sent.args;
      }
      for (let j = 0; j < args.length; j++) c.argv.push(args[j]!);
    }
    c.argEnd.push(c.argv.length);
    if (priority !== 0 || c.priority) {
      c.priority ??= new Array<number>(i).fill(0);
      c.priority.push(priority);
    }
    for (let j = 0; j < deps.length; j++) {
      const d = deps[j]!;
      if (d.small) continue; // in the arguments
      (c.depTask ??= []).push(i);
      (c.depKey ??= []).push(d.key);
      (c.depHolders ??= []).push(d.holders.length === 1 ? d.holders[0]! : (d.holders as WorkerId[]));
      (c.depBytes ??= []).push(d.nbytes);
      (c.depMove ??= []).push(d.move);
    }
  }

  /** Every op the batch's tasks call, fused tasks' inner calls included (repeats possible). */
  ops(): string[] {
    const out = this.c.opNames.filter((op) => op !== "");
    for (const calls of this.c.fused ?? []) for (const call of calls) out.push(call.op);
    return out;
  }

  /** The batch to post; its index columns become Int32Arrays (a clone copies those in one go). */
  finish(): ComputeBatch {
    const c = this.c;
    return { ...c, opIndex: Int32Array.from(c.opIndex), argEnd: Int32Array.from(c.argEnd) };
  }

  private opId(op: string): number {
    if (op === this.lastOp) return this.lastIndex;
    let id = this.opIds.get(op);
    if (id === undefined) {
      id = this.c.opNames.push(op) - 1;
      this.opIds.set(op, id);
    }
    this.lastOp = op;
    this.lastIndex = id;
    return id;
  }
}

/** Up to this many deps, a reference's small input is found by scanning them. */
const SCAN_DEPS = 8;

/** The literal for `key` when it is one of `deps`' small inputs (few deps: a scan). */
function smallLiteral(deps: readonly DepLocation[], key: Key): WireArg | undefined {
  for (let j = 0; j < deps.length; j++) {
    const d = deps[j]!;
    if (d.key === key) return d.small ? literal(d.small.value) : undefined;
  }
  return undefined;
}

/** The small inputs among `deps`, or null when there are none. */
function smallInputsOf(deps: readonly DepLocation[]): SmallInputs | null {
  let small: SmallInputs | null = null;
  for (let j = 0; j < deps.length; j++) if (deps[j]!.small) (small ??= new SmallInputs()).add(deps[j]!);
  return small;
}

/** Primitives travel as themselves; anything else as literal data (passed as is, not walked). */
function literal(v: unknown): WireArg {
  return v !== null && typeof v === "object" ? { $: 3, v } : (v as WireArg);
}

/** A task's small inputs by key: a list to scan for the usual few, a Map for a wide fan-in. */
class SmallInputs {
  private readonly keys: Key[] = [];
  private readonly values: unknown[] = [];
  private map: Map<Key, unknown> | undefined;

  add(d: DepLocation): void {
    if (this.map) this.map.set(d.key, d.small!.value);
    else {
      this.keys.push(d.key);
      this.values.push(d.small!.value);
      if (this.keys.length > 8) this.map = new Map(this.keys.map((k, i) => [k, this.values[i]]));
    }
  }

  /** The literal standing for `key`'s value, or undefined when `key` is not a small input. */
  literal(key: Key): WireArg | undefined {
    let v: unknown;
    if (this.map) {
      if (!this.map.has(key)) return undefined;
      v = this.map.get(key);
    } else {
      const i = this.keys.indexOf(key);
      if (i < 0) return undefined;
      v = this.values[i];
    }
    return literal(v);
  }
}

function withSmallInputs(run: WireTask, small: SmallInputs): WireTask {
  if ("fused" in run) return { fused: run.fused.map((c): WireInner => ({ key: c.key, op: c.op, args: substituteArgs(c.args, small) })) };
  return { op: run.op, args: substituteArgs(run.args, small) };
}

function substituteArgs(args: readonly WireArg[], small: SmallInputs): readonly WireArg[] {
  let out: WireArg[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const y = substitute(args[i]!, small);
    if (y !== args[i]) (out ??= args.slice())[i] = y;
  }
  return out ?? args;
}

/** `a` with its references to small inputs replaced by their values (a copy where it changes). */
function substitute(a: WireArg, small: SmallInputs): WireArg {
  if (a === null || typeof a !== "object") return a;
  switch (a.$) {
    case 0: {
      const lit = small.literal(a.k);
      return lit === undefined ? a : lit;
    }
    case 1: {
      const items = substituteArgs(a.a, small);
      return items === a.a ? a : { $: 1, a: items as WireArg[] };
    }
    case 2: {
      let o: Record<string, WireArg> | undefined;
      for (const k in a.o) {
        const y = substitute(a.o[k]!, small);
        if (y !== a.o[k]) (o ??= { ...a.o })[k] = y;
      }
      return o ? { $: 2, o } : a;
    }
    case 3:
      return a;
    case 4: {
      // An array of references only: stays one unless some of them are small.
      let any = false;
      const items = a.ks.map((k): WireArg => {
        const lit = small.literal(k);
        if (lit === undefined) return { $: 0, k };
        any = true;
        return lit;
      });
      return any ? { $: 1, a: items } : a;
    }
  }
}
