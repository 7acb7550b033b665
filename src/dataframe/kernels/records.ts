/**
 * Per-group state records in wasm memory (the layouts of assembly/groupby.ts).
 *
 * A Rec is one array of `stride`-byte records, one per group, with SPARES spare records in
 * front: kernels get `base` (the record of group 0), so a dropped row's gid (-1, or -1 to
 * -SPARES: kernels spread dropped rows over them, so a run of dropped rows does not make one
 * long chain of dependent updates of a single record) writes a spare. The
 * Records set grows every array together as groups appear (doubling, copying what is there)
 * and initialises each new record (sums 0, min = +inf, first = -1, ...). Fields are read back
 * with `f64Field` / `i64Field` / `i32Field` after the last block.
 */

import type { Kernels } from "../../kernels/kernels.js";
import { type Arena, f64 as f64View, i32 as i32View, i64 as i64View, u8 } from "./wasm.js";

export type RecKind = "sumF" | "sumI" | "var" | "minmaxF" | "minmaxI" | "minmaxU" | "firstLast" | "count" | "sumPair";

const STRIDE: Record<RecKind, number> = {
  sumF: 24, sumI: 8, var: 24, minmaxF: 24, minmaxI: 24, minmaxU: 24, firstLast: 8, count: 8, sumPair: 16,
};

/** Spare records before group 0: dropped rows' gids are -1 ... -SPARES (assembly/hash.ts). */
export const SPARES = 8;

const I64_MAX = 0x7fffffffffffffffn;
const I64_MIN = -0x8000000000000000n;

export class Rec {
  ptr = 0;
  capacity = 0;
  /** Records initialised so far (not counting the spares). */
  ready = 0;
  readonly stride: number;
  constructor(readonly kind: RecKind) {
    this.stride = STRIDE[kind];
  }
  /** Pointer to group 0's record. */
  get base(): number {
    return this.ptr + SPARES * this.stride;
  }
}

export class Records {
  private readonly recs: Rec[] = [];
  constructor(private readonly k: Kernels, private readonly arena: Arena) {}

  add(kind: RecKind): Rec {
    const r = new Rec(kind);
    this.recs.push(r);
    this.resize(r, 64);
    return r;
  }

  /** Make room for, and initialise, groups [0, ng) of every record array. */
  ensure(ng: number): void {
    for (const r of this.recs) {
      if (ng > r.capacity) this.resize(r, Math.max(ng, r.capacity * 2));
      if (ng > r.ready) {
        init(this.k, r, r.ready, ng);
        r.ready = ng;
      }
    }
  }

  private resize(r: Rec, capacity: number): void {
    const bytes = (capacity + SPARES) * r.stride;
    const p = this.arena.alloc(bytes);
    if (r.ptr) {
      const used = (r.ready + SPARES) * r.stride;
      u8(this.k, p, used).set(u8(this.k, r.ptr, used));
      this.arena.release(r.ptr);
    } else {
      r.ptr = p; // the spare records
      init(this.k, r, -SPARES, 0);
    }
    r.ptr = p;
    r.capacity = capacity;
  }

  /** Field at byte offset `off` of records [0, ng), as f64. */
  f64Field(r: Rec, off: number, ng: number): Float64Array {
    const v = f64View(this.k, r.base, (ng * r.stride) / 8);
    const step = r.stride / 8, o = off / 8;
    const out = new Float64Array(ng);
    for (let g = 0; g < ng; g++) out[g] = v[g * step + o]!;
    return out;
  }

  i64Field(r: Rec, off: number, ng: number): BigInt64Array {
    const v = i64View(this.k, r.base, (ng * r.stride) / 8);
    const step = r.stride / 8, o = off / 8;
    const out = new BigInt64Array(ng);
    for (let g = 0; g < ng; g++) out[g] = v[g * step + o]!;
    return out;
  }

  i32Field(r: Rec, off: number, ng: number): Int32Array {
    const v = i32View(this.k, r.base, (ng * r.stride) / 4);
    const step = r.stride / 4, o = off / 4;
    const out = new Int32Array(ng);
    for (let g = 0; g < ng; g++) out[g] = v[g * step + o]!;
    return out;
  }
}

/** Initialise records [from, to) (from < 0: spares). */
function init(k: Kernels, r: Rec, from: number, to: number): void {
  const start = r.base + from * r.stride;
  const n = to - from;
  const bytes = n * r.stride;
  if (r.kind === "firstLast") {
    i32View(k, start, bytes / 4).fill(-1);
    return;
  }
  u8(k, start, bytes).fill(0);
  if (r.kind === "minmaxF") {
    const v = f64View(k, start, bytes / 8);
    for (let g = 0; g < n; g++) {
      v[g * 3 + 1] = Infinity;
      v[g * 3 + 2] = -Infinity;
    }
  } else if (r.kind === "minmaxI" || r.kind === "minmaxU") {
    const v = i64View(k, start, bytes / 8);
    const lo = r.kind === "minmaxI" ? I64_MAX : -1n; // -1n is u64's maximum, bit for bit
    const hi = r.kind === "minmaxI" ? I64_MIN : 0n;
    for (let g = 0; g < n; g++) {
      v[g * 3 + 1] = lo;
      v[g * 3 + 2] = hi;
    }
  }
}
