/**
 * Putting computed blocks together into one NDArray on the client (one copy per block).
 */

import { TesseraError } from "../errors.js";
import { allocTyped } from "../kernels/dtypes.js";
import { isBlockData } from "./block.js";
import { blockIndices, blockOffset, blockShape, product } from "./chunks.js";
import type { ChunkedArray } from "./core.js";
import { NDArray } from "./ndarray.js";
import { copyRegion } from "./layout.js";

export function assembleResult(a: ChunkedArray, values: readonly unknown[]): NDArray {
  const data = allocTyped(a.dtype, product(a.shape));
  let i = 0;
  for (const index of blockIndices(a.numblocks)) {
    const b = values[i++];
    if (!isBlockData(b)) throw new TesseraError(`block ${a.blockKey(index)} came back as ${typeof b}, not an array block`);
    const shape = blockShape(a.chunks, index);
    if (product(b.shape) !== product(shape)) {
      throw new TesseraError(`block ${a.blockKey(index)} has shape [${b.shape}], expected [${shape}]`);
    }
    copyRegion(b.data, shape, shape.map(() => 0), shape, data, a.shape, blockOffset(a.chunks, index));
  }
  return new NDArray(data, a.shape, a.dtype);
}
