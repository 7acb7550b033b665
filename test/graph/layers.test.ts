import { describe, expect, test } from "vitest";
import {
  DataNode,
  GeneratedLayer,
  GraphError,
  HighLevelGraph,
  MaterializedLayer,
  MissingKeyError,
  Task,
  TaskRef,
  blockKey,
  type GraphNode,
  type Key,
  type Layer,
} from "../../src/graph/index.js";

const ref = (k: Key) => new TaskRef(k);

/** A grid layer that counts how many nodes it has built. */
function countingGrid(name: string, numblocks: number[], input?: string) {
  const counter = { built: 0 };
  const layer = GeneratedLayer.grid(
    name,
    numblocks,
    (index) => {
      counter.built++;
      const args = input === undefined ? [index] : [ref(blockKey(input, index))];
      return new Task(blockKey(name, index), "inc", args);
    },
    input === undefined ? [] : [input],
  );
  return { layer, counter };
}

describe("MaterializedLayer", () => {
  test("wraps an array or a Map of nodes", () => {
    const nodes = [new DataNode("a", 1), new Task("b", "inc", [ref("a")])];
    const fromArray = new MaterializedLayer("L", nodes, ["up"]);
    const fromMap = new MaterializedLayer("L", new Map(nodes.map((n) => [n.key, n])), ["up"]);
    for (const layer of [fromArray, fromMap]) {
      expect(layer.name).toBe("L");
      expect([...layer.dependencies]).toEqual(["up"]);
      expect(layer.size).toBe(2);
      expect([...layer.keys()]).toEqual(["a", "b"]);
      expect(layer.has("b")).toBe(true);
      expect(layer.has("c")).toBe(false);
      expect(layer.get("b")).toBe(nodes[1]);
      expect(layer.get("c")).toBeUndefined();
    }
  });

  test("rejects duplicate keys and Map entries under the wrong key", () => {
    expect(() => new MaterializedLayer("L", [new DataNode("a", 1), new DataNode("a", 2)])).toThrow(/"a" appears twice/);
    expect(() => new MaterializedLayer("L", new Map([["b", new DataNode("a", 1)]]))).toThrow(GraphError);
  });
});

describe("GeneratedLayer", () => {
  test("grid: row-major keys, cheap has, nodes built only when asked", () => {
    const { layer, counter } = countingGrid("g", [2, 3]);
    expect(layer.size).toBe(6);
    expect([...layer.keys()]).toEqual(["g[0,0]", "g[0,1]", "g[0,2]", "g[1,0]", "g[1,1]", "g[1,2]"]);
    for (const k of ["g[1,2]", "g[0,0]"]) expect(layer.has(k)).toBe(true);
    for (const k of ["g[2,0]", "g[0,3]", "g[0]", "g[0,0,0]", "h[0,0]", "g[01,0]", "g[0,]", "g[-1,0]", "g[ 0,0]", "g", "g[0,0"]) {
      expect(layer.has(k)).toBe(false);
    }
    expect(counter.built).toBe(0);
    const node = layer.get("g[1,2]") as Task;
    expect(node.key).toBe("g[1,2]");
    expect(node.args).toEqual([[1, 2]]);
    expect(layer.get("g[5,5]")).toBeUndefined();
    expect(counter.built).toBe(1);
  });

  test("grid edge shapes: 0-d has one block, an empty axis has none", () => {
    const zeroD = countingGrid("s", []).layer;
    expect([...zeroD.keys()]).toEqual(["s[]"]);
    expect(zeroD.size).toBe(1);
    expect(zeroD.has("s[]")).toBe(true);
    const empty = countingGrid("e", [3, 0]).layer;
    expect([...empty.keys()]).toEqual([]);
    expect(empty.size).toBe(0);
    expect(() => countingGrid("bad", [1.5])).toThrow(/non-negative integers/);
  });

  test("spec form: size counted lazily, has defaults to generate, wrong keys rejected", () => {
    let enumerated = 0;
    const layer = new GeneratedLayer({
      name: "f",
      keys: function* () {
        enumerated++;
        yield "f-a";
        yield "f-b";
      },
      generate: (key) => (key === "f-a" || key === "f-b" ? new DataNode(key, key) : undefined),
    });
    expect(enumerated).toBe(0);
    expect(layer.size).toBe(2);
    expect(layer.size).toBe(2);
    expect(enumerated).toBe(1);
    expect(layer.has("f-a")).toBe(true);
    expect(layer.has("f-c")).toBe(false);
    const liar = new GeneratedLayer({ name: "l", keys: () => ["l-1"], generate: () => new DataNode("other", 0) });
    expect(() => liar.get("l-1")).toThrow(/generated a node with key "other" for key "l-1"/);
  });
});

describe("HighLevelGraph", () => {
  const x = () => HighLevelGraph.fromNodes("x", [0, 1, 2, 3].map((i) => new DataNode(`x[${i}]`, i)));

  test("layers, lookups and size without materializing", () => {
    const { layer, counter } = countingGrid("y", [4], "x");
    const g = x().withLayer(layer);
    expect([...g.layers.keys()]).toEqual(["x", "y"]);
    expect(g.size).toBe(8);
    expect(g.has("y[3]")).toBe(true);
    expect(g.has("x[3]")).toBe(true);
    expect(g.has("y[4]")).toBe(false);
    expect(g.layerOf("y[2]")?.name).toBe("y");
    expect(g.layerOf("x[2]")?.name).toBe("x");
    expect([...g.keys()]).toEqual(["x[0]", "x[1]", "x[2]", "x[3]", "y[0]", "y[1]", "y[2]", "y[3]"]);
    expect(counter.built).toBe(0);
    expect(g.get("y[1]")?.deps).toEqual(["x[1]"]);
    expect(counter.built).toBe(1);
  });

  test("toGraph materializes everything; a key in two layers is an error", () => {
    const g = x().withLayer(countingGrid("y", [4], "x").layer);
    const full = g.toGraph();
    expect(full.size).toBe(8);
    for (const [k, n] of full) expect(n.key).toBe(k);
    const clash = g.withLayer(new MaterializedLayer("z", [new DataNode("x[1]", 9)]));
    expect(() => clash.toGraph()).toThrow(/"x\[1\]" is produced by two layers: "x" and "z"/);
    const empty = new GeneratedLayer({ name: "l", size: 1, keys: () => ["l-1"], generate: () => undefined });
    const liar = new HighLevelGraph([empty]);
    expect(() => liar.toGraph()).toThrow(/lists key "l-1" but has no node/);
  });

  test("merge keeps one copy of a shared layer and rejects two different layers with one name", () => {
    const base = x();
    const a = base.withLayer(countingGrid("a", [4], "x").layer);
    const b = base.withLayer(countingGrid("b", [4], "x").layer);
    const m = HighLevelGraph.merge(a, b);
    expect([...m.layers.keys()]).toEqual(["x", "a", "b"]);
    expect(m.size).toBe(12);
    const imposter = HighLevelGraph.fromNodes("x", [new DataNode("x[0]", 0)]);
    expect(() => HighLevelGraph.merge(a, imposter)).toThrow(/two different layers are named "x"/);
    // withLayer does not mutate.
    expect([...base.layers.keys()]).toEqual(["x"]);
  });

  test("cull builds only the nodes the wanted keys need", () => {
    const y = countingGrid("y", [1000], "x2");
    const z = countingGrid("z", [1000], "y");
    const x2 = countingGrid("x2", [1000]);
    const g = new HighLevelGraph([x2.layer, y.layer, z.layer]);
    const out = g.cull(["z[10]", "z[11]", "y[500]"]);
    expect([...out.keys()].sort()).toEqual(["x2[10]", "x2[11]", "x2[500]", "y[10]", "y[11]", "y[500]", "z[10]", "z[11]"]);
    expect(x2.counter.built + y.counter.built + z.counter.built).toBe(8);
  });

  test("a missing dependency names the key and its referrer", () => {
    const g = new HighLevelGraph([countingGrid("y", [2], "absent").layer]);
    let err: unknown;
    try {
      g.cull(["y[1]"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingKeyError);
    expect((err as MissingKeyError).key).toBe("absent[1]");
    expect((err as MissingKeyError).referrer).toBe("y[1]");
    expect((err as Error).message).toBe('key "absent[1]", a dependency of "y[1]", is not in the graph (its 1 layer(s): "y")');
    expect(() => g.cull(["nope"])).toThrow(/requested key "nope"/);
    expect([...g.cull(["y[0]"], { external: (k) => k.startsWith("absent") }).keys()]).toEqual(["y[0]"]);
  });

  test("finds keys whose names do not match their layer, across many layers", () => {
    // 2000 one-node layers named unlike their keys, each reading the previous one.
    const layers: Layer[] = [];
    for (let i = 0; i < 2000; i++) {
      const node: GraphNode = i === 0 ? new DataNode("k0", 0) : new Task(`k${i}`, "inc", [ref(`k${i - 1}`)]);
      layers.push(new MaterializedLayer(`layer-${i}`, [node], i === 0 ? [] : [`layer-${i - 1}`]));
    }
    const g = new HighLevelGraph(layers);
    const out = g.cull(["k1999"]);
    expect(out.size).toBe(2000);
    expect(g.layerOf("k7")?.name).toBe("layer-7");
  });

  test("a lazily generated 1M-node chain culls without recursion", () => {
    const n = 1_000_000;
    let built = 0;
    const chain = new GeneratedLayer({
      name: "chain",
      size: n,
      keys: function* () {
        for (let i = 0; i < n; i++) yield `chain[${i}]`;
      },
      has: (key) => {
        const i = Number(key.slice(6, -1));
        return key.startsWith("chain[") && Number.isInteger(i) && i >= 0 && i < n;
      },
      generate: (key) => {
        const i = Number(key.slice(6, -1));
        built++;
        return i === 0 ? new DataNode(key, 0) : new Task(key, "inc", [ref(`chain[${i - 1}]`)]);
      },
    });
    const g = new HighLevelGraph([chain]);
    const half = g.cull([`chain[${n / 2 - 1}]`]);
    expect(half.size).toBe(n / 2);
    expect(built).toBe(n / 2);
  }, 60_000);
});
