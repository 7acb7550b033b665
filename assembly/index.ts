/**
 * tessera's wasm kernels: the module's exports, re-exported from one file per idea.
 *
 * Memory is the host's: the module imports `env.memory` (and re-exports it as `memory`), has no
 * allocator and no mutable static data, so the same memory can back several instances (one per
 * worker, with a shared memory) and the host's allocator (src/kernels/memory.ts) owns every
 * byte above `heapBase()`. Kernels take pointers (byte offsets) and element counts; they trust
 * their arguments, which the TypeScript API validates.
 */

import { ABI_VERSION, TILE } from "./types";

export { run, binaryF64, binaryF32, binaryI32, compareF64, logicalU8 } from "./program";
export { reduce } from "./reduce";
export { reduceAxis, cumsum } from "./axis";
export { histogram, bincount } from "./histogram";
export { matmul, matmulWorkBytes } from "./matmul";
export { uniform, normal, integers, philoxWords } from "./random";
export {
  groupIdsI32, lookupI32, rehashI32, rangeI32, groupIdsDirect, buildDirect, groupIdsWords, lookupWords, rehashWords,
} from "./hash";
export { packKeys, unpackKeys, unpackValid, hashColumn, hashCodes, partitionIds } from "./keys";
export {
  anyMissing, aggMissing, aggSum, foldSums, aggSumI, aggVar, aggMinMax, aggFirstLast, aggSize, addF64,
  combineSumF, combineVar,
} from "./groupby";
export { radixSortPairs, gatherU32, sortWords, nullFlags } from "./sort";
export { snappyDecode } from "./snappy";
export { dictDecode } from "./parquet";
export { mlLogistic, mlKmeans, mlMoments, mlGram } from "./ml";
export { mlQuadBytes, mlQuads, mlKmeansAssign, mlKmeansNearestQ } from "./kmeans";
export { nnBiasAct, nnActBack, nnColSum, nnAdam, nnMeanOf, nnGatherRows } from "./nn";
export { nnGemm, nnGemmWorkBytes } from "./nn-gemm";

/** Bumped whenever an export's meaning changes; the loader checks it against src/kernels/abi.ts. */
export function abiVersion(): i32 {
  return ABI_VERSION;
}

/** First byte the host may allocate: everything below holds the module's constant data. */
export function heapBase(): usize {
  return __heap_base;
}

export function tileSize(): i32 {
  return TILE;
}
