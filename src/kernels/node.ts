/**
 * Node-only loading: read build/tessera.wasm (or the shared build) from disk. Only Node code
 * imports this file, so the rest of src/kernels stays free of `node:` imports for browsers.
 */

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type LoadOptions, loadKernels, wasmUrl, sharedWasmUrl } from "./loader.js";
import type { Kernels } from "./kernels.js";
import { KernelError } from "./errors.js";

/** The module's bytes; `path` defaults to build/tessera.wasm (build/tessera-shared.wasm if shared). */
export async function readWasm(path?: string | URL, shared = false): Promise<Uint8Array> {
  const file = path ?? (shared ? sharedWasmUrl : wasmUrl);
  const where = file instanceof URL ? fileURLToPath(file) : file;
  try {
    return await readFile(where);
  } catch (err) {
    throw new KernelError(`cannot read the kernel module at ${where}: run \`npm run build:wasm\` first`, { cause: err });
  }
}

/** loadKernels() with the bytes read from disk. */
export async function loadKernelsFromFile(options: LoadOptions & { path?: string | URL } = {}): Promise<Kernels> {
  const shared = options.shared ?? (typeof SharedArrayBuffer !== "undefined" && options.memory?.buffer instanceof SharedArrayBuffer);
  return loadKernels(await readWasm(options.path, shared), options);
}
