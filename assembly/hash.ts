/**
 * Hash tables that turn key rows into dense group ids (groupby, joins).
 *
 * A group table is three host-allocated blocks: a header of i32 fields, a slot array of
 * open-addressed (linear probing) 8-byte slots, and the group keys in group order. Group ids
 * are handed out in order of first appearance; a slot holds (tag, gid + 1), 0 meaning empty.
 *
 *   header   [0] log2(capacity)  [4] ngroups  [8] limit (max groups before the host must grow)
 *            [12] null group: -1 drop nulls, -2 keep (none seen yet), >= 0 its gid   [16] W
 *   I32 mode one int32 key per row; the tag is the key itself, the hash Fibonacci hashing.
 *            While the keys span a small range, a direct map (key - lo -> gid) replaces the
 *            slots (groupIdsDirect); the host falls back to the slots (rehashI32) otherwise.
 *   word mode W u64 words per row (packKeys writes them: one per key column, plus a null-mask
 *            word when nulls are kept); the tag is a 32-bit hash, equal tags compare words.
 *
 * Inserting kernels stop at the first row that would need a new group past `limit` and return
 * how many rows they finished; the host grows the table (rehash*), then calls again from there.
 * A row whose key is dropped (null, with dropna) gets gid -1 (the direct map's branch-free path:
 * -1 to -8 by row, so dropped rows do not chain on one record): the host keeps 8 scratch records
 * just before the first (records.ts), so the state kernels need no branch for it.
 *
 * Key rows for word mode, and the value hashes of shuffles, are in keys.ts.
 */

/** Type codes beyond types.ts: 64-bit integers (int64 / timestamp, uint64). */
export const I64: i32 = 8;
export const U64: i32 = 9;

const H_LOG2 = 0;
const H_NG = 4;
const H_LIMIT = 8;
const H_NULL = 12;
const H_W = 16;
const FULL: i32 = -3;

// @ts-ignore: decorator
@inline export function fmix64(x: u64): u64 {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccd;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53;
  x ^= x >> 33;
  return x;
}

// @ts-ignore: decorator
@inline function hashI32(k: i32, shift: i32): u32 {
  return (<u32>k * 0x9e3779b1) >> shift;
}

// @ts-ignore: decorator
@inline function hashWords(p: usize, w: i32): u32 {
  let h: u64 = 0x243f6a8885a308d3;
  for (let j = 0; j < w; j++) h = (h ^ load<u64>(p + (<usize>j << 3))) * 0x9e3779b97f4a7c15;
  return <u32>(fmix64(h) >> 32);
}

/** The gid of key k, inserting it as group `ng` when new; FULL when a new group would pass limit. */
// @ts-ignore: decorator
@inline function probeI32(slots: usize, gkeys: usize, k: i32, shift: i32, mask: u32, ng: i32, limit: i32, insert: bool): i32 {
  let h = hashI32(k, shift);
  while (true) {
    const s = slots + (<usize>h << 3);
    const e = load<i32>(s, 4);
    if (e == 0) {
      if (!insert) return -1;
      if (ng >= limit) return FULL;
      store<i32>(s, k);
      store<i32>(s, ng + 1, 4);
      store<i32>(gkeys + (<usize>ng << 2), k);
      return ng;
    }
    if (load<i32>(s) == k) return e - 1;
    h = (h + 1) & mask;
  }
}

// @ts-ignore: decorator
@inline function groupI32(hdr: usize, slots: usize, gkeys: usize, keys: usize, valid: usize, n: i32, gids: usize, hasValid: bool, insert: bool): i32 {
  const log2 = load<i32>(hdr, H_LOG2);
  const shift = 32 - log2;
  const mask: u32 = (<u32>1 << log2) - 1;
  const limit = load<i32>(hdr, H_LIMIT);
  let ng = load<i32>(hdr, H_NG);
  let i = 0;
  for (; i < n; i++) {
    let g: i32;
    if (hasValid && load<u8>(valid + i) == 0) {
      g = load<i32>(hdr, H_NULL);
      if (g == -2) {
        if (!insert) g = -1;
        else {
          if (ng >= limit) break;
          g = ng;
          store<i32>(gkeys + (<usize>g << 2), 0);
          store<i32>(hdr, g, H_NULL);
        }
      }
    } else {
      g = probeI32(slots, gkeys, load<i32>(keys + (<usize>i << 2)), shift, mask, ng, limit, insert);
      if (g == FULL) break;
    }
    if (g == ng) ng++;
    store<i32>(gids + (<usize>i << 2), g);
  }
  store<i32>(hdr, ng, H_NG);
  return i;
}

/** Group ids of n int32 keys (valid: 0 or a u8 0/1 mask); returns the rows done (< n: grow). */
export function groupIdsI32(hdr: usize, slots: usize, gkeys: usize, keys: usize, valid: usize, n: i32, gids: usize): i32 {
  if (valid != 0) return groupI32(hdr, slots, gkeys, keys, valid, n, gids, true, true);
  return groupI32(hdr, slots, gkeys, keys, valid, n, gids, false, true);
}

/** Existing group ids of n int32 keys, -1 where absent (null keys: the null group, if any). */
export function lookupI32(hdr: usize, slots: usize, gkeys: usize, keys: usize, valid: usize, n: i32, gids: usize): void {
  if (valid != 0) groupI32(hdr, slots, gkeys, keys, valid, n, gids, true, false);
  else groupI32(hdr, slots, gkeys, keys, valid, n, gids, false, false);
}

/** Re-insert groups [0, ngroups) into a fresh zeroed slot array sized by the header. */
export function rehashI32(hdr: usize, slots: usize, gkeys: usize): void {
  const log2 = load<i32>(hdr, H_LOG2);
  const shift = 32 - log2;
  const mask: u32 = (<u32>1 << log2) - 1;
  const ng = load<i32>(hdr, H_NG);
  const nullGid = load<i32>(hdr, H_NULL);
  for (let g = 0; g < ng; g++) {
    if (g == nullGid) continue;
    const k = load<i32>(gkeys + (<usize>g << 2));
    let h = hashI32(k, shift);
    while (load<i32>(slots + (<usize>h << 3), 4) != 0) h = (h + 1) & mask;
    store<i32>(slots + (<usize>h << 3), k);
    store<i32>(slots + (<usize>h << 3), g + 1, 4);
  }
}

/** out[0] = min, out[1] = max of n int32 keys (nulls' values included: a superset is fine). */
export function rangeI32(keys: usize, n: i32, out: usize): void {
  let mn = i32x4.splat(i32.MAX_VALUE), mx = i32x4.splat(i32.MIN_VALUE);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(keys + (<usize>i << 2));
    mn = i32x4.min_s(mn, v);
    mx = i32x4.max_s(mx, v);
  }
  let a = min(min(i32x4.extract_lane(mn, 0), i32x4.extract_lane(mn, 1)), min(i32x4.extract_lane(mn, 2), i32x4.extract_lane(mn, 3)));
  let b = max(max(i32x4.extract_lane(mx, 0), i32x4.extract_lane(mx, 1)), max(i32x4.extract_lane(mx, 2), i32x4.extract_lane(mx, 3)));
  for (; i < n; i++) {
    const k = load<i32>(keys + (<usize>i << 2));
    a = min(a, k);
    b = max(b, k);
  }
  store<i32>(out, a);
  store<i32>(out, b, 4);
}

// @ts-ignore: decorator
@inline function directI32(hdr: usize, map: usize, lo: i32, gkeys: usize, keys: usize, valid: usize, n: i32, gids: usize, hasValid: bool): i32 {
  const limit = load<i32>(hdr, H_LIMIT);
  let ng = load<i32>(hdr, H_NG);
  let i = 0;
  if (hasValid && load<i32>(hdr, H_NULL) == -1) {
    // Null keys dropped: no branch on validity (a filter's mask is random). The map covers every
    // key of the block, nulls' too (the host sized it from their range), so each row looks its
    // key up; a null row gets a negative gid and never makes a group.
    for (; i < n; i++) {
      const ok = load<u8>(valid + i) != 0;
      const k = load<i32>(keys + (<usize>i << 2));
      const p = map + (<usize>(k - lo) << 2);
      let g = load<i32>(p);
      if (g < 0 && ok) {
        if (ng >= limit) break;
        g = ng++;
        store<i32>(p, g);
        store<i32>(gkeys + (<usize>g << 2), k);
      }
      // A null row's gid is one of the host's spare records (-1 .. -8 by row): dropped rows
      // then do not all update one record, one after another.
      store<i32>(gids + (<usize>i << 2), select<i32>(g, -1 - (i & 7), ok));
    }
    store<i32>(hdr, ng, H_NG);
    return i;
  }
  for (; i < n; i++) {
    let g: i32;
    if (hasValid && load<u8>(valid + i) == 0) {
      g = load<i32>(hdr, H_NULL);
      if (g == -2) {
        if (ng >= limit) break;
        g = ng;
        store<i32>(gkeys + (<usize>g << 2), 0);
        store<i32>(hdr, g, H_NULL);
      }
    } else {
      const k = load<i32>(keys + (<usize>i << 2));
      const p = map + (<usize>(k - lo) << 2);
      g = load<i32>(p);
      if (g < 0) {
        if (ng >= limit) break;
        g = ng;
        store<i32>(p, g);
        store<i32>(gkeys + (<usize>g << 2), k);
      }
    }
    if (g == ng) ng++;
    store<i32>(gids + (<usize>i << 2), g);
  }
  store<i32>(hdr, ng, H_NG);
  return i;
}

/**
 * groupIdsI32 through a direct map (a "perfect hash"): map[k - lo] is key k's gid or -1. The
 * host builds it when the keys' range is small (buildDirect) and checks each block's range.
 */
export function groupIdsDirect(hdr: usize, map: usize, lo: i32, gkeys: usize, keys: usize, valid: usize, n: i32, gids: usize): i32 {
  if (valid != 0) return directI32(hdr, map, lo, gkeys, keys, valid, n, gids, true);
  return directI32(hdr, map, lo, gkeys, keys, valid, n, gids, false);
}

/** Fill a direct map of `span` entries from lo with the groups found so far. */
export function buildDirect(hdr: usize, map: usize, lo: i32, span: i32, gkeys: usize): void {
  memory.fill(map, 0xff, <usize>span << 2);
  const ng = load<i32>(hdr, H_NG);
  const nullGid = load<i32>(hdr, H_NULL);
  for (let g = 0; g < ng; g++) {
    if (g != nullGid) store<i32>(map + (<usize>(load<i32>(gkeys + (<usize>g << 2)) - lo) << 2), g);
  }
}

// @ts-ignore: decorator
@inline function groupWords(hdr: usize, slots: usize, gkeys: usize, ghash: usize, words: usize, skip: usize, n: i32, gids: usize, hasSkip: bool, insert: bool): i32 {
  const log2 = load<i32>(hdr, H_LOG2);
  const shift = 32 - log2;
  const mask: u32 = (<u32>1 << log2) - 1;
  const limit = load<i32>(hdr, H_LIMIT);
  const w = load<i32>(hdr, H_W);
  const rowBytes = <usize>w << 3;
  let ng = load<i32>(hdr, H_NG);
  let i = 0;
  for (; i < n; i++) {
    let g: i32 = -1;
    if (!hasSkip || load<u8>(skip + i) == 0) {
      const row = words + (<usize>i) * rowBytes;
      const tag = hashWords(row, w);
      let h = tag >> shift;
      while (true) {
        const s = slots + (<usize>h << 3);
        const e = load<i32>(s, 4);
        if (e == 0) {
          if (!insert) break;
          if (ng >= limit) {
            g = FULL;
            break;
          }
          g = ng;
          store<u32>(s, tag);
          store<i32>(s, g + 1, 4);
          store<u32>(ghash + (<usize>g << 2), tag);
          memory.copy(gkeys + (<usize>g) * rowBytes, row, rowBytes);
          break;
        }
        if (load<u32>(s) == tag) {
          const other = gkeys + (<usize>(e - 1)) * rowBytes;
          let same = true;
          for (let j = 0; j < w; j++) {
            if (load<u64>(other + (<usize>j << 3)) != load<u64>(row + (<usize>j << 3))) {
              same = false;
              break;
            }
          }
          if (same) {
            g = e - 1;
            break;
          }
        }
        h = (h + 1) & mask;
      }
      if (g == FULL) break;
    }
    if (g == ng) ng++;
    store<i32>(gids + (<usize>i << 2), g);
  }
  store<i32>(hdr, ng, H_NG);
  return i;
}

/** Group ids of n packed key rows (W words each; skip: 0 or u8 1 = drop the row). */
export function groupIdsWords(hdr: usize, slots: usize, gkeys: usize, ghash: usize, words: usize, skip: usize, n: i32, gids: usize): i32 {
  if (skip != 0) return groupWords(hdr, slots, gkeys, ghash, words, skip, n, gids, true, true);
  return groupWords(hdr, slots, gkeys, ghash, words, skip, n, gids, false, true);
}

/** Existing group ids of n packed key rows, -1 where absent or skipped. */
export function lookupWords(hdr: usize, slots: usize, gkeys: usize, ghash: usize, words: usize, skip: usize, n: i32, gids: usize): void {
  if (skip != 0) groupWords(hdr, slots, gkeys, ghash, words, skip, n, gids, true, false);
  else groupWords(hdr, slots, gkeys, ghash, words, skip, n, gids, false, false);
}

export function rehashWords(hdr: usize, slots: usize, ghash: usize): void {
  const log2 = load<i32>(hdr, H_LOG2);
  const shift = 32 - log2;
  const mask: u32 = (<u32>1 << log2) - 1;
  const ng = load<i32>(hdr, H_NG);
  for (let g = 0; g < ng; g++) {
    const tag = load<u32>(ghash + (<usize>g << 2));
    let h = tag >> shift;
    while (load<i32>(slots + (<usize>h << 3), 4) != 0) h = (h + 1) & mask;
    store<u32>(slots + (<usize>h << 3), tag);
    store<i32>(slots + (<usize>h << 3), g + 1, 4);
  }
}
