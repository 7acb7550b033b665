/**
 * Merging sorted float64 runs for exact quantiles (RobustScaler, the median imputer): runs
 * merge pairwise in a balanced tree, so k runs of n values cost n·log k moves rather than the
 * n·k of merging them one after another. (An LSD radix sort of the blocks' columns measured no
 * faster than TypedArray.prototype.sort here, so the blocks use that.)
 */

export function mergeSorted(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length && j < b.length) out[o++] = a[i]! <= b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[o++] = a[i++]!;
  while (j < b.length) out[o++] = b[j++]!;
  return out;
}

/** Merge sorted runs (in order) into one, pairwise in a balanced tree. */
export function mergeRuns(runs: Float64Array[]): Float64Array {
  if (runs.length === 0) return new Float64Array(0);
  let level = runs;
  while (level.length > 1) {
    const next: Float64Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergeSorted(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}
