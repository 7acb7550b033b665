/**
 * One kernel instance per thread (a worker, or the calling thread for the inline executor),
 * loaded on first use. The entry file of each environment says where the module's bytes come
 * from (Node reads build/tessera.wasm from disk; a browser fetches it), and how big the wasm
 * memory may grow (the worker's memory limit).
 *
 * Ops call `withKernels(fn)`: synchronous once the instance is loaded, so a task on a warm
 * worker never waits a microtask for it.
 */

import type { Kernels } from "./kernels.js";
import { loadKernels, wasmUrl, type WasmSource } from "./loader.js";
import { MAX_MEMORY_BYTES } from "./wasm.js";

interface KernelConfig {
  source: () => WasmSource | Promise<WasmSource>;
  maximumBytes: number;
}

const config: KernelConfig = {
  source: () => wasmUrl,
  maximumBytes: MAX_MEMORY_BYTES,
};
let instance: Kernels | undefined;
let loading: Promise<Kernels> | undefined;

/** Set where this thread's kernels come from and how much memory they may use (before first use). */
export function configureKernels(options: Partial<KernelConfig>): void {
  if (options.source) config.source = options.source;
  if (options.maximumBytes !== undefined) {
    // Whole 64 KiB pages, at most 4 GiB (a wasm32 memory).
    config.maximumBytes = Math.max(2 ** 24, Math.min(MAX_MEMORY_BYTES, Math.floor(options.maximumBytes / 65536) * 65536));
  }
}

export function kernelsLoaded(): Kernels | undefined {
  return instance;
}

export function getKernels(): Promise<Kernels> {
  if (instance) return Promise.resolve(instance);
  loading ??= (async () => {
    const k = await loadKernels(await config.source(), { maximumBytes: config.maximumBytes });
    instance = k;
    return k;
  })();
  return loading;
}

/** Run `fn` with this thread's kernels: at once if loaded, else after loading them. */
export function withKernels<R>(fn: (k: Kernels) => R): R | Promise<R> {
  return instance ? fn(instance) : getKernels().then(fn);
}
