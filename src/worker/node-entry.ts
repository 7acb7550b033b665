/**
 * Entry of a worker_thread. The runner passes the worker's id and its control port in
 * workerData; task batches arrive on parentPort.
 */

import v8 from "node:v8";
import vm from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import type { ToWorker } from "./protocol.js";
import { WorkerRuntime, type PortLike } from "./runtime.js";
import { exposeControl } from "./control.js";
import { configureKernels, kernelsLoaded } from "../kernels/instance.js";
import { adoptBlock, reviveWasmChunk } from "../array/block.js";
import { readWasm } from "../kernels/node.js";
import { NodeDisk } from "./disk-node.js";
import { SpillStore, type MemoryOptions } from "./spill-store.js";
import "../array/ops.js";
import "../dataframe/ops.js";
import "../ml/ops.js";
import "../nn/ops.js";

interface NodeWorkerData {
  id: string;
  allowSource: boolean;
  memoryLimit: number;
  memory: MemoryOptions;
  /** This worker's spill directory (made and, after the worker exits, removed by the cluster). */
  spillDir: string | undefined;
  control: PortLike;
  modules: { url: string; name: string }[];
}

const data = workerData as NodeWorkerData;
configureKernels({ source: () => readWasm(), maximumBytes: data.memoryLimit });
const port = parentPort!;
const store = new SpillStore({
  worker: data.id,
  limit: data.memoryLimit,
  thresholds: data.memory,
  compression: data.memory.spillCompression === true,
  ...(data.spillDir !== undefined ? { disk: new NodeDisk(data.spillDir) } : {}),
  measure: measureThread,
  collectGarbage,
  revive: reviveWasmChunk,
});
const rt = new WorkerRuntime({
  id: data.id,
  allowSource: data.allowSource,
  post: (msg, transfer) => port.postMessage(msg, transfer as never),
  store,
  adopt: adoptBlock,
});
for (const m of data.modules) await rt.registry.importModule(m.url, m.name);
store.setRestMemory(measureThread());
port.on("message", (msg: ToWorker) => rt.handle(msg));
exposeControl(rt, data.control);
port.postMessage({ t: "ready" });

/**
 * This thread's memory: its JS heap and the buffers it holds (v8 counts those per thread; only
 * rss is the whole process's), with the wasm memory counted as the bytes
 * its allocator has handed out, not the pages it once grew to (those are reused, never returned).
 */
function measureThread(): number {
  // v8's own figures (~2 µs): process.memoryUsage() gives the same two, plus rss, which costs a
  // /proc read (~10 µs, much more on a busy machine).
  const h = v8.getHeapStatistics();
  const k = kernelsLoaded();
  const wasm = k ? k.stats().used - k.memory.buffer.byteLength : 0;
  return h.used_heap_size + h.external_memory + wasm;
}

let gc: (() => void) | undefined;
/**
 * A full collection of this thread's heap, before the store acts on the terminate threshold
 * (rare): freed buffers count in the measurement until the collector runs. Node has no API
 * for it without --expose-gc; setting the flag now exposes `gc` in new contexts.
 */
function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString("--expose-gc");
    gc = vm.runInNewContext("gc") as () => void;
  }
  gc();
  // Buffers freed by a collection leave the accounts only when their concurrent sweep is done,
  // which the next collection waits for: without it, freed buffers still count.
  gc();
}
