/** Reference matmul: the naive triple loop, accumulating in float64. */

export function matmulRef(m: number, n: number, k: number, a: ArrayLike<number>, b: ArrayLike<number>, single = false): Float64Array | Float32Array {
  const c = single ? new Float32Array(m * n) : new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}
