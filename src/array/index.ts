/**
 * Chunked arrays (dask.array): `import { array as da } from "tessera"`.
 *
 *   const x = await da.random.normal([1e8], { chunks: [1e7], seed: 0 }).persist();
 *   await x.mul(2).add(1).pow(2).sum().item();     // one fused kernel pass per block
 */

import type { Dtype } from "../kernels/dtypes.js";
import type { ChunkedArray } from "./core.js";
import { binaryOp, unaryOp, type Operand } from "./elementwise.js";

export { ChunkedArray } from "./core.js";
export { NDArray } from "./ndarray.js";
export { arange, eye, fromTypedArray, full, linspace, ones, random, zeros, type CreateOptions, type RandomOptions } from "./create.js";
export { astype, broadcastShapes, clip, where, type Operand } from "./elementwise.js";
export { rechunk } from "./rechunk.js";
export { reduce, type ReduceOptions } from "./reduce.js";
export { dot, matmul, tensordot, type MatmulOptions, type TensordotAxes } from "./matmul.js";
export { slice, type Index, type Slice } from "./slice.js";
export { mask } from "./mask.js";
export { UnknownChunksArray } from "./unknown.js";
export { concatenate, stack } from "./concatenate.js";
export { transpose } from "./transpose.js";
export { reshape, type ReshapeOptions } from "./reshape.js";
export { mapBlocks, type MapBlocksArgs, type MapBlocksOptions } from "./map-blocks.js";
export { cumsum } from "./cumsum.js";
export { bincount, histogram, type BincountOptions, type Histogram, type HistogramOptions } from "./histogram.js";
export type { Chunks, ChunksSpec } from "./chunks.js";
export type { Dtype };

// numpy-style functions for the elementwise methods.
export const add = (x: Operand, y: Operand): ChunkedArray => binaryOp("add", x, y);
export const subtract = (x: Operand, y: Operand): ChunkedArray => binaryOp("sub", x, y);
export const multiply = (x: Operand, y: Operand): ChunkedArray => binaryOp("mul", x, y);
export const divide = (x: Operand, y: Operand): ChunkedArray => binaryOp("div", x, y);
export const power = (x: Operand, y: Operand): ChunkedArray => binaryOp("pow", x, y);
export const maximum = (x: Operand, y: Operand): ChunkedArray => binaryOp("maximum", x, y);
export const minimum = (x: Operand, y: Operand): ChunkedArray => binaryOp("minimum", x, y);
export const equal = (x: Operand, y: Operand): ChunkedArray => binaryOp("eq", x, y);
export const less = (x: Operand, y: Operand): ChunkedArray => binaryOp("lt", x, y);
export const greater = (x: Operand, y: Operand): ChunkedArray => binaryOp("gt", x, y);
export const negative = (x: ChunkedArray): ChunkedArray => unaryOp("neg", x);
export const abs = (x: ChunkedArray): ChunkedArray => unaryOp("abs", x);
export const sqrt = (x: ChunkedArray): ChunkedArray => unaryOp("sqrt", x);
export const exp = (x: ChunkedArray): ChunkedArray => unaryOp("exp", x);
export const log = (x: ChunkedArray): ChunkedArray => unaryOp("log", x);
export const sin = (x: ChunkedArray): ChunkedArray => unaryOp("sin", x);
export const cos = (x: ChunkedArray): ChunkedArray => unaryOp("cos", x);
export const tanh = (x: ChunkedArray): ChunkedArray => unaryOp("tanh", x);
export const sigmoid = (x: ChunkedArray): ChunkedArray => unaryOp("sigmoid", x);
