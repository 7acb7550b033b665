/**
 * loadKernels(source): the wasm module, instantiated, behind the typed Kernels API.
 *
 * The source is whatever the environment has: bytes (Node reads them with node.ts), a compiled
 * WebAssembly.Module (to instantiate once per worker without recompiling), a Response or its
 * promise, or a URL to fetch (browsers; `wasmUrl` below is what bundlers such as Vite rewrite
 * into an asset URL). Responses go through WebAssembly.instantiateStreaming-style compilation
 * (compileStreaming) and fall back to bytes when the server sends the wrong content type.
 */

import { Kernels } from "./kernels.js";
import { type MemoryOptions, createMemory, instantiate } from "./wasm.js";
import { KernelError } from "./errors.js";

/** Where the built module lives, relative to this file (src/kernels or dist/kernels). */
export const wasmUrl: URL = new URL("../../build/tessera.wasm", import.meta.url);
/** The same module built to import a shared memory (for workers sharing one memory). */
export const sharedWasmUrl: URL = new URL("../../build/tessera-shared.wasm", import.meta.url);

export type WasmSource = BufferSource | WebAssembly.Module | Response | PromiseLike<Response> | URL | string;

export interface LoadOptions extends MemoryOptions {
  /** Use this memory instead of creating one (e.g. a shared memory from the pool). */
  memory?: WebAssembly.Memory;
  /** The byte range of the memory this instance's allocator owns; default: all of it. */
  heapBase?: number;
  heapLimit?: number;
}

/** Compile the module from any source. */
export async function compileKernels(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer || isSharedBuffer(source)) {
    try {
      return await WebAssembly.compile(source as BufferSource);
    } catch (err) {
      throw new KernelError(`the bytes given are not a valid wasm module (rebuild with \`npm run build:wasm\`)`, { cause: err });
    }
  }
  if (typeof source === "string" || source instanceof URL) {
    const url = String(source);
    if (url.startsWith("file:")) {
      throw new KernelError(`cannot fetch ${url}: in Node, load the kernels with loadKernelsFromFile() from "src/kernels/node.ts" (or pass the file's bytes)`);
    }
    let response: Response;
    try {
      response = await fetch(url);
    } catch (err) {
      throw new KernelError(`cannot fetch the kernel module from ${url}`, { cause: err });
    }
    return compileResponse(response, url);
  }
  return compileResponse(await source, "the given Response");
}

async function compileResponse(response: Response, where: string): Promise<WebAssembly.Module> {
  if (!response.ok) throw new KernelError(`fetching the kernel module from ${where} failed: HTTP ${response.status}`);
  if (typeof WebAssembly.compileStreaming === "function") {
    try {
      return await WebAssembly.compileStreaming(response.clone());
    } catch {
      // Usually a missing `application/wasm` content type: fall back to the bytes.
    }
  }
  return compileKernels(await response.arrayBuffer());
}

function isSharedBuffer(x: unknown): boolean {
  return typeof SharedArrayBuffer !== "undefined" && x instanceof SharedArrayBuffer;
}

/** Instantiate the kernels from `source` with a memory of options.initialBytes..maximumBytes. */
export async function loadKernels(source: WasmSource, options: LoadOptions = {}): Promise<Kernels> {
  const module = await compileKernels(source);
  const memory = options.memory ?? createMemory(options);
  const exports = await instantiate(module, memory);
  return new Kernels(exports, memory, { base: options.heapBase, limit: options.heapLimit, maximumBytes: options.maximumBytes });
}
