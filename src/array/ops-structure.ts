/**
 * Worker ops for the structural verbs (slicing, masks, reshape, transpose, mapBlocks) and the
 * scans and counts (cumsum, histogram, bincount). Like ops.ts: a small plain spec first, then
 * input blocks; results are WasmChunks (blocks stay in wasm memory) or small plain values
 * (counts, partials) that travel inline.
 *
 * Views into wasm memory are taken after the last allocation of an op (an allocation may grow
 * the memory and detach them), and outputs are freed when a later step throws.
 */

import { TesseraError } from "../errors.js";
import type { Dtype } from "../kernels/dtypes.js";
import { withKernels } from "../kernels/instance.js";
import type { Kernels } from "../kernels/kernels.js";
import { cumsumDtype, type HistogramBins } from "../kernels/ops-reduce.js";
import { combine, type Partial, type ReduceOp } from "../kernels/reduce-state.js";
import { registerOp } from "../worker/registry.js";
import { asBlock, inWasm, WasmChunk, type Block } from "./block.js";
import { plainBlock, reshapeBlock, storeBlock } from "./blockview.js";
import { product, stridesOf } from "./chunks.js";
import { gatherStrided } from "./strided.js";

const dataOf = (b: Block) => (b instanceof WasmChunk ? b.view() : b.data);

/** Fill a fresh output block with `write`; the block is freed if `write` throws. */
function produce(k: Kernels, dtype: Dtype, shape: number[], write: (out: WasmChunk) => void): WasmChunk {
  const out = WasmChunk.alloc(k, dtype, shape);
  try {
    write(out);
    return out;
  } catch (err) {
    k.free(out.ptr);
    throw err;
  }
}

function checkDtype(b: Block, dtype: Dtype, what: string): void {
  if (b.dtype !== dtype) throw new TesseraError(`${what}: input is ${b.dtype}, expected ${dtype}`);
}

// ---- slicing, transpose, reshape ------------------------------------------------------------

export interface SliceSpec {
  dtype: Dtype;
  /** The output block's shape (axes taken by an integer index dropped). */
  shape: number[];
  /** Per input axis: first element, step (may be negative) and count. */
  start: number[];
  step: number[];
  count: number[];
}

/** A strided region of one block; with no input block, an empty output. */
registerOp("array.slice", (spec: SliceSpec, block?: unknown) =>
  withKernels((k) =>
    produce(k, spec.dtype, spec.shape, (out) => {
      if (block === undefined) return;
      const b = asBlock(block, "array.slice input");
      checkDtype(b, spec.dtype, "array.slice");
      const strides = stridesOf(b.shape);
      let offset = 0;
      spec.start.forEach((s, a) => (offset += s * strides[a]!));
      gatherStrided(dataOf(b), offset, spec.step.map((s, a) => s * strides[a]!), spec.count, out.view());
    }),
  ),
);

export interface TransposeSpec {
  dtype: Dtype;
  /** Output axis i is input axis axes[i]. */
  axes: number[];
  shape: number[];
}

registerOp("array.transpose", (spec: TransposeSpec, block: unknown) =>
  withKernels((k) =>
    produce(k, spec.dtype, spec.shape, (out) => {
      const b = asBlock(block, "array.transpose input");
      checkDtype(b, spec.dtype, "array.transpose");
      const strides = stridesOf(b.shape);
      gatherStrided(dataOf(b), 0, spec.axes.map((a) => strides[a]!), spec.shape, out.view());
    }),
  ),
);

/** The same bytes under another shape or key (a view of a wasm block: no copy). */
registerOp("array.reshape", (spec: { shape: number[] }, block: unknown) =>
  withKernels((k) => reshapeBlock(k, asBlock(block, "array.reshape input"), spec.shape, "array.reshape")),
);

// ---- boolean masks and blocks of unknown length ---------------------------------------------

/** The elements of a block where the mask block is true, as a 1-d block (row-major order). */
registerOp("array.compress", (spec: { dtype: Dtype }, block: unknown, mask: unknown) =>
  withKernels((k) => {
    const b = asBlock(block, "array.compress input");
    const m = asBlock(mask, "array.compress mask");
    const n = product(b.shape);
    if (product(m.shape) !== n) throw new TesseraError(`array.compress: mask block of shape [${m.shape}] for a block of shape [${b.shape}]`);
    let count = 0;
    const mv = dataOf(m);
    for (let i = 0; i < n; i++) if (mv[i] !== 0) count++;
    return produce(k, spec.dtype, [count], (out) => {
      const src = dataOf(b);
      const msk = dataOf(m);
      const dst = out.view();
      for (let i = 0, j = 0; i < n; i++) if (msk[i] !== 0) dst[j++] = src[i]!;
    });
  }),
);

/** Number of elements of a block (the length of a 1-d block of unknown size). */
registerOp("array.length", (block: unknown) => product(asBlock(block, "array.length input").shape));

/** Partial reduction of all of a block, whatever its shape (blocks of unknown length). */
registerOp("array.reduceFlat", (spec: { op: ReduceOp }, block: unknown) =>
  withKernels((k): Partial => {
    const w = inWasm(k, asBlock(block, "array.reduceFlat input"));
    try {
      return k.reduce(spec.op, { ptr: w.ptr, dtype: w.dtype }, product(w.shape));
    } finally {
      w.done();
    }
  }),
);

/**
 * Combine partials of consecutive blocks whose positions were unknown when the graph was built:
 * argmin/argmax indices are relative to each part's start, so each is shifted by the count of
 * the parts before it.
 */
registerOp("array.combineShift", (...parts: Partial[]) => {
  if (parts.length === 0) throw new TesseraError("array.combineShift: nothing to combine");
  let acc = parts[0]!;
  const shift = acc.op === "argmin" || acc.op === "argmax";
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    acc = combine(acc, shift ? { ...p, extra: p.extra + acc.count } : p);
  }
  return acc;
});

// ---- mapBlocks ------------------------------------------------------------------------------

/** A block as plain data the user op owns. */
registerOp("array.toPlain", (block: unknown) => plainBlock(asBlock(block, "array.toPlain input")));

export interface FromPlainSpec {
  dtype: Dtype;
  shape: number[];
  /** For errors: the user op and the block. */
  what: string;
}

/** A user op's result, checked and copied into wasm memory. */
registerOp("array.fromPlain", (spec: FromPlainSpec, value: unknown) => withKernels((k) => storeBlock(k, value, spec.dtype, spec.shape, spec.what)));

// ---- cumsum ---------------------------------------------------------------------------------

/** [outer, len, inner] of a shape around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [product(shape.slice(0, axis)), shape[axis]!, product(shape.slice(axis + 1))];
}

/** Cumulative sum of a block along `axis`, plus `carry` (the totals of the blocks before it). */
registerOp("array.cumsum", (spec: { axis: number }, block: unknown, carry: Float64Array | null) =>
  withKernels((k) => {
    const w = inWasm(k, asBlock(block, "array.cumsum input"));
    try {
      return produce(k, cumsumDtype(w.dtype), w.shape, (out) => {
        k.cumsum({ ptr: w.ptr, dtype: w.dtype }, w.shape, out.ptr, spec.axis);
        if (!carry) return;
        const [outer, len, inner] = around(w.shape, spec.axis);
        const v = out.view();
        for (let o = 0; o < outer; o++) {
          for (let l = 0; l < len; l++) {
            const at = (o * len + l) * inner;
            for (let i = 0; i < inner; i++) v[at + i]! += carry[o * inner + i]!;
          }
        }
      });
    } finally {
      w.done();
    }
  }),
);

/** The carry into the next block along the axis: this block's carry plus its totals. */
registerOp("array.cumsumCarry", (spec: { axis: number }, prev: Float64Array | null, block: unknown) => {
  const b = asBlock(block, "array.cumsumCarry input");
  const [outer, len, inner] = around(b.shape, spec.axis);
  const out = prev ? Float64Array.from(prev) : new Float64Array(outer * inner);
  const v = dataOf(b);
  for (let o = 0; o < outer; o++) {
    for (let l = 0; l < len; l++) {
      const at = (o * len + l) * inner;
      for (let i = 0; i < inner; i++) out[o * inner + i]! += v[at + i]!;
    }
  }
  return out;
});

// ---- histogram, bincount --------------------------------------------------------------------

/** Counts per bin of one block. */
registerOp("array.histogram", (spec: { bins: HistogramBins }, block: unknown) =>
  withKernels((k) => {
    const w = inWasm(k, asBlock(block, "array.histogram input"));
    try {
      return k.histogram({ ptr: w.ptr, dtype: w.dtype }, product(w.shape), spec.bins).counts;
    } finally {
      w.done();
    }
  }),
);

/** Occurrences of each non-negative integer in one block. */
registerOp("array.bincount", (spec: { minlength: number }, block: unknown) =>
  withKernels((k) => {
    const w = inWasm(k, asBlock(block, "array.bincount input"));
    try {
      return k.bincount({ ptr: w.ptr, dtype: w.dtype }, product(w.shape), spec.minlength);
    } finally {
      w.done();
    }
  }),
);

/** Sum count vectors (the shorter ones padded with zeros). */
registerOp("array.addCounts", (...parts: Float64Array[]) => {
  const out = new Float64Array(Math.max(0, ...parts.map((p) => p.length)));
  for (const p of parts) for (let i = 0; i < p.length; i++) out[i]! += p[i]!;
  return out;
});

export interface CountsSpec {
  /** The declared length (bincount's minlength), or null when the counts decide it. */
  length: number | null;
  /** Bin edges when the counts become a density (histogram's density: true). */
  density: number[] | null;
  what: string;
}

/** The final counts as a float64 block. */
registerOp("array.counts", (spec: CountsSpec, counts: Float64Array) =>
  withKernels((k) => {
    if (spec.length !== null && counts.length > spec.length) {
      throw new TesseraError(`${spec.what}: the data holds the value ${counts.length - 1}, past minlength ${spec.length}; pass a larger minlength, or none (then the length is unknown until computed)`);
    }
    const n = spec.length ?? counts.length;
    return produce(k, "float64", [n], (out) => {
      const v = out.view();
      v.fill(0);
      v.set(counts);
      const edges = spec.density;
      if (!edges) return;
      let total = 0;
      for (let i = 0; i < n; i++) total += v[i]!;
      for (let i = 0; i < n; i++) v[i] = v[i]! / total / (edges[i + 1]! - edges[i]!);
    });
  }),
);
