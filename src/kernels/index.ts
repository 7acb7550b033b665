/**
 * The kernel layer: wasm (AssemblyScript, SIMD) kernels over chunks kept in wasm memory.
 *
 *   loadKernels(source)      instantiate (loader.ts; Node: loadKernelsFromFile in node.ts)
 *   Kernels                  alloc/free/view/copyIn/copyOut, evaluate/runProgram, elementwise,
 *                            reduce/reduceAxis/cumsum/histogram/bincount, matmul, random
 *   Expr + compile           fused elementwise(+reduction) programs, one pass per chunk
 *   combine/finalize         reduction partials for tree reductions across chunks
 *   reference                plain-JS implementations of every op (test oracle, fallback)
 */

export * from "./dtypes.js";
export * from "./expr.js";
export { compile, disassemble, MAX_REGISTERS, type Program, type SlotSpec, type CompileOptions } from "./compile.js";
export { exprDtype } from "./lower.js";
export * from "./reduce-state.js";
export { Kernels, type ArrayArg, type Arg } from "./kernels.js";
export { WasmHeap, type HeapStats } from "./memory.js";
export { loadKernels, compileKernels, wasmUrl, sharedWasmUrl, type WasmSource, type LoadOptions } from "./loader.js";
export { createMemory, type KernelExports, type MemoryOptions, MAX_MEMORY_BYTES } from "./wasm.js";
export { cumsumDtype, uniformEdges, type HistogramBins } from "./ops-reduce.js";
export type { MatmulOptions } from "./ops-matmul.js";
export type { Random, RandomOptions } from "./random.js";
export { KernelError } from "./errors.js";
export { configureKernels, getKernels, kernelsLoaded, withKernels } from "./instance.js";
export { TILE } from "./abi.js";
export * as reference from "./reference/index.js";
