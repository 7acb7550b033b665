/**
 * The control channel of a worker: setup, module registration and metrics. These are rare,
 * request/response calls, so comlink's RPC shape fits them (each call is a full round trip);
 * task traffic uses the batched protocol in protocol.ts instead.
 */

import * as Comlink from "comlink/dist/esm/comlink.mjs";
import type { WorkerId } from "../scheduler/events.js";
import type { PortLike, WorkerDebugState, WorkerRuntime } from "./runtime.js";
import type { MemoryMetrics } from "./memory-types.js";

export interface WorkerMetrics {
  id: WorkerId;
  /** Keys held. */
  stored: number;
  /** Bytes held. */
  nbytes: number;
  /** Tasks queued, fetching or running. */
  queued: number;
  /** Tasks run since the worker started. */
  executed: number;
  /** Inputs handed to peer workers without a copy (their ArrayBuffers transferred). */
  movedKeys: number;
  movedBytes: number;
  /** Inputs copied to peer workers (the holder still needed them). */
  copiedKeys: number;
  copiedBytes: number;
  /** Memory and spill figures; absent for the inline worker, which has no limit. */
  memory?: MemoryMetrics;
}

/** What the runner can ask of a worker, whatever carries it. */
export interface WorkerControl {
  registerModule(url: string, name: string): Promise<string[]>;
  connectPeer(peer: WorkerId, port: MessagePort): Promise<void>;
  /** `peer` went away: stop waiting for what was asked of it. */
  disconnectPeer(peer: WorkerId): Promise<void>;
  metrics(): Promise<WorkerMetrics>;
  /** What the worker is doing now (debugging a stall): see WorkerRuntime.debugState. */
  state(): Promise<WorkerDebugState>;
  close(): Promise<void>;
}

export function controlOf(rt: WorkerRuntime): WorkerControl {
  return {
    registerModule: (url, name) => rt.registry.importModule(url, name),
    connectPeer: async (peer, port) => rt.connectPeer(peer, port as unknown as PortLike),
    disconnectPeer: async (peer) => rt.disconnectPeer(peer),
    metrics: async () => rt.metrics(),
    state: async () => rt.debugState(),
    close: async () => rt.close(),
  };
}

/** Serve a worker's control API on a port (worker side). */
export function exposeControl(rt: WorkerRuntime, port: PortLike): void {
  Comlink.expose(controlOf(rt), port as unknown as Comlink.Endpoint);
}

/** Reach a worker's control API over a port (runner side). */
export function remoteControl(port: PortLike): WorkerControl {
  const remote = Comlink.wrap<WorkerControl>(port as unknown as Comlink.Endpoint);
  return {
    registerModule: (url, name) => remote.registerModule(url, name),
    connectPeer: (peer, p) => remote.connectPeer(peer, Comlink.transfer(p, [p as unknown as Transferable])),
    disconnectPeer: (peer) => remote.disconnectPeer(peer),
    metrics: () => remote.metrics(),
    state: () => remote.state(),
    close: () => remote.close(),
  };
}
