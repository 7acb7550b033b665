/**
 * How the runner reaches one worker, whatever carries it: a worker_thread, a Web Worker, the
 * calling thread (inline), and later a WebSocket. Each transport is a small adapter that
 * produces WorkerLinks; the runner knows nothing else about them.
 */

import type { WorkerId } from "../scheduler/events.js";
import type { WorkerControl } from "../worker/control.js";
import type { FromWorker, ToWorker } from "../worker/protocol.js";
import type { MemoryOptions } from "../worker/memory-types.js";

export interface WorkerLink {
  readonly id: WorkerId;
  readonly nthreads: number;
  readonly memoryLimit: number;
  readonly control: WorkerControl;
  /** Whether ArrayBuffers crossing this link are copied (threads) or shared by reference (inline). */
  readonly sharesMemory: boolean;
  post(msg: ToWorker, transfer: Transferable[]): void;
  /** Resolves (with the reason) when the worker is gone; calls to a gone worker never answer. */
  readonly exited: Promise<string>;
  /** Called by the runner once, before any message is posted. */
  listen(onMessage: (msg: FromWorker) => void, onExit: (reason: string) => void): void;
  terminate(): Promise<void>;
}

export interface PoolOptions {
  /** Number of workers. */
  workers: number;
  /** Bytes per worker. */
  memoryLimit: number;
  /** Fractions of memoryLimit where workers spill and pause. */
  memory: MemoryOptions;
  /** Parent of the workers' spill directories (Node; default os.tmpdir()). */
  localDirectory?: string;
  allowSource: boolean;
  /** Modules every worker imports at start: `{ url, name }` registers `<name>.<export>` ops. */
  modules: { url: string; name: string }[];
  /** Prefix of worker ids (`<prefix>-0`, ...). */
  name: string;
}

/** Starts workers and returns their links; peers are connected by the cluster afterwards. */
export type SpawnWorkers = (opts: PoolOptions) => Promise<WorkerLink[]>;

/** Connect every pair of workers with a direct MessageChannel. */
export async function connectPeers(links: readonly WorkerLink[]): Promise<void> {
  const calls: Promise<void>[] = [];
  for (let i = 0; i < links.length; i++) {
    for (let j = i + 1; j < links.length; j++) {
      const a = links[i]!;
      const b = links[j]!;
      if (a.sharesMemory || b.sharesMemory) continue;
      const ch = new MessageChannel();
      calls.push(a.control.connectPeer(b.id, ch.port1), b.control.connectPeer(a.id, ch.port2));
    }
  }
  await Promise.all(calls);
}

/**
 * Connect a new worker to each of `others`. A peer that dies meanwhile is skipped (its control
 * calls would never answer); the new worker dying fails the whole connection.
 */
export async function connectNewPeer(link: WorkerLink, others: readonly WorkerLink[]): Promise<void> {
  const selfGone = link.exited.then((why) => ({ selfGone: why }));
  await Promise.all(
    others
      .filter((o) => o !== link && !o.sharesMemory)
      .map(async (o) => {
        const ch = new MessageChannel();
        const both = Promise.all([link.control.connectPeer(o.id, ch.port1), o.control.connectPeer(link.id, ch.port2)]);
        const peerGone = o.exited.then(() => "peer gone" as const);
        const r = await Promise.race([both, peerGone, selfGone]);
        if (typeof r === "object" && "selfGone" in r) {
          throw new Error(`worker ${link.id} exited while connecting to its peers: ${r.selfGone}`);
        }
      }),
  );
}
