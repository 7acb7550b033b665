/**
 * `toBatches(collection, options)`: mini-batches for a training loop on this thread, drawn from a
 * tessera 2-d array (+ labels) or a dataframe (feature columns + a label column); with
 * `shard: { index, count }` only shard `index`'s partitions, and `shardedBatches` gives every
 * shard at once (shards.ts says which partitions each shard reads: by default, per worker, the
 * ones it already holds).
 *
 * A shard's partitions are read in a seeded random order, grouped into windows of at least
 * `shuffleBuffer` rows (whole partitions). One `nn.window` task per window, on the worker holding
 * its partitions, converts them to f32 and permutes their rows (seeded), so a batch mixes rows of
 * several partitions and the consumer's thread does no per-row work: the window's one buffer
 * comes over by transfer, and batches are views into it (only a batch straddling two windows is
 * copied). `prefetch` windows are requested ahead of the one being read.
 */

import { currentClient } from "../client/current.js";
import type { Client } from "../client/client.js";
import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { toRows, type MatrixInput, type Rows, type TargetInput } from "../ml/data.js";
import { GraphValue, rethrow } from "../ml/run.js";
import { mixSeed, permutation } from "./kernels.js";
import type { WindowRows, WindowSpec } from "./ops.js";
import { type ShardPlan, type ShardSpec, blockHolders, checkShard, planShards } from "./shards.js";

export interface Batch {
  /** Row-major f32 [rows, d]. */
  x: Float32Array;
  /** One label per row (f32), or null without labels. */
  y: Float32Array | null;
  rows: number;
  d: number;
}

export interface BatchOptions {
  batchSize?: number;
  /** Shuffle partitions and rows (default true). */
  shuffle?: boolean;
  seed?: number;
  /** Rows permuted together: partitions are read in windows of at least this many rows (default max(8 batches, 4096)). */
  shuffleBuffer?: number;
  /** Drop the last batch when it has fewer than batchSize rows (default false). */
  dropLast?: boolean;
  /** Dataframes: the feature columns (default every column but the label). */
  columns?: readonly string[];
  /** Arrays: a 1-d array (or plain values) of labels; dataframes: the label column's name. */
  label?: TargetInput;
  /** Windows requested ahead of the one being read (default 2). */
  prefetch?: number;
  /** Only this shard's partitions: shard `index` of `count` (see shards.ts for which ones). */
  shard?: ShardSpec;
  client?: Client;
}

export interface ShardedBatchOptions extends Omit<BatchOptions, "shard"> {
  /** Number of shards (default: one per worker of the cluster). */
  count?: number;
}

/** One shard of shardedBatches: its batches, and where its partitions are. */
export interface BatchShard {
  index: number;
  count: number;
  /** The worker holding this shard's partitions, or null when the data is not persisted. */
  worker: string | null;
  /** Its partitions (row blocks of the collection), ascending. */
  partitions: number[];
  /** One pass over its rows. */
  batches: AsyncGenerator<Batch>;
}

/** A collection ready to be read: its row blocks, their holders and sizes, and the checked options. */
interface Source {
  what: string;
  client: Client;
  rows: Rows;
  /** Worker holding each block (null: none). */
  holders: (string | null)[];
  /** Rows per block, or null when unknown (dataframes read in order). */
  counts: number[] | null;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  cap: number;
  prefetch: number;
  dropLast: boolean;
}

async function openSource(collection: MatrixInput, options: BatchOptions, what: string): Promise<Source> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TesseraError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new TesseraError(`${what}: seed must be an integer, got ${seed}`);
  const cap = options.shuffleBuffer ?? Math.max(8 * batchSize, 4096);
  if (!Number.isInteger(cap) || cap < 1) throw new TesseraError(`${what}: shuffleBuffer must be a positive integer (rows), got ${cap}`);
  let X: MatrixInput = collection;
  const y: TargetInput | undefined = options.label;
  if (collection instanceof DataFrame) {
    if (options.label !== undefined && typeof options.label !== "string") throw new TesseraError(`${what}: for a dataframe, label must name a column`);
    if (options.columns) X = collection.select(...options.columns, ...(typeof y === "string" ? [y] : []));
  } else if (options.columns) {
    throw new TesseraError(`${what}: columns selects dataframe columns; slice an array instead`);
  }
  const client = options.client ?? currentClient();
  const rows = await toRows(X, y, what);
  const counts = rows.rows ?? (shuffle ? await blockRows(client, rows, what) : null);
  return {
    what, client, rows, holders: blockHolders(client, rows.graph, rows.x), counts,
    batchSize, shuffle, seed, cap, prefetch: Math.max(0, options.prefetch ?? 2), dropLast: options.dropLast ?? false,
  };
}

/** Rows per block, where the collection does not know them (dataframes): one small task per block. */
async function blockRows(client: Client, rows: Rows, what: string): Promise<number[]> {
  const token = randomToken();
  const nodes: GraphNode[] = rows.x.map((k, i) => new Task(blockKey(`nn-rows-${token}`, [i]), "nn.rows", [new TaskRef(k)]));
  const graph = rows.graph.withLayer(new MaterializedLayer(`nn-rows-${token}`, nodes, [...rows.graph.layers.keys()]));
  return (await client.compute(new GraphValue(graph, nodes.map((n) => n.key), rows.external, (v) => v as number[])).catch((err: unknown) => rethrow(err, what))) as number[];
}

function plan(src: Source, count: number): ShardPlan {
  return planShards(src.holders, src.counts ?? src.rows.x.map(() => 1), src.client.workers, count, src.what);
}

export async function* toBatches(collection: MatrixInput, options: BatchOptions = {}): AsyncGenerator<Batch> {
  const what = "nn.toBatches";
  const shard = options.shard === undefined ? null : checkShard(options.shard, what);
  const src = await openSource(collection, options, what);
  // Without shard, every partition, each window run where the scheduler finds its data.
  const parts = shard ? plan(src, shard.count).partitions[shard.index]! : src.rows.x.map((_, b) => b);
  yield* readShard(src, parts);
}

/** Every shard's batches at once (`count` shards, default one per worker): each row in exactly one. */
export async function shardedBatches(collection: MatrixInput, options: ShardedBatchOptions = {}): Promise<BatchShard[]> {
  const what = "nn.shardedBatches";
  if ((options as BatchOptions).shard !== undefined) throw new TesseraError(`${what}: gives every shard; for one shard use nn.toBatches(collection, { shard: { index, count } })`);
  const client = options.client ?? currentClient();
  const { count } = checkShard({ index: 0, count: options.count ?? client.workers.length }, what);
  const src = await openSource(collection, { ...options, client }, what);
  const p = plan(src, count);
  return p.partitions.map((partitions, index) => ({ index, count, worker: p.workers[index]!, partitions, batches: readShard(src, partitions) }));
}

/** The windows of a shard: its partitions in (seeded) order, cut into runs of >= cap rows when shuffling. */
function windows(src: Source, parts: readonly number[]): number[][] {
  const order = src.shuffle ? Array.from(permutation(parts.length, mixSeed(src.seed, 0xb10c)), (i) => parts[i]!) : [...parts];
  const target = src.shuffle ? src.cap : src.batchSize;
  const out: number[][] = [];
  let open: number[] = [];
  let rows = 0;
  for (const b of order) {
    open.push(b);
    rows += src.counts ? src.counts[b]! : target;
    if (rows >= target) {
      out.push(open);
      open = [];
      rows = 0;
    }
  }
  if (open.length > 0) out.push(open);
  return out;
}

/** Fetch one window: a task on the worker holding all its partitions (if one does), else where the scheduler puts it. */
function fetchWindow(src: Source, blocks: readonly number[]): Promise<WindowRows> {
  const { rows } = src;
  const spec: WindowSpec = { d: rows.d, blocks: blocks.length, seed: src.shuffle ? mixSeed(src.seed, 0x5eed, blocks[0]!) : null };
  const args = [opSpec(spec), ...blocks.map((b) => new TaskRef(rows.x[b]!)), ...(rows.y ? blocks.map((b) => new TaskRef(rows.y![b]!)) : [])];
  const home = src.holders[blocks[0]!];
  const pinned = home != null && blocks.every((b) => src.holders[b] === home);
  const key = `nn-window-${randomToken()}`;
  const graph = rows.graph.withLayer(new MaterializedLayer(key, [new Task(key, "nn.window", args, pinned ? { workers: [home] } : undefined)], [...rows.graph.layers.keys()]));
  return src.client
    .compute(new GraphValue(graph, [key], rows.external, (v) => v[0] as WindowRows))
    .catch((err: unknown) => rethrow(err, src.what));
}

async function* readShard(src: Source, parts: readonly number[]): AsyncGenerator<Batch> {
  const { batchSize: n, rows: { d } } = src;
  const hasY = src.rows.y !== null;
  const queue = windows(src, parts);
  const pending: Promise<WindowRows>[] = [];
  let next = 0;
  const refill = () => {
    while (next < queue.length && pending.length < src.prefetch + 1) pending.push(fetchWindow(src, queue[next++]!));
  };
  // A batch that straddles two windows is gathered here.
  let carryX = new Float32Array(0), carryY = new Float32Array(0), filled = 0;
  refill();
  try {
    while (pending.length > 0) {
      const w = await pending[0]!;
      pending.shift();
      refill();
      let at = 0;
      if (filled > 0) {
        const take = Math.min(n - filled, w.rows);
        carryX.set(w.x.subarray(0, take * d), filled * d);
        if (w.y) carryY.set(w.y.subarray(0, take), filled);
        filled += take;
        at = take;
        if (filled < n) continue;
        yield { x: carryX, y: hasY ? carryY : null, rows: n, d };
        filled = 0;
      }
      for (; at + n <= w.rows; at += n) yield { x: w.x.subarray(at * d, (at + n) * d), y: w.y ? w.y.subarray(at, at + n) : null, rows: n, d };
      if (at < w.rows) {
        carryX = new Float32Array(n * d);
        carryY = new Float32Array(hasY ? n : 0);
        filled = w.rows - at;
        carryX.set(w.x.subarray(at * d));
        if (w.y) carryY.set(w.y.subarray(at));
      }
    }
  } finally {
    // Stopped early: the windows in flight still settle; their errors are nobody's.
    for (const p of pending) p.catch(() => {});
  }
  if (filled > 0 && !src.dropLast) yield { x: carryX.subarray(0, filled * d), y: hasY ? carryY.subarray(0, filled) : null, rows: filled, d };
}
