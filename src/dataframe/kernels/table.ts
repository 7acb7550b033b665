/**
 * Group tables (assembly/hash.ts) from TypeScript: key columns in, a dense group id per row out.
 *
 * A KeyEncoder turns a block of key rows into what the table reads: for one Int32Array-backed
 * key (int32, date32, dictionary codes) the keys themselves (I32 mode, the fast path); for any
 * other key set, rows of W u64 words (word mode), one word per key column plus, when null keys
 * are kept, a word of null bits. Null keys are dropped (gid -1) or kept as a group of their own.
 *
 * A GroupTable owns the hash structure; it grows (doubling, rehash in wasm) when an insert runs
 * past its load limit of 1/2, and resumes the block where the kernel stopped. Int32 keys whose
 * range is small (directSpan) skip hashing: a direct map from key - lo to gid, checked against
 * each block's range (one SIMD pass) and widened, or given up for the slots. `keyColumns()`
 * rebuilds the distinct keys, in group id order, as frame columns of the original types.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { TesseraError } from "../../errors.js";
import type { Column } from "../frame.js";
import { compactStrings } from "./columns.js";
import { type Arena, ColumnReader, T, BLOCK, dfExports, i32, u8, copyOut, isFloatType } from "./wasm.js";

export type KeyMode = "i32" | "words";

export interface KeyLayout {
  mode: KeyMode;
  /** Words per row (word mode). */
  w: number;
  /** Index of the null-bits word, or -1 (nulls dropped, or no nullable key). */
  maskWord: number;
  /** Per key column: pack integers as f64 bits (to meet a float key of another frame). */
  asFloat: boolean[];
}

const nullable = (c: Column) => c.valid !== undefined || isFloatType(c);

/** How rows of these key columns are encoded; `keepNulls` keeps null keys as a group. */
export function keyLayout(cols: readonly Column[], keepNulls: boolean, asFloat?: boolean[], forceWords = false): KeyLayout {
  if (cols.length === 0) throw new TesseraError("group keys: at least one key column is needed");
  const floats = asFloat ?? cols.map(() => false);
  const c0 = cols[0]!;
  const i32Key = c0.type === "int32" || c0.type === "date32" || c0.type === "string";
  if (!forceWords && cols.length === 1 && i32Key && !floats[0]) return { mode: "i32", w: 1, maskWord: -1, asFloat: floats };
  const mask = keepNulls && cols.some(nullable);
  return { mode: "words", w: cols.length + (mask ? 1 : 0), maskWord: mask ? cols.length : -1, asFloat: floats };
}

/** Block-wise encoding of one frame's key columns for a table of `layout`. */
export class KeyEncoder {
  private readonly readers: ColumnReader[];
  private readonly words: number;
  private readonly skip: number;
  constructor(private readonly k: Kernels, arena: Arena, cols: readonly Column[], readonly layout: KeyLayout, readonly keepNulls: boolean) {
    this.readers = cols.map((c, j) => new ColumnReader(k, arena, c, `key column ${j}`));
    this.words = layout.mode === "words" ? arena.alloc(BLOCK * layout.w * 8) : 0;
    this.skip = layout.mode === "words" && layout.maskWord < 0 && cols.some(nullable) ? arena.alloc(BLOCK) : 0;
  }
  /** Pointers to block [start, start + n): keys (or words) and valid (or skip). */
  block(start: number, n: number): { keys: number; valid: number } {
    const r0 = this.readers[0]!;
    if (this.layout.mode === "i32") return { keys: r0.dataPtr(start, n), valid: r0.validPtr(start, n) };
    const ex = dfExports(this.k);
    const { w, maskWord, asFloat } = this.layout;
    if (maskWord >= 0) u8(this.k, this.words, n * w * 8).fill(0);
    if (this.skip) u8(this.k, this.skip, n).fill(0);
    this.readers.forEach((r, j) => {
      ex.packKeys(r.t, r.dataPtr(start, n), r.validPtr(start, n), n, this.words, w, j, maskWord, 1n << BigInt(j), this.skip, asFloat[j] ? 1 : 0);
    });
    return { keys: this.words, valid: this.skip };
  }
}

const HDR_BYTES = 32;
const RANGE_OFF = 24;
const I32_MAX = 2 ** 31 - 1;

export interface TableOptions {
  /** Groups expected (sizes the first table). */
  expectedGroups?: number;
  /** I32 mode: use a direct map while the keys span at most this many values (0: never). */
  directSpan?: number;
}

export class GroupTable {
  private log2: number;
  private readonly hdr: number;
  private slots = 0;
  private gkeys: number;
  private ghash = 0;
  private readonly rowBytes: number;
  private readonly directMax: number;
  private direct: { map: number; lo: number; span: number } | undefined;

  constructor(private readonly k: Kernels, private readonly arena: Arena, readonly layout: KeyLayout, keepNulls: boolean, options: TableOptions = {}) {
    const expected = options.expectedGroups ?? 256;
    this.log2 = Math.max(4, Math.ceil(Math.log2(Math.max(1, expected) * 2)));
    if (this.log2 > 30) throw new TesseraError(`group table: ${expected} groups is more than a table holds (2^29)`);
    this.rowBytes = layout.mode === "i32" ? 4 : layout.w * 8;
    this.directMax = layout.mode === "i32" ? (options.directSpan ?? 0) : 0;
    this.hdr = arena.zeros(HDR_BYTES);
    if (this.directMax === 0) this.slots = arena.zeros(8 << this.log2);
    this.gkeys = arena.alloc(this.rowBytes * this.limit);
    if (layout.mode === "words") this.ghash = arena.alloc(4 * this.limit);
    const h = i32(k, this.hdr, 5);
    h[0] = this.log2;
    h[1] = 0;
    h[2] = this.limit;
    h[3] = keepNulls ? -2 : -1;
    h[4] = layout.w;
  }

  private get limit(): number {
    return 1 << (this.log2 - 1);
  }
  get ngroups(): number {
    return i32(this.k, this.hdr, 2)[1]!;
  }
  /** The null key's group id, or -1 (I32 mode; word mode keeps nulls in the key words). */
  get nullGroup(): number {
    const g = i32(this.k, this.hdr, 4)[3]!;
    return g >= 0 ? g : -1;
  }

  /** Group ids of n encoded rows into gids (a pointer), inserting new keys. */
  insert(block: { keys: number; valid: number }, n: number, gids: number): void {
    const ex = dfExports(this.k);
    if (!this.slots && n > 0) this.planDirect(block.keys, n);
    let done = 0;
    while (done < n) {
      const left = n - done, keys = block.keys + done * this.rowBytes, valid = block.valid ? block.valid + done : 0, out = gids + done * 4;
      const d = this.direct;
      const ran = d
        ? ex.groupIdsDirect(this.hdr, d.map, d.lo, this.gkeys, keys, valid, left, out)
        : this.layout.mode === "i32"
          ? ex.groupIdsI32(this.hdr, this.slots, this.gkeys, keys, valid, left, out)
          : ex.groupIdsWords(this.hdr, this.slots, this.gkeys, this.ghash, keys, valid, left, out);
      done += ran;
      if (done < n) this.grow();
    }
  }

  /** Group ids of n encoded rows, -1 where the key is not in the table (tables without a direct map). */
  lookup(block: { keys: number; valid: number }, n: number, gids: number): void {
    if (!this.slots) throw new TesseraError("group table: lookup needs a table built without a direct map (directSpan 0)");
    const ex = dfExports(this.k);
    if (this.layout.mode === "i32") ex.lookupI32(this.hdr, this.slots, this.gkeys, block.keys, block.valid, n, gids);
    else ex.lookupWords(this.hdr, this.slots, this.gkeys, this.ghash, block.keys, block.valid, n, gids);
  }

  /** Keep, widen or build the direct map for a block of int32 keys, or fall back to slots. */
  private planDirect(keys: number, n: number): void {
    const ex = dfExports(this.k);
    ex.rangeI32(keys, n, this.hdr + RANGE_OFF);
    const [bmin, bmax] = i32(this.k, this.hdr + RANGE_OFF, 2) as unknown as [number, number];
    const d = this.direct;
    if (d && bmin >= d.lo && bmax < d.lo + d.span) return;
    const lo0 = d ? Math.min(d.lo, bmin) : bmin;
    const hi = d ? Math.max(d.lo + d.span - 1, bmax) : bmax;
    const need = hi - lo0 + 1;
    if (d) this.arena.release(d.map);
    this.direct = undefined;
    if (need > this.directMax) {
      this.slots = this.arena.zeros(8 << this.log2);
      ex.rehashI32(this.hdr, this.slots, this.gkeys);
      return;
    }
    // Widening: leave room to grow the same way again (keys that drift, e.g. sorted ids).
    let span = d ? Math.min(this.directMax, Math.max(need, 2 * d.span)) : need;
    let lo = d && bmin < d.lo ? hi - span + 1 : lo0;
    lo = Math.max(lo, -(2 ** 31));
    span = Math.min(span, I32_MAX - lo + 1);
    const map = this.arena.alloc(span * 4);
    ex.buildDirect(this.hdr, map, lo, span, this.gkeys);
    this.direct = { map, lo, span };
  }

  private grow(): void {
    const ng = this.ngroups;
    this.log2++;
    if (this.log2 > 30) throw new TesseraError("group table: more than 2^29 groups in one partition; use more partitions (splitOut)");
    const gkeys = this.arena.alloc(this.rowBytes * this.limit);
    u8(this.k, gkeys, ng * this.rowBytes).set(u8(this.k, this.gkeys, ng * this.rowBytes));
    this.arena.release(this.gkeys);
    this.gkeys = gkeys;
    if (this.layout.mode === "words") {
      const ghash = this.arena.alloc(4 * this.limit);
      u8(this.k, ghash, ng * 4).set(u8(this.k, this.ghash, ng * 4));
      this.arena.release(this.ghash);
      this.ghash = ghash;
    }
    const h = i32(this.k, this.hdr, 5);
    h[0] = this.log2;
    h[2] = this.limit;
    if (!this.slots) return; // a direct map needs no rehash
    this.arena.release(this.slots);
    this.slots = this.arena.zeros(8 << this.log2);
    const ex = dfExports(this.k);
    if (this.layout.mode === "i32") ex.rehashI32(this.hdr, this.slots, this.gkeys);
    else ex.rehashWords(this.hdr, this.slots, this.ghash);
  }

  /** The distinct keys in group id order, as columns like `cols` (types, units, dictionaries). */
  keyColumns(cols: readonly Column[]): Column[] {
    const ng = this.ngroups;
    if (this.layout.mode === "i32") {
      const data = copyOut(this.k, Int32Array, this.gkeys, ng);
      const g = this.nullGroup;
      let valid: Uint8Array | undefined;
      if (g >= 0) (valid = new Uint8Array(ng).fill(1))[g] = 0;
      return [rebuild(cols[0]!, data, valid)];
    }
    const ex = dfExports(this.k);
    const { w, maskWord } = this.layout;
    return cols.map((c, j) => {
      const ctor = c.data.constructor as unknown as { new (b: ArrayBufferLike, o: number, n: number): Int32Array; BYTES_PER_ELEMENT: number };
      const out = this.arena.alloc(ng * ctor.BYTES_PER_ELEMENT);
      const t = c.type === "string" ? T.I32 : typeCodeOf(c);
      ex.unpackKeys(t, this.gkeys, w, j, ng, out);
      const data = copyOut(this.k, ctor, out, ng);
      this.arena.release(out);
      let valid: Uint8Array | undefined;
      if (maskWord >= 0 && nullable(c)) {
        const v = this.arena.alloc(ng);
        ex.unpackValid(this.gkeys, w, maskWord, 1n << BigInt(j), ng, v);
        valid = u8(this.k, v, ng).slice();
        this.arena.release(v);
        if (valid.every((x) => x === 1)) valid = undefined;
      }
      return rebuild(c, data, valid);
    });
  }
}

function typeCodeOf(c: Column): number {
  const map: Record<string, number> = {
    float64: T.F64, float32: T.F32, int32: T.I32, date32: T.I32, uint8: T.U8, bool: T.U8, int8: T.I8, int16: T.I16,
    uint16: T.U16, uint32: T.U32, int64: T.I64, timestamp: T.I64, uint64: T.U64,
  };
  const t = map[c.type];
  if (t === undefined) throw new TesseraError(`group keys: columns of type ${c.type} cannot be keys`);
  return t;
}

function rebuild(c: Column, data: Column["data"], valid: Uint8Array | undefined): Column {
  if (c.type === "string") return compactStrings(data as Int32Array, valid, c.dictionary ?? []);
  const out: Column = { ...c, data };
  if (valid) out.valid = valid;
  else delete out.valid;
  return out;
}
