/**
 * Hash join of two partitions on key columns, as row index pairs.
 *
 * The right side is the build side: its keys go into a group table (table.ts), and its rows are
 * listed per key, in order (a counting sort by group id). Each left row looks its key up and
 * emits one pair per matching right row; the output is in left row order, matches in right row
 * order, then (right, outer) the right rows no left row matched, in right order. -1 marks the
 * missing side of an unmatched row.
 *
 * Keys are compared by value: string codes of the left are re-expressed in the right's
 * dictionary; an integer key meets a float key as a float (exact below 2^53); -0 equals 0.
 * Null (and NaN) keys match nothing, as in SQL, unless `matchNulls` (pandas' merge matches
 * null with null).
 */

import type { Kernels } from "../../kernels/kernels.js";
import { TesseraError } from "../../errors.js";
import { column, type Column, type ColumnType, type Frame } from "../frame.js";
import { dedupeDictionary, recode } from "./columns.js";
import { partitionOrder } from "./partition.js";
import { GroupTable, KeyEncoder, keyLayout } from "./table.js";
import { BLOCK, i32, isFloatType, withArena } from "./wasm.js";

export type JoinHow = "inner" | "left" | "right" | "outer";

export interface JoinRows {
  leftRows: Int32Array;
  rightRows: Int32Array;
}

const INT32_KEY = new Set<ColumnType>(["int32", "date32", "string"]);
const NUMBERS = new Set<ColumnType>(["float64", "float32", "int8", "int16", "int32", "uint8", "uint16", "uint32", "int64", "uint64", "bool"]);

export function hashJoin(
  k: Kernels, left: Frame, right: Frame, leftOn: readonly string[], rightOn: readonly string[], how: JoinHow,
  options: { matchNulls?: boolean } = {},
): JoinRows {
  if (!["inner", "left", "right", "outer"].includes(how)) throw new TesseraError(`hashJoin: how must be inner, left, right or outer, got ${JSON.stringify(how)}`);
  if (leftOn.length === 0 || leftOn.length !== rightOn.length) {
    throw new TesseraError(`hashJoin: leftOn and rightOn must name the same number (>= 1) of columns, got ${leftOn.length} and ${rightOn.length}`);
  }
  const keepNulls = options.matchNulls ?? false;
  const lc: Column[] = [], rc: Column[] = [];
  const asFloat: boolean[] = [];
  leftOn.forEach((ln, j) => {
    const l = column(left, ln, "merge (left)"), r = column(right, rightOn[j]!, "merge (right)");
    const what = `merge: left key ${JSON.stringify(ln)} (${l.type}) and right key ${JSON.stringify(rightOn[j])} (${r.type})`;
    const numeric = NUMBERS.has(l.type) && NUMBERS.has(r.type);
    if (!numeric && l.type !== r.type) throw new TesseraError(`${what} have incompatible types`);
    if (l.type === "object") throw new TesseraError(`${what}: object columns cannot be join keys`);
    if (r.type === "string") {
      const rd = dedupeDictionary(r);
      rc.push(rd);
      lc.push({ ...l, type: "int32", data: recode(l, rd.dictionary ?? []) });
    } else {
      rc.push(r);
      lc.push(l);
    }
    asFloat.push(numeric && isFloatType(l) !== isFloatType(r));
  });
  const words = !(lc.length === 1 && INT32_KEY.has(lc[0]!.type) && INT32_KEY.has(rc[0]!.type));
  const layout = keyLayout(rc, keepNulls, asFloat, words);
  const { rightGids, leftGids, ng } = withArena(k, (arena) => {
    const table = new GroupTable(k, arena, layout, keepNulls);
    const gids = arena.alloc(BLOCK * 4);
    const rightGids = new Int32Array(right.length), leftGids = new Int32Array(left.length);
    const build = new KeyEncoder(k, arena, rc, layout, keepNulls);
    for (let s = 0; s < right.length; s += BLOCK) {
      const m = Math.min(BLOCK, right.length - s);
      table.insert(build.block(s, m), m, gids);
      rightGids.set(i32(k, gids, m), s);
    }
    const probe = new KeyEncoder(k, arena, lc, layout, keepNulls);
    for (let s = 0; s < left.length; s += BLOCK) {
      const m = Math.min(BLOCK, left.length - s);
      table.lookup(probe.block(s, m), m, gids);
      leftGids.set(i32(k, gids, m), s);
    }
    return { rightGids, leftGids, ng: table.ngroups };
  });
  return emitPairs(leftGids, rightGids, ng, how);
}

function emitPairs(leftGids: Int32Array, rightGids: Int32Array, ng: number, how: JoinHow): JoinRows {
  // Right rows by group (dropped keys, gid -1, in an extra last group nobody looks up).
  const shifted = rightGids.map((g) => (g < 0 ? ng : g));
  const { rows: byGroup, offsets } = partitionOrder(shifted, ng + 1);
  const keepLeft = how === "left" || how === "outer";
  const keepRight = how === "right" || how === "outer";
  const matched = keepRight ? new Uint8Array(ng) : undefined;
  let total = 0;
  for (let i = 0; i < leftGids.length; i++) {
    const g = leftGids[i]!;
    const m = g >= 0 ? offsets[g + 1]! - offsets[g]! : 0;
    total += m > 0 ? m : keepLeft ? 1 : 0;
    if (m > 0 && matched) matched[g] = 1;
  }
  let unmatchedRight = 0;
  if (matched) for (let r = 0; r < rightGids.length; r++) if (rightGids[r]! < 0 || !matched[rightGids[r]!]) unmatchedRight++;
  if (total + unmatchedRight > 0x7fffffff) throw new TesseraError(`merge: the join would have ${total + unmatchedRight} rows, more than a partition holds (2^31 - 1); use more partitions`);
  const leftRows = new Int32Array(total + unmatchedRight), rightRows = new Int32Array(total + unmatchedRight);
  let o = 0;
  for (let i = 0; i < leftGids.length; i++) {
    const g = leftGids[i]!;
    const a = g >= 0 ? offsets[g]! : 0, b = g >= 0 ? offsets[g + 1]! : 0;
    if (a === b) {
      if (keepLeft) {
        leftRows[o] = i;
        rightRows[o++] = -1;
      }
      continue;
    }
    for (let j = a; j < b; j++) {
      leftRows[o] = i;
      rightRows[o++] = byGroup[j]!;
    }
  }
  if (matched) {
    for (let r = 0; r < rightGids.length; r++) {
      const g = rightGids[r]!;
      if (g >= 0 && matched[g]) continue;
      leftRows[o] = -1;
      rightRows[o++] = r;
    }
  }
  return { leftRows, rightRows };
}
