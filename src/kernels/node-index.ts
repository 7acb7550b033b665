// The kernel layer as the Node entry exports it: everything, plus loading from disk.
export * from "./index.js";
export { loadKernelsFromFile, readWasm } from "./node.js";
