/**
 * Small dense linear algebra on the client (d x d systems, d up to a few hundred): what the
 * normal equations need once the workers have reduced the data to X'X and X'y.
 *
 * Cholesky for symmetric positive definite systems (Ridge with alpha > 0, full-rank X); when
 * it fails (collinear columns with alpha = 0), the minimum-norm least-squares solution from an
 * eigendecomposition (cyclic Jacobi), which is what lstsq gives on the original problem.
 * Matrices are row-major Float64Arrays.
 */

/** Solve A x = b for SPD A (n x n) by Cholesky; null when A is not (numerically) positive definite. */
export function choleskySolve(A: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * n + i]!));
  const eps = maxDiag * n * 2.220446049250313e-16;
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j]!;
    for (let k = 0; k < j; k++) s -= L[j * n + k]! ** 2;
    // A pivot at rounding level means a (near-)singular matrix: the solution would be noise.
    if (!(s > eps)) return null;
    const ljj = Math.sqrt(s);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j]!;
      for (let k = 0; k < j; k++) t -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = t / ljj;
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = b[i]!;
    for (let k = 0; k < i; k++) t -= L[i * n + k]! * y[k]!;
    y[i] = t / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let t = y[i]!;
    for (let k = i + 1; k < n; k++) t -= L[k * n + i]! * x[k]!;
    x[i] = t / L[i * n + i]!;
  }
  return x;
}

/** Eigenvalues and eigenvectors (columns of V) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = a[i * n + j]! ** 2;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= total * 1e-30) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** The minimum-norm x minimizing |A x - b| for symmetric PSD A (pseudo-inverse, numpy's rcond). */
export function pinvSolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(A, n);
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const cutoff = max * n * 2.220446049250313e-16;
  const x = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const lambda = values[k]!;
    if (Math.abs(lambda) <= cutoff) continue;
    let proj = 0;
    for (let i = 0; i < n; i++) proj += vectors[i * n + k]! * b[i]!;
    const c = proj / lambda;
    for (let i = 0; i < n; i++) x[i] += c * vectors[i * n + k]!;
  }
  return x;
}

/** Solve the normal equations A x = b: Cholesky, or the minimum-norm solution when A is singular. */
export function solveNormal(A: Float64Array, b: Float64Array, n: number): { x: Float64Array; singular: boolean } {
  const x = choleskySolve(A, b, n);
  return x ? { x, singular: false } : { x: pinvSolve(A, b, n), singular: true };
}
