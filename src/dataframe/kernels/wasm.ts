/**
 * The dataframe kernels' view of the wasm module (assembly/hash.ts, groupby.ts, sort.ts): their
 * export signatures, the type codes, and the plumbing every kernel here shares.
 *
 * Frames hold plain typed arrays, usually on the JS heap. Kernels stream them through wasm
 * memory a block of BLOCK rows at a time: each block of each column is copied into a small
 * scratch buffer (it stays in L2 for the kernel that reads it next), so a 10M-row partition
 * never needs a 10M-row copy. A column whose array already lives in the kernels' memory (a view
 * of `k.memory.buffer`) is read in place. Pointers stay valid when the memory grows; views do
 * not, so views here are made just before use (`u8`, `i32`, `f64`...), never kept.
 *
 * An Arena owns every allocation one kernel call makes and frees them all at the end.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { KernelError } from "../../kernels/errors.js";
import type { Column, ColumnData } from "../frame.js";

/** Rows per block streamed through wasm memory. */
export const BLOCK = 16384;

/** Type codes of the wasm kernels (assembly/types.ts, plus I64/U64 of assembly/hash.ts). */
export const T = { F64: 0, F32: 1, I32: 2, U8: 3, I8: 4, I16: 5, U16: 6, U32: 7, I64: 8, U64: 9 } as const;

export interface DataframeExports {
  groupIdsI32(hdr: number, slots: number, gkeys: number, keys: number, valid: number, n: number, gids: number): number;
  lookupI32(hdr: number, slots: number, gkeys: number, keys: number, valid: number, n: number, gids: number): void;
  rehashI32(hdr: number, slots: number, gkeys: number): void;
  rangeI32(keys: number, n: number, out: number): void;
  groupIdsDirect(hdr: number, map: number, lo: number, gkeys: number, keys: number, valid: number, n: number, gids: number): number;
  buildDirect(hdr: number, map: number, lo: number, span: number, gkeys: number): void;
  groupIdsWords(hdr: number, slots: number, gkeys: number, ghash: number, words: number, skip: number, n: number, gids: number): number;
  lookupWords(hdr: number, slots: number, gkeys: number, ghash: number, words: number, skip: number, n: number, gids: number): void;
  rehashWords(hdr: number, slots: number, ghash: number): void;
  packKeys(t: number, src: number, valid: number, n: number, dst: number, w: number, j: number, maskWord: number, bit: bigint, skip: number, asFloat: number): void;
  unpackKeys(t: number, words: number, w: number, j: number, n: number, dst: number): void;
  unpackValid(words: number, w: number, maskWord: number, bit: bigint, n: number, valid: number): void;
  hashColumn(t: number, src: number, valid: number, n: number, h: number, first: number): void;
  hashCodes(codes: number, valid: number, n: number, dictHash: number, h: number, first: number): void;
  partitionIds(h: number, n: number, np: number, out: number): void;
  anyMissing(t: number, vals: number, valid: number, n: number): number;
  aggMissing(t: number, gids: number, vals: number, valid: number, n: number, missing: number): void;
  aggSum(t: number, gids: number, vals: number, valid: number, n: number, dst: number, check: number, comp: number): void;
  foldSums(acc: number, rec: number, ng: number): void;
  aggSumI(t: number, gids: number, vals: number, valid: number, n: number, rec: number): void;
  aggVar(t: number, gids: number, vals: number, valid: number, n: number, rec: number): void;
  aggMinMax(t: number, gids: number, vals: number, valid: number, n: number, rec: number): void;
  aggFirstLast(t: number, gids: number, vals: number, valid: number, n: number, row0: number, rec: number): void;
  aggSize(gids: number, n: number, rec: number): void;
  addF64(gids: number, vals: number, n: number, rec: number): void;
  combineSumF(gids: number, sums: number, comps: number, n: number, rec: number): void;
  combineVar(gids: number, counts: number, means: number, m2s: number, n: number, rec: number): void;
  radixSortPairs(keys: number, rows: number, n: number, tmpK: number, tmpI: number, hist: number): void;
  gatherU32(src: number, rows: number, n: number, dst: number): void;
  sortWords(t: number, src: number, valid: number, n: number, part: number, desc: number, dst: number): void;
  nullFlags(t: number, src: number, valid: number, n: number, nullWord: number, dst: number): number;
}

const checked = new WeakSet<object>();

/** The dataframe exports of k's module; throws with the fix when the build predates them. */
export function dfExports(k: Kernels): DataframeExports {
  const ex = k.exports as unknown as DataframeExports & object;
  if (!checked.has(ex)) {
    if (typeof ex.groupIdsI32 !== "function" || typeof ex.radixSortPairs !== "function") {
      throw new KernelError("the wasm module has no dataframe kernels (groupIdsI32, radixSortPairs); rebuild it with `npm run build:wasm`");
    }
    checked.add(ex);
  }
  return ex;
}

/** Type code of a column's storage, or undefined for object columns. */
export function typeCode(c: Column): number | undefined {
  switch (c.type) {
    case "float64": return T.F64;
    case "float32": return T.F32;
    case "int32": case "date32": case "string": return T.I32;
    case "uint8": case "bool": return T.U8;
    case "int8": return T.I8;
    case "int16": return T.I16;
    case "uint16": return T.U16;
    case "uint32": return T.U32;
    case "int64": case "timestamp": return T.I64;
    case "uint64": return T.U64;
    default: return undefined;
  }
}

export const isFloatType = (c: Column): boolean => c.type === "float64" || c.type === "float32";

/** Allocations of one kernel call, freed together. */
export class Arena {
  private readonly ptrs: number[] = [];
  constructor(readonly k: Kernels) {}
  alloc(bytes: number, align = 16): number {
    const p = this.k.alloc(Math.max(16, bytes), align);
    this.ptrs.push(p);
    return p;
  }
  /** Allocate and zero. */
  zeros(bytes: number): number {
    const p = this.alloc(bytes);
    u8(this.k, p, bytes).fill(0);
    return p;
  }
  release(ptr: number): void {
    const i = this.ptrs.indexOf(ptr);
    if (i >= 0) {
      this.ptrs.splice(i, 1);
      this.k.free(ptr);
    }
  }
  free(): void {
    for (const p of this.ptrs) this.k.free(p);
    this.ptrs.length = 0;
  }
}

/** Run fn with an arena that is freed afterwards, whatever happens. */
export function withArena<R>(k: Kernels, fn: (a: Arena) => R): R {
  const a = new Arena(k);
  try {
    return fn(a);
  } finally {
    a.free();
  }
}

// Fresh views of wasm memory: valid until the next allocation.
export const u8 = (k: Kernels, p: number, n: number) => new Uint8Array(k.memory.buffer, p, n);
export const i32 = (k: Kernels, p: number, n: number) => new Int32Array(k.memory.buffer, p, n);
export const u32 = (k: Kernels, p: number, n: number) => new Uint32Array(k.memory.buffer, p, n);
export const f64 = (k: Kernels, p: number, n: number) => new Float64Array(k.memory.buffer, p, n);
export const i64 = (k: Kernels, p: number, n: number) => new BigInt64Array(k.memory.buffer, p, n);

type Typed = Exclude<ColumnData, unknown[]>;

/**
 * Column data computed a block at a time as a kernel reads it, never held whole (a column a
 * groupby's steps assign and only its sums read: steps.ts's applyStepsMasked). Only kernels that
 * read columns through a BlockReader accept it.
 */
export interface LazyData {
  readonly lazy: true;
  readonly length: number;
  readonly BYTES_PER_ELEMENT: number;
  /** Rows [start, start + n), as a typed array of the column's type (valid until the next call). */
  block(start: number, n: number): Typed;
  /** The same rows already in wasm memory, as a pointer (block-eval.ts): read there, not copied. */
  ptr?(start: number, n: number): number;
}

export function isLazyData(d: unknown): d is LazyData {
  return d !== null && typeof d === "object" && (d as Partial<LazyData>).lazy === true;
}

/**
 * Reads rows [start, start + n) of one typed array as a pointer into wasm memory: in place when
 * the array lives there, else through a BLOCK-row scratch buffer (one copy per block); lazy data
 * is computed a block at a time into the scratch.
 */
export class BlockReader {
  private readonly inPlace: number;
  private readonly scratch: number;
  private readonly size: number;
  constructor(private readonly k: Kernels, arena: Arena, private readonly src: Typed | LazyData, rows = BLOCK) {
    this.size = src.BYTES_PER_ELEMENT;
    this.inPlace = !isLazyData(src) && src.buffer === k.memory.buffer ? src.byteOffset : -1;
    this.scratch = this.inPlace >= 0 || (isLazyData(src) && src.ptr) ? 0 : arena.alloc(rows * this.size);
  }
  ptr(start: number, n: number): number {
    if (this.inPlace >= 0) return this.inPlace + start * this.size;
    if (isLazyData(this.src) && this.src.ptr) return this.src.ptr(start, n);
    const bytes = n * this.size;
    const src = isLazyData(this.src) ? this.src.block(start, n) : this.src;
    const at = isLazyData(this.src) ? 0 : start * this.size;
    if (src.length * this.size < at + bytes) throw new KernelError(`block reader: rows ${start}..${start + n} are past the end of a column of ${src.length}`);
    const from = new Uint8Array(src.buffer, src.byteOffset + at, bytes);
    new Uint8Array(this.k.memory.buffer, this.scratch, bytes).set(from);
    return this.scratch;
  }
}

/** A column's data and validity as block readers (validity pointer 0 when it has none). */
export class ColumnReader {
  readonly data: BlockReader;
  readonly valid: BlockReader | undefined;
  readonly t: number;
  constructor(k: Kernels, arena: Arena, readonly column: Column, what: string, rows = BLOCK) {
    const t = typeCode(column);
    if (t === undefined) throw new KernelError(`${what}: columns of type ${column.type} are not supported here`);
    this.t = t;
    this.data = new BlockReader(k, arena, column.data as Typed, rows);
    // A validity may be LazyData too (a filter's mask a block at a time: kernels/groupby.ts).
    this.valid = column.valid ? new BlockReader(k, arena, column.valid as Typed | LazyData, rows) : undefined;
  }
  dataPtr(start: number, n: number): number {
    return this.data.ptr(start, n);
  }
  validPtr(start: number, n: number): number {
    return this.valid ? this.valid.ptr(start, n) : 0;
  }
}

/** Copy n elements at p out of wasm memory into a new array of the given kind. */
export function copyOut<A extends Typed>(k: Kernels, ctor: { new (b: ArrayBufferLike, o: number, n: number): A }, p: number, n: number): A {
  return (new ctor(k.memory.buffer, p, n) as unknown as { slice(): A }).slice();
}
