/**
 * Running the estimators' passes on the current client. A pass is one task per row block
 * (an `ml.*` op over block i of X, and of y) whose partials a combine tree reduces to one
 * value that comes back to the client (with a few blocks, the client adds the partials).
 *
 * Iterative fits persist X and y first (their blocks stay on the workers, pinned by futures
 * the fit holds until it ends), so every pass after that reads blocks already in wasm memory:
 * the graph of an iteration is its small tasks, with the weights inline in their specs.
 */

import { COLLECTION, type Collection, type CollectionSpec } from "../client/collection.js";
import { currentClient, type ComputeOptions } from "../client/current.js";
import type { Future } from "../client/future.js";
import { TaskError, TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type Graph, type GraphNode, type Key } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { combineTree } from "../graph/tree.js";
import type { Rows } from "./data.js";
import { concatPartials, sumPartials } from "./kernels.js";
import type { Info, InfoSpec } from "./ops.js";

/** A graph and the keys whose values make the result: the smallest collection there is. */
export class GraphValue<T> implements Collection<T> {
  constructor(
    private readonly graph: HighLevelGraph | Graph,
    private readonly keys: readonly Key[],
    private readonly external: readonly Key[],
    private readonly finalize: (values: unknown[]) => T,
  ) {}

  [COLLECTION](): CollectionSpec<T> {
    return {
      graph: this.graph,
      keys: this.keys,
      external: this.external,
      finalize: this.finalize,
      rebuild: (futures) => new Held(futures as Future[]) as unknown as Collection<T>,
    };
  }
}

/** What persisting a GraphValue gives: the futures of its keys. */
export class Held {
  constructor(readonly futures: readonly Future[]) {}
  release(): void {
    for (const f of this.futures) f.release();
  }
}

/**
 * A worker's error in the estimator's words: a TesseraError the op threw (bad input) is
 * rethrown as one naming `what`, with the TaskError (key, op, worker) as its cause.
 */
export function rethrow(err: unknown, what: string): never {
  if (err instanceof TaskError && err.cause instanceof Error && err.cause.name === "TesseraError") {
    throw new TesseraError(`${what}: ${err.cause.message}`, { cause: err });
  }
  throw err;
}

export async function computeValue<T>(value: GraphValue<T>, what: string, options: ComputeOptions = {}): Promise<T> {
  try {
    return await currentClient().compute(value, options);
  } catch (err) {
    rethrow(err, what);
  }
}

/** Compute the x (and y) blocks of `rows` and keep them on the workers. */
export async function persistRows(rows: Rows, what: string, options: ComputeOptions = {}): Promise<Rows & { held: Held }> {
  const keys = [...rows.x, ...(rows.y ?? [])];
  const held = currentClient().persist(new GraphValue(rows.graph, keys, rows.external, () => undefined), options) as unknown as Held;
  try {
    await Promise.all(held.futures.map((f) => f.wait()));
  } catch (err) {
    held.release();
    rethrow(err, what);
  }
  return { ...rows, graph: new HighLevelGraph(), external: keys, hold: [held], held };
}

export interface Pass {
  /** Key prefix, e.g. "ml-logistic". */
  name: string;
  op: string;
  /** The spec of block i. */
  spec: (block: number) => object;
  combine: string;
  /** Give the op y's block after x's (default: when rows has y). */
  withY?: boolean;
  /** Partials per combine node (default 8). */
  splitEvery?: number;
  /** One more input per block, after y's (e.g. sample weights aligned with the row blocks). */
  extra?: readonly Key[];
}

/** The combines (ops.ts) the client runs itself when one node would take all the partials. */
const CLIENT_COMBINES: Record<string, (parts: readonly object[]) => object> = { "ml.sum": sumPartials, "ml.concat": concatPartials };

/** One task per block, a combine tree, one value back. */
export async function reduceBlocks<P>(rows: Rows, pass: Pass, what: string, options: ComputeOptions = {}): Promise<P> {
  const withY = pass.withY ?? rows.y !== null;
  if (withY && rows.y === null) throw new TesseraError(`internal: ${pass.op} needs y`);
  const token = randomToken();
  const partName = `${pass.name}-part-${token}`;
  const nodes: GraphNode[] = [];
  const parts = rows.x.map((xk, i) => {
    const key = blockKey(partName, [i]);
    const args = [opSpec(pass.spec(i)), new TaskRef(xk), ...(withY ? [new TaskRef(rows.y![i]!)] : []), ...(pass.extra ? [new TaskRef(pass.extra[i]!)] : [])];
    nodes.push(new Task(key, pass.op, args));
    return key;
  });
  if (parts.length === 0) throw new TesseraError(`${what}: X has no blocks`);
  // No more partials than one combine node takes: the client combines them itself, in block
  // order as that node would (the same result), one hop sooner: the partials need not first
  // meet on one worker. Iterative fits (a Lloyd step, a k-means‖ round) pay that hop per pass.
  const local = CLIENT_COMBINES[pass.combine];
  if (local && parts.length <= (pass.splitEvery ?? 8)) {
    const graph = rows.graph.withLayer(new MaterializedLayer(`${pass.name}-${token}`, nodes, [...rows.graph.layers.keys()]));
    return computeValue(new GraphValue(graph, parts, rows.external, (v) => local(v as object[]) as P), what, options);
  }
  const root = combineTree(parts, `${pass.name}-combine-${token}`, pass.combine, pass.splitEvery ?? 8, nodes);
  const layer = new MaterializedLayer(`${pass.name}-${token}`, nodes, [...rows.graph.layers.keys()]);
  const graph = rows.graph.withLayer(layer);
  return computeValue(new GraphValue(graph, [root], rows.external, (v) => v[0] as P), what, options);
}

/** Block keys `name[i]` of a layer over the row blocks. */
export const rowKeys = (name: string, n: number): Key[] => Array.from({ length: n }, (_, i) => blockKey(name, [i]));

export interface InspectOptions {
  /** Collect y's classes (classifiers). */
  labels?: boolean;
  moments?: boolean;
  minmax?: boolean;
}

/** Most classes a classifier takes: more is taken for a continuous target given by mistake. */
export const MAX_CLASSES = 1000;

/**
 * The first pass of a fit: rows per block, the first NaN / infinity / length mismatch (thrown
 * here as a TesseraError naming `what`), y's classes and column moments when asked.
 */
export async function inspect(rows: Rows, what: string, o: InspectOptions, options: ComputeOptions = {}): Promise<Info & { n: number; offsets: number[] }> {
  const offsets = rows.rows ? rowOffsets(rows.rows) : null;
  const info = await reduceBlocks<Info>(
    rows,
    {
      name: "ml-info",
      op: "ml.info",
      combine: "ml.info.combine",
      spec: (block): InfoSpec => ({
        d: rows.d,
        block,
        offset: offsets ? offsets[block]! : null,
        columns: rows.columns,
        target: rows.target,
        labels: o.labels ?? false,
        maxClasses: MAX_CLASSES,
        moments: o.moments ?? false,
        minmax: o.minmax ?? false,
      }),
    },
    what,
    options,
  );
  if (info.problem) throw new TesseraError(`${what}: ${info.problem}`);
  const n = info.rows.reduce((a, b) => a + b, 0);
  if (n === 0) throw new TesseraError(`${what}: X has no rows`);
  return { ...info, n, offsets: rowOffsets(info.rows) };
}

/** The first row number of each block. */
export function rowOffsets(rows: readonly number[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const r of rows) {
    out.push(at);
    at += r;
  }
  return out;
}

/** Rows of X by global row number (sorted, distinct), fetched from the blocks that hold them. */
export async function fetchRows(rows: Rows, indices: readonly number[], counts: readonly number[], what: string, options: ComputeOptions = {}): Promise<Float64Array> {
  const offsets = rowOffsets(counts);
  const wanted = new Map<number, number[]>();
  for (const g of indices) {
    let b = 0;
    while (b + 1 < offsets.length && offsets[b + 1]! <= g) b++;
    if (g < 0 || g >= offsets[b]! + counts[b]!) throw new TesseraError(`internal: row ${g} is out of range`);
    const list = wanted.get(b) ?? [];
    list.push(g - offsets[b]!);
    wanted.set(b, list);
  }
  const token = randomToken();
  const nodes: GraphNode[] = [];
  const parts = [...wanted.keys()].sort((a, b) => a - b).map((b) => {
    const key = blockKey(`ml-rows-${token}`, [b]);
    nodes.push(new Task(key, "ml.rows", [opSpec({ d: rows.d, rows: wanted.get(b)! }), new TaskRef(rows.x[b]!)]));
    return key;
  });
  const root = combineTree(parts, `ml-rows-combine-${token}`, "ml.concat", 8, nodes);
  const graph = rows.graph.withLayer(new MaterializedLayer(`ml-rows-${token}`, nodes, [...rows.graph.layers.keys()]));
  const out = await computeValue(new GraphValue(graph, [root], rows.external, (v) => v[0] as { rows: Float64Array }), what, options);
  return out.rows;
}
