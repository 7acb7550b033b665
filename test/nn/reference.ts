// A plain f64 reference of nn.sequential's forward pass and losses, for finite differences.
import type { nn } from "../../dist/index.js";

type Spec = ReturnType<typeof nn.sequential>;

export function referenceLoss(spec: Spec, params: Float64Array, x: Float64Array, y: ArrayLike<number>, rows: number, loss: string): number {
  let a = Array.from(x);
  let width = 0;
  let at = 0;
  for (const l of spec.layers) {
    if (l.type === "dense") {
      const out = new Array<number>(rows * l.outputs).fill(0);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < l.outputs; o++) {
          let s = l.bias ? params[at + l.inputs * l.outputs + o]! : 0;
          for (let i = 0; i < l.inputs; i++) s += a[r * l.inputs + i]! * params[at + i * l.outputs + o]!;
          out[r * l.outputs + o] = s;
        }
      at += l.inputs * l.outputs + (l.bias ? l.outputs : 0);
      a = out;
      width = l.outputs;
    } else if (l.type === "embedding") {
      const out: number[] = [];
      for (let r = 0; r < rows; r++) for (let c = 0; c < l.inputs; c++) for (let j = 0; j < l.dim; j++) out.push(params[at + a[r * l.inputs + c]! * l.dim + j]!);
      at += l.num * l.dim;
      a = out;
      width = l.inputs * l.dim;
    } else if (l.type === "layerNorm") {
      const d = l.features;
      const out = new Array<number>(rows * d);
      for (let r = 0; r < rows; r++) {
        const row = a.slice(r * d, r * d + d);
        const mean = row.reduce((s, v) => s + v, 0) / d;
        const v = row.reduce((s, q) => s + (q - mean) ** 2, 0) / d;
        for (let j = 0; j < d; j++) out[r * d + j] = params[at + j]! * ((row[j]! - mean) / Math.sqrt(v + l.eps)) + params[at + d + j]!;
      }
      at += 2 * d;
      a = out;
      width = d;
    } else if (l.type === "relu") a = a.map((v) => Math.max(v, 0));
    else if (l.type === "tanh") a = a.map(Math.tanh);
    else if (l.type === "sigmoid") a = a.map((v) => 1 / (1 + Math.exp(-v)));
    else if (l.type === "gelu") a = a.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
  }
  const K = width;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = a.slice(r * K, r * K + K);
    if (loss === "softmaxCrossEntropy") {
      const m = Math.max(...o);
      total += Math.log(o.reduce((s, v) => s + Math.exp(v - m), 0)) + m - o[y[r]!]!;
    } else if (loss === "binaryCrossEntropy") {
      const p = 1 / (1 + Math.exp(-o[0]!));
      total += -(y[r]! * Math.log(p) + (1 - y[r]!) * Math.log(1 - p));
    } else total += (o[0]! - y[r]!) ** 2;
  }
  return total / rows;
}
