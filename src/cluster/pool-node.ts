/**
 * Workers on worker_threads (Node). Each thread runs worker/node-entry.js: task batches travel
 * on the thread's own port, the control API (comlink) on a second MessageChannel.
 *
 * Each worker spills into a directory of its own, made here (mkdtemp) and removed here when the
 * thread exits for any reason (closed, crashed, terminated), and at the latest when this process
 * exits: a crashed worker cannot clean up after itself.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { remoteControl } from "../worker/control.js";
import type { FromWorker, ToWorker } from "../worker/protocol.js";
import type { PortLike } from "../worker/runtime.js";
import type { PoolOptions, WorkerLink } from "./link.js";

const ENTRY = new URL("../worker/node-entry.js", import.meta.url);

export async function spawnNodeWorkers(opts: PoolOptions): Promise<WorkerLink[]> {
  return Promise.all(Array.from({ length: opts.workers }, (_, i) => spawnOne(`${opts.name}-${i}`, opts)));
}

/** Spill directories of live workers, removed on process exit if their workers did not get to it. */
const liveSpillDirs = new Set<string>();
let exitHookInstalled = false;

async function makeSpillDir(id: string, parent: string | undefined): Promise<string> {
  const base = parent ?? os.tmpdir();
  let dir: string;
  try {
    dir = await fs.promises.mkdtemp(path.join(base, `tessera-${id}-`));
  } catch (err) {
    throw new Error(`worker ${id}: cannot make a spill directory in ${base}: ${(err as Error).message} (set localDirectory to a writable directory)`, {
      cause: err,
    });
  }
  liveSpillDirs.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const d of liveSpillDirs) removeSpillDir(d);
    });
  }
  return dir;
}

function removeSpillDir(dir: string): void {
  liveSpillDirs.delete(dir);
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    console.warn(`tessera: could not remove spill directory ${dir}: ${(err as Error).message}`);
  }
}

async function spawnOne(id: string, opts: PoolOptions): Promise<WorkerLink> {
  const control = new MessageChannel();
  const spillDir = await makeSpillDir(id, opts.localDirectory);
  const worker = new Worker(ENTRY, {
    workerData: {
      id,
      allowSource: opts.allowSource,
      memoryLimit: opts.memoryLimit,
      memory: opts.memory,
      spillDir,
      control: control.port2,
      modules: opts.modules,
    },
    transferList: [control.port2 as never],
    name: id,
  });
  worker.once("exit", () => removeSpillDir(spillDir));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (m: { t?: string }) => {
      if (m?.t !== "ready") return;
      worker.off("message", onMessage);
      worker.off("error", onError);
      resolve();
    };
    const onError = (err: Error) => reject(new Error(`worker ${id} failed to start: ${err.message}`, { cause: err }));
    worker.on("message", onMessage);
    worker.once("error", onError);
  });
  let exited = false;
  let exitHandler: ((reason: string) => void) | undefined;
  let lastError: Error | undefined;
  let resolveExited!: (reason: string) => void;
  const exitedPromise = new Promise<string>((r) => (resolveExited = r));
  worker.on("error", (err) => (lastError = err));
  worker.once("exit", (code) => {
    exited = true;
    const reason = lastError ? `crashed: ${lastError.message}` : `exited with code ${code}`;
    resolveExited(reason);
    exitHandler?.(reason);
  });
  return {
    id,
    nthreads: 1,
    memoryLimit: opts.memoryLimit,
    sharesMemory: false,
    exited: exitedPromise,
    control: remoteControl(control.port1 as unknown as PortLike),
    post: (msg: ToWorker, transfer: Transferable[]) => worker.postMessage(msg, transfer as never),
    listen(onMessage: (msg: FromWorker) => void, onExit: (reason: string) => void) {
      worker.on("message", onMessage);
      exitHandler = onExit;
    },
    async terminate() {
      exitHandler = undefined;
      control.port1.close();
      if (!exited) await worker.terminate();
    },
  };
}
