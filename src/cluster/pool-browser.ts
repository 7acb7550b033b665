/**
 * Workers on Web Workers (browser). Each runs worker/browser-entry.js as a module worker; the
 * literal `new Worker(new URL(...), { type: "module" })` lets bundlers (Vite) emit the worker.
 */

import { remoteControl } from "../worker/control.js";
import type { FromWorker, ToWorker } from "../worker/protocol.js";
import type { PortLike } from "../worker/runtime.js";
import type { PoolOptions, WorkerLink } from "./link.js";

export async function spawnWebWorkers(opts: PoolOptions): Promise<WorkerLink[]> {
  return Promise.all(Array.from({ length: opts.workers }, (_, i) => spawnOne(`${opts.name}-${i}`, opts)));
}

async function spawnOne(id: string, opts: PoolOptions): Promise<WorkerLink> {
  const worker = new Worker(new URL("../worker/browser-entry.js", import.meta.url), { type: "module", name: id });
  const control = new MessageChannel();
  let onMessage: ((msg: FromWorker) => void) | undefined;
  let onExit: ((reason: string) => void) | undefined;
  let resolveExited!: (reason: string) => void;
  const exited = new Promise<string>((r) => (resolveExited = r));
  await new Promise<void>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { t?: string; message?: string };
      if (m.t === "ready") return resolve();
      if (m.t === "init-failed") return reject(new Error(`worker ${id} failed to start: ${m.message}`));
      onMessage?.(ev.data as FromWorker);
    };
    worker.onerror = (ev: ErrorEvent) => {
      const reason = `worker ${id} error: ${ev.message || "failed to load (check the worker script URL and COEP headers)"}`;
      resolveExited(reason);
      if (onExit) onExit(reason);
      else reject(new Error(reason));
    };
    worker.postMessage(
      { t: "init", id, allowSource: opts.allowSource, memoryLimit: opts.memoryLimit, control: control.port2, modules: opts.modules },
      [control.port2],
    );
  });
  return {
    id,
    nthreads: 1,
    memoryLimit: opts.memoryLimit,
    sharesMemory: false,
    exited,
    control: remoteControl(control.port1 as unknown as PortLike),
    post: (msg: ToWorker, transfer: Transferable[]) => worker.postMessage(msg, transfer),
    listen(message, exit) {
      onMessage = message;
      onExit = exit;
    },
    async terminate() {
      onExit = undefined;
      control.port1.close();
      worker.terminate();
      resolveExited("terminated");
    },
  };
}
