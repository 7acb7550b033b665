/**
 * Entry of a Web Worker. The first message carries the worker's id and its control port; the
 * ones after it are task batches.
 */

import type { ToWorker } from "./protocol.js";
import { WorkerRuntime, type PortLike } from "./runtime.js";
import { exposeControl } from "./control.js";
import { configureKernels } from "../kernels/instance.js";
import { adoptBlock, reviveWasmChunk } from "../array/block.js";
import { openOpfsDisk } from "./disk-opfs.js";
import { SpillStore, type MemoryOptions } from "./spill-store.js";
import "../array/ops.js";
import "../dataframe/ops.js";
import "../ml/ops.js";
import "../nn/ops.js";

interface InitMessage {
  t: "init";
  id: string;
  allowSource: boolean;
  memoryLimit: number;
  memory: MemoryOptions;
  /** Name of this worker's spill file in OPFS (removed on close, or by the cluster if the worker dies). */
  spillFile: string | undefined;
  control: MessagePort;
  modules: { url: string; name: string }[];
}

const scope = globalThis as unknown as PortLike & { postMessage(m: unknown, t?: Transferable[]): void };
let rt: WorkerRuntime | undefined;
const early: ToWorker[] = [];

scope.addEventListener("message", (ev: MessageEvent) => {
  const msg = ev.data as ToWorker | InitMessage;
  if (msg.t === "init") {
    void init(msg);
    return;
  }
  if (rt) rt.handle(msg);
  else early.push(msg);
});

async function init(msg: InitMessage): Promise<void> {
  configureKernels({ maximumBytes: msg.memoryLimit });
  // Browsers do not tell a worker its own memory use: the thresholds compare managed memory.
  const store = new SpillStore({ worker: msg.id, limit: msg.memoryLimit, thresholds: msg.memory, compression: msg.memory.spillCompression === true, revive: reviveWasmChunk });
  if (msg.spillFile !== undefined) {
    // Opening a sync access handle is async: spilling starts once it is open, the worker does not wait.
    openOpfsDisk(msg.spillFile).then(
      (disk) => store.setDisk(disk),
      (err: unknown) => store.setDiskUnavailable(`cannot spill to OPFS: ${(err as Error).message}`),
    );
  } else store.setDiskUnavailable("spilling is off (no spill file given)");
  const runtime = new WorkerRuntime({
    id: msg.id,
    allowSource: msg.allowSource,
    post: (m, transfer) => scope.postMessage(m, transfer),
    store,
    adopt: adoptBlock,
  });
  try {
    for (const m of msg.modules) await runtime.registry.importModule(m.url, m.name);
  } catch (err) {
    scope.postMessage({ t: "init-failed", message: (err as Error).message });
    return;
  }
  exposeControl(runtime, msg.control);
  rt = runtime;
  for (const m of early.splice(0)) runtime.handle(m);
  scope.postMessage({ t: "ready" });
}
