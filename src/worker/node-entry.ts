/**
 * Entry of a worker_thread. The runner passes the worker's id and its control port in
 * workerData; task batches arrive on parentPort.
 */

import { parentPort, workerData } from "node:worker_threads";
import type { ToWorker } from "./protocol.js";
import { WorkerRuntime, type PortLike } from "./runtime.js";
import { exposeControl } from "./control.js";
import { configureKernels } from "../kernels/instance.js";
import { readWasm } from "../kernels/node.js";
import "../array/ops.js";
import "../dataframe/ops.js";

interface NodeWorkerData {
  id: string;
  allowSource: boolean;
  memoryLimit: number;
  control: PortLike;
  modules: { url: string; name: string }[];
}

const data = workerData as NodeWorkerData;
configureKernels({ source: () => readWasm(), maximumBytes: data.memoryLimit });
const port = parentPort!;
const rt = new WorkerRuntime({
  id: data.id,
  allowSource: data.allowSource,
  post: (msg, transfer) => port.postMessage(msg, transfer as never),
});
for (const m of data.modules) await rt.registry.importModule(m.url, m.name);
port.on("message", (msg: ToWorker) => rt.handle(msg));
exposeControl(rt, data.control);
port.postMessage({ t: "ready" });
