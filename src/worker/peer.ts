/**
 * Serving a peer's fetch: the values it asked for, ready to post. A key the peer will be the
 * last user of is moved (its ArrayBuffers transferred, our copy dropped); others are copied by
 * structured clone. Keys we do not hold are listed as missing: the peer tries another holder.
 */

import type { Key } from "../graph/task.js";
import type { PeerMessage } from "./protocol.js";
import { sizeOf, type ChunkStore } from "./store.js";
import { prepareForPost } from "./transfer.js";

/** What a worker has handed to peers, for metrics. */
export interface Served {
  movedKeys: number;
  movedBytes: number;
  copiedKeys: number;
  copiedBytes: number;
}

export function serveFetch(
  store: ChunkStore,
  msg: Extract<PeerMessage, { t: "fetch" }>,
  served: Served,
): { reply: PeerMessage; transfer: ArrayBuffer[] } {
  const p = pack(store, msg.keys, (i) => msg.move[i]!, served);
  const held = (_: unknown, i: number) => !p.absent[i];
  return {
    reply: { t: "fetched", id: msg.id, keys: msg.keys.filter(held), values: p.values.filter(held), missing: p.missing },
    transfer: p.transfer,
  };
}

/**
 * Values of `keys` ready to post (undefined where missing), moving those `move(i)` says: their
 * buffers are transferred and the store's entry dropped.
 */
export function pack(
  store: ChunkStore,
  keys: readonly Key[],
  move: (i: number) => boolean,
  served?: Served,
): { values: unknown[]; missing: Key[]; absent: boolean[]; transfer: ArrayBuffer[] } {
  const values: unknown[] = [];
  const missing: Key[] = [];
  const absent: boolean[] = [];
  const transfer: ArrayBuffer[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    // A spilled value comes back here; one that cannot be read back is gone (missing).
    const value = store.get(k);
    if (value === undefined && !store.has(k)) {
      missing.push(k);
      values.push(undefined);
      absent.push(true);
      continue;
    }
    // A value stored under two keys (an alias) is copied: moving it would empty the other key.
    const m = move(i) && !store.shared(k);
    const p = prepareForPost(value, m);
    if (served) {
      const bytes = sizeOf(value);
      if (m) {
        served.movedKeys++;
        served.movedBytes += bytes;
      } else {
        served.copiedKeys++;
        served.copiedBytes += bytes;
      }
    }
    values.push(p.value);
    absent.push(false);
    for (const b of p.transfer) transfer.push(b);
    if (m) store.delete(k);
  }
  return { values, missing, absent, transfer };
}
