/**
 * Kernel speeds, one thread, data already in wasm memory (as the chunk store keeps it):
 *
 *   fused-10m      ((x*2+1)**2).sum() over 10M f64 as one fused program (one read of x), against
 *                  a plain JS loop over a Float64Array and a numpy-style multi-pass evaluation
 *                  (one wasm kernel call and one 80 MB temporary per op), in the same run
 *   sum-10m        plain sum of 10M f64: wasm reduce vs a JS loop
 *   copyin-10m     copyIn of a 10M f64 Float64Array (alloc + one copy into wasm memory)
 *   normal-10m     10M standard normals (Philox + Box-Muller) into wasm memory
 *   matmul-N-f32 / matmul-N-f64   C = A·B for N = 512, 1024, 2048 (quick: 512, 1024)
 *
 * gb_per_s counts bytes of input read (80 MB for 10M f64); gflops counts 2·N³ flops.
 */

import type * as K from "../dist/kernels/index.js";
import type * as KNode from "../dist/kernels/node.js";

export interface KernelsCase {
  case: string;
  impl: string;
  seconds: number;
  gb_per_s?: number;
  gflops?: number;
  ok: boolean;
}

// The kernels are not exported from the package index yet: load them from the built dist/
// (this file runs as build/bench/kernels.js).
async function load(): Promise<[typeof K, typeof KNode]> {
  const base = new URL("../../dist/kernels/", import.meta.url);
  const api = (await import(new URL("index.js", base).href)) as typeof K;
  const node = (await import(new URL("node.js", base).href)) as typeof KNode;
  return [api, node];
}

function best(repeat: number, fn: () => number): { seconds: number; value: number } {
  let value = fn();
  let seconds = Infinity;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    value = fn();
    seconds = Math.min(seconds, (performance.now() - t0) / 1000);
  }
  return { seconds, value };
}

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

export async function runKernelsBench(options: { quick?: boolean; emit(c: KernelsCase): void }): Promise<void> {
  const [api, node] = await load();
  const repeat = options.quick ? 3 : 7;
  const k = await node.loadKernelsFromFile({ initialBytes: 1024 * 2 ** 20 });
  const n = 10_000_000;
  const bytes = n * 8;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const px = k.copyIn(x);
  const xin = { ptr: px, dtype: "float64" as const };

  // Fused: one program, one pass.
  const { input, mul, add, pow } = api;
  const expr = pow(add(mul(input(0), 2), 1), 2);
  const program = k.compile(expr, ["float64"], "sum");
  // V8 compiles wasm in tiers: warm the kernels up so the optimizing tier is what is timed.
  for (let i = 0; i < 30; i++) {
    k.runProgram(program, [px], 1_000_000);
    k.reduce("sum", xin, 1_000_000);
    k.binary("mul", xin, 2, px, 0);
  }
  const fused = best(repeat, () => api.finalize(k.runProgram(program, [px], n)!));
  const jsLoop = best(repeat, () => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const t = x[i]! * 2 + 1;
      s += t * t;
    }
    return s;
  });
  const t1 = k.allocArray("float64", n), t2 = k.allocArray("float64", n), t3 = k.allocArray("float64", n);
  const multi = best(repeat, () => {
    k.binary("mul", xin, 2, t1, n);
    k.binary("add", { ptr: t1, dtype: "float64" }, 1, t2, n);
    k.binary("pow", { ptr: t2, dtype: "float64" }, 2, t3, n);
    return api.finalize(k.reduce("sum", { ptr: t3, dtype: "float64" }, n));
  });
  [t1, t2, t3].forEach((p) => k.free(p));
  const expected = jsLoop.value;
  for (const [impl, r] of [["wasm-fused", fused], ["js-loop", jsLoop], ["wasm-multipass", multi]] as const) {
    options.emit({ case: "fused-10m", impl, seconds: r.seconds, gb_per_s: bytes / r.seconds / 1e9, ok: close(r.value, expected, 1e-9) });
  }

  // Plain sum.
  const wsum = best(repeat, () => api.finalize(k.reduce("sum", xin, n)));
  const jsum = best(repeat, () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]!;
    return s;
  });
  options.emit({ case: "sum-10m", impl: "wasm", seconds: wsum.seconds, gb_per_s: bytes / wsum.seconds / 1e9, ok: close(wsum.value, jsum.value, 1e-9) });
  options.emit({ case: "sum-10m", impl: "js-loop", seconds: jsum.seconds, gb_per_s: bytes / jsum.seconds / 1e9, ok: true });

  // copyIn: allocation plus one copy into wasm memory.
  const copy = best(repeat, () => {
    const p = k.copyIn(x);
    k.free(p);
    return p;
  });
  options.emit({ case: "copyin-10m", impl: "wasm", seconds: copy.seconds, gb_per_s: bytes / copy.seconds / 1e9, ok: true });

  // Random normals.
  const pr = k.allocArray("float64", n);
  const rng = best(options.quick ? 1 : 3, () => {
    k.random.normal("float64", pr, n, { seed: 42 });
    return 0;
  });
  const sample = k.copyOut("float64", pr, 1_000_000);
  const mean = sample.reduce((a, b) => a + b, 0) / sample.length;
  options.emit({ case: "normal-10m", impl: "wasm", seconds: rng.seconds, gb_per_s: bytes / rng.seconds / 1e9, ok: Math.abs(mean) < 0.01 });
  k.free(pr);
  k.free(px);

  // matmul.
  const sizes = options.quick ? [512, 1024] : [512, 1024, 2048];
  for (const dtype of ["float32", "float64"] as const) {
    for (const size of sizes) {
      const count = size * size;
      const a = k.allocArray(dtype, count), b = k.allocArray(dtype, count), c = k.allocArray(dtype, count);
      const va = k.view(dtype, a, count), vb = k.view(dtype, b, count);
      for (let i = 0; i < count; i++) {
        va[i] = ((i * 7) % 13) / 13 - 0.5;
        vb[i] = ((i * 5) % 11) / 11 - 0.5;
      }
      const reps = size >= 2048 ? 2 : options.quick ? 2 : 3;
      const r = best(reps, () => {
        k.matmul(dtype, size, size, size, a, b, c);
        return 0;
      });
      // Check one entry against a dot product.
      const va2 = k.view(dtype, a, count), vb2 = k.view(dtype, b, count), vc = k.view(dtype, c, count);
      let dot = 0;
      for (let p = 0; p < size; p++) dot += va2[3 * size + p]! * vb2[p * size + 5]!;
      options.emit({
        case: `matmul-${size}-${dtype === "float32" ? "f32" : "f64"}`,
        impl: "wasm",
        seconds: r.seconds,
        gflops: (2 * size ** 3) / r.seconds / 1e9,
        ok: close(vc[3 * size + 5]!, dot, dtype === "float32" ? 1e-4 : 1e-10),
      });
      [a, b, c].forEach((p) => k.free(p));
    }
  }
}
