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
import { asFrame, concatFrames, sliceFrame, type Schema } from "./frame.js";
import { KeysInput } from "./input.js";
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

/** Merge neighbouring partitions, or split them, into `npartitions` of nearly equal counts. */
export async function repartition(df: DataFrame, npartitions: number): Promise<DataFrame> {
  if (!Number.isInteger(npartitions) || npartitions < 1) throw new TesseraError(`repartition: npartitions must be a positive integer, got ${npartitions}`);
  const schema = await df.schema();
  const low = df.lowered();
  const n = low.npartitions;
  if (npartitions === n) return df;
  const name = `repartition-${tokenize(low.name, npartitions)}`;
  const nodes: GraphNode[] = [];
  if (npartitions < n) {
    // Contiguous groups of input partitions.
    for (let j = 0; j < npartitions; j++) {
      const from = Math.floor((j * n) / npartitions);
      const to = Math.floor(((j + 1) * n) / npartitions);
      const refs = Array.from({ length: to - from }, (_, k) => new TaskRef(blockKey(low.name, [from + k])));
      nodes.push(new Task(blockKey(name, [j]), "dataframe.concat-partitions", refs));
    }
  } else {
    // Each input partition split into `pieces` row ranges of nearly equal size.
    let out = 0;
    for (let i = 0; i < n; i++) {
      const pieces = Math.floor(((i + 1) * npartitions) / n) - Math.floor((i * npartitions) / n);
      for (let p = 0; p < pieces; p++) {
        nodes.push(new Task(blockKey(name, [out++]), "dataframe.split-partition", [opSpec({ piece: p, pieces }), new TaskRef(blockKey(low.name, [i]))]));
      }
    }
  }
  const graph = low.graph.withLayer(new MaterializedLayer(name, nodes, [low.name]));
  return new DataFrame(new KeysInput(graph, name, npartitions, schema, low.external));
}

registerOp("dataframe.concat-partitions", (...frames: unknown[]) => concatFrames(frames.map((f, i) => asFrame(f, `concat partition ${i}`))));

registerOp("dataframe.split-partition", (spec: { piece: number; pieces: number }, frame: unknown) => {
  const f = asFrame(frame, "split partition");
  const start = Math.floor((spec.piece * f.length) / spec.pieces);
  const end = Math.floor(((spec.piece + 1) * f.length) / spec.pieces);
  return sliceFrame(f, start, end);
});

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
