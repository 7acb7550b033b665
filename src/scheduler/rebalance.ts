/**
 * Rebalancing (Dask's `Client.rebalance`): move stored keys from workers holding more than
 * their share of them to workers holding less, so later work over them is spread evenly.
 *
 * A plan: of the keys asked about (or every key in memory), those with one holder that no
 * waiting task needs, largest first, go from a worker over the mean to the least loaded
 * worker while that lowers the larger of the two loads. Each receiver gets one `acquire`
 * instruction: it fetches the keys from their holders over its peer channels, as it fetches a
 * task's inputs. When a copy arrives (replica-added) the old holder lets go of it, unless a
 * task was given it meanwhile; when every move of a request has ended (arrived, failed, or a
 * worker went away) the client hears `rebalanced`.
 *
 * Like Dask's, it is meant for a quiet cluster (after `persist`, before the work on the data):
 * keys that tasks are waiting for are left where they are.
 */

import type { Key } from "../graph/task.js";
import type { ClientId, WorkerId } from "./events.js";
import type { Scheduler } from "./scheduler.js";
import { MEMORY } from "./table.js";
import type { WorkerState } from "./task-state.js";

interface Move {
  from: WorkerState;
  to: WorkerState;
  nbytes: number;
  request: number;
}

interface Request {
  client: ClientId;
  pending: number;
  moved: number;
  bytes: number;
}

/** Moves under way, by key, and the requests they belong to. Per scheduler. */
export class Rebalancer {
  private readonly moves = new Map<Key, Move>();
  private readonly requests = new Map<number, Request>();

  constructor(private readonly s: Scheduler) {}

  /** Plan and start the moves of one request; `keys` undefined: every key in memory. */
  start(client: ClientId, id: number, keys: readonly Key[] | undefined): void {
    const s = this.s;
    const t = s.t;
    const workers = s.byIndex.filter((w) => w && w.running && !w.paused);
    const req: Request = { client, pending: 0, moved: 0, bytes: 0 };
    this.requests.set(id, req);
    if (workers.length >= 2) {
      const slots: number[] = [];
      const seen = new Set<number>();
      const consider = (slot: number | undefined) => {
        if (slot === undefined || seen.has(slot)) return;
        seen.add(slot);
        if (t.state[slot] !== MEMORY || t.holderCount(slot) !== 1 || t.small[slot] || t.waiters[slot]! > 0) return;
        if (t.restrictions[slot] !== undefined || !(t.nbytes[slot]! > 0) || this.moves.has(t.key[slot]!)) return;
        slots.push(slot);
      };
      if (keys) for (const k of keys) consider(s.tasks.get(k));
      else for (const slot of s.tasks.values()) consider(slot);
      // Each worker's load: the bytes it holds of these keys.
      const load = new Map<WorkerState, number>(workers.map((w) => [w, 0]));
      const holderOf = (slot: number) => s.byIndex[t.holders(slot)[0]!]!;
      for (const slot of slots) {
        const h = holderOf(slot);
        if (load.has(h)) load.set(h, load.get(h)! + t.nbytes[slot]!);
      }
      slots.sort((a, b) => t.nbytes[b]! - t.nbytes[a]!);
      const byReceiver = new Map<WorkerState, { keys: Key[]; holders: WorkerId[] }>();
      for (const slot of slots) {
        const from = holderOf(slot);
        const fromLoad = load.get(from);
        if (fromLoad === undefined) continue; // held by a paused worker: left alone
        let to = workers[0]!;
        for (const w of workers) if (load.get(w)! < load.get(to)!) to = w;
        const nb = t.nbytes[slot]!;
        // Only a move that lowers the larger of the two loads.
        if (to === from || Math.max(fromLoad - nb, load.get(to)! + nb) >= fromLoad) continue;
        load.set(from, fromLoad - nb);
        load.set(to, load.get(to)! + nb);
        const key = t.key[slot]!;
        this.moves.set(key, { from, to, nbytes: nb, request: id });
        req.pending++;
        let r = byReceiver.get(to);
        if (!r) byReceiver.set(to, (r = { keys: [], holders: [] }));
        r.keys.push(key);
        r.holders.push(from.id);
      }
      for (const [to, r] of byReceiver) s.emit({ type: "acquire", worker: to.id, keys: r.keys, holders: r.holders });
    }
    this.settle(id);
  }

  /** A worker now holds `key` too: if a move brought it, the old holder lets go. */
  arrived(key: Key, w: WorkerState): void {
    const m = this.moves.get(key);
    if (!m || m.to !== w) return;
    this.moves.delete(key);
    const s = this.s;
    const slot = s.tasks.get(key);
    const req = this.requests.get(m.request);
    if (slot !== undefined && s.t.state[slot] === MEMORY && s.t.holds(slot, w.index)) {
      // A task placed on the old holder since may read it there: then both keep a copy.
      if (s.t.waiters[slot] === 0 && s.t.holds(slot, m.from.index) && m.from.running) {
        s.removeHolder(slot, m.from);
        s.free(m.from.id, key);
      }
      if (req) {
        req.moved++;
        req.bytes += m.nbytes;
      }
    }
    this.done(m.request);
  }

  /** A move of `key` that cannot complete (the fetch failed). */
  failed(key: Key): void {
    const m = this.moves.get(key);
    if (!m) return;
    this.moves.delete(key);
    this.done(m.request);
  }

  /** A worker left: moves from or to it end. */
  workerGone(w: WorkerState): void {
    for (const [key, m] of this.moves) {
      if (m.from !== w && m.to !== w) continue;
      this.moves.delete(key);
      this.done(m.request);
    }
  }

  private done(id: number): void {
    const req = this.requests.get(id);
    if (!req) return;
    req.pending--;
    this.settle(id);
  }

  private settle(id: number): void {
    const req = this.requests.get(id);
    if (!req || req.pending > 0) return;
    this.requests.delete(id);
    this.s.emit({ type: "rebalanced", client: req.client, id, moved: req.moved, bytes: req.bytes });
  }
}
