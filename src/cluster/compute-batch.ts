/**
 * A worker's compute batch as the runner fills it, one task at a time: in columns, and packed
 * as it goes (op names once with an index per task, every task's arguments in one array; see
 * ComputeBatch). A structured clone pays per array and per string, so posting an argument
 * array and an op name per task cost about three times the packed columns.
 */

import type { Key } from "../graph/task.js";
import type { DepLocation, WorkerId } from "../scheduler/events.js";
import type { ComputeBatch, WireArg, WireTask } from "../worker/protocol.js";

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

  add(key: Key, ref: number, run: WireTask, priority: number, deps: readonly DepLocation[]): void {
    const c = this.c;
    const i = c.keys.length;
    c.keys.push(key);
    c.refs.push(ref);
    let op: string;
    let args: readonly WireArg[];
    if ("fused" in run) {
      op = "";
      args = NO_ARGS;
      (c.fusedTask ??= []).push(i);
      (c.fused ??= []).push(run.fused);
    } else {
      op = run.op;
      args = run.args;
    }
    c.opIndex.push(this.opId(op));
    for (let j = 0; j < args.length; j++) c.argv.push(args[j]!);
    c.argEnd.push(c.argv.length);
    if (priority !== 0 || c.priority) {
      c.priority ??= new Array<number>(i).fill(0);
      c.priority.push(priority);
    }
    for (let j = 0; j < deps.length; j++) {
      const d = deps[j]!;
      if (d.small) {
        (c.inlineTask ??= []).push(i);
        (c.inlineKey ??= []).push(d.key);
        (c.inlineValue ??= []).push(d.small.value);
        continue;
      }
      (c.depTask ??= []).push(i);
      (c.depKey ??= []).push(d.key);
      (c.depHolders ??= []).push(d.holders.length === 1 ? d.holders[0]! : (d.holders as WorkerId[]));
      (c.depBytes ??= []).push(d.nbytes);
      (c.depMove ??= []).push(d.move);
    }
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
