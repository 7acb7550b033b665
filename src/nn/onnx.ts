/**
 * Feeding ONNX Runtime (onnxruntime-web, onnxruntime-node): `toOnnxFeeds(ort, batches, options)`
 * turns the mini-batches of toBatches (or any async iterable of Batch) into feeds, the
 * `{ [inputName]: ort.Tensor }` objects `session.run(feeds)` (and a training session's
 * `runTrainStep(feeds)`) take:
 *
 *   import * as ort from "onnxruntime-web";
 *   const session = await ort.InferenceSession.create(modelUrl);
 *   for await (const feeds of nn.toOnnxFeeds(ort, nn.toBatches(X, { batchSize: 64 }), { input: session.inputNames[0] })) {
 *     const out = await session.run(feeds);
 *   }
 *
 * The caller passes its `ort` (tessera does not depend on ONNX Runtime). The features tensor is
 * a view of the batch's Float32Array: ort.Tensor keeps the array it is given, so nothing is
 * copied on the way in (the runtime copies once into its own memory when it runs). Labels go in
 * as float32 (also a view) or, for losses that take class indices, int64 (a copy: there is no
 * int64 view of f32 data).
 */

import { TesseraError } from "../errors.js";
import type { Batch } from "./batches.js";

/** The part of ONNX Runtime (onnxruntime-common's Tensor) used here. */
export interface OrtLike<T> {
  Tensor: new (type: "float32" | "int64", data: Float32Array | BigInt64Array, dims: readonly number[]) => T;
}

export interface OnnxFeedOptions {
  /** The model's input name for the features, float32 [rows, d] (default "input"). */
  input?: string;
  /** The feed name for the labels; without it labels are not fed (inference). */
  label?: string;
  /** The labels' element type (default "float32"). */
  labelType?: "float32" | "int64";
  /** Labels as [rows] ("vector", the default) or [rows, 1] ("column"). */
  labelShape?: "vector" | "column";
}

/** One batch as feeds. */
export function onnxFeeds<T>(ort: OrtLike<T>, batch: Batch, options: OnnxFeedOptions = {}): Record<string, T> {
  const what = "nn.onnxFeeds";
  checkOrt(ort, what);
  const input = options.input ?? "input";
  const { rows, d } = batch;
  // Exactly rows · d values (ort checks the length against the dims); a view either way.
  const x = batch.x.length === rows * d ? batch.x : batch.x.subarray(0, rows * d);
  const feeds: Record<string, T> = { [input]: new ort.Tensor("float32", x, [rows, d]) };
  if (options.label === undefined) return feeds;
  if (options.label === input) throw new TesseraError(`${what}: label and input are both named ${JSON.stringify(input)}; give the label feed its own name`);
  if (!batch.y) throw new TesseraError(`${what}: label names the feed ${JSON.stringify(options.label)}, but the batches have no labels (pass label to toBatches)`);
  const type = options.labelType ?? "float32";
  if (type !== "float32" && type !== "int64") throw new TesseraError(`${what}: labelType must be "float32" or "int64", got ${JSON.stringify(type)}`);
  const dims = options.labelShape === "column" ? [rows, 1] : [rows];
  const y = batch.y.subarray(0, rows);
  if (type === "float32") feeds[options.label] = new ort.Tensor("float32", y, dims);
  else {
    const ints = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) {
      const c = y[r]!;
      if (!Number.isInteger(c)) throw new TesseraError(`${what}: labelType int64 needs integer labels; row ${r} of a batch has ${c}`);
      ints[r] = BigInt(c);
    }
    feeds[options.label] = new ort.Tensor("int64", ints, dims);
  }
  return feeds;
}

/** Every batch as feeds. */
export async function* toOnnxFeeds<T>(ort: OrtLike<T>, batches: AsyncIterable<Batch>, options: OnnxFeedOptions = {}): AsyncGenerator<Record<string, T>> {
  checkOrt(ort, "nn.toOnnxFeeds");
  for await (const b of batches) yield onnxFeeds(ort, b, options);
}

function checkOrt(ort: unknown, what: string): void {
  if (typeof (ort as { Tensor?: unknown } | null)?.Tensor !== "function") throw new TesseraError(`${what}: pass the ONNX Runtime module (import * as ort from "onnxruntime-web") as the first argument`);
}
