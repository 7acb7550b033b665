/**
 * `toBatches(collection, options)`: mini-batches for a training loop on this thread, drawn from a
 * tessera 2-d array (+ labels) or a dataframe (feature columns + a label column).
 *
 * Partitions are fetched one task each, in a seeded random order when shuffling, with the next
 * `prefetch` partitions already requested while the consumer works on the current batch. Rows
 * pass through a shuffle buffer (tf.data's: each row out is drawn at random from the buffer and
 * replaced by the next row in), so a batch mixes rows of several partitions; the buffer is
 * drained in a seeded random order at the end.
 */

import { currentClient } from "../client/current.js";
import type { Client } from "../client/client.js";
import { TesseraError } from "../errors.js";
import { DataFrame } from "../dataframe/dataframe.js";
import { WasmChunk } from "../array/block.js";
import { toRows, type MatrixInput, type TargetInput } from "../ml/data.js";
import { GraphValue, rethrow } from "../ml/run.js";
import { mixSeed, permutation, uniformStream } from "./kernels.js";

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
  /** Rows in the shuffle buffer (default max(8 batches, 4096)). */
  shuffleBuffer?: number;
  /** Drop the last batch when it has fewer than batchSize rows (default false). */
  dropLast?: boolean;
  /** Dataframes: the feature columns (default every column but the label). */
  columns?: readonly string[];
  /** Arrays: a 1-d array (or plain values) of labels; dataframes: the label column's name. */
  label?: TargetInput;
  /** Partitions requested ahead of the one being read (default 2). */
  prefetch?: number;
  client?: Client;
}

function blockValues(v: unknown, what: string): Float64Array {
  if (v instanceof WasmChunk) return v.view() as Float64Array;
  const data = (v as { data?: unknown })?.data;
  if (data instanceof Float64Array) return data;
  throw new TesseraError(`${what}: a partition came back as ${typeof v}, not a float64 block`);
}

export async function* toBatches(collection: MatrixInput, options: BatchOptions = {}): AsyncGenerator<Batch> {
  const what = "nn.toBatches";
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TesseraError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  const prefetch = Math.max(0, options.prefetch ?? 2);
  let X: MatrixInput = collection;
  let y: TargetInput | undefined = options.label;
  if (collection instanceof DataFrame) {
    if (options.label !== undefined && typeof options.label !== "string") throw new TesseraError(`${what}: for a dataframe, label must name a column`);
    if (options.columns) X = collection.select(...options.columns, ...(typeof y === "string" ? [y] : []));
  } else if (options.columns) {
    throw new TesseraError(`${what}: columns selects dataframe columns; slice an array instead`);
  }
  const client = options.client ?? currentClient();
  const rows = await toRows(X, y, what);
  const d = rows.d;
  const nb = rows.x.length;
  const order = shuffle ? Array.from(permutation(nb, mixSeed(seed, 0xb10c))) : Array.from({ length: nb }, (_, i) => i);
  const fetch = (b: number): Promise<[Float64Array, Float64Array | null]> => {
    const keys = [rows.x[b]!, ...(rows.y ? [rows.y[b]!] : [])];
    return client
      .compute(new GraphValue(rows.graph, keys, rows.external, (v) => v), {})
      .then((v) => {
        const vals = v as unknown[];
        // Copied: a block in this thread's wasm memory (inline cluster) may move or be freed.
        return [blockValues(vals[0], what).slice(), vals[1] === undefined ? null : blockValues(vals[1], what).slice()] as [Float64Array, Float64Array | null];
      })
      .catch((err: unknown) => rethrow(err, what));
  };

  const cap = shuffle ? Math.max(1, options.shuffleBuffer ?? Math.max(8 * batchSize, 4096)) : 1;
  const bufX = new Float32Array(cap * d);
  const bufY = new Float32Array(cap);
  let held = 0;
  const rand = uniformStream(mixSeed(seed, 0x5eed));
  const hasY = rows.y !== null;
  let outX = new Float32Array(batchSize * d);
  let outY = new Float32Array(batchSize);
  let filled = 0;
  const emit = (src: Float32Array, at: number, label: number): Batch | null => {
    outX.set(src.subarray(at * d, at * d + d), filled * d);
    outY[filled] = label;
    if (++filled < batchSize) return null;
    const b: Batch = { x: outX, y: hasY ? outY : null, rows: batchSize, d };
    outX = new Float32Array(batchSize * d);
    outY = new Float32Array(batchSize);
    filled = 0;
    return b;
  };
  const row = new Float32Array(d);

  const pending: Promise<[Float64Array, Float64Array | null]>[] = [];
  let next = 0;
  const refill = () => {
    while (next < nb && pending.length < prefetch + 1) pending.push(fetch(order[next++]!));
  };
  refill();
  while (pending.length > 0) {
    const [xb, yb] = await pending.shift()!;
    refill();
    const n = xb.length / d;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < d; j++) row[j] = xb[r * d + j]!;
      const label = yb ? yb[r]! : 0;
      if (!shuffle) {
        const b = emit(row, 0, label);
        if (b) yield b;
        continue;
      }
      if (held < cap) {
        bufX.set(row, held * d);
        bufY[held++] = label;
        continue;
      }
      // Buffer full: a random row goes out, the new row takes its place.
      const i = Math.floor(rand() * cap);
      const b = emit(bufX, i, bufY[i]!);
      bufX.set(row, i * d);
      bufY[i] = label;
      if (b) yield b;
    }
  }
  const rest = permutation(held, mixSeed(seed, 0xd7a1));
  for (let i = 0; i < held; i++) {
    const b = emit(bufX, rest[i]!, bufY[rest[i]!]!);
    if (b) yield b;
  }
  if (filled > 0 && !options.dropLast) yield { x: outX.subarray(0, filled * d), y: hasY ? outY.subarray(0, filled) : null, rows: filled, d };
}

