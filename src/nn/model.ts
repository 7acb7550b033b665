/**
 * A trained (or fresh) model on the client: its spec, loss and f32 parameters, with
 * `evaluate` and `predict` run as one task per row block on the cluster (the model travels as
 * checkpoint bytes in each task's spec), and `lossAndGradient` / `forward` run on this thread's
 * kernels for small batches (tests, checks).
 */

import { TesseraError } from "../errors.js";
import { MaterializedLayer } from "../graph/layers.js";
import { opSpec } from "../graph/spec.js";
import { Task, TaskRef, blockKey, type GraphNode } from "../graph/task.js";
import { randomToken } from "../graph/tokenize.js";
import { combineTree } from "../graph/tree.js";
import { getKernels } from "../kernels/instance.js";
import { toRows, type MatrixInput, type TargetInput } from "../ml/data.js";
import { GraphValue, computeValue } from "../ml/run.js";
import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.js";
import { Network, initialParameters, parameterCount } from "./network.js";
import type { EvalPartial, EvalSpec } from "./ops.js";
import type { LossName, SequentialSpec } from "./spec.js";
import { widths } from "./spec.js";

export interface Evaluation {
  /** Mean loss per row. */
  loss: number;
  /** Fraction of rows predicted right; null for mse. */
  accuracy: number | null;
  rows: number;
}

export class Model {
  readonly params: Float32Array;
  private token = randomToken();

  constructor(
    readonly spec: SequentialSpec,
    params?: Float32Array,
    readonly loss: LossName = "softmaxCrossEntropy",
  ) {
    widths(spec);
    this.params = params ?? initialParameters(spec);
    if (this.params.length !== parameterCount(spec)) throw new TesseraError(`nn.Model: the spec has ${parameterCount(spec)} parameters but ${this.params.length} were given`);
  }

  /** The model as one binary checkpoint (JSON header + raw f32). */
  save(): Uint8Array {
    return encodeCheckpoint({ spec: this.spec, loss: this.loss, params: this.params });
  }

  static load(bytes: Uint8Array): Model {
    const c = decodeCheckpoint(bytes);
    return new Model(c.spec, c.params, c.loss);
  }

  /** Outputs for a row-major f32 batch, on this thread. */
  async forward(x: Float32Array, rows: number): Promise<Float32Array> {
    const net = new Network(await getKernels(), this.spec, this.params);
    try {
      net.setInput(x, rows);
      const o = net.forward(rows, false);
      return net.k.copyOut("float32", o, rows * net.outputs);
    } finally {
      net.dispose();
    }
  }

  /**
   * Mean loss and its gradient (flat, in the parameters' layout) over a batch, on this thread.
   * `training` turns dropout on (its mask is fixed by the spec's seed and `stream`).
   */
  async lossAndGradient(x: Float32Array, y: ArrayLike<number>, rows: number, options: { training?: boolean; stream?: number } = {}): Promise<{ loss: number; grad: Float32Array }> {
    const net = new Network(await getKernels(), this.spec, this.params);
    try {
      net.setInput(x, rows);
      net.forward(rows, options.training ?? false, options.stream ?? 0);
      const r = net.loss(this.loss, y, rows);
      net.backward(rows);
      const g = net.gradView().slice();
      for (let i = 0; i < g.length; i++) g[i] = g[i]! / rows;
      return { loss: r.loss / rows, grad: g };
    } finally {
      net.dispose();
    }
  }

  private evalSpec(d: number): EvalSpec {
    if (d !== widths(this.spec)[0]) throw new TesseraError(`nn: the model takes ${widths(this.spec)[0]} features; X has ${d}`);
    return { token: this.token, model: this.save(), d };
  }

  /** Mean loss and accuracy over X and y (tessera arrays or dataframes, or plain data), one task per row block. */
  async evaluate(X: MatrixInput, y: TargetInput): Promise<Evaluation> {
    const what = "nn.Model.evaluate";
    const rows = await toRows(X, y, what);
    const spec = this.evalSpec(rows.d);
    const token = randomToken();
    const nodes: GraphNode[] = [];
    const parts = rows.x.map((xk, i) => {
      const key = blockKey(`nn-evaluate-part-${token}`, [i]);
      nodes.push(new Task(key, "nn.evaluate", [opSpec(spec), new TaskRef(xk), new TaskRef(rows.y![i]!)]));
      return key;
    });
    const root = combineTree(parts, `nn-evaluate-combine-${token}`, "ml.sum", 8, nodes);
    const graph = rows.graph.withLayer(new MaterializedLayer(`nn-evaluate-${token}`, nodes, [...rows.graph.layers.keys()]));
    const p = await computeValue(new GraphValue(graph, [root], rows.external, (v) => v[0] as EvalPartial), what);
    if (p.n === 0) throw new TesseraError(`${what}: X has no rows`);
    return { loss: p.loss / p.n, accuracy: this.loss === "mse" ? null : p.correct / p.n, rows: p.n };
  }

  /** The network's outputs (logits for the classification losses), row-major f32 [rows, outputs]. */
  async predict(X: MatrixInput): Promise<Float32Array> {
    const what = "nn.Model.predict";
    const rows = await toRows(X, undefined, what);
    const spec = this.evalSpec(rows.d);
    const token = randomToken();
    const nodes: GraphNode[] = rows.x.map((xk, i) => new Task(blockKey(`nn-predict-${token}`, [i]), "nn.predict", [opSpec(spec), new TaskRef(xk)]));
    const graph = rows.graph.withLayer(new MaterializedLayer(`nn-predict-${token}`, nodes, [...rows.graph.layers.keys()]));
    const parts = await computeValue(new GraphValue(graph, nodes.map((n) => n.key), rows.external, (v) => v as Float32Array[]), what);
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** The predicted class per row (argmax of the outputs; for one output, logit > 0). */
  async predictClasses(X: MatrixInput): Promise<Int32Array> {
    const o = await this.predict(X);
    const K = widths(this.spec).at(-1)!;
    const out = new Int32Array(o.length / K);
    for (let r = 0; r < out.length; r++) {
      if (K === 1) out[r] = o[r]! > 0 ? 1 : 0;
      else {
        let best = 0;
        for (let j = 1; j < K; j++) if (o[r * K + j]! > o[r * K + best]!) best = j;
        out[r] = best;
      }
    }
    return out;
  }
}

/** A fresh model of `spec` (weights from spec.seed). */
export function createModel(spec: SequentialSpec, options: { loss?: LossName } = {}): Model {
  return new Model(spec, undefined, options.loss);
}

