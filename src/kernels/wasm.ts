/**
 * The raw wasm module: its exports' signatures and instantiation, environment-free.
 *
 * Where the bytes come from is the caller's business (loader.ts: fetch in a browser, node.ts:
 * the file system), so this file has no Node or DOM I/O. Pointers are byte offsets into the
 * memory; u32 arguments above 2^31 pass through i32 parameters bit for bit.
 */

import { ABI_VERSION } from "./abi.js";
import { KernelError } from "./errors.js";

/** The module's exports (assembly/index.ts). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  heapBase(): number;
  tileSize(): number;
  run(code: number, ninstr: number, slots: number, n: number, state: number, index0: number): void;
  reduce(t: number, kind: number, p: number, n: number, state: number, index0: number): void;
  reduceAxis(t: number, kind: number, p: number, outer: number, len: number, inner: number, out: number, work: number): void;
  cumsum(t: number, p: number, outer: number, len: number, inner: number, out: number): void;
  histogram(t: number, p: number, n: number, edges: number, nbins: number, uniform: number, counts: number): void;
  bincount(t: number, p: number, n: number, counts: number, nbins: number): number;
  matmul(t: number, m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, work: number): void;
  matmulWorkBytes(t: number): number;
  uniform(t: number, out: number, n: number, k0: number, k1: number, stream: number, start: number, w: number): void;
  normal(t: number, out: number, n: number, k0: number, k1: number, stream: number, start: number, w: number): void;
  integers(t: number, out: number, n: number, k0: number, k1: number, stream: number, start: number, low: number, range: number, w: number): void;
  philoxWords(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, w: number): void;
}

export const PAGE_BYTES = 65536;
/** wasm32's ceiling: 65536 pages. */
export const MAX_MEMORY_BYTES = 65536 * PAGE_BYTES;

export interface MemoryOptions {
  /** Bytes the memory starts with (rounded up to 64 KiB pages). Default 16 MiB. */
  initialBytes?: number;
  /** Bytes it may grow to: the worker's memory limit, at most 4 GiB. Default 4 GiB. */
  maximumBytes?: number;
  /** Make a shared memory (needs the shared build, build/tessera-shared.wasm). */
  shared?: boolean;
}

export function createMemory(options: MemoryOptions = {}): WebAssembly.Memory {
  const initial = Math.ceil((options.initialBytes ?? 16 * 2 ** 20) / PAGE_BYTES);
  const maximum = Math.ceil((options.maximumBytes ?? MAX_MEMORY_BYTES) / PAGE_BYTES);
  if (!(maximum >= 1 && maximum <= 65536)) {
    throw new KernelError(`maximumBytes must be between 64 KiB and 4 GiB, got ${options.maximumBytes}`);
  }
  if (!(initial >= 1 && initial <= maximum)) {
    throw new KernelError(`initialBytes must be between 64 KiB and maximumBytes (${maximum * PAGE_BYTES}), got ${options.initialBytes}`);
  }
  try {
    return new WebAssembly.Memory({ initial, maximum, ...(options.shared ? { shared: true } : {}) });
  } catch (err) {
    throw new KernelError(`cannot create a wasm memory of ${initial} pages (maximum ${maximum})`, { cause: err });
  }
}

/** Instantiate a compiled module against `memory` and check its ABI version. */
export async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelExports> {
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (err) {
    const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    const hint = shared
      ? "a shared memory needs the shared build (sharedWasmUrl, build/tessera-shared.wasm)"
      : "a non-shared memory needs build/tessera.wasm, not the shared build";
    throw new KernelError(`cannot instantiate the kernel module: ${(err as Error).message}; ${hint}`, { cause: err });
  }
  const ex = instance.exports as unknown as KernelExports;
  const version = typeof ex.abiVersion === "function" ? ex.abiVersion() : -1;
  if (version !== ABI_VERSION) {
    throw new KernelError(`the wasm module has ABI version ${version} but this code expects ${ABI_VERSION}; rebuild it with \`npm run build:wasm\``);
  }
  return ex;
}
