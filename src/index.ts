/**
 * tessera — Dask for the web. Node entry: LocalCluster runs on worker_threads.
 * See README.md for a tour; src/api.ts lists what is shared with the browser entry.
 */
export * from "./api.js";
export { LocalCluster } from "./cluster/node.js";
export * as kernels from "./kernels/node-index.js";
