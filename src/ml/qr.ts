/**
 * The dense factorizations PCA needs, small enough to run in JS: the R of a Householder QR
 * (per block on the workers, and of the stacked Rs up the tree: tall-skinny QR), and the SVD
 * of the final d x d R on the client by one-sided Jacobi rotations (Hestenes), which works on
 * R itself rather than on RᵀR, so small singular values keep their accuracy.
 * Matrices are row-major Float64Arrays.
 */

/** Rows per panel: a panel and R stay in cache while their reflections are applied. */
const PANEL = 512;

/**
 * R (min(rows, d) x d, upper triangular) of the QR of A (rows x d); A may be overwritten.
 * A tall block is taken a panel of rows at a time: R ← R of [R; panel], so the working set
 * stays small (the R of stacked Rs is the R of the stacked rows, up to row signs).
 */
export function householderR(a: Float64Array, rows: number, d: number): { r: Float64Array; rows: number; d: number } {
  if (rows <= PANEL + d) return panelR(a, rows, d);
  let acc = panelR(a.slice(0, PANEL * d), PANEL, d);
  for (let at = PANEL; at < rows; at += PANEL) {
    const take = Math.min(PANEL, rows - at);
    const stack = new Float64Array((acc.rows + take) * d);
    stack.set(acc.r);
    stack.set(a.subarray(at * d, (at + take) * d), acc.rows * d);
    acc = panelR(stack, acc.rows + take, d);
  }
  return acc;
}

/** Householder QR of a (rows x d, overwritten), reflections applied row by row (contiguous reads). */
function panelR(a: Float64Array, rows: number, d: number): { r: Float64Array; rows: number; d: number } {
  const steps = Math.min(rows, d);
  const v = new Float64Array(rows);
  const s = new Float64Array(d);
  for (let j = 0; j < steps; j++) {
    let norm = 0;
    for (let i = j; i < rows; i++) norm += a[i * d + j]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = a[j * d + j]! > 0 ? -norm : norm;
    // v = x - alpha·e1 reflects x onto alpha·e1; H = I - 2 v vᵀ / (vᵀv).
    let vv = 0;
    for (let i = j; i < rows; i++) {
      v[i] = a[i * d + j]! - (i === j ? alpha : 0);
      vv += v[i]! ** 2;
    }
    if (vv === 0) continue;
    s.fill(0);
    for (let i = j; i < rows; i++) {
      const vi = v[i]!;
      if (vi === 0) continue;
      for (let c = j, o = i * d; c < d; c++) s[c] += vi * a[o + c]!;
    }
    for (let c = j; c < d; c++) s[c] = (2 * s[c]!) / vv;
    for (let i = j; i < rows; i++) {
      const vi = v[i]!;
      if (vi === 0) continue;
      for (let c = j, o = i * d; c < d; c++) a[o + c] -= s[c]! * vi;
    }
    for (let i = j + 1; i < rows; i++) a[i * d + j] = 0;
  }
  const r = new Float64Array(steps * d);
  for (let i = 0; i < steps; i++) for (let c = i; c < d; c++) r[i * d + c] = a[i * d + c]!;
  return { r, rows: steps, d };
}

/**
 * Singular values (descending) and right singular vectors of A (m x d): A = U Σ Vᵀ, V d x d
 * with the vectors as columns (row-major). A zero singular value keeps an orthonormal vector.
 */
export function jacobiSvd(a: Float64Array, m: number, d: number): { s: Float64Array; V: Float64Array } {
  // Columns of A and of V, each contiguous.
  const cols = Array.from({ length: d }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * d + j]!));
  const vcols = Array.from({ length: d }, (_, j) => {
    const e = new Float64Array(d);
    e[j] = 1;
    return e;
  });
  const eps = 2.220446049250313e-16;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const ap = cols[p]!;
        const aq = cols[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += ap[i]! * ap[i]!;
          beta += aq[i]! * aq[i]!;
          gamma += ap[i]! * aq[i]!;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = ap[i]!;
          const y = aq[i]!;
          ap[i] = c * x - s * y;
          aq[i] = s * x + c * y;
        }
        const vp = vcols[p]!;
        const vq = vcols[q]!;
        for (let i = 0; i < d; i++) {
          const x = vp[i]!;
          const y = vq[i]!;
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = cols.map((c) => Math.sqrt(c.reduce((acc, x) => acc + x * x, 0)));
  const order = norms.map((_, j) => j).sort((x, y) => norms[y]! - norms[x]! || x - y);
  const s = Float64Array.from(order, (j) => norms[j]!);
  const V = new Float64Array(d * d);
  order.forEach((j, k) => {
    for (let i = 0; i < d; i++) V[i * d + k] = vcols[j]![i]!;
  });
  return { s, V };
}
