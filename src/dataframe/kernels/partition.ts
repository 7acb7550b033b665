/**
 * Hash partitioning for shuffles (groupby splitOut, merges of two big frames).
 *
 * hashPartition gives each row a partition from a hash of its key VALUES (assembly/hash.ts):
 * the same on every worker and for every partition, whatever a column's width or dictionary,
 * so equal keys meet. An int32 5, an int64 5 and a float64 5.0 hash alike; -0 hashes as 0;
 * NaN and null hash alike (pandas treats both as missing). Strings hash their UTF-16 code
 * units (stringHash32), once per dictionary entry, and rows look their code up.
 *
 * splitByPartition is a stable counting sort of the rows by partition, then one gather per
 * output: each part keeps its rows in their original order.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { TesseraError } from "../../errors.js";
import { column, type Frame } from "../frame.js";
import { stringHash32, takeColumn } from "./columns.js";
import { BLOCK, ColumnReader, dfExports, i32, u32, withArena } from "./wasm.js";

/** Partition (0 .. npartitions - 1) of every row, from a hash of its key values. */
export function hashPartition(k: Kernels, frame: Frame, keyColumns: readonly string[], npartitions: number): Int32Array {
  if (!Number.isInteger(npartitions) || npartitions < 1 || npartitions > 0x7fffffff) {
    throw new TesseraError(`hashPartition: npartitions must be a positive integer, got ${npartitions}`);
  }
  if (keyColumns.length === 0) throw new TesseraError("hashPartition: no key columns given");
  const cols = keyColumns.map((n) => column(frame, n, "hashPartition"));
  const n = frame.length;
  const out = new Int32Array(n);
  if (n === 0) return out;
  const ex = dfExports(k);
  return withArena(k, (arena) => {
    const readers = cols.map((c, j) => {
      if (c.type === "object") throw new TesseraError(`hashPartition: column ${JSON.stringify(keyColumns[j])} of type object cannot be hashed`);
      return new ColumnReader(k, arena, c, "hashPartition");
    });
    const dictHash = cols.map((c) => {
      if (c.type !== "string") return 0;
      const dict = c.dictionary ?? [];
      const p = arena.alloc(dict.length * 8);
      const w = u32(k, p, dict.length * 2);
      dict.forEach((s, i) => {
        w[2 * i] = 0;
        w[2 * i + 1] = stringHash32(s); // the high half is what rows mix in
      });
      return p;
    });
    const h = arena.alloc(BLOCK * 4), ids = arena.alloc(BLOCK * 4);
    for (let s = 0; s < n; s += BLOCK) {
      const m = Math.min(BLOCK, n - s);
      readers.forEach((r, j) => {
        const first = j === 0 ? 1 : 0;
        if (dictHash[j]) ex.hashCodes(r.dataPtr(s, m), r.validPtr(s, m), m, dictHash[j]!, h, first);
        else ex.hashColumn(r.t, r.dataPtr(s, m), r.validPtr(s, m), m, h, first);
      });
      ex.partitionIds(h, m, npartitions, ids);
      out.set(i32(k, ids, m), s);
    }
    return out;
  });
}

/** Rows grouped by partition id: the stable order, and where each partition's rows start. */
export function partitionOrder(ids: Int32Array, n: number): { rows: Int32Array; offsets: Int32Array } {
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < ids.length; i++) {
    const p = ids[i]!;
    if (!(p >= 0 && p < n)) throw new TesseraError(`splitByPartition: row ${i} has partition ${p}, outside [0, ${n})`);
    offsets[p + 1]!++;
  }
  for (let p = 0; p < n; p++) offsets[p + 1]! += offsets[p]!;
  const at = offsets.slice(0, n);
  const rows = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) rows[at[ids[i]!]!++] = i;
  return { rows, offsets };
}

/** The frame cut into n frames by partition id (rows keep their order within each). */
export function splitByPartition(frame: Frame, ids: Int32Array, n: number): Frame[] {
  if (ids.length !== frame.length) throw new TesseraError(`splitByPartition: ${ids.length} partition ids for ${frame.length} rows`);
  if (!Number.isInteger(n) || n < 1) throw new TesseraError(`splitByPartition: n must be a positive integer, got ${n}`);
  const { rows, offsets } = partitionOrder(ids, n);
  const parts: Frame[] = [];
  for (let p = 0; p < n; p++) {
    const sel = rows.subarray(offsets[p]!, offsets[p + 1]!);
    parts.push({ length: sel.length, names: [...frame.names], columns: frame.columns.map((c) => takeColumn(c, sel)) });
  }
  return parts;
}
