/**
 * HighLevelGraph: a graph kept as named layers, one per collection operation, so that
 * `x.add(1)` on a 10,000-chunk array adds one small object, not 10,000 tasks. A layer knows
 * its output keys and can produce the node for any of them on demand; nodes are materialized
 * only by `cull` (just the ones the wanted keys need) or `toGraph` (all of them).
 *
 *   layer "x"      x[0] x[1] ... x[n]           MaterializedLayer: a Map of nodes
 *   layer "add-ab" add-ab[0] ... add-ab[n]      GeneratedLayer: (key) => Task, deps {"x"}
 *   layer "sum-cd" sum-cd[]                     reads "add-ab"
 *
 * A key lives in exactly one layer. Finding that layer must not materialize generated layers,
 * so every layer answers `has(key)` cheaply, and the search tries, in order: the layer that
 * answered last (a walk stays in one layer for long runs), the layer named like the key
 * (`name[i,j]` lives in layer `name`), that layer's dependencies, and finally every layer.
 *
 * Layer names are tokens, so two layers with one name are taken to be the same layer: merging
 * keeps the first (and rejects them if their sizes differ, which proves they are not).
 */

import { cullWith, type CullOptions } from "./cull.js";
import { GraphError } from "./errors.js";
import { parseBlockKey } from "./keys.js";
import { blockKey, type Graph, type GraphNode, type Key } from "./task.js";

/** A key as it appears in messages: quoted and escaped, so "" and " x" stay visible. */
const quote = (key: string): string => JSON.stringify(key);

export interface Layer {
  readonly name: string;
  /** Names of the layers this layer's nodes read from. */
  readonly dependencies: ReadonlySet<string>;
  has(key: Key): boolean;
  get(key: Key): GraphNode | undefined;
  /** Output keys; may be generated lazily. */
  keys(): Iterable<Key>;
  readonly size: number;
}

/** A layer whose nodes already exist. */
export class MaterializedLayer implements Layer {
  readonly dependencies: ReadonlySet<string>;
  private readonly nodes: ReadonlyMap<Key, GraphNode>;

  constructor(
    readonly name: string,
    nodes: ReadonlyMap<Key, GraphNode> | Iterable<GraphNode>,
    dependencies: Iterable<string> = [],
  ) {
    this.dependencies = new Set(dependencies);
    if (nodes instanceof Map) {
      for (const [k, node] of nodes as ReadonlyMap<Key, GraphNode>) {
        if (node.key !== k) {
          const what = `entry ${quote(k)} holds a node whose key is ${quote(node.key)}`;
          throw new GraphError(`layer ${quote(name)}: ${what}`);
        }
      }
      this.nodes = nodes as ReadonlyMap<Key, GraphNode>;
    } else {
      const map = new Map<Key, GraphNode>();
      for (const node of nodes as Iterable<GraphNode>) {
        if (map.has(node.key)) {
          throw new GraphError(`layer ${quote(name)}: key ${quote(node.key)} appears twice`);
        }
        map.set(node.key, node);
      }
      this.nodes = map;
    }
  }

  has(key: Key): boolean {
    return this.nodes.has(key);
  }
  get(key: Key): GraphNode | undefined {
    return this.nodes.get(key);
  }
  keys(): Iterable<Key> {
    return this.nodes.keys();
  }
  get size(): number {
    return this.nodes.size;
  }
}

export interface GeneratedLayerSpec {
  name: string;
  dependencies?: Iterable<string>;
  /** Every output key, in a stable order. Called again for each enumeration. */
  keys: () => Iterable<Key>;
  /** The node for `key`, or undefined when the layer has no such key. Must be pure. */
  generate: (key: Key) => GraphNode | undefined;
  /** Cheap membership test; defaults to `generate(key) !== undefined`. Give one when nodes are costly. */
  has?: (key: Key) => boolean;
  /** Number of keys; counted from `keys()` on first use when omitted. */
  size?: number;
}

/** A layer that builds each node when asked, so an untouched layer costs nothing. */
export class GeneratedLayer implements Layer {
  readonly name: string;
  readonly dependencies: ReadonlySet<string>;
  private readonly spec: GeneratedLayerSpec;
  private count: number | undefined;

  constructor(spec: GeneratedLayerSpec) {
    this.name = spec.name;
    this.dependencies = new Set(spec.dependencies ?? []);
    this.spec = spec;
    this.count = spec.size;
  }

  /**
   * A layer of blocks `name[i,j,...]` over a grid of `numblocks` (row-major), each built by
   * `make(index)`: what a blockwise array operation needs. `has` only parses the key.
   */
  static grid(
    name: string,
    numblocks: readonly number[],
    make: (index: readonly number[]) => GraphNode,
    dependencies: Iterable<string> = [],
  ): GeneratedLayer {
    const dims = [...numblocks];
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0) {
        throw new GraphError(`layer ${quote(name)}: numblocks must be non-negative integers, got [${dims}]`);
      }
    }
    const index = (key: Key): number[] | undefined => {
      const parsed = parseBlockKey(key);
      if (parsed?.name !== name || parsed.index.length !== dims.length) return undefined;
      for (let a = 0; a < dims.length; a++) if (parsed.index[a]! >= dims[a]!) return undefined;
      return parsed.index;
    };
    return new GeneratedLayer({
      name,
      dependencies,
      size: dims.reduce((a, b) => a * b, 1),
      keys: () => gridKeys(name, dims),
      has: (key) => index(key) !== undefined,
      generate: (key) => {
        const i = index(key);
        return i === undefined ? undefined : make(i);
      },
    });
  }

  has(key: Key): boolean {
    return this.spec.has ? this.spec.has(key) : this.spec.generate(key) !== undefined;
  }

  get(key: Key): GraphNode | undefined {
    const node = this.spec.generate(key);
    if (node !== undefined && node.key !== key) {
      const what = `a node with key ${quote(node.key)} for key ${quote(key)}`;
      throw new GraphError(`layer ${quote(this.name)} generated ${what}`);
    }
    return node;
  }

  keys(): Iterable<Key> {
    return this.spec.keys();
  }

  get size(): number {
    if (this.count === undefined) {
      let n = 0;
      for (const _ of this.spec.keys()) n++;
      this.count = n;
    }
    return this.count;
  }
}

function* gridKeys(name: string, dims: readonly number[]): Generator<Key> {
  if (dims.some((d) => d === 0)) return;
  const index = dims.map(() => 0);
  while (true) {
    yield blockKey(name, index);
    // Odometer increment, last axis fastest.
    let a = dims.length - 1;
    while (a >= 0 && ++index[a]! === dims[a]) index[a--] = 0;
    if (a < 0) return;
  }
}

export class HighLevelGraph {
  readonly layers: ReadonlyMap<string, Layer>;
  /** The layer that answered the last lookup: walks stay in one layer for long runs. */
  private lastLayer: Layer | undefined;

  constructor(layers: Iterable<Layer> = []) {
    const map = new Map<string, Layer>();
    for (const layer of layers) addLayer(map, layer);
    this.layers = map;
  }

  /** A graph of one materialized layer. */
  static fromNodes(
    name: string,
    nodes: ReadonlyMap<Key, GraphNode> | Iterable<GraphNode>,
    dependencies: Iterable<string> = [],
  ): HighLevelGraph {
    return new HighLevelGraph([new MaterializedLayer(name, nodes, dependencies)]);
  }

  /** All layers of all graphs; a layer name seen twice keeps its first layer. */
  static merge(...graphs: HighLevelGraph[]): HighLevelGraph {
    const layers: Layer[] = [];
    for (const g of graphs) for (const layer of g.layers.values()) layers.push(layer);
    return new HighLevelGraph(layers);
  }

  /** A new graph with `layer` added (kept as is when a layer of that name exists). */
  withLayer(layer: Layer): HighLevelGraph {
    return new HighLevelGraph([...this.layers.values(), layer]);
  }

  /** The layer that holds `key`, found without materializing any generated layer. */
  layerOf(key: Key): Layer | undefined {
    const last = this.lastLayer;
    if (last?.has(key)) return last;
    const open = key.indexOf("[");
    const named = this.layers.get(open > 0 ? key.slice(0, open) : key);
    if (named !== undefined && named !== last && named.has(key)) return (this.lastLayer = named);
    if (last !== undefined) {
      for (const dep of last.dependencies) {
        const layer = this.layers.get(dep);
        if (layer !== undefined && layer !== named && layer.has(key)) return (this.lastLayer = layer);
      }
    }
    for (const layer of this.layers.values()) {
      if (layer !== last && layer !== named && layer.has(key)) return (this.lastLayer = layer);
    }
    return undefined;
  }

  has(key: Key): boolean {
    return this.layerOf(key) !== undefined;
  }

  get(key: Key): GraphNode | undefined {
    return this.layerOf(key)?.get(key);
  }

  *keys(): Generator<Key> {
    for (const layer of this.layers.values()) yield* layer.keys();
  }

  /** Number of keys over all layers (generated layers are counted, not built). */
  get size(): number {
    let n = 0;
    for (const layer of this.layers.values()) n += layer.size;
    return n;
  }

  /** Every node of every layer. Throws when two layers produce one key. */
  toGraph(): Graph {
    const out: Graph = new Map();
    for (const layer of this.layers.values()) {
      for (const key of layer.keys()) {
        const node = layer.get(key);
        if (node === undefined) {
          throw new GraphError(`layer ${quote(layer.name)} lists key ${quote(key)} but has no node for it`);
        }
        if (out.has(key)) {
          const first = [...this.layers.values()].find((l) => l !== layer && l.has(key))!;
          const both = `${quote(first.name)} and ${quote(layer.name)}`;
          throw new GraphError(`key ${quote(key)} is produced by two layers: ${both}`);
        }
        out.set(key, node);
      }
    }
    return out;
  }

  /** Only the nodes that `keys` need, materialized on demand. */
  cull(keys: Iterable<Key>, opts: CullOptions = {}): Graph {
    const layers = this.layers;
    return cullWith(
      {
        get: (key) => this.get(key),
        get hint() {
          const names = [...layers.keys()];
          const shown = names.slice(0, 5).map(quote).join(", ");
          return ` (its ${names.length} layer(s): ${shown}${names.length > 5 ? ", ..." : ""})`;
        },
      },
      keys,
      opts,
    );
  }
}

function addLayer(map: Map<string, Layer>, layer: Layer): void {
  const existing = map.get(layer.name);
  if (existing === undefined) {
    map.set(layer.name, layer);
  } else if (existing !== layer && existing.size !== layer.size) {
    throw new GraphError(
      `two different layers are named ${quote(layer.name)} (${existing.size} and ${layer.size} keys); ` +
        "layer names must be unique tokens",
    );
  }
}
