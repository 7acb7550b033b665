/**
 * Scattered values posted to workers that have not yet said they are stored (protocol.ts
 * `Stored`). The runner tells the scheduler of a put's keys only when its worker has stored
 * them, and keeps the values until then, to send them elsewhere if that worker goes first.
 */

import type { Key } from "../graph/task.js";
import type { ClientId, Instruction, WorkerId } from "../scheduler/events.js";

export interface PendingPut {
  worker: WorkerId;
  client: ClientId;
  keys: Key[];
  values: unknown[];
  /** The caller's choice of workers, if any. */
  workers: readonly WorkerId[] | undefined;
}

export class PendingPuts {
  private readonly byId = new Map<number, PendingPut>();
  private lastId = 0;

  /** The id the worker will answer with. */
  add(put: PendingPut): number {
    const id = ++this.lastId;
    this.byId.set(id, put);
    return id;
  }

  /** Put `id`, now stored, taken out; undefined if its worker was already counted gone. */
  stored(id: number): PendingPut | undefined {
    const p = this.byId.get(id);
    this.byId.delete(id);
    return p;
  }

  /** Every put on `worker` not yet stored, taken out. */
  takeFrom(worker: WorkerId): PendingPut[] {
    const out: PendingPut[] = [];
    for (const [id, p] of this.byId) {
      if (p.worker !== worker) continue;
      this.byId.delete(id);
      out.push(p);
    }
    return out;
  }

  clear(): void {
    this.byId.clear();
  }
}

/** The client's reports of a put's keys as lost: `worker` went (`reason`) before storing it, and no other may take it. */
export function lostPut(p: PendingPut, worker: WorkerId, reason: string): Extract<Instruction, { type: "report" }>[] {
  const among = p.workers && p.workers.length > 0 ? ` among ${p.workers.join(", ")}` : "";
  return p.keys.map((key) => ({
    type: "report",
    client: p.client,
    key,
    state: "erred",
    error: { name: "DataLost", message: `cannot scatter ${key}: worker ${worker} went away (${reason}) before it stored it, and no other worker${among} is running`, key },
  }));
}
