/** Row-major memory layout helpers shared by worker ops and the client. */

import { stridesOf } from "./chunks.js";

/** Copy src[start:stop] (n-d) into dst at `at`, one contiguous run of the last axis at a time. */
export function copyRegion(
  src: ArrayLike<number> & { subarray?: unknown },
  srcShape: readonly number[],
  start: readonly number[],
  stop: readonly number[],
  dst: { set(a: ArrayLike<number>, offset: number): void },
  dstShape: readonly number[],
  at: readonly number[],
): void {
  const nd = srcShape.length;
  const extent = stop.map((s, a) => s - start[a]!);
  if (extent.some((e) => e <= 0)) return;
  if (nd === 0) {
    dst.set([src[0]!], 0);
    return;
  }
  const ss = stridesOf(srcShape);
  const ds = stridesOf(dstShape);
  const run = extent[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  const s = src as unknown as { subarray(a: number, b: number): ArrayLike<number> };
  for (;;) {
    let from = start[nd - 1]!;
    let to = at[nd - 1]!;
    for (let a = 0; a < nd - 1; a++) {
      from += (start[a]! + idx[a]!) * ss[a]!;
      to += (at[a]! + idx[a]!) * ds[a]!;
    }
    dst.set(s.subarray(from, from + run), to);
    let a = nd - 2;
    while (a >= 0) {
      if (++idx[a]! < extent[a]!) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}
