/**
 * NDArray: a computed array on the client, `{ data, shape, dtype }` with the data row-major in
 * one typed array (numpy's C order). What `compute()` returns for a chunked array.
 */

import { TesseraError } from "../errors.js";
import type { Dtype, TypedArray } from "../kernels/dtypes.js";
import { product, stridesOf } from "./chunks.js";

export class NDArray {
  constructor(
    readonly data: TypedArray,
    readonly shape: readonly number[],
    readonly dtype: Dtype,
  ) {
    if (data.length !== product(shape)) {
      throw new TesseraError(`NDArray: ${data.length} values do not fill shape [${shape.join(", ")}]`);
    }
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.data.length;
  }

  /** The element at an index (one integer per axis; negative counts from the end). */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new TesseraError(`get: expected ${this.shape.length} indices for shape [${this.shape.join(", ")}], got ${index.length}`);
    }
    const strides = stridesOf(this.shape);
    let at = 0;
    index.forEach((i, a) => {
      const n = this.shape[a]!;
      const j = i < 0 ? i + n : i;
      if (!Number.isInteger(j) || j < 0 || j >= n) throw new TesseraError(`get: index ${i} out of bounds for axis ${a} of size ${n}`);
      at += j * strides[a]!;
    });
    return this.data[at]!;
  }

  /** The one value of a size-1 array (numpy's item()). */
  item(): number {
    if (this.data.length !== 1) throw new TesseraError(`item() needs an array of one element, this one has ${this.data.length} (shape [${this.shape.join(", ")}])`);
    return this.data[0]!;
  }

  /** Nested plain arrays, like numpy's tolist(). */
  toArray(): unknown {
    const build = (axis: number, offset: number): unknown => {
      if (axis === this.shape.length) return this.data[offset];
      const stride = product(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `NDArray(shape=[${this.shape.join(", ")}], dtype=${this.dtype})`;
  }
}
