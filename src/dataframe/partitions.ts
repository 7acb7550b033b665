/**
 * Verbs that rearrange whole partitions: concat (one dataframe after another), repartition
 * (merge neighbours or split them evenly), and mapPartitions (a registered op on each
 * partition). Each makes a new layer over the lowered partitions of its inputs.
 */

import { TesseraError } from "../errors.js";
import { HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { Alias, Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { opSpec } from "../graph/spec.js";
import { registerOp } from "../worker/registry.js";
import { DataFrame } from "./dataframe.js";
import { asFrame, concatFrames, frameBytes, sliceFrame, type Schema } from "./frame.js";
import { KeysInput, PlannedInput, type Plan } from "./input.js";
import { eachPartition } from "./reduce.js";
import * as arrow from "apache-arrow";
import { arrowToFrame, frameToArrow } from "./io/arrow.js";
import { deriveSchema } from "./steps.js";

function sameSchema(a: Schema, b: Schema): boolean {
  return a.names.length === b.names.length && a.names.every((n, i) => n === b.names[i] && a.types[i]!.type === b.types[i]!.type);
}

/** The rows of each dataframe in turn. Schemas must match (cast first with astype). */
export async function concat(dfs: readonly DataFrame[]): Promise<DataFrame> {
  if (dfs.length === 0) throw new TesseraError("concat: give at least one dataframe");
  const schemas = await Promise.all(dfs.map((d) => d.schema()));
  schemas.forEach((s, i) => {
    if (!sameSchema(s, schemas[0]!)) {
      throw new TesseraError(`concat: dataframe ${i} has columns ${describe(s)}, but dataframe 0 has ${describe(schemas[0]!)}`);
    }
  });
  const lows = dfs.map((d) => d.lowered());
  const name = `concat-${tokenize(lows.map((l) => l.name))}`;
  const nodes: GraphNode[] = [];
  let at = 0;
  for (const l of lows) for (let i = 0; i < l.npartitions; i++) nodes.push(new Alias(blockKey(name, [at++]), blockKey(l.name, [i])));
  const graph = HighLevelGraph.merge(...lows.map((l) => l.graph)).withLayer(new MaterializedLayer(name, nodes, lows.map((l) => l.name)));
  return new DataFrame(new KeysInput(graph, name, at, schemas[0]!, lows.flatMap((l) => l.external)));
}

function describe(s: Schema): string {
  return s.names.map((n, i) => `${n}:${s.types[i]!.type}`).join(", ");
}

export interface RepartitionOptions {
  /** Partitions of nearly equal row counts: neighbours merged, or each split evenly. */
  npartitions?: number;
  /** Target bytes per partition (a number, or "100MB", "64MiB", ...): big ones split, small neighbours merged. */
  partitionSize?: number | string;
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

export function parseBytes(size: number | string, what: string): number {
  if (typeof size === "number") {
    if (Number.isFinite(size) && size >= 1) return Math.floor(size);
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(size);
    if (m) {
      const n = Number(m[1]) * UNITS[(m[2] ?? "b").toLowerCase()]!;
      if (n >= 1) return Math.floor(n);
    }
  }
  throw new TesseraError(`${what}: expected a size in bytes like 100000000, "100MB" or "64MiB", got ${JSON.stringify(size)}`);
}

/** One output partition: pieces of input partitions, in order (`piece` of `pieces` equal row ranges). */
type Segment = { input: number; piece: number; pieces: number };

/**
 * Repartition (dask's df.repartition): by count, neighbours are merged or split evenly; by
 * size, the partitions are computed first (kept on the workers) to learn their sizes, then
 * each bigger than the target is split and neighbours that fit together are merged.
 */
export function repartition(df: DataFrame, options: number | RepartitionOptions): DataFrame {
  const o = typeof options === "number" ? { npartitions: options } : options;
  if ((o.npartitions === undefined) === (o.partitionSize === undefined)) throw new TesseraError("repartition: give either npartitions or partitionSize");
  if (o.npartitions !== undefined && (!Number.isInteger(o.npartitions) || o.npartitions < 1)) {
    throw new TesseraError(`repartition: npartitions must be a positive integer, got ${o.npartitions}`);
  }
  const target = o.partitionSize !== undefined ? parseBytes(o.partitionSize, "repartition: partitionSize") : 0;
  return new DataFrame(new RepartitionInput(df, o.npartitions, target));
}

class RepartitionInput extends PlannedInput {
  protected readonly verb = "repartition";
  /** By size: the input's partitions, kept on the workers while this input lives. */
  private computed: DataFrame | undefined;
  constructor(
    private readonly df: DataFrame,
    private readonly count: number | undefined,
    private readonly bytes: number,
  ) {
    super();
  }
  protected async plan(): Promise<Plan> {
    const schema = await this.df.schema();
    let source = this.df;
    let segments: Segment[][];
    if (this.count !== undefined) {
      segments = byCount(source.input.npartitions(), this.count);
    } else {
      source = this.computed = await this.df.persist();
      const sizes = await eachPartition<number>(source, "dataframe.frame-bytes", () => ({}));
      segments = bySize(sizes, this.bytes);
    }
    const low = source.lowered();
    const name = `repartition-${tokenize(low.name, segments)}`;
    const nodes: GraphNode[] = segments.map((segs, j) => {
      const refs = segs.map((s) => new TaskRef(blockKey(low.name, [s.input])));
      if (segs.length === 1 && segs[0]!.pieces === 1) return new Alias(blockKey(name, [j]), blockKey(low.name, [segs[0]!.input]));
      const spec = opSpec({ pieces: segs.map((s) => [s.piece, s.pieces]) });
      return new Task(blockKey(name, [j]), "dataframe.merge-pieces", [spec, ...refs]);
    });
    const graph = low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name]));
    return { graph, name, count: segments.length, schema, external: low.external };
  }
  token(): string {
    return tokenize("repartition", this.df.input.token(), this.df.steps, this.count ?? null, this.bytes);
  }
}

/** n inputs into m outputs: contiguous groups when merging, even pieces when splitting. */
function byCount(n: number, m: number): Segment[][] {
  const out: Segment[][] = [];
  if (m <= n) {
    for (let j = 0; j < m; j++) {
      const from = Math.floor((j * n) / m);
      const to = Math.floor(((j + 1) * n) / m);
      out.push(Array.from({ length: to - from }, (_, k) => ({ input: from + k, piece: 0, pieces: 1 })));
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const pieces = Math.floor(((i + 1) * m) / n) - Math.floor((i * m) / n);
    for (let p = 0; p < pieces; p++) out.push([{ input: i, piece: p, pieces }]);
  }
  return out;
}

/** Greedy by bytes: split what is bigger than the target, merge neighbours while they fit. */
function bySize(sizes: readonly number[], target: number): Segment[][] {
  const out: Segment[][] = [];
  let open: Segment[] = [];
  let openBytes = 0;
  const flush = () => {
    if (open.length) out.push(open);
    open = [];
    openBytes = 0;
  };
  sizes.forEach((bytes, input) => {
    if (bytes > target) {
      flush();
      const pieces = Math.ceil(bytes / target);
      for (let p = 0; p < pieces; p++) out.push([{ input, piece: p, pieces }]);
      return;
    }
    if (openBytes + bytes > target) flush();
    open.push({ input, piece: 0, pieces: 1 });
    openBytes += bytes;
  });
  flush();
  return out.length ? out : [[{ input: 0, piece: 0, pieces: 1 }]];
}

registerOp("dataframe.merge-pieces", (spec: { pieces: [number, number][] }, ...frames: unknown[]) => {
  const parts = frames.map((frame, i) => {
    const f = asFrame(frame, `repartition input ${i}`);
    const [piece, pieces] = spec.pieces[i]!;
    if (pieces === 1) return f;
    return sliceFrame(f, Math.floor((piece * f.length) / pieces), Math.floor(((piece + 1) * f.length) / pieces));
  });
  return parts.length === 1 ? parts[0]! : concatFrames(parts);
});

registerOp("dataframe.frame-bytes", (_spec: object, frame: unknown) => frameBytes(asFrame(frame, "repartition")));

registerOp("dataframe.concat-partitions", (...frames: unknown[]) => concatFrames(frames.map((f, i) => asFrame(f, `concat partition ${i}`))));


export interface MapPartitionsOptions {
  /** The schema the op returns (Dask's `meta`); default: the input's. */
  meta?: Schema;
  /** Extra arguments after the partition. */
  args?: unknown[];
}

/**
 * Run a registered op (`"module.fn"`) on each partition: it receives the partition as an
 * Arrow Table (plus `args`) and returns an Arrow Table (or a Frame).
 */
export async function mapPartitions(df: DataFrame, op: string, options: MapPartitionsOptions = {}): Promise<DataFrame> {
  if (typeof op !== "string" || op.length === 0) throw new TesseraError("mapPartitions: op must be a registered op name like \"mymodule.fn\"");
  const schema = options.meta ?? deriveSchema(df.input.prepared ? df.input.schema() : await df.schema(), df.steps);
  await df.schema();
  const low = df.lowered();
  const args = options.args ?? [];
  const name = `${op.replace(/[^A-Za-z0-9_]+/g, "_")}-${tokenize(low.name, op, args)}`;
  const nodes: GraphNode[] = [];
  for (let i = 0; i < low.npartitions; i++) {
    // A linear chain (to Arrow, the op, back to a frame) that the optimizer fuses into one task.
    const toArrow = new Task(blockKey(`${name}-in`, [i]), "dataframe.to-arrow", [new TaskRef(blockKey(low.name, [i]))]);
    const apply = new Task(blockKey(`${name}-op`, [i]), op, [new TaskRef(toArrow.key), ...args]);
    nodes.push(toArrow, apply, new Task(blockKey(name, [i]), "dataframe.from-arrow", [opSpec({ op }), new TaskRef(apply.key)]));
  }
  const graph = low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name]));
  return new DataFrame(new KeysInput(graph, name, low.npartitions, schema, low.external));
}

registerOp("dataframe.to-arrow", (frame: unknown) => frameToArrow(asFrame(frame, "mapPartitions input")));

registerOp("dataframe.from-arrow", (spec: { op: string }, value: unknown) => {
  if (value instanceof arrow.Table || value instanceof arrow.RecordBatch) return arrowToFrame(value);
  try {
    return asFrame(value, `the result of ${spec.op}`);
  } catch {
    const got = value === null ? "null" : typeof value === "object" ? (value.constructor?.name ?? "an object") : typeof value;
    throw new TesseraError(`mapPartitions: ${spec.op} returned ${got}; it must return an Arrow Table (or RecordBatch)`);
  }
});
