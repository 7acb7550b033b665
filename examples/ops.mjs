// Ops for the demo pipeline, registered in every worker with
// `LocalCluster.start({ modules: [{ url, name: "demo" }] })` and called as "demo.<name>".

/** A partition of `n` pseudo-random values in [0, 1) that depends only on (seed, part). */
export function makePartition(seed, part, n) {
  let s = (seed * 0x9e3779b1 + part * 0x85ebca77 + 1) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // xorshift32: fast and good enough for a demo
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 4294967296;
  }
  return out;
}

/** Summary statistics of one partition, plus a 10-bin histogram over [0, 1). */
export function summarize(xs) {
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
  const hist = new Float64Array(10);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    sum += v;
    sumsq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
    hist[Math.min(9, Math.floor(v * 10))]++;
  }
  return { count: xs.length, sum, sumsq, min, max, hist };
}

/** Combine summaries (a node of the tree reduction). */
export function combine(...parts) {
  const out = { count: 0, sum: 0, sumsq: 0, min: Infinity, max: -Infinity, hist: new Float64Array(10) };
  for (const p of parts) {
    out.count += p.count;
    out.sum += p.sum;
    out.sumsq += p.sumsq;
    out.min = Math.min(out.min, p.min);
    out.max = Math.max(out.max, p.max);
    for (let i = 0; i < 10; i++) out.hist[i] += p.hist[i];
  }
  return out;
}
