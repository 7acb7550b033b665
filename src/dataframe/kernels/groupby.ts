/**
 * Groupby, partition side: a hash aggregate per partition into a Frame of partial states, and
 * the re-aggregation of partials by key, so a tree of combines can fold any number of them.
 *
 *   groupbyPartial(k, frame, by, aggs)   rows -> one row per group: keys + states (spec.ts)
 *   combineGroupbyPartials(k, partials)  partials -> one partial (same columns)
 *   finalizeGroupby(k, partial, aggs)    partial -> `<column>_<agg>` columns (finalize.ts)
 *
 * One pass over the partition, BLOCK rows at a time: the block's keys become group ids (a
 * wasm hash table, table.ts), then each state op folds its column of the block into records
 * (ops.ts). Groups are numbered in order of first appearance; the partial lists them so.
 *
 * Null keys: with dropna (pandas' default) rows with a null or NaN in any key are dropped;
 * without, null is a key value of its own. Partials keep whatever groups they have, so combine
 * never drops. String keys of different partials have different dictionaries: combine goes
 * through concatFrames, which merges dictionaries by string, and then groups the codes.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { TesseraError } from "../../errors.js";
import { column, concatFrames, type Column, type Frame } from "../frame.js";
import { dedupeDictionary } from "./columns.js";
import { type OpContext, type StateOp, CountOp, DistinctOp, FirstLastOp, MinMaxOp, SumCountOp, SumIOp, SumPairOp, VarMergeOp, VarOp } from "./ops.js";
import { type Rec, Records } from "./records.js";
import { type GroupbyAggs, type StateName, SIZE_STATE, checkAgg, parseStateName, stateName, statesFor } from "./spec.js";
import { GroupTable, KeyEncoder, keyLayout } from "./table.js";
import { BLOCK, dfExports, isLazyData, withArena, type LazyData } from "./wasm.js";

export interface GroupbyOptions {
  /** Drop rows whose key has a null or NaN (default true, as pandas). */
  dropna?: boolean;
  /**
   * Only the rows where this is 1 (a filter not yet applied: steps.ts's applyStepsMasked). The
   * others are dropped like rows with a null key, so it needs dropna.
   */
  rows?: Uint8Array | LazyData | null;
}

/** The partial states of one partition's groups, keys first, groups in first-seen order. */
export function groupbyPartial(k: Kernels, frame: Frame, by: readonly string[], aggs: GroupbyAggs, options: GroupbyOptions = {}): Frame {
  const keyCols = checkKeys(frame, by);
  const rows = options.rows;
  if (rows) {
    if (!(options.dropna ?? true)) throw new TesseraError("groupbyPartial: a row mask needs dropna (masked rows are dropped like null keys)");
    if (rows.length !== frame.length) throw new TesseraError(`groupbyPartial: the row mask has ${rows.length} rows, the frame ${frame.length}`);
    // A masked row is a row whose first key is null: dropped before any state sees it.
    const c = keyCols[0]!;
    let valid: Uint8Array | LazyData = rows;
    const keyValid = c.valid;
    if (keyValid && isLazyData(rows)) {
      // Both, a block at a time (the key reader reads validity through a BlockReader).
      let buf = new Uint8Array(0);
      valid = {
        lazy: true,
        length: rows.length,
        BYTES_PER_ELEMENT: 1,
        block(start: number, n: number) {
          const m = rows.block(start, n) as Uint8Array;
          if (buf.length < n) buf = new Uint8Array(n);
          for (let i = 0; i < n; i++) buf[i] = m[i]! & keyValid[start + i]!;
          return buf;
        },
      };
    } else if (keyValid) {
      const r = rows as Uint8Array;
      const both = new Uint8Array(r.length);
      for (let i = 0; i < both.length; i++) both[i] = keyValid[i]! & r[i]!;
      valid = both;
    }
    keyCols[0] = { ...c, valid: valid as Uint8Array };
  }
  const plan = Object.entries(aggs).map(([name, list]) => {
    const c = column(frame, name, "groupby");
    for (const a of list) checkAgg(name, c, a);
    return { name, c, list, states: statesFor(c, list) };
  });
  const wantSize = plan.some((p) => p.list.includes("size"));
  return grouped(k, frame.length, keyCols, !(options.dropna ?? true), (ctx) => {
    const ops: StateOp[] = [];
    if (wantSize) ops.push(new CountOp(ctx, undefined, SIZE_STATE));
    for (const { name, c, states } of plan) {
      const has = (s: StateName) => states.has(s);
      const sn = (s: StateName) => (has(s) ? stateName(name, s) : undefined);
      if (has("sum") || has("count")) ops.push(new SumCountOp(ctx, c, { count: sn("count"), sum: sn("sum"), sumc: sn("sumc") }));
      if (has("isum")) ops.push(new SumIOp(ctx, c, stateName(name, "isum")));
      if (has("m2")) ops.push(new VarOp(ctx, c, { mean: stateName(name, "mean"), m2: stateName(name, "m2") }));
      if (has("min") || has("max")) ops.push(new MinMaxOp(ctx, c, { min: sn("min"), max: sn("max") }));
      if (has("first") || has("last")) ops.push(new FirstLastOp(ctx, c, { first: sn("first"), last: sn("last") }));
      if (has("distinct")) ops.push(new DistinctOp(ctx, c, stateName(name, "distinct"), "values"));
    }
    return ops;
  }, by);
}

/** Re-aggregate partials (in partition order) by key into one partial with the same columns. */
export function combineGroupbyPartials(k: Kernels, partials: readonly Frame[]): Frame {
  if (partials.length === 0) throw new TesseraError("combineGroupbyPartials: no partials");
  if (partials.length === 1) return partials[0]!;
  const all = concatFrames(partials);
  const keys = all.names.filter((n) => parseStateName(n) === undefined);
  const byColumn = new Map<string, Map<string, Column>>();
  all.names.forEach((name, i) => {
    const p = parseStateName(name);
    if (!p) return;
    let m = byColumn.get(p.column);
    if (!m) byColumn.set(p.column, (m = new Map()));
    m.set(p.state, all.columns[i]!);
  });
  const out = grouped(k, all.length, keys.map((n) => column(all, n)), true, (ctx) => {
    const ops: StateOp[] = [];
    for (const [name, st] of byColumn) {
      const get = (s: string) => st.get(s);
      const sn = (s: StateName) => stateName(name, s);
      if (name === "" && get("size")) ops.push(new CountOp(ctx, get("size"), SIZE_STATE));
      if (get("count")) ops.push(new CountOp(ctx, get("count"), sn("count")));
      if (get("sum")) ops.push(new SumPairOp(ctx, [get("sum")!, get("sumc")!], { sum: sn("sum"), sumc: sn("sumc") }));
      if (get("isum")) ops.push(new SumIOp(ctx, get("isum")!, sn("isum")));
      if (get("m2")) ops.push(new VarMergeOp(ctx, [get("count")!, get("mean")!, get("m2")!], { mean: sn("mean"), m2: sn("m2") }));
      if (get("min")) ops.push(new MinMaxOp(ctx, get("min")!, { min: sn("min") }));
      if (get("max")) ops.push(new MinMaxOp(ctx, get("max")!, { max: sn("max") }));
      if (get("first")) ops.push(new FirstLastOp(ctx, get("first")!, { first: sn("first") }));
      if (get("last")) ops.push(new FirstLastOp(ctx, get("last")!, { last: sn("last") }));
      if (get("distinct")) ops.push(new DistinctOp(ctx, get("distinct")!, sn("distinct"), "sets"));
    }
    return ops;
  }, keys);
  // Same column order as the partials.
  return { length: out.length, names: [...all.names], columns: all.names.map((n) => column(out, n, "combineGroupbyPartials")) };
}

/** Direct maps up to 64Ki entries (256 KiB), and no bigger than a few entries per row. */
const directSpan = (n: number): number => Math.min(65536, Math.max(1024, 2 * n));

function checkKeys(frame: Frame, by: readonly string[]): Column[] {
  if (by.length === 0) throw new TesseraError("groupby: no key columns given");
  if (new Set(by).size !== by.length) throw new TesseraError(`groupby: duplicate key columns in ${JSON.stringify(by)}`);
  return by.map((name) => {
    const c = column(frame, name, "groupby");
    if (c.type === "object") throw new TesseraError(`groupby: column ${JSON.stringify(name)} of type object cannot be a key`);
    if (parseStateName(name)) throw new TesseraError(`groupby: key column name ${JSON.stringify(name)} starts with \\0, which partial states reserve`);
    return c.type === "string" ? dedupeDictionary(c) : c;
  });
}

/**
 * Group n rows by keyCols and run the ops `makeOps` builds over every block; returns the keys
 * (named `keyNames`) followed by every op's emitted columns.
 */
function grouped(k: Kernels, n: number, keyCols: Column[], keepNulls: boolean, makeOps: (ctx: OpContext) => StateOp[], keyNames: readonly string[]): Frame {
  return withArena(k, (arena) => {
    const records = new Records(k, arena);
    let size: Rec | undefined;
    const ctx: OpContext = { k, arena, records, ngroups: 0, size: () => (size ??= records.add("count")) };
    const ops = makeOps(ctx);
    const ex = dfExports(k);
    const layout = keyLayout(keyCols, keepNulls);
    const encoder = new KeyEncoder(k, arena, keyCols, layout, keepNulls);
    const table = new GroupTable(k, arena, layout, keepNulls, { directSpan: directSpan(n) });
    const gids = arena.alloc(BLOCK * 4);
    for (let s = 0; s < n; s += BLOCK) {
      const m = Math.min(BLOCK, n - s);
      table.insert(encoder.block(s, m), m, gids);
      ctx.ngroups = table.ngroups;
      records.ensure(ctx.ngroups);
      if (size) ex.aggSize(gids, m, size.base);
      for (const op of ops) op.run(s, m, gids);
    }
    const ng = table.ngroups;
    records.ensure(ng);
    const names: string[] = [...keyNames];
    const columns: Column[] = table.keyColumns(keyCols);
    for (const op of ops) {
      for (const [name, c] of op.emit(ng)) {
        names.push(name);
        columns.push(c);
      }
    }
    return { length: ng, names, columns };
  });
}

