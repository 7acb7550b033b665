/**
 * nnGemm: C[m x n] (= or +=) op(A)[m x k] · op(B)[k x n], f32, row-major with leading dimensions.
 * ta = 1 reads A as stored transposed (A[i, p] at a[p * lda + i]), tb = 1 the same for B, so the
 * backward's Xᵀ·dY and dY·Wᵀ need no transposed copy: the transpose happens while packing, which
 * the blocked product does anyway. An epilogue can follow on C as it is finished: + bias (a row
 * vector, when bias != 0) then max(·, 0) (when relu) — a dense layer and its ReLU in one pass over
 * C, the same operations as nnBiasAct (nn.ts), so the same bits as the gemm followed by it.
 *
 * Same blocking as assembly/matmul.ts (GotoBLAS: B packed into NR-wide panels per KC x NC block,
 * A into MR-high panels per MC x KC block, a 4 x 8 register tile), with packing done in v128
 * lanes: a row-major A panel goes through 4 x 4 in-register transposes, a transposed A panel is
 * already in panel order, a transposed B panel goes through 4 x 4 transposes. No fused
 * multiply-add (relaxed SIMD needs a flag on Node 20): mul then add, deterministic bit for bit.
 */

const G_MR: i32 = 4;
const G_NR: i32 = 8;
const G_KC: i32 = 256;
const G_MC: i32 = 128;
const G_NC: i32 = 1024;
/** Up to this many rows of C, a row-major op(B) is not packed (see nnGemm). */
const G_DIRECT_M: i32 = 16;

export function nnGemmWorkBytes(): i32 {
  return (G_MC * G_KC + G_KC * G_NC + G_MR * G_NR) * 4 + 64;
}

// @ts-ignore: decorator
@inline function tr0(r0: v128, r1: v128, r2: v128, r3: v128, q: usize): void {
  // The 4 x 4 transpose of rows r0..r3: column t (r0[t], r1[t], r2[t], r3[t]) to q + 16·t.
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(q, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(q, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  v128.store(q, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(q, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
}

/** Pack op(A) rows [0, mc) x cols [0, kc) (a points at op(A)[0, 0]) into MR-high panels: panel r, column p at ap + (r*kc + p)*MR. */
function gPackA(a: usize, lda: i32, ta: bool, mc: i32, kc: i32, ap: usize): void {
  const ld = <usize>lda;
  let q = ap;
  for (let ir = 0; ir < mc; ir += G_MR) {
    const rows = min(G_MR, mc - ir);
    if (rows == G_MR && ta) {
      // op(A)[ir..ir+4, p] = a[p*lda + ir .. +4]: one load per column.
      let src = a + (<usize>ir) * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(q, v128.load(src));
        src += ld * 4;
        q += 16;
      }
      continue;
    }
    if (rows == G_MR) {
      const r0 = a + (<usize>ir) * ld * 4;
      const r1 = r0 + ld * 4, r2 = r1 + ld * 4, r3 = r2 + ld * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = (<usize>p) * 4;
        tr0(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), q);
        q += 64;
      }
      for (; p < kc; p++) {
        const o = (<usize>p) * 4;
        store<f32>(q, load<f32>(r0 + o));
        store<f32>(q, load<f32>(r1 + o), 4);
        store<f32>(q, load<f32>(r2 + o), 8);
        store<f32>(q, load<f32>(r3 + o), 12);
        q += 16;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < G_MR; r++) {
        const i = ir + r;
        const v: f32 = r < rows ? (ta ? load<f32>(a + ((<usize>p) * ld + <usize>i) * 4) : load<f32>(a + ((<usize>i) * ld + <usize>p) * 4)) : 0;
        store<f32>(q, v);
        q += 4;
      }
    }
  }
}

/** Pack op(B) rows [0, kc) x cols [0, nc) (b points at op(B)[0, 0]) into NR-wide panels: panel j, row p at bp + (j*kc + p)*NR. */
function gPackB(b: usize, ldb: i32, tb: bool, kc: i32, nc: i32, bp: usize): void {
  const ld = <usize>ldb;
  let q = bp;
  for (let jr = 0; jr < nc; jr += G_NR) {
    const cols = min(G_NR, nc - jr);
    if (cols == G_NR && !tb) {
      let row = b + (<usize>jr) * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(q, v128.load(row));
        v128.store(q, v128.load(row, 16), 16);
        row += ld * 4;
        q += 32;
      }
      continue;
    }
    if (cols == G_NR) {
      // op(B)[p, jr + c] = b[(jr + c)*ldb + p]: columns of op(B) are rows of b; 4 x 4 transposes
      // of rows jr..jr+3 and jr+4..jr+7 give the panel's two halves.
      const c0 = b + (<usize>jr) * ld * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = (<usize>p) * 4;
        const lo0 = v128.load(c0 + o), lo1 = v128.load(c0 + ld * 4 + o), lo2 = v128.load(c0 + ld * 8 + o), lo3 = v128.load(c0 + ld * 12 + o);
        const hi0 = v128.load(c0 + ld * 16 + o), hi1 = v128.load(c0 + ld * 20 + o), hi2 = v128.load(c0 + ld * 24 + o), hi3 = v128.load(c0 + ld * 28 + o);
        let t0 = f32x4.shuffle(lo0, lo1, 0, 4, 1, 5), t1 = f32x4.shuffle(lo0, lo1, 2, 6, 3, 7);
        let t2 = f32x4.shuffle(lo2, lo3, 0, 4, 1, 5), t3 = f32x4.shuffle(lo2, lo3, 2, 6, 3, 7);
        v128.store(q, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(q, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 32);
        v128.store(q, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 64);
        v128.store(q, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 96);
        t0 = f32x4.shuffle(hi0, hi1, 0, 4, 1, 5);
        t1 = f32x4.shuffle(hi0, hi1, 2, 6, 3, 7);
        t2 = f32x4.shuffle(hi2, hi3, 0, 4, 1, 5);
        t3 = f32x4.shuffle(hi2, hi3, 2, 6, 3, 7);
        v128.store(q, f32x4.shuffle(t0, t2, 0, 1, 4, 5), 16);
        v128.store(q, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 48);
        v128.store(q, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 80);
        v128.store(q, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 112);
        q += 128;
      }
      for (; p < kc; p++) {
        for (let c = 0; c < G_NR; c++) store<f32>(q + (<usize>c) * 4, load<f32>(c0 + ((<usize>c) * ld + <usize>p) * 4));
        q += 32;
      }
      continue;
    }
    for (let p = 0; p < kc; p++) {
      for (let c = 0; c < G_NR; c++) {
        const j = jr + c;
        const v: f32 = c < cols ? (tb ? load<f32>(b + ((<usize>j) * ld + <usize>p) * 4) : load<f32>(b + ((<usize>p) * ld + <usize>j) * 4)) : 0;
        store<f32>(q + (<usize>c) * 4, v);
      }
      q += 32;
    }
  }
}

// @ts-ignore: decorator
@inline function gAddRow(c: usize, lo: v128, hi: v128): void {
  v128.store(c, f32x4.add(v128.load(c), lo));
  v128.store(c, f32x4.add(v128.load(c, 16), hi), 16);
}

/**
 * The MR x NR tile: c (row stride ldc) = or += A-panel · B-panel over kc, row p of the B panel at
 * bp + p·sb bytes: sb = 32 for a packed panel, or the row stride of a row-major op(B) read in
 * place (the same products summed in the same order either way, so the same bits).
 */
function gMicro(kc: i32, ap: usize, bp: usize, sb: usize, c: usize, ldc: i32, mr: i32, nr: i32, first: bool, tmp: usize, bias: usize, relu: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let pa = ap, pb = bp;
  // Bounded by the A pointer, not a counter: one induction variable fewer per step of p (V8's
  // loop already carries a stack check; the issue slots are what the tile runs out of). Unrolling
  // the loop made TurboFan hoist the loads and spill the accumulators: slower.
  const end = ap + (<usize>kc) * 16;
  while (pa < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    pa += 16;
    pb += sb;
  }
  const rb = (<usize>ldc) * 4;
  if (mr == G_MR && nr == G_NR && (bias != 0 || relu)) {
    // The last KC block of a product with an epilogue: C = max(C + b, 0) as nnBiasAct would.
    const b0 = bias != 0 ? v128.load(bias) : f32x4.splat(0), b1 = bias != 0 ? v128.load(bias, 16) : f32x4.splat(0);
    gEpRow(c, c00, c01, first, bias != 0, relu, b0, b1);
    gEpRow(c + rb, c10, c11, first, bias != 0, relu, b0, b1);
    gEpRow(c + 2 * rb, c20, c21, first, bias != 0, relu, b0, b1);
    gEpRow(c + 3 * rb, c30, c31, first, bias != 0, relu, b0, b1);
    return;
  }
  if (mr == G_MR && nr == G_NR) {
    if (first) {
      v128.store(c, c00); v128.store(c, c01, 16);
      v128.store(c + rb, c10); v128.store(c + rb, c11, 16);
      v128.store(c + 2 * rb, c20); v128.store(c + 2 * rb, c21, 16);
      v128.store(c + 3 * rb, c30); v128.store(c + 3 * rb, c31, 16);
    } else {
      gAddRow(c, c00, c01);
      gAddRow(c + rb, c10, c11);
      gAddRow(c + 2 * rb, c20, c21);
      gAddRow(c + 3 * rb, c30, c31);
    }
    return;
  }
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(tmp + (<usize>r) * 32 + (<usize>j) * 4);
      const q = c + (<usize>r) * rb + (<usize>j) * 4;
      store<f32>(q, first ? v : load<f32>(q) + v);
    }
  }
  if (bias != 0 || relu) gEpilogue(c, ldc, mr, nr, bias, relu);
}

// @ts-ignore: decorator
@inline function gEpRow(c: usize, lo: v128, hi: v128, first: bool, hasBias: bool, relu: bool, b0: v128, b1: v128): void {
  let x = first ? lo : f32x4.add(v128.load(c), lo);
  let y = first ? hi : f32x4.add(v128.load(c, 16), hi);
  if (hasBias) {
    x = f32x4.add(x, b0);
    y = f32x4.add(y, b1);
  }
  if (relu) {
    x = f32x4.max(x, f32x4.splat(0));
    y = f32x4.max(y, f32x4.splat(0));
  }
  v128.store(c, x);
  v128.store(c, y, 16);
}

/** C[m x n] = max(C + b, 0) in place (b when bias != 0, the max when relu): nnBiasAct's operations. */
function gEpilogue(c: usize, ldc: i32, m: i32, n: i32, bias: usize, relu: bool): void {
  for (let i = 0; i < m; i++) {
    const r = c + (<usize>i) * (<usize>ldc) * 4;
    for (let j = 0; j < n; j++) {
      let v = load<f32>(r + (<usize>j) * 4);
      if (bias != 0) v += load<f32>(bias + (<usize>j) * 4);
      if (relu) v = max<f32>(v, 0);
      store<f32>(r + (<usize>j) * 4, v);
    }
  }
}

// @ts-ignore: decorator
@inline function opAt(x: usize, ld: i32, t: bool, r: i32, col: i32): f32 {
  // Element (r, col) of op(X): X[r, col], or X[col, r] when t.
  return t ? load<f32>(x + ((<usize>col) * (<usize>ld) + <usize>r) * 4) : load<f32>(x + ((<usize>r) * (<usize>ld) + <usize>col) * 4);
}

// @ts-ignore: decorator
@inline function putC(q: usize, v: f32, first: bool): void {
  store<f32>(q, first ? v : load<f32>(q) + v);
}

/**
 * nnGemm for n <= 4: op(B) packed as k vectors of 4 (zero-padded), then per KC block each
 * element of C is a sum over p in order (as the tile's), four rows at a time: with op(A)
 * row-major, one accumulator per row (a vector over the columns); transposed, one per column (a
 * vector over 4 rows, loaded contiguously).
 */
function gNarrow(m: i32, n: i32, k: i32, a: usize, lda: i32, ta: bool, b: usize, ldb: i32, tb: bool, c: usize, ldc: i32, accumulate: bool, bq: usize): void {
  for (let p = 0; p < k; p++) for (let j = 0; j < 4; j++) store<f32>(bq + (<usize>p) * 16 + (<usize>j) * 4, j < n ? opAt(b, ldb, tb, p, j) : 0);
  const tmp = bq + (<usize>k) * 16;
  const la = <usize>lda;
  const rb = (<usize>ldc) * 4;
  for (let pc = 0; pc < k; pc += G_KC) {
    const kc = min(G_KC, k - pc);
    const first = pc == 0 && !accumulate;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      let r0 = f32x4.splat(0), r1 = f32x4.splat(0), r2 = f32x4.splat(0), r3 = f32x4.splat(0);
      let pb = bq + (<usize>pc) * 16;
      if (ta) {
        // rJ: column j of C for rows i..i+3.
        let pa = a + ((<usize>pc) * la + <usize>i) * 4;
        for (let p = 0; p < kc; p++) {
          const av = v128.load(pa);
          r0 = f32x4.add(r0, f32x4.mul(av, v128.load32_splat(pb)));
          r1 = f32x4.add(r1, f32x4.mul(av, v128.load32_splat(pb, 4)));
          r2 = f32x4.add(r2, f32x4.mul(av, v128.load32_splat(pb, 8)));
          r3 = f32x4.add(r3, f32x4.mul(av, v128.load32_splat(pb, 12)));
          pa += la * 4;
          pb += 16;
        }
        v128.store(tmp, r0); v128.store(tmp, r1, 16); v128.store(tmp, r2, 32); v128.store(tmp, r3, 48);
        for (let r = 0; r < 4; r++) for (let j = 0; j < n; j++) putC(c + (<usize>(i + r)) * rb + (<usize>j) * 4, load<f32>(tmp + (<usize>j) * 16 + (<usize>r) * 4), first);
      } else {
        // rR: row i + R of C over the columns.
        const a0 = a + ((<usize>i) * la + <usize>pc) * 4;
        const a1 = a0 + la * 4, a2 = a1 + la * 4, a3 = a2 + la * 4;
        for (let p = 0; p < kc; p++) {
          const bv = v128.load(pb);
          const o = (<usize>p) * 4;
          r0 = f32x4.add(r0, f32x4.mul(v128.load32_splat(a0 + o), bv));
          r1 = f32x4.add(r1, f32x4.mul(v128.load32_splat(a1 + o), bv));
          r2 = f32x4.add(r2, f32x4.mul(v128.load32_splat(a2 + o), bv));
          r3 = f32x4.add(r3, f32x4.mul(v128.load32_splat(a3 + o), bv));
          pb += 16;
        }
        v128.store(tmp, r0); v128.store(tmp, r1, 16); v128.store(tmp, r2, 32); v128.store(tmp, r3, 48);
        for (let r = 0; r < 4; r++) for (let j = 0; j < n; j++) putC(c + (<usize>(i + r)) * rb + (<usize>j) * 4, load<f32>(tmp + (<usize>r) * 16 + (<usize>j) * 4), first);
      }
    }
    for (; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s: f32 = 0;
        for (let p = pc; p < pc + kc; p++) s += opAt(a, lda, ta, i, p) * load<f32>(bq + (<usize>p) * 16 + (<usize>j) * 4);
        putC(c + (<usize>i) * rb + (<usize>j) * 4, s, first);
      }
    }
  }
}

export function nnGemm(m: i32, n: i32, k: i32, a: usize, lda: i32, ta: bool, b: usize, ldb: i32, tb: bool, c: usize, ldc: i32, accumulate: bool, bias: usize, relu: bool, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + (<usize>i) * (<usize>ldc) * 4, 0, (<usize>n) * 4);
    if (bias != 0 || relu) gEpilogue(c, ldc, m, n, bias, relu);
    return;
  }
  const ap = (work + 15) & ~(<usize>15);
  // A layer with 1-4 outputs (n): the 4 x 8 tile would multiply mostly padding, and packing A
  // would cost more than the product. Same sums in the same order (per KC block), so the same
  // bits. (A path for k <= 4 written the same way was slower than the tile: 51 against 37 µs.)
  if (n <= 4 && k <= (G_MC * G_KC) / 4) {
    gNarrow(m, n, k, a, lda, ta, b, ldb, tb, c, ldc, accumulate, ap);
    if (bias != 0 || relu) gEpilogue(c, ldc, m, n, bias, relu);
    return;
  }
  const bp = ap + (<usize>(G_MC * G_KC)) * 4;
  const tmp = bp + (<usize>(G_KC * G_NC)) * 4;
  // Element (r, col) of op(A) / op(B) as a byte address.
  const la = <usize>lda, lb = <usize>ldb;
  // Few rows (m <= G_DIRECT_M, e.g. the first layer's dW = Xᵀ·dY with 16 inputs): each B panel
  // would serve only m / 4 tiles, so packing B (a read and a write of all of it) costs more than
  // it saves; a row-major op(B) is read in place instead, only a last panel narrower than 8 packed.
  const direct = !tb && m <= G_DIRECT_M;
  for (let jc = 0; jc < n; jc += G_NC) {
    const nc = min(G_NC, n - jc);
    for (let pc = 0; pc < k; pc += G_KC) {
      const kc = min(G_KC, k - pc);
      const bAt = tb ? b + ((<usize>jc) * lb + <usize>pc) * 4 : b + ((<usize>pc) * lb + <usize>jc) * 4;
      if (!direct) gPackB(bAt, ldb, tb, kc, nc, bp);
      const first = pc == 0 && !accumulate;
      // The epilogue (bias, ReLU) on the last KC block, once C holds the whole sum.
      const last = pc + kc >= k;
      const ep = last && relu, eb = last && bias != 0 ? bias + (<usize>jc) * 4 : 0;
      for (let ic = 0; ic < m; ic += G_MC) {
        const mc = min(G_MC, m - ic);
        const aAt = ta ? a + ((<usize>pc) * la + <usize>ic) * 4 : a + ((<usize>ic) * la + <usize>pc) * 4;
        gPackA(aAt, lda, ta, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += G_NR) {
          let bpanel = bp + (<usize>jr) * (<usize>kc) * 4, sb: usize = 32;
          if (direct && nc - jr >= G_NR) {
            bpanel = bAt + (<usize>jr) * 4;
            sb = lb * 4;
          } else if (direct) {
            bpanel = bp;
            gPackB(bAt + (<usize>jr) * 4, ldb, tb, kc, nc - jr, bp);
          }
          for (let ir = 0; ir < mc; ir += G_MR) {
            const cp = c + ((<usize>(ic + ir)) * <usize>ldc + <usize>(jc + jr)) * 4;
            gMicro(kc, ap + (<usize>ir) * (<usize>kc) * 4, bpanel, sb, cp, ldc, min(G_MR, mc - ir), min(G_NR, nc - jr), first, tmp, eb != 0 ? eb + (<usize>jr) * 4 : 0, ep);
          }
        }
      }
    }
  }
}
