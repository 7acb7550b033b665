/**
 * Workers on Web Workers (browser). Each runs worker/browser-entry.js as a module worker; the
 * literal `new Worker(new URL(...), { type: "module" })` lets bundlers (Vite) emit the worker.
 *
 * Each worker spills into an OPFS file of its own (worker/disk-opfs.ts). On terminate it is
 * asked to close first (it removes the file itself); a worker that died or did not answer in
 * time has its file removed from here once its lock is gone.
 */

import { remoteControl } from "../worker/control.js";
import { removeOpfsSpill } from "../worker/disk-opfs.js";
import type { FromWorker, ToWorker } from "../worker/protocol.js";
import type { PortLike } from "../worker/runtime.js";
import type { PoolOptions, WorkerLink } from "./link.js";

export async function spawnWebWorkers(opts: PoolOptions): Promise<WorkerLink[]> {
  return Promise.all(Array.from({ length: opts.workers }, (_, i) => spawnOne(`${opts.name}-${i}`, opts)));
}

/** How long terminate waits for a worker to close (and remove its spill file) itself. */
const CLOSE_WAIT_MS = 1000;

async function spawnOne(id: string, opts: PoolOptions): Promise<WorkerLink> {
  const worker = new Worker(new URL("../worker/browser-entry.js", import.meta.url), { type: "module", name: id });
  const spillFile = `${id}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const control = new MessageChannel();
  let onMessage: ((msg: FromWorker) => void) | undefined;
  let onExit: ((reason: string) => void) | undefined;
  let resolveExited!: (reason: string) => void;
  const exited = new Promise<string>((r) => (resolveExited = r));
  // However the worker goes, its spill file goes after it.
  void exited.then(() => removeOpfsSpill(spillFile));
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
      {
        t: "init",
        id,
        allowSource: opts.allowSource,
        memoryLimit: opts.memoryLimit,
        memory: opts.memory,
        spillFile,
        control: control.port2,
        modules: opts.modules,
      },
      [control.port2],
    );
  });
  const ctl = remoteControl(control.port1 as unknown as PortLike);
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    id,
    nthreads: 1,
    memoryLimit: opts.memoryLimit,
    sharesMemory: false,
    exited,
    control: ctl,
    post: (msg: ToWorker, transfer: Transferable[]) => worker.postMessage(msg, transfer),
    listen(message, exit) {
      onMessage = message;
      onExit = exit;
    },
    async terminate() {
      onExit = undefined;
      if (!gone) {
        // Let the worker close its spill file and remove it; a hung worker is terminated anyway.
        await Promise.race([ctl.close().catch(() => {}), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))]);
      }
      control.port1.close();
      worker.terminate();
      resolveExited("terminated");
    },
  };
}
