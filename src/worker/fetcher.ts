/**
 * Fetching a worker's missing inputs straight from the peers that hold them, over direct
 * channels: one request per holder for all the keys wanted from it, the next holder when one
 * does not have a key, and the scheduler told (a `missing` report) when none is left. While the
 * store is paused (over its pause threshold) requests wait; resumeDeferred sends them. The
 * same channels serve the peers' requests for what this worker holds (peer.ts).
 */

import type { Key } from "../graph/task.js";
import type { DepLocation, WorkerId } from "../scheduler/events.js";
import { CANCELLED, FETCHING, type LocalTask } from "./local-task.js";
import { serveFetch, type Served } from "./peer.js";
import type { PeerMessage, Report } from "./protocol.js";
import { sizeOf, type ChunkStore } from "./store.js";

/** Anything with postMessage and message events: MessagePort (Node or browser), Worker, self. */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (ev: MessageEvent) => void): void;
  start?(): void;
  close?(): void;
}

/** What the fetcher needs from the runtime it serves. */
export interface FetchHost {
  readonly store: ChunkStore;
  /** The report being filled now (the runtime starts a new one at each flush). */
  report(): Report;
  /** One more entry in the report. */
  reported(): void;
  /** A task has all its inputs. */
  makeReady(t: LocalTask): void;
  /** A task leaves the worker without running. */
  retire(t: LocalTask): void;
  /** A moved-in input whose task left: this worker holds the only copy now. */
  reportMoved(m: { key: Key; from: WorkerId; nbytes: number }): void;
  /** After a peer's message: run what became ready, or flush. */
  afterMessage(): void;
  /** The form a fetched value is kept in (array blocks: in wasm memory). */
  adopt?(value: unknown): unknown;
}

interface PendingFetch {
  dep: DepLocation;
  /** Index into dep.holders of the holder asked. */
  tried: number;
  holder: WorkerId;
  waiting: LocalTask[];
}

export class PeerFetcher {
  private readonly fetches = new Map<Key, PendingFetch>();
  private readonly requests = new Map<number, { holder: WorkerId; keys: Key[]; since: number }>();
  private readonly peers = new Map<WorkerId, PortLike>();
  /** Requests held back while the store is paused. */
  private deferred: { holder: WorkerId; keys: Key[]; move: boolean[] }[] = [];
  /** Keys wanted by the tasks of the batch being read, per holder (sent by sendWanted). */
  private wanted: Map<WorkerId, { keys: Key[]; move: boolean[] }> | undefined;
  private nextId = 0;
  private readonly origin = performance.timeOrigin;
  /** Inputs served to peers: handed over without a copy (moved) or copied. */
  readonly served: Served = { movedKeys: 0, movedBytes: 0, copiedKeys: 0, copiedBytes: 0 };

  constructor(private readonly host: FetchHost) {}

  connect(peer: WorkerId, port: PortLike): void {
    this.peers.set(peer, port);
    port.addEventListener("message", (ev: MessageEvent) => this.onPeer(peer, ev.data as PeerMessage));
    port.start?.();
  }

  /** Task `t` needs `dep`: counted in t.missing unless held here; asked for in sendWanted. */
  need(t: LocalTask, dep: DepLocation): void {
    if (this.host.store.has(dep.key)) return;
    t.missing++;
    const pending = this.fetches.get(dep.key);
    if (pending) {
      pending.waiting.push(t);
      return;
    }
    const holder = dep.holders[0];
    if (holder === undefined) {
      t.missing--;
      return;
    }
    this.fetches.set(dep.key, { dep, tried: 0, holder, waiting: [t] });
    this.wanted ??= new Map();
    let r = this.wanted.get(holder);
    if (!r) this.wanted.set(holder, (r = { keys: [], move: [] }));
    r.keys.push(dep.key);
    r.move.push(dep.move);
  }

  /** One request per holder for everything need() found missing. */
  sendWanted(): void {
    const wanted = this.wanted;
    this.wanted = undefined;
    if (wanted) for (const [holder, r] of wanted) this.request(holder, r.keys, r.move);
  }

  /** Fetch keys to keep here (a rebalance), each from its holder; arrivals are reported as replicas. */
  acquire(keys: readonly Key[], holders: readonly WorkerId[]): void {
    const byHolder = new Map<WorkerId, Key[]>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const holder = holders[i]!;
      if (this.host.store.has(key) || this.fetches.has(key)) continue;
      this.fetches.set(key, { dep: { key, holders: [holder], nbytes: 0, move: false }, tried: 0, holder, waiting: [] });
      let r = byHolder.get(holder);
      if (!r) byHolder.set(holder, (r = []));
      r.push(key);
    }
    for (const [holder, ks] of byHolder) this.request(holder, ks, ks.map(() => false));
  }

  /** The store left its pause: send what waited. */
  resumeDeferred(): void {
    const held = this.deferred;
    this.deferred = [];
    for (const f of held) this.request(f.holder, f.keys, f.move);
  }

  debugState(now: number): {
    fetches: { key: Key; holder: WorkerId; tried: number; waiting: Key[] }[];
    fetchRequests: { id: number; holder: WorkerId; keys: Key[]; ageMs: number }[];
    deferredFetches: { holder: WorkerId; keys: Key[] }[];
  } {
    return {
      fetches: [...this.fetches].map(([key, f]) => ({ key, holder: f.holder, tried: f.tried, waiting: f.waiting.map((t) => t.key) })),
      fetchRequests: [...this.requests].map(([id, r]) => ({ id, holder: r.holder, keys: r.keys, ageMs: Math.round(now - r.since) })),
      deferredFetches: this.deferred.map((f) => ({ holder: f.holder, keys: f.keys })),
    };
  }

  /**
   * `peer` is gone (it crashed or was replaced): what was asked of it will never come. Each key
   * goes to its next holder, or to the scheduler as missing, which recomputes it.
   */
  disconnect(peer: WorkerId): void {
    const port = this.peers.get(peer);
    if (!port) return;
    this.peers.delete(peer);
    port.close?.();
    const lost: Key[] = [];
    for (const [id, r] of this.requests) {
      if (r.holder !== peer) continue;
      this.requests.delete(id);
      lost.push(...r.keys);
    }
    const kept: typeof this.deferred = [];
    for (const f of this.deferred) {
      if (f.holder === peer) lost.push(...f.keys);
      else kept.push(f);
    }
    this.deferred = kept;
    for (const k of lost) this.failed(k, peer);
    this.host.afterMessage();
  }

  close(): void {
    for (const p of this.peers.values()) p.close?.();
    this.peers.clear();
    this.deferred = [];
  }

  private request(holder: WorkerId, keys: Key[], move: boolean[]): void {
    if (this.host.store.paused) {
      // More data in would only deepen the pause: ask once memory is below it again.
      this.deferred.push({ holder, keys, move });
      return;
    }
    const port = this.peers.get(holder);
    if (!port) {
      for (const k of keys) this.failed(k, holder);
      return;
    }
    const id = ++this.nextId;
    this.requests.set(id, { holder, keys, since: performance.now() });
    port.postMessage({ t: "fetch", id, keys, move } satisfies PeerMessage);
  }

  private onPeer(peer: WorkerId, msg: PeerMessage): void {
    const host = this.host;
    if (msg.t === "fetch") {
      const { reply, transfer } = serveFetch(host.store, msg, this.served);
      this.peers.get(peer)!.postMessage(reply, transfer);
      return;
    }
    const req = this.requests.get(msg.id);
    this.requests.delete(msg.id);
    for (let i = 0; i < msg.keys.length; i++) {
      const key = msg.keys[i]!;
      const value = host.adopt ? host.adopt(msg.values[i]) : msg.values[i];
      const f = this.fetches.get(key);
      this.fetches.delete(key);
      const nbytes = sizeOf(value);
      host.store.put(key, value, nbytes);
      const report = host.report();
      // For the dashboard's task stream: rides along with the next report, never flushes one.
      if (req) (report.fetched ??= []).push({ key, from: req.holder, nbytes, start: this.origin + req.since, stop: this.origin + performance.now() });
      if (f?.dep.move) {
        // The only copy now, and only its waiting task needs it: dropped when that task is done.
        const from = req?.holder ?? peer;
        const live = f.waiting.filter((t) => t.state === FETCHING);
        if (live.length > 0) for (const t of live) (t.movedIn ??= []).push({ key, from, nbytes });
        else host.reportMoved({ key, from, nbytes }); // its task left while it was on the way
      } else {
        report.replicaKeys.push(key);
        report.replicaBytes.push(nbytes);
        host.reported();
      }
      if (f) for (const t of f.waiting) if (t.state === FETCHING && --t.missing === 0) host.makeReady(t);
    }
    for (const k of msg.missing) this.failed(k, req?.holder ?? peer);
    host.afterMessage();
  }

  /** Try the next holder; when none is left, tell the scheduler. */
  private failed(key: Key, holder: WorkerId): void {
    const f = this.fetches.get(key);
    if (!f) return;
    let next: WorkerId | undefined;
    while (++f.tried < f.dep.holders.length) {
      const h = f.dep.holders[f.tried]!;
      if (this.peers.has(h)) {
        next = h;
        break;
      }
    }
    if (next !== undefined) {
      f.holder = next;
      this.request(next, [key], [f.dep.move]);
      return;
    }
    this.fetches.delete(key);
    const report = this.host.report();
    if (f.waiting.length === 0) {
      // A rebalance's fetch: no task to give up, the key names itself.
      report.missing.push({ key, dep: key, holder });
      this.host.reported();
    }
    for (const t of f.waiting) {
      if (t.state !== FETCHING) continue;
      t.state = CANCELLED;
      this.host.retire(t);
      report.missing.push({ key: t.key, dep: key, holder });
      this.host.reported();
    }
  }
}
