/**
 * C = A·B (or C += A·B) for f32 and f64, row-major with leading dimensions, so a block of a
 * bigger matrix is passed as (pointer to its first element, the big matrix's row length).
 *
 * GotoBLAS-style blocking: for each NC-wide column block of B and each KC-deep slice of K, B is
 * packed into NR-wide panels (KC*NC elements, lives in L2/L3); for each MC-high row block of A,
 * A is packed into MR-high panels (MC*KC, lives in L2). The micro-kernel then computes an
 * MR x NR tile of C in registers: per k it loads NR values of B (two v128), splats MR values of
 * A, and does 2*MR multiply-adds; 8 accumulators + 3 operands fit the 16 SIMD registers of
 * x86-64. MR = 4 and NR = two vectors (8 f32 or 4 f64). Panels are zero-padded to whole tiles,
 * so only the store of an edge tile needs care (it goes through a small buffer).
 *
 * No relaxed SIMD (fused multiply-add needs a flag on Node 20): mul then add, so results equal
 * a naive loop's up to summation order.
 */

import { F32, F64 } from "./types";

const MR: i32 = 4;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 1024;

/** Bytes of work area matmul needs for dtype t (packed A block, packed B panel, edge tile). */
export function matmulWorkBytes(t: i32): i32 {
  const sz = t == F64 ? 8 : 4;
  return (MC * KC + KC * NC + MR * 8) * sz + 64;
}

// @ts-ignore: decorator
@inline function nrOf<T>(): i32 {
  return 32 / sizeof<T>();
}

/** Pack rows [0, mc) x cols [0, kc) of A (at a, row stride lda) into MR-high panels. */
function packA<T>(a: usize, lda: i32, mc: i32, kc: i32, ap: usize): void {
  let q = ap;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < MR; r++) {
        const v: T = r < rows ? load<T>(a + ((<usize>(ir + r)) * <usize>lda + <usize>k) * sizeof<T>()) : <T>0;
        store<T>(q, v);
        q += sizeof<T>();
      }
    }
  }
}

/** Pack rows [0, kc) x cols [0, nc) of B (at b, row stride ldb) into NR-wide panels. */
function packB<T>(b: usize, ldb: i32, kc: i32, nc: i32, bp: usize): void {
  const NR = nrOf<T>();
  let q = bp;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = min(NR, nc - jr);
    for (let k = 0; k < kc; k++) {
      const row = b + ((<usize>k) * <usize>ldb + <usize>jr) * sizeof<T>();
      if (cols == NR) {
        v128.store(q, v128.load(row));
        v128.store(q, v128.load(row, 16), 16);
      } else {
        for (let c = 0; c < NR; c++) store<T>(q + (<usize>c) * sizeof<T>(), c < cols ? load<T>(row + (<usize>c) * sizeof<T>()) : <T>0);
      }
      q += 32;
    }
  }
}

/** The MR x NR tile: c (row stride ldc) = or += Ap-panel · Bp-panel over kc. */
function micro<T>(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, mr: i32, nr: i32, first: bool, tmp: usize): void {
  let c00 = v128.splat<T>(0), c01 = v128.splat<T>(0), c10 = v128.splat<T>(0), c11 = v128.splat<T>(0);
  let c20 = v128.splat<T>(0), c21 = v128.splat<T>(0), c30 = v128.splat<T>(0), c31 = v128.splat<T>(0);
  let pa = ap, pb = bp;
  const sz = sizeof<T>();
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load_splat<T>(pa);
    c00 = v128.add<T>(c00, v128.mul<T>(a0, b0));
    c01 = v128.add<T>(c01, v128.mul<T>(a0, b1));
    const a1 = v128.load_splat<T>(pa, sz);
    c10 = v128.add<T>(c10, v128.mul<T>(a1, b0));
    c11 = v128.add<T>(c11, v128.mul<T>(a1, b1));
    const a2 = v128.load_splat<T>(pa, 2 * sz);
    c20 = v128.add<T>(c20, v128.mul<T>(a2, b0));
    c21 = v128.add<T>(c21, v128.mul<T>(a2, b1));
    const a3 = v128.load_splat<T>(pa, 3 * sz);
    c30 = v128.add<T>(c30, v128.mul<T>(a3, b0));
    c31 = v128.add<T>(c31, v128.mul<T>(a3, b1));
    pa += 4 * sz;
    pb += 32;
  }
  const rowBytes = (<usize>ldc) * sz;
  if (mr == MR && nr == nrOf<T>()) {
    if (first) {
      v128.store(c, c00); v128.store(c, c01, 16);
      v128.store(c + rowBytes, c10); v128.store(c + rowBytes, c11, 16);
      v128.store(c + 2 * rowBytes, c20); v128.store(c + 2 * rowBytes, c21, 16);
      v128.store(c + 3 * rowBytes, c30); v128.store(c + 3 * rowBytes, c31, 16);
    } else {
      addRow<T>(c, c00, c01);
      addRow<T>(c + rowBytes, c10, c11);
      addRow<T>(c + 2 * rowBytes, c20, c21);
      addRow<T>(c + 3 * rowBytes, c30, c31);
    }
    return;
  }
  // Edge tile: spill to tmp, then store the valid mr x nr corner.
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nr; j++) {
      const v = load<T>(tmp + (<usize>r) * 32 + (<usize>j) * sz);
      const q = c + (<usize>r) * rowBytes + (<usize>j) * sz;
      store<T>(q, first ? v : load<T>(q) + v);
    }
  }
}

// @ts-ignore: decorator
@inline function addRow<T>(c: usize, lo: v128, hi: v128): void {
  v128.store(c, v128.add<T>(v128.load(c), lo));
  v128.store(c, v128.add<T>(v128.load(c, 16), hi), 16);
}

function gemm<T>(m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool, work: usize): void {
  const sz = sizeof<T>();
  const NR = nrOf<T>();
  if (k == 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + (<usize>i) * (<usize>ldc) * sz, 0, (<usize>n) * sz);
    return;
  }
  const ap = (work + 15) & ~(<usize>15);
  const bp = ap + (<usize>(MC * KC)) * sz;
  const tmp = bp + (<usize>(KC * NC)) * sz;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB<T>(b + ((<usize>pc) * <usize>ldb + <usize>jc) * sz, ldb, kc, nc, bp);
      const first = pc == 0 && !accumulate;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA<T>(a + ((<usize>ic) * <usize>lda + <usize>pc) * sz, lda, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const bpanel = bp + (<usize>jr) * (<usize>kc) * sz;
          for (let ir = 0; ir < mc; ir += MR) {
            const cp = c + ((<usize>(ic + ir)) * <usize>ldc + <usize>(jc + jr)) * sz;
            micro<T>(kc, ap + (<usize>ir) * (<usize>kc) * sz, bpanel, cp, ldc, min(MR, mc - ir), min(NR, nc - jr), first, tmp);
          }
        }
      }
    }
  }
}

/**
 * C[m x n] (=|+=) A[m x k] · B[k x n] for dtype t (F32 or F64); lda/ldb/ldc are row strides in
 * elements; work is matmulWorkBytes(t) bytes of scratch.
 */
export function matmul(t: i32, m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool, work: usize): void {
  if (t == F32) gemm<f32>(m, n, k, a, lda, b, ldb, c, ldc, accumulate, work);
  else if (t == F64) gemm<f64>(m, n, k, a, lda, b, ldb, c, ldc, accumulate, work);
  else unreachable();
}
