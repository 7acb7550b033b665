/**
 * UnknownChunksArray: a lazy 1-d array whose block lengths are known only once computed —
 * what `x.mask(m)` (dask's x[mask]) and `bincount(x)` give. dask marks such chunks NaN and lets
 * most operations fail later; here the type says it:
 *
 *   - compute() / persist() work (blocks are concatenated on the client; persisted blocks stay);
 *   - reductions work: each block is reduced whole (`array.reduceFlat`, whatever its length),
 *     partials are tree-combined in order, and argmin/argmax indices are shifted by the counts
 *     of the blocks before them as they combine (`array.combineShift`), so no block needs to know
 *     where it starts;
 *   - everything else needs the lengths: `await y.computeChunkSizes()` runs only the cheap tasks
 *     that give them (for a mask: a fused count of each mask block, reading neither x nor the
 *     selected values) and returns an ordinary ChunkedArray over the same blocks (same keys).
 *
 * Its shape is [NaN] and its chunks [[NaN, ...]] (dask's convention), but it is not a
 * ChunkedArray, so code that needs sizes cannot be handed one by mistake.
 */

import { currentClient, type ComputeOptions } from "../client/current.js";
import { COLLECTION, type Collection, type CollectionSpec } from "../client/collection.js";
import { TesseraError } from "../errors.js";
import { GeneratedLayer, HighLevelGraph, MaterializedLayer } from "../graph/layers.js";
import { Task, TaskRef, blockKey, type GraphNode, type Key } from "../graph/task.js";
import { tokenize } from "../graph/tokenize.js";
import { allocTyped, type Dtype } from "../kernels/dtypes.js";
import { reduceResultDtype, type ReduceOp } from "../kernels/reduce-state.js";
import { isBlockData } from "./block.js";
import { ChunkedArray, type Anchor } from "./core.js";
import { NDArray } from "./ndarray.js";
import type { FinalizeSpec } from "./ops.js";
import type { ReduceOptions } from "./reduce.js";
import { opSpec } from "../graph/spec.js";
import { checkSplitEvery, combineTree } from "../graph/tree.js";

/** Tasks whose values give the block lengths, in block order. */
export interface Lengths {
  graph: HighLevelGraph;
  keys: readonly Key[];
  /** A task's value -> the length (a number, or a sum partial for mask counts). */
  read: (value: unknown) => number;
}

export class UnknownChunksArray implements Collection<NDArray> {
  private sized: Promise<ChunkedArray> | undefined;

  /** @internal built by mask() and bincount(). */
  constructor(
    readonly base: HighLevelGraph,
    readonly name: string,
    readonly nblocks: number,
    readonly dtype: Dtype,
    readonly lengths: Lengths,
    readonly anchors: readonly Anchor[] = [],
  ) {}

  readonly ndim = 1;
  get shape(): number[] {
    return [NaN];
  }
  get chunks(): number[][] {
    return [new Array<number>(this.nblocks).fill(NaN)];
  }
  get numblocks(): number[] {
    return [this.nblocks];
  }

  keys(): Key[] {
    return Array.from({ length: this.nblocks }, (_, i) => blockKey(this.name, [i]));
  }

  /** The same blocks as an ordinary ChunkedArray, once their lengths are computed (cheaply). */
  computeChunkSizes(options?: ComputeOptions): Promise<ChunkedArray> {
    this.sized ??= currentClient()
      .compute(lengthsCollection(this), options)
      .then((sizes) => new ChunkedArray(this.base, this.name, [sizes.reduce((a, b) => a + b, 0)], [sizes], this.dtype, undefined, this.anchors));
    this.sized.catch(() => (this.sized = undefined));
    return this.sized;
  }

  compute(options?: ComputeOptions): Promise<NDArray> {
    return currentClient().compute(this, options);
  }

  async persist(options?: ComputeOptions): Promise<UnknownChunksArray> {
    const persisted = currentClient().persist(this, options);
    await Promise.all(persisted.anchors.flatMap((a) => a.futures.map((f) => (f as { wait?(): Promise<void> }).wait?.())));
    return persisted;
  }

  sum(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "sum", options);
  }
  prod(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "prod", options);
  }
  min(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "min", options);
  }
  max(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "max", options);
  }
  argmin(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "argmin", options);
  }
  argmax(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "argmax", options);
  }
  mean(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "mean", options);
  }
  var(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "var", options);
  }
  std(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "std", options);
  }
  any(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "any", options);
  }
  all(options?: ReduceOptions): ChunkedArray {
    return reduceUnknown(this, "all", options);
  }

  __tessera_token__(): string {
    return this.name;
  }

  [COLLECTION](): CollectionSpec<NDArray> {
    return {
      graph: this.base,
      keys: this.keys(),
      external: this.anchors.flatMap((a) => a.keys),
      finalize: (values) => concatBlocks(this, values),
      rebuild: (futures) => {
        const anchor: Anchor = { keys: futures.map((f) => f.key), futures };
        return new UnknownChunksArray(new HighLevelGraph(), this.name, this.nblocks, this.dtype, lengthsOfBlocks(this.name, this.nblocks), [anchor]);
      },
    };
  }

  toString(): string {
    return `UnknownChunksArray<${this.name}, ${this.nblocks} block(s) of unknown length, dtype=${this.dtype}>`;
  }
}

/** Lengths read from the blocks themselves (after persist, or when nothing cheaper exists). */
export function lengthsOfBlocks(name: string, nblocks: number): Lengths {
  const lname = `length-${tokenize(name)}`;
  const layer = GeneratedLayer.grid(lname, [nblocks], (i) => new Task(blockKey(lname, i), "array.length", [new TaskRef(blockKey(name, i))]), [name]);
  return { graph: new HighLevelGraph([layer]), keys: Array.from({ length: nblocks }, (_, i) => blockKey(lname, [i])), read: (v) => v as number };
}

function lengthsCollection(u: UnknownChunksArray): Collection<number[]> {
  const spec: CollectionSpec<number[]> = {
    graph: HighLevelGraph.merge(u.base, u.lengths.graph),
    keys: u.lengths.keys,
    external: u.anchors.flatMap((a) => a.keys),
    finalize: (values) => values.map(u.lengths.read),
    rebuild: () => {
      throw new TesseraError("internal: chunk sizes are not persisted");
    },
  };
  return { [COLLECTION]: () => spec };
}

function concatBlocks(u: UnknownChunksArray, values: readonly unknown[]): NDArray {
  let total = 0;
  values.forEach((b, i) => {
    if (!isBlockData(b)) throw new TesseraError(`block ${blockKey(u.name, [i])} came back as ${typeof b}, not an array block`);
    total += b.data.length;
  });
  const data = allocTyped(u.dtype, total);
  let at = 0;
  for (const b of values as { data: ArrayLike<number> }[]) {
    data.set(b.data, at);
    at += b.data.length;
  }
  return new NDArray(data, [total], u.dtype);
}

/** A reduction over all elements (axis null, 0 or -1: the array is 1-d). */
function reduceUnknown(u: UnknownChunksArray, op: ReduceOp, options: ReduceOptions = {}): ChunkedArray {
  const axes = options.axis === undefined || options.axis === null ? [] : typeof options.axis === "number" ? [options.axis] : [...options.axis];
  for (const a of axes) if (a !== 0 && a !== -1) throw new TesseraError(`${op} axis ${a} is out of bounds for an array of 1 dimension(s)`);
  const splitEvery = checkSplitEvery(options.splitEvery ?? 4, op);
  const ddof = options.ddof ?? 0;
  const keepdims = options.keepdims ?? false;
  const token = tokenize(op, u.name, keepdims, ddof, splitEvery);
  const name = `${op}-${token}`;
  const nodes: GraphNode[] = u.keys().map((k, i) => new Task(blockKey(`${op}-partial-${token}`, [i]), "array.reduceFlat", [opSpec({ op }), new TaskRef(k)]));
  const root = combineTree(nodes.map((n) => n.key), `${op}-combine-${token}`, "array.combineShift", splitEvery, nodes);
  const dtype = reduceResultDtype(op, u.dtype);
  const shape = keepdims ? [1] : [];
  nodes.push(new Task(blockKey(name, shape.map(() => 0)), "array.finalize", [opSpec<FinalizeSpec>({ op, ddof, dtype, shape }), new TaskRef(root)]));
  const base = u.base.withLayer(new MaterializedLayer(name, nodes, [u.name]));
  return new ChunkedArray(base, name, shape, shape.map(() => [1]), dtype, undefined, u.anchors);
}
