/**
 * The inline executor: one worker runtime on the calling thread. Messages are handed over by
 * reference on the microtask queue (nothing is cloned), so values are shared with the caller.
 * For edge functions, tests, and graphs too small to be worth a thread.
 */

import { controlOf } from "../worker/control.js";
import type { FromWorker, ToWorker } from "../worker/protocol.js";
import { WorkerRuntime } from "../worker/runtime.js";
import type { PoolOptions, WorkerLink } from "./link.js";

export async function inlineWorker(opts: PoolOptions): Promise<WorkerLink[]> {
  const id = `${opts.name}-inline`;
  let onMessage: ((msg: FromWorker) => void) | undefined;
  const rt = new WorkerRuntime({
    id,
    allowSource: opts.allowSource,
    post: (msg) => queueMicrotask(() => onMessage?.(msg)),
  });
  for (const m of opts.modules) await rt.registry.importModule(m.url, m.name);
  return [
    {
      id,
      nthreads: 1,
      memoryLimit: opts.memoryLimit,
      sharesMemory: true,
      exited: new Promise<string>(() => {}),
      control: controlOf(rt),
      post: (msg: ToWorker) => queueMicrotask(() => rt.handle(msg)),
      listen(message) {
        onMessage = message;
      },
      async terminate() {
        onMessage = undefined;
        rt.close();
      },
    },
  ];
}
