/**
 * merge / join (dask.dataframe.merge, pandas semantics): the rows of two dataframes paired on
 * equal key values, as a new dataframe. Partition pairs are joined by the hash join kernel
 * (kernels/join.ts: row index pairs), then the result columns are gathered from both sides.
 *
 * Result columns, as pandas: the left columns, then the right ones less the keys both sides
 * name alike (`on`, or leftOn[j] === rightOn[j]: one column, the left value where there is a left
 * row, else the right value, in the common type of the two). Keys with different names stay two
 * columns. Other names on both sides get suffixes (default "_x", "_y").
 *
 * Semantics we chose:
 *   - Null (and NaN) keys never match, not even each other, as in SQL and DuckDB. pandas (and
 *     so dask) matches NaN with NaN; we do not, so a null key is a row with no partner (kept by
 *     left/right/outer with the other side null).
 *   - Unmatched rows get nulls on the other side's columns, and the columns keep their types
 *     (pandas would turn an int column into float to hold NaN).
 *   - Keys: the same type on both sides (timestamps in the same unit), or two numeric types
 *     (bool counts), compared by value; a merged key column takes the common type (int32 with
 *     int64 -> int64, int with float -> float64, int64 with uint64 -> float64). Anything else,
 *     e.g. string with int, is an error naming both columns: cast one side with astype.
 *   - Rows come in no particular order (as dask), so compare results as sets of rows.
 *
 * Strategy, chosen once both inputs are prepared (before anything runs):
 *   broadcast  the small side (one partition, or a known row count up to BROADCAST_ROWS) is
 *              concatenated into one task and joined with every partition of the other side:
 *              no shuffle. Only a side whose unmatched rows are dropped may be broadcast (the
 *              right for inner/left, the left for inner/right): otherwise each partition of the
 *              other side would emit those rows again. Outer joins shuffle, unless the other
 *              side has one partition. `broadcast: true` forces it where allowed, `false` never.
 *   shuffle    both sides hash-partitioned on the key values into n = npartitions ?? max(L, R)
 *              pieces (hashPartition hashes values, not widths or dictionaries, so equal keys of
 *              either side land in the same piece), then piece j of the left joins piece j of
 *              the right:
 *
 *     left[i]  --split--> getitem(i, j) --concat over i--> left piece j   \
 *                                                                          join --> out[j]
 *     right[i] --split--> getitem(i, j) --concat over i--> right piece j  /
 */

import { PREPARE } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { opSpec } from "../graph/spec.js";
import { withKernels } from "../kernels/instance.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { castColumn } from "./eval.js";
import { allocColumnData, asFrame, column, type Column, type ColumnData, type ColumnMeta, type ColumnType, type Frame, type Schema } from "./frame.js";
import { KeysInput, type Input, type Lowered } from "./input.js";
import { hashJoin, hashPartition, splitByPartition, takeColumn, type JoinHow } from "./kernels/index.js";
import { deriveSchema, type Step } from "./steps.js";

export type MergeHow = JoinHow;

export interface MergeOptions {
  /** Key columns named alike on both sides (default: the columns both sides have). */
  on?: string | readonly string[];
  /** Key columns of the left side, paired with rightOn (instead of on). */
  leftOn?: string | readonly string[];
  rightOn?: string | readonly string[];
  /** Which unmatched rows to keep (default "inner": none). */
  how?: MergeHow;
  /** Appended to names both sides have that are not merged keys (default ["_x", "_y"]). */
  suffixes?: readonly [string, string];
  /** true: broadcast the small side where allowed; false: always shuffle; default: decide by size. */
  broadcast?: boolean;
  /** Output partitions of a shuffle (default: the larger side's count). */
  npartitions?: number;
}

export interface JoinOptions {
  /** Key columns on both sides (default: the columns both sides have). */
  on?: string | readonly string[];
  /** Default "left", as pandas' join. */
  how?: MergeHow;
  /** Suffixes of overlapping non-key names (default none: overlapping names are an error, as pandas). */
  lsuffix?: string;
  rsuffix?: string;
}

/** A side with at most this many rows (known from metadata) is broadcast rather than shuffled. */
export const BROADCAST_ROWS = 100_000;

const HOWS: readonly MergeHow[] = ["inner", "left", "right", "outer"];
const NUMBERS = new Set<ColumnType>(["float64", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "int64", "uint64", "bool"]);
const INTS: Partial<Record<ColumnType, [signed: boolean, bits: number]>> = {
  int8: [true, 8], int16: [true, 16], int32: [true, 32], int64: [true, 64],
  uint8: [false, 8], uint16: [false, 16], uint32: [false, 32], uint64: [false, 64],
};
const isFloat = (t: ColumnType): boolean => t === "float64" || t === "float32";

interface Resolved {
  verb: "merge" | "join";
  on: string[] | undefined;
  leftOn: string[] | undefined;
  rightOn: string[] | undefined;
  how: MergeHow;
  suffixes: [string, string];
  broadcast: boolean | undefined;
  npartitions: number | undefined;
}

/** One result column: from one side, or a key both sides name alike (coalesced, cast to `meta`). */
type OutColumn =
  | { from: "left"; name: string; source: string }
  | { from: "right"; name: string; source: string }
  | { from: "key"; name: string; left: string; right: string; meta: ColumnMeta };

interface ColumnPlan {
  leftOn: string[];
  rightOn: string[];
  outputs: OutColumn[];
  schema: Schema;
  /** Key j compares an int with a float: both sides hash it as float64, as the join compares it. */
  hashAsFloat: boolean[];
}

type Strategy = { kind: "broadcast"; side: "left" | "right" } | { kind: "shuffle"; n: number };

interface Plan {
  graph: HighLevelGraph;
  name: string;
  count: number;
  external: Key[];
  strategy: Strategy;
}

// ---- the verbs ------------------------------------------------------------------------------

/** `left.merge(right, { on, how, ... })` (pandas' merge); see the file header for the rules. */
export function merge(left: DataFrame, right: DataFrame, options: MergeOptions = {}): DataFrame {
  if (!(right instanceof DataFrame)) throw new TesseraError(`merge: the right side must be a DataFrame, got ${describeValue(right)}`);
  return new DataFrame(new MergeInput(left, right, resolve(options, "merge")));
}

/** `left.join(right, { on, how })`: merge with pandas' join defaults (how "left", no suffixes). */
export function join(left: DataFrame, right: DataFrame, options: JoinOptions = {}): DataFrame {
  if (!(right instanceof DataFrame)) throw new TesseraError(`join: the right side must be a DataFrame, got ${describeValue(right)}`);
  const { on, how = "left", lsuffix = "", rsuffix = "" } = options;
  for (const [k, v] of [["lsuffix", lsuffix], ["rsuffix", rsuffix]] as const) {
    if (typeof v !== "string") throw new TesseraError(`join: ${k} must be a string, got ${describeValue(v)}`);
  }
  const opts: MergeOptions = { how, suffixes: [lsuffix, rsuffix] };
  if (on !== undefined) opts.on = on;
  return new DataFrame(new MergeInput(left, right, resolve(opts, "join")));
}

function describeValue(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "an array" : typeof x === "object" ? (x.constructor?.name ?? "an object") : `${typeof x} ${String(x)}`;
}

function columnList(x: unknown, what: string, verb: string): string[] | undefined {
  if (x === undefined || x === null) return undefined;
  const list = typeof x === "string" ? [x] : Array.isArray(x) ? [...(x as unknown[])] : null;
  if (!list || list.some((n) => typeof n !== "string")) throw new TesseraError(`${verb}: ${what} must be a column name or a list of them, got ${describeValue(x)}`);
  if (list.length === 0) throw new TesseraError(`${verb}: ${what} names no columns`);
  const seen = new Set<string>();
  for (const n of list as string[]) {
    if (seen.has(n)) throw new TesseraError(`${verb}: ${what} names column ${JSON.stringify(n)} twice`);
    seen.add(n);
  }
  return list as string[];
}

/** Check the options that do not depend on the data (thrown at the call). */
function resolve(o: MergeOptions, verb: "merge" | "join"): Resolved {
  const how = o.how ?? "inner";
  if (!HOWS.includes(how)) throw new TesseraError(`${verb}: how must be "inner", "left", "right" or "outer", got ${JSON.stringify(how)}`);
  const on = columnList(o.on, "on", verb);
  const leftOn = columnList(o.leftOn, "leftOn", verb);
  const rightOn = columnList(o.rightOn, "rightOn", verb);
  if (on && (leftOn || rightOn)) throw new TesseraError(`${verb}: give either on or leftOn/rightOn, not both`);
  if (!leftOn !== !rightOn) throw new TesseraError(`${verb}: give both leftOn and rightOn (or on); only ${leftOn ? "leftOn" : "rightOn"} was given`);
  if (leftOn && rightOn && leftOn.length !== rightOn.length) {
    throw new TesseraError(`${verb}: leftOn names ${leftOn.length} column(s) (${leftOn.join(", ")}) but rightOn names ${rightOn.length} (${rightOn.join(", ")}); they are paired in order`);
  }
  const suffixes = o.suffixes ?? ["_x", "_y"];
  if (!Array.isArray(suffixes) || suffixes.length !== 2 || suffixes.some((s) => typeof s !== "string")) {
    throw new TesseraError(`${verb}: suffixes must be two strings, like ["_x", "_y"]`);
  }
  if (o.broadcast !== undefined && typeof o.broadcast !== "boolean") throw new TesseraError(`${verb}: broadcast must be true, false or undefined (decide by size)`);
  const np = o.npartitions;
  if (np !== undefined && (!Number.isInteger(np) || np < 1)) throw new TesseraError(`${verb}: npartitions must be a positive integer, got ${String(np)}`);
  return { verb, on, leftOn, rightOn, how, suffixes: [suffixes[0], suffixes[1]], broadcast: o.broadcast, npartitions: np };
}

// ---- the result's columns (from the schemas alone) -------------------------------------------

/** The type a merged key takes when its sides differ (numpy's promotion; bool fits any number). */
function promote(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  if (a === "bool") return b;
  if (b === "bool") return a;
  if (isFloat(a) || isFloat(b)) return "float64";
  const [sa, wa] = INTS[a]!, [sb, wb] = INTS[b]!;
  if (sa === sb) return wa >= wb ? a : b;
  const unsignedBits = sa ? wb : wa, signedBits = sa ? wa : wb;
  const bits = Math.max(signedBits, 2 * unsignedBits);
  return bits <= 64 ? (`int${bits}` as ColumnType) : "float64";
}

function planColumns(ls: Schema, rs: Schema, r: Resolved): ColumnPlan {
  const v = r.verb;
  const list = (s: Schema) => s.names.map((n) => JSON.stringify(n)).join(", ");
  let leftOn = r.leftOn ?? r.on, rightOn = r.rightOn ?? r.on;
  if (!leftOn || !rightOn) {
    const common = ls.names.filter((n) => rs.names.includes(n));
    if (common.length === 0) {
      throw new TesseraError(`${v}: the two sides share no column to merge on; give on, or leftOn and rightOn (left columns are ${list(ls)}; right columns are ${list(rs)})`);
    }
    leftOn = rightOn = common;
  }
  const metaOf = (s: Schema, side: string, name: string): ColumnMeta => {
    const i = s.names.indexOf(name);
    if (i < 0) throw new TesseraError(`${v}: ${side} key ${JSON.stringify(name)} is not a column; ${side} columns are ${list(s)}`);
    return s.types[i]!;
  };
  const hashAsFloat: boolean[] = [];
  const keyMeta: ColumnMeta[] = [];
  leftOn.forEach((ln, j) => {
    const rn = rightOn[j]!;
    const lm = metaOf(ls, "left", ln), rm = metaOf(rs, "right", rn);
    const what = `left key ${JSON.stringify(ln)} (${lm.type}${lm.unit ? `[${lm.unit}]` : ""}) and right key ${JSON.stringify(rn)} (${rm.type}${rm.unit ? `[${rm.unit}]` : ""})`;
    for (const [side, name, m] of [["left", ln, lm], ["right", rn, rm]] as const) {
      if (m.type === "object") throw new TesseraError(`${v}: ${side} key ${JSON.stringify(name)} is an object column (lists, structs, decimals, binary); merge on numbers, strings, booleans, dates or timestamps`);
    }
    const numeric = NUMBERS.has(lm.type) && NUMBERS.has(rm.type);
    if (!numeric && lm.type !== rm.type) throw new TesseraError(`${v}: ${what} have incompatible types; cast one side with astype first`);
    if (lm.type === "timestamp" && lm.unit !== rm.unit) throw new TesseraError(`${v}: ${what} are timestamps in different units; convert one side first`);
    hashAsFloat.push(numeric && isFloat(lm.type) !== isFloat(rm.type));
    keyMeta.push(lm.type === rm.type ? { ...lm } : { type: promote(lm.type, rm.type) });
  });

  // pandas' rules: keys named alike become one column; other names on both sides get suffixes.
  const mergedKey = new Map<string, number>();
  leftOn.forEach((ln, j) => {
    if (ln === rightOn[j]) mergedKey.set(ln, j);
  });
  const rightKept = rs.names.filter((n) => !mergedKey.has(n));
  const rightKeptSet = new Set(rightKept);
  const outputs: OutColumn[] = [];
  const types: ColumnMeta[] = [];
  ls.names.forEach((n, i) => {
    const j = mergedKey.get(n);
    if (j !== undefined) {
      outputs.push({ from: "key", name: n, left: n, right: n, meta: keyMeta[j]! });
      types.push({ ...keyMeta[j]! });
    } else {
      outputs.push({ from: "left", name: rightKeptSet.has(n) ? n + r.suffixes[0] : n, source: n });
      types.push({ ...ls.types[i]! });
    }
  });
  const leftNames = new Set(ls.names);
  for (const n of rightKept) {
    outputs.push({ from: "right", name: leftNames.has(n) ? n + r.suffixes[1] : n, source: n });
    types.push({ ...rs.types[rs.names.indexOf(n)]! });
  }
  const names = outputs.map((o) => o.name);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      const fix = v === "join" ? "give lsuffix and/or rsuffix" : "choose other suffixes";
      throw new TesseraError(`${v}: the result would have two columns named ${JSON.stringify(n)} (columns on both sides that are not merged keys get suffixes); ${fix}`);
    }
    seen.add(n);
  }
  return { leftOn: [...leftOn], rightOn: [...rightOn], outputs, schema: { names, types }, hashAsFloat };
}

// ---- the graph ----------------------------------------------------------------------------------

function knownRows(df: DataFrame): number | null {
  const lengths = df.input.knownLengths?.(df.steps);
  return lengths ? lengths.reduce((a, b) => a + b, 0) : null;
}

function chooseStrategy(left: DataFrame, right: DataFrame, L: number, R: number, r: Resolved): Strategy {
  const shuffle: Strategy = { kind: "shuffle", n: r.npartitions ?? Math.max(L, R, 1) };
  if (r.broadcast === false) return shuffle;
  // A broadcast side's unmatched rows would come out of every partition of the other side.
  const canRight = r.how === "inner" || r.how === "left" || L === 1;
  const canLeft = r.how === "inner" || r.how === "right" || R === 1;
  const rowsL = knownRows(left), rowsR = knownRows(right);
  // The smaller of the two by known rows, then by partitions; ties broadcast the right (the join's build side).
  const pickSmaller = (): Strategy =>
    (rowsL ?? Infinity) < (rowsR ?? Infinity) || ((rowsL ?? Infinity) === (rowsR ?? Infinity) && L < R)
      ? { kind: "broadcast", side: "left" }
      : { kind: "broadcast", side: "right" };
  const small = (n: number, rows: number | null) => n === 1 || (rows !== null && rows <= BROADCAST_ROWS);
  const bRight = canRight && (r.broadcast === true || small(R, rowsR));
  const bLeft = canLeft && (r.broadcast === true || small(L, rowsL));
  if (bRight && bLeft) return pickSmaller();
  if (bRight) return { kind: "broadcast", side: "right" };
  if (bLeft) return { kind: "broadcast", side: "left" };
  return shuffle;
}

/** Every partition as one task (the partition itself when there is one). */
function gatherAll(low: Lowered, name: string, nodes: GraphNode[]): Key {
  if (low.npartitions === 1) return blockKey(low.name, [0]);
  const key = blockKey(name, [0]);
  nodes.push(new Task(key, "dataframe.concat-partitions", Array.from({ length: low.npartitions }, (_, i) => new TaskRef(blockKey(low.name, [i])))));
  return key;
}

/** Hash-partition every partition into n pieces and gather piece j of all into partition j. */
function shuffleSide(low: Lowered, on: string[], asFloat: boolean[], n: number, side: string, token: string, nodes: GraphNode[]): Key[] {
  const split = `merge-split-${side}-${token}`, piece = `merge-piece-${side}-${token}`, part = `merge-shuffle-${side}-${token}`;
  const spec = opSpec({ on, n, asFloat, side });
  for (let i = 0; i < low.npartitions; i++) nodes.push(new Task(blockKey(split, [i]), "dataframe.merge-split", [spec, new TaskRef(blockKey(low.name, [i]))]));
  const out: Key[] = [];
  for (let j = 0; j < n; j++) {
    const pieces = Array.from({ length: low.npartitions }, (_, i) => {
      const key = blockKey(piece, [i, j]);
      nodes.push(new Task(key, "tessera.getitem", [new TaskRef(blockKey(split, [i])), j]));
      return key;
    });
    if (pieces.length === 1) out.push(pieces[0]!);
    else {
      const key = blockKey(part, [j]);
      nodes.push(new Task(key, "dataframe.concat-partitions", pieces.map((p) => new TaskRef(p))));
      out.push(key);
    }
  }
  return out;
}

function buildGraph(left: DataFrame, right: DataFrame, cols: ColumnPlan, r: Resolved): Plan {
  const ll = left.lowered(), rl = right.lowered();
  const L = ll.npartitions, R = rl.npartitions;
  const strategy = chooseStrategy(left, right, L, R, r);
  const token = tokenize("merge", ll.name, rl.name, cols.leftOn, cols.rightOn, r.how, cols.outputs, strategy);
  const name = `merge-${token}`;
  const joinSpec = opSpec({ leftOn: cols.leftOn, rightOn: cols.rightOn, how: r.how, outputs: cols.outputs });
  const nodes: GraphNode[] = [];
  const joinTask = (j: number, l: Key, rt: Key) => nodes.push(new Task(blockKey(name, [j]), "dataframe.merge-join", [joinSpec, new TaskRef(l), new TaskRef(rt)]));
  let count: number;
  if (strategy.kind === "broadcast" && strategy.side === "right") {
    const all = gatherAll(rl, `merge-broadcast-right-${token}`, nodes);
    for (let i = 0; i < L; i++) joinTask(i, blockKey(ll.name, [i]), all);
    count = L;
  } else if (strategy.kind === "broadcast") {
    const all = gatherAll(ll, `merge-broadcast-left-${token}`, nodes);
    for (let j = 0; j < R; j++) joinTask(j, all, blockKey(rl.name, [j]));
    count = R;
  } else {
    const n = strategy.n;
    const lp = shuffleSide(ll, cols.leftOn, cols.hashAsFloat, n, "left", token, nodes);
    const rp = shuffleSide(rl, cols.rightOn, cols.hashAsFloat, n, "right", token, nodes);
    for (let j = 0; j < n; j++) joinTask(j, lp[j]!, rp[j]!);
    count = n;
  }
  const graph = HighLevelGraph.merge(ll.graph, rl.graph).withLayer(new MaterializedLayer(name, nodes, new Set([ll.name, rl.name])));
  return { graph, name, count, external: [...ll.external, ...rl.external], strategy };
}

class MergeInput implements Input {
  private cols: ColumnPlan | undefined;
  private plan: Plan | undefined;
  constructor(
    private readonly left: DataFrame,
    private readonly right: DataFrame,
    private readonly options: Resolved,
  ) {
    if (this.prepared) this.columns(); // bad keys or types fail at the call when the schemas are known
  }

  get prepared(): boolean {
    return this.left.input.prepared && this.right.input.prepared;
  }

  async prepare(): Promise<void> {
    await Promise.all([this.left[PREPARE](), this.right[PREPARE]()]);
    this.columns();
  }

  private columns(): ColumnPlan {
    if (!this.prepared) throw new TesseraError(`internal: ${this.options.verb} was not prepared (prepare() first)`);
    this.cols ??= planColumns(deriveSchema(this.left.input.schema(), this.left.steps), deriveSchema(this.right.input.schema(), this.right.steps), this.options);
    return this.cols;
  }

  private ready(): Plan {
    this.plan ??= buildGraph(this.left, this.right, this.columns(), this.options);
    return this.plan;
  }

  /** @internal which strategy the graph uses (for tests and explain-like output). */
  strategy(): Strategy {
    return this.ready().strategy;
  }

  schema(): Schema {
    return this.columns().schema;
  }
  npartitions(): number {
    return this.ready().count;
  }
  token(): string {
    return tokenize("merge", this.left.input.token(), this.left.steps, this.right.input.token(), this.right.steps, this.options);
  }
  lower(steps: readonly Step[]): Lowered {
    const p = this.ready();
    return new KeysInput(p.graph, p.name, p.count, this.columns().schema, p.external).lower(steps);
  }
}

// ---- worker ops ---------------------------------------------------------------------------------

/** Left value where the row has a left side, else the right value: a merged key column. */
function coalesce(l: Column, r: Column, leftRows: Int32Array, meta: ColumnMeta): Column {
  const n = leftRows.length;
  const useLeft = (i: number) => leftRows[i]! >= 0;
  let valid: Uint8Array | undefined;
  if (l.valid || r.valid) {
    valid = new Uint8Array(n);
    for (let i = 0; i < n; i++) valid[i] = useLeft(i) ? (l.valid ? l.valid[i]! : 1) : r.valid ? r.valid[i]! : 1;
  }
  if (meta.type === "string") {
    // The two sides have their own dictionaries: re-express the right codes in a merged one.
    const dict = [...(l.dictionary ?? [])];
    const index = new Map<string, number>();
    dict.forEach((s, i) => index.has(s) || index.set(s, i));
    const rmap = Int32Array.from(r.dictionary ?? [], (s) => {
      let c = index.get(s);
      if (c === undefined) index.set(s, (c = dict.push(s) - 1));
      return c;
    });
    const lc = l.data as Int32Array, rc = r.data as Int32Array;
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) if (!valid || valid[i]) codes[i] = useLeft(i) ? lc[i]! : rmap[rc[i]!]!;
    const out: Column = { type: "string", data: codes, dictionary: dict };
    if (valid) out.valid = valid;
    return out;
  }
  const data = allocColumnData(meta.type, n) as unknown as { [i: number]: unknown };
  const ld = l.data as unknown as { [i: number]: unknown }, rd = r.data as unknown as { [i: number]: unknown };
  for (let i = 0; i < n; i++) data[i] = useLeft(i) ? ld[i] : rd[i];
  const out: Column = { ...meta, data: data as unknown as ColumnData };
  if (valid) out.valid = valid;
  return out;
}

interface JoinSpec {
  leftOn: string[];
  rightOn: string[];
  how: MergeHow;
  outputs: OutColumn[];
}

/** One output partition: the row pairs of the hash join, gathered into the planned columns. */
function joinFrames(k: Parameters<typeof hashJoin>[0], left: Frame, right: Frame, spec: JoinSpec): Frame {
  const { leftRows, rightRows } = hashJoin(k, left, right, spec.leftOn, spec.rightOn, spec.how);
  const columns = spec.outputs.map((o): Column => {
    if (o.from === "left") return takeColumn(column(left, o.source, "merge (left side)"), leftRows);
    if (o.from === "right") return takeColumn(column(right, o.source, "merge (right side)"), rightRows);
    const where = `merge: key ${JSON.stringify(o.name)}`;
    const l = castColumn(takeColumn(column(left, o.left, "merge (left side)"), leftRows), o.meta.type, where);
    const r = castColumn(takeColumn(column(right, o.right, "merge (right side)"), rightRows), o.meta.type, where);
    return coalesce(l, r, leftRows, o.meta);
  });
  return { length: leftRows.length, names: spec.outputs.map((o) => o.name), columns };
}

registerOp("dataframe.merge-join", (spec: JoinSpec, left: unknown, right: unknown) =>
  withKernels((k) => joinFrames(k, asFrame(left, "merge (left side)"), asFrame(right, "merge (right side)"), spec)),
);

registerOp("dataframe.merge-split", (spec: { on: string[]; n: number; asFloat: boolean[]; side: string }, frame: unknown) =>
  withKernels((k): Frame[] => {
    const f = asFrame(frame, `merge shuffle (${spec.side} side)`);
    // Hash int keys that meet float keys as floats, so the pieces agree with the join's comparison.
    const keys = spec.on.map((n, j) => {
      const c = column(f, n, `merge shuffle (${spec.side} side)`);
      return spec.asFloat[j] ? castColumn(c, "float64", `merge shuffle: key ${JSON.stringify(n)}`) : c;
    });
    const ids = hashPartition(k, { length: f.length, names: spec.on, columns: keys }, spec.on, spec.n);
    return splitByPartition(f, ids, spec.n);
  }),
);
