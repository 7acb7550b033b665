/**
 * Feeding TensorFlow.js: `toTfBatches(tf, batches, options)` turns the mini-batches of
 * toBatches (or any async iterable of Batch) into `{ xs, ys }` tensors, the element shape
 * tf.data datasets and `model.fitDataset` take:
 *
 *   import * as tf from "@tensorflow/tfjs";
 *   const ds = tf.data.generator(() => nn.toTfBatches(tf, nn.toBatches(X, { label: y, batchSize: 64 }), { oneHot: 10 }));
 *   await model.fitDataset(ds, { epochs: 1 });
 *
 * The caller passes its `tf` (tessera does not depend on TF.js). A batch's features are one
 * row-major Float32Array, which tf.tensor2d takes as is (the backend copies it once into its own
 * memory: WebGL textures, wasm heap; there is no way to hand TF.js memory it does not own).
 * Each tensor belongs to the consumer, who disposes it (fitDataset does).
 */

import { TesseraError } from "../errors.js";
import type { Batch } from "./batches.js";

/** The part of TF.js (tfjs-core) used here. */
export interface TfLike<T> {
  tensor2d(values: Float32Array, shape: [number, number], dtype?: "float32"): T;
  tensor1d(values: Float32Array | Int32Array, dtype?: "float32" | "int32"): T;
  // NoInfer: T is the tensor type tensor2d returns, not a union with what these accept.
  oneHot(indices: NoInfer<T>, depth: number): T;
  dispose(t: NoInfer<T>): void;
}

export interface TfBatchOptions {
  /** Labels as one-hot rows of this many classes (softmax cross-entropy models); default: a 1-d float32 tensor. */
  oneHot?: number;
}

export async function* toTfBatches<T>(tf: TfLike<T>, batches: AsyncIterable<Batch>, options: TfBatchOptions = {}): AsyncGenerator<{ xs: T; ys: T | null }> {
  const what = "nn.toTfBatches";
  if (typeof tf?.tensor2d !== "function" || typeof tf.tensor1d !== "function") throw new TesseraError(`${what}: pass the TF.js module (import * as tf from "@tensorflow/tfjs") as the first argument`);
  const K = options.oneHot;
  if (K !== undefined && (!Number.isInteger(K) || K < 2)) throw new TesseraError(`${what}: oneHot must be the number of classes (an integer >= 2), got ${K}`);
  for await (const b of batches) {
    const x = b.x.length === b.rows * b.d ? b.x : b.x.subarray(0, b.rows * b.d);
    const xs = tf.tensor2d(x, [b.rows, b.d], "float32");
    let ys: T | null = null;
    if (b.y) {
      if (K === undefined) ys = tf.tensor1d(b.y.subarray(0, b.rows), "float32");
      else {
        const idx = new Int32Array(b.rows);
        for (let r = 0; r < b.rows; r++) {
          const c = b.y[r]!;
          if (!Number.isInteger(c) || c < 0 || c >= K) throw new TesseraError(`${what}: oneHot: ${K} classes, but row ${r} of a batch has label ${c}`);
          idx[r] = c;
        }
        const i = tf.tensor1d(idx, "int32");
        ys = tf.oneHot(i, K);
        tf.dispose(i);
      }
    }
    yield { xs, ys };
  }
}
