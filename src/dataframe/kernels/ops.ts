/**
 * State ops: each folds one column of a block into per-group records (a wasm kernel of
 * assembly/groupby.ts) and, after the last block, emits its partial state columns.
 *
 * The same ops serve both steps of a groupby: a partition's rows (values in, states out) and
 * the combination of partials (state columns in, the same states out). MinMaxOp over a `min`
 * state column is a min of mins; FirstLastOp over partials concatenated in partition order
 * finds the first of the firsts. Only DistinctOp (nunique) runs in JavaScript.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { allocColumnData, type Column } from "../frame.js";
import { dictionaryRanks, isMissingAt, takeColumn, compactStrings } from "./columns.js";
import type { Rec, Records } from "./records.js";
import { type Arena, ColumnReader, T, dfExports, f64, i32, isFloatType } from "./wasm.js";

export interface StateOp {
  run(start: number, n: number, gids: number): void;
  emit(ng: number): Array<[string, Column]>;
}

export interface OpContext {
  k: Kernels;
  arena: Arena;
  records: Records;
  /** Groups so far (the driver updates it before each block's ops run). */
  ngroups: number;
  /** The group sizes (rows, nulls included), counted once per block for every op that asks. */
  size(): Rec;
}

const f64Column = (data: Float64Array): Column => ({ type: "float64", data });

/** Groups up to which sums go through plain accumulators (folded every FOLD_ROWS rows). */
const LOCAL_GROUPS = 16384;
const FOLD_ROWS = 65536;
/** Rows per group in a block from which SumCountOp sums a float block untested first. */
const SPECULATE_ROWS_PER_GROUP = 8;

/**
 * Count (non-null, non-NaN values) and compensated sum of a value column. Blocks without a
 * null or NaN (one SIMD test) run with no per-row test; counts are the group size minus the
 * missing rows, which only blocks with some are scanned for. With few groups, values add into
 * plain per-group accumulators folded into (sum, comp) Neumaier states every FOLD_ROWS rows,
 * so no plain run is longer than that; with many, each value is added with compensation.
 *
 * A float column without nulls, summed into few groups (SPECULATE_ROWS_PER_GROUP rows a group
 * or more per block), skips the SIMD test, a pass over the block's values: the block is summed
 * untested into per-block accumulators, and a NaN among its values leaves a NaN in one of them
 * (NaN propagates through addition). Only then is the block summed again, tested; otherwise
 * the block's sums fold into the compensated states and no row was missing.
 */
export class SumCountOp implements StateOp {
  private readonly reader: ColumnReader;
  private readonly rec: Rec | undefined;
  private readonly acc: Rec | undefined;
  private readonly missing: Rec | undefined;
  private readonly sizes: Rec | undefined;
  /** One block's untested sums (floats without nulls: see the class comment). */
  private readonly blockSums: Rec | undefined;
  private pending = 0;
  constructor(private readonly ctx: OpContext, c: Column, private readonly out: { count?: string | undefined; sum?: string | undefined; sumc?: string | undefined }) {
    this.reader = new ColumnReader(ctx.k, ctx.arena, c, "sum");
    if (out.sum) {
      this.rec = ctx.records.add("sumPair");
      this.acc = ctx.records.add("count");
      if (isFloatType(c) && !c.valid) this.blockSums = ctx.records.add("count");
    }
    if (out.count) {
      this.missing = ctx.records.add("count");
      this.sizes = ctx.size();
    }
  }
  run(s: number, n: number, gids: number): void {
    const ex = dfExports(this.ctx.k);
    const r = this.reader;
    const data = r.dataPtr(s, n), valid = r.validPtr(s, n);
    const ng = this.ctx.ngroups;
    if (this.blockSums && this.rec && valid === 0 && ng * SPECULATE_ROWS_PER_GROUP <= n) {
      const b = this.blockSums.base;
      ex.aggSum(r.t, gids, data, 0, n, b, 0, 0);
      // Clean: fold (which zeroes the block's sums). A NaN sum may also come from infinities
      // of both signs, not only from a NaN value: the tested pass below sorts that out.
      if (!ex.anyMissing(T.F64, b, 0, ng)) {
        ex.foldSums(b, this.rec.base, ng);
        return;
      }
      f64(this.ctx.k, b, ng).fill(0);
    }
    const check = (valid !== 0 || isFloatType(r.column)) && ex.anyMissing(r.t, data, valid, n) ? 1 : 0;
    if (check && this.missing) ex.aggMissing(r.t, gids, data, valid, n, this.missing.base);
    if (!this.rec || !this.acc) return;
    if (this.ctx.ngroups <= LOCAL_GROUPS) {
      ex.aggSum(r.t, gids, data, valid, n, this.acc.base, check, 0);
      this.pending += n;
      if (this.pending >= FOLD_ROWS) this.fold();
    } else {
      this.fold();
      ex.aggSum(r.t, gids, data, valid, n, this.rec.base, check, 1);
    }
  }
  private fold(): void {
    if (this.pending === 0 || !this.rec || !this.acc) return;
    dfExports(this.ctx.k).foldSums(this.acc.base, this.rec.base, this.ctx.ngroups);
    this.pending = 0;
  }
  emit(ng: number): Array<[string, Column]> {
    this.fold();
    const out: Array<[string, Column]> = [];
    const rs = this.ctx.records;
    if (this.out.count && this.missing && this.sizes) {
      const size = rs.f64Field(this.sizes, 0, ng), missing = rs.f64Field(this.missing, 0, ng);
      for (let g = 0; g < ng; g++) size[g] = size[g]! - missing[g]!;
      out.push([this.out.count, f64Column(size)]);
    }
    if (this.out.sum && this.rec) out.push([this.out.sum, f64Column(rs.f64Field(this.rec, 0, ng))]);
    if (this.out.sumc && this.rec) out.push([this.out.sumc, f64Column(rs.f64Field(this.rec, 8, ng))]);
    return out;
  }
}

/** Exact wrapping integer sum, kept as int64 (uint64 for a uint64 column). */
export class SumIOp implements StateOp {
  private readonly reader: ColumnReader;
  private readonly rec: Rec;
  constructor(private readonly ctx: OpContext, private readonly c: Column, private readonly name: string) {
    this.reader = new ColumnReader(ctx.k, ctx.arena, c, "sum");
    this.rec = ctx.records.add("sumI");
  }
  run(s: number, n: number, gids: number): void {
    const r = this.reader;
    dfExports(this.ctx.k).aggSumI(r.t, gids, r.dataPtr(s, n), r.validPtr(s, n), n, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    const v = this.ctx.records.i64Field(this.rec, 0, ng);
    if (this.c.type === "uint64") return [[this.name, { type: "uint64", data: new BigUint64Array(v.buffer) }]];
    return [[this.name, { type: "int64", data: v }]];
  }
}

/** Welford (count, mean, M2) of a value column. */
export class VarOp implements StateOp {
  private readonly reader: ColumnReader;
  private readonly rec: Rec;
  constructor(private readonly ctx: OpContext, c: Column, private readonly out: { count?: string; mean: string; m2: string }) {
    this.reader = new ColumnReader(ctx.k, ctx.arena, c, "var");
    this.rec = ctx.records.add("var");
  }
  run(s: number, n: number, gids: number): void {
    const r = this.reader;
    dfExports(this.ctx.k).aggVar(r.t, gids, r.dataPtr(s, n), r.validPtr(s, n), n, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    return varColumns(this.ctx.records, this.rec, ng, this.out);
  }
}

function varColumns(rs: Records, rec: Rec, ng: number, out: { count?: string; mean: string; m2: string }): Array<[string, Column]> {
  const cols: Array<[string, Column]> = [];
  if (out.count) cols.push([out.count, f64Column(rs.f64Field(rec, 0, ng))]);
  cols.push([out.mean, f64Column(rs.f64Field(rec, 8, ng))], [out.m2, f64Column(rs.f64Field(rec, 16, ng))]);
  return cols;
}

/** Merge partial (count, mean, M2) columns (Chan et al.). */
export class VarMergeOp implements StateOp {
  private readonly readers: ColumnReader[];
  private readonly rec: Rec;
  constructor(private readonly ctx: OpContext, cols: [Column, Column, Column], private readonly out: { mean: string; m2: string }) {
    this.readers = cols.map((c) => new ColumnReader(ctx.k, ctx.arena, c, "var"));
    this.rec = ctx.records.add("var");
  }
  run(s: number, n: number, gids: number): void {
    const [c, m, q] = this.readers.map((r) => r.dataPtr(s, n));
    dfExports(this.ctx.k).combineVar(gids, c!, m!, q!, n, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    return varColumns(this.ctx.records, this.rec, ng, this.out);
  }
}

/** Sum of partial (sum, sumc) pairs. */
export class SumPairOp implements StateOp {
  private readonly readers: ColumnReader[];
  private readonly rec: Rec;
  constructor(private readonly ctx: OpContext, cols: [Column, Column], private readonly out: { sum: string; sumc: string }) {
    this.readers = cols.map((c) => new ColumnReader(ctx.k, ctx.arena, c, "sum"));
    this.rec = ctx.records.add("sumPair");
  }
  run(s: number, n: number, gids: number): void {
    const [a, b] = this.readers.map((r) => r.dataPtr(s, n));
    dfExports(this.ctx.k).combineSumF(gids, a!, b!, n, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    const rs = this.ctx.records;
    return [[this.out.sum, f64Column(rs.f64Field(this.rec, 0, ng))], [this.out.sumc, f64Column(rs.f64Field(this.rec, 8, ng))]];
  }
}

/** Group sizes (source undefined: the shared size record), or the sum of an f64 count column. */
export class CountOp implements StateOp {
  private readonly reader: ColumnReader | undefined;
  private readonly rec: Rec;
  constructor(private readonly ctx: OpContext, source: Column | undefined, private readonly name: string) {
    this.reader = source ? new ColumnReader(ctx.k, ctx.arena, source, "count") : undefined;
    this.rec = source ? ctx.records.add("count") : ctx.size();
  }
  run(s: number, n: number, gids: number): void {
    if (this.reader) dfExports(this.ctx.k).addF64(gids, this.reader.dataPtr(s, n), n, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    return [[this.name, f64Column(this.ctx.records.f64Field(this.rec, 0, ng))]];
  }
}

/** Min and/or max; strings by the rank of their value in sorted order. */
export class MinMaxOp implements StateOp {
  private readonly reader: ColumnReader;
  private readonly rec: Rec;
  private readonly sorted: string[] | undefined;
  constructor(private readonly ctx: OpContext, private readonly c: Column, private readonly out: { min?: string; max?: string }) {
    let source = c;
    if (c.type === "string") {
      const { rank, sorted } = dictionaryRanks(c.dictionary ?? []);
      const codes = c.data as Int32Array;
      const ranks = new Int32Array(codes.length);
      for (let i = 0; i < codes.length; i++) ranks[i] = c.valid && !c.valid[i] ? 0 : rank[codes[i]!]!;
      source = c.valid ? { type: "int32", data: ranks, valid: c.valid } : { type: "int32", data: ranks };
      this.sorted = sorted;
    }
    this.reader = new ColumnReader(ctx.k, ctx.arena, source, "min/max");
    const t = this.reader.t;
    this.rec = ctx.records.add(t === T.I64 ? "minmaxI" : t === T.U64 ? "minmaxU" : "minmaxF");
  }
  run(s: number, n: number, gids: number): void {
    const r = this.reader;
    dfExports(this.ctx.k).aggMinMax(r.t, gids, r.dataPtr(s, n), r.validPtr(s, n), n, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    const rs = this.ctx.records;
    const count = rs.f64Field(this.rec, 0, ng);
    let valid: Uint8Array | undefined;
    for (let g = 0; g < ng; g++) if (count[g] === 0) (valid ??= new Uint8Array(ng).fill(1))[g] = 0;
    const field = (off: number): Column => {
      if (this.rec.kind === "minmaxF") {
        const v = rs.f64Field(this.rec, off, ng);
        if (this.sorted) return compactStrings(Int32Array.from(v), valid, this.sorted);
        const data = allocColumnData(this.c.type, ng) as Float64Array;
        for (let g = 0; g < ng; g++) data[g] = valid && !valid[g] ? 0 : v[g]!;
        return withValid({ ...this.c, data }, valid);
      }
      const v = rs.i64Field(this.rec, off, ng);
      if (valid) for (let g = 0; g < ng; g++) if (!valid[g]) v[g] = 0n;
      return withValid({ ...this.c, data: this.rec.kind === "minmaxU" ? new BigUint64Array(v.buffer) : v }, valid);
    };
    const out: Array<[string, Column]> = [];
    if (this.out.min) out.push([this.out.min, field(8)]);
    if (this.out.max) out.push([this.out.max, field(16)]);
    return out;
  }
}

function withValid(c: Column, valid: Uint8Array | undefined): Column {
  if (valid) c.valid = valid;
  else delete c.valid;
  return c;
}

/** First and/or last value (skipping nulls and NaN) by row order. */
export class FirstLastOp implements StateOp {
  private readonly reader: ColumnReader;
  private readonly rec: Rec;
  private readonly float: boolean;
  constructor(private readonly ctx: OpContext, private readonly c: Column, private readonly out: { first?: string; last?: string }) {
    this.reader = new ColumnReader(ctx.k, ctx.arena, c, "first/last");
    this.rec = ctx.records.add("firstLast");
    this.float = isFloatType(c);
  }
  run(s: number, n: number, gids: number): void {
    const r = this.reader;
    const data = this.float ? r.dataPtr(s, n) : 0;
    dfExports(this.ctx.k).aggFirstLast(r.t, gids, data, r.validPtr(s, n), n, s, this.rec.base);
  }
  emit(ng: number): Array<[string, Column]> {
    const out: Array<[string, Column]> = [];
    if (this.out.first) out.push([this.out.first, takeColumn(this.c, this.ctx.records.i32Field(this.rec, 0, ng))]);
    if (this.out.last) out.push([this.out.last, takeColumn(this.c, this.ctx.records.i32Field(this.rec, 4, ng))]);
    return out;
  }
}

/**
 * Distinct values per group (nunique), in JavaScript: from a value column ("values"), or from a
 * partial's `distinct` column of arrays ("sets"). NaN and nulls are not values; -0 equals 0.
 */
export class DistinctOp implements StateOp {
  private readonly sets: Array<Set<unknown>> = [];
  constructor(private readonly ctx: OpContext, private readonly c: Column, private readonly name: string, private readonly mode: "values" | "sets") {}
  run(s: number, n: number, gids: number): void {
    const g = i32(this.ctx.k, gids, n);
    const data = this.c.data as ArrayLike<unknown>;
    for (let i = 0; i < n; i++) {
      const gid = g[i]!;
      if (gid < 0) continue;
      const set = (this.sets[gid] ??= new Set());
      const row = s + i;
      if (this.mode === "sets") {
        for (const v of data[row] as unknown[]) set.add(v);
      } else if (!isMissingAt(this.c, row)) set.add(data[row]);
    }
  }
  emit(ng: number): Array<[string, Column]> {
    const dict = this.c.type === "string" && this.mode === "values" ? (this.c.dictionary ?? []) : undefined;
    const data: unknown[] = new Array(ng);
    for (let gid = 0; gid < ng; gid++) {
      const set = this.sets[gid];
      data[gid] = !set ? [] : dict ? [...new Set(Array.from(set, (code) => dict[code as number]))] : [...set];
    }
    return [[this.name, { type: "object", data }]];
  }
}
