/**
 * Worker ops of trainTestSplit: a block's (`ml.split`) or a partition's (`ml.split.frame`)
 * train or test rows, by a Fisher-Yates shuffle seeded with (seed, block number).
 */

import { registerOp } from "../worker/registry.js";
import { withKernels } from "../kernels/instance.js";
import type { TypedArray } from "../kernels/dtypes.js";
import { asBlock, WasmChunk, type Block } from "../array/block.js";
import { product } from "../array/chunks.js";
import { asFrame, takeRows } from "../dataframe/frame.js";
import { Stream } from "./random.js";

// ---- trainTestSplit -----------------------------------------------------------------------

export interface SplitSpec {
  seed: number;
  block: number;
  /** Which side to return. */
  side: "train" | "test";
  /** Rows of the block that go to test, then to train (arrays: decided by the client). */
  test?: number;
  train?: number;
  /** Dataframes: fractions, applied to the partition's length. */
  testSize?: number;
  trainSize?: number | null;
  shuffle: boolean;
}

/** The block's row order: a seeded Fisher-Yates shuffle keyed by (seed, block), or as is. */
function permutation(n: number, spec: SplitSpec): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  if (!spec.shuffle) return perm;
  const rng = new Stream(spec.seed, spec.block);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

function pick(n: number, spec: SplitSpec, test: number, train: number): Int32Array {
  const perm = permutation(n, spec);
  return spec.side === "test" ? perm.subarray(0, test) : perm.subarray(test, test + train);
}

registerOp("ml.split", (spec: SplitSpec, x: unknown) =>
  withKernels((k) => {
    const b: Block = asBlock(x, "ml.split");
    const n = b.shape[0] ?? 0;
    const rows = pick(n, spec, spec.test!, spec.train!);
    const rowSize = product(b.shape.slice(1));
    const out = WasmChunk.alloc(k, b.dtype, [rows.length, ...b.shape.slice(1)]);
    const src: TypedArray = b instanceof WasmChunk ? b.view() : b.data;
    const dst = out.view();
    if (rowSize === 1) for (let i = 0; i < rows.length; i++) dst[i] = src[rows[i]!]!;
    else for (let i = 0; i < rows.length; i++) (dst as Float64Array).set(src.subarray(rows[i]! * rowSize, (rows[i]! + 1) * rowSize) as Float64Array, i * rowSize);
    return out;
  }),
);

registerOp("ml.split.frame", (spec: SplitSpec, part: unknown) => {
  const frame = asFrame(part, "ml.split.frame");
  const n = frame.length;
  const test = Math.ceil(spec.testSize! * n);
  const train = spec.trainSize === null || spec.trainSize === undefined ? n - test : Math.floor(spec.trainSize * n);
  return takeRows(frame, pick(n, spec, test, Math.min(train, n - test)));
});
