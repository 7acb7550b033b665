import { describe, expect, test } from "vitest";
import {
  Alias,
  CycleError,
  DataNode,
  Fused,
  GeneratedLayer,
  HighLevelGraph,
  MissingKeyError,
  Task,
  TaskRef,
  cull,
  fuse,
  optimize,
  order,
  type Graph,
  type GraphNode,
  type Key,
} from "../../src/graph/index.js";
import { chain, evaluate, randomDag, rng, shuffled } from "./fixtures.js";

const ref = (k: Key) => new TaskRef(k);
const graphOf = (...nodes: GraphNode[]): Graph => new Map(nodes.map((n) => [n.key, n]));

function asFused(node: GraphNode | undefined): Fused {
  expect(node).toBeInstanceOf(Fused);
  return node as Fused;
}

describe("cull", () => {
  test("keeps exactly what the wanted keys need, same node objects", () => {
    const g = graphOf(
      new DataNode("a", 1),
      new Task("b", "inc", [ref("a")]),
      new Task("c", "inc", [ref("b")]),
      new Task("unused", "inc", [ref("a")]),
      new Task("d", "add", [ref("b"), ref("c")]),
    );
    const out = cull(g, ["d"]);
    expect([...out.keys()].sort()).toEqual(["a", "b", "c", "d"]);
    for (const [k, n] of out) expect(n).toBe(g.get(k));
    expect([...cull(g, ["b", "unused"]).keys()].sort()).toEqual(["a", "b", "unused"]);
    expect(cull(g, []).size).toBe(0);
  });

  test("a dangling dependency names the key and the node that referenced it", () => {
    const g = graphOf(new Task("b", "inc", [ref("gone")]), new Task("c", "inc", [ref("b")]));
    let err: unknown;
    try {
      cull(g, ["c"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MissingKeyError);
    expect((err as MissingKeyError).key).toBe("gone");
    expect((err as MissingKeyError).referrer).toBe("b");
    expect((err as Error).message).toMatch(/"gone".*"b"/);
    expect(() => cull(g, ["nope"])).toThrow(/requested key "nope"/);
  });

  test("external keys (futures the scheduler holds) are allowed to dangle", () => {
    const g = graphOf(new Task("b", "inc", [ref("future-1")]));
    const out = cull(g, ["b"], { external: (k) => k.startsWith("future-") });
    expect([...out.keys()]).toEqual(["b"]);
  });

  test("a 1M-node chain culls without recursion", () => {
    const g = chain(1_000_000);
    const out = cull(g, ["c-999999"]);
    expect(out.size).toBe(1_000_000);
    expect(cull(g, ["c-10"]).size).toBe(11);
  }, 60_000);
});

describe("fuse", () => {
  test("a chain becomes one Fused node under the last key, tasks in execution order", () => {
    const g = graphOf(new DataNode("a", 1), new Task("b", "inc", [ref("a")]), new Task("c", "inc", [ref("b")]));
    const { graph, renamed } = fuse(g, { keep: ["c"] });
    expect([...graph.keys()]).toEqual(["c"]);
    const f = asFused(graph.get("c"));
    expect(f.tasks.map((t) => t.key)).toEqual(["a", "b", "c"]);
    expect(f.deps).toEqual([]);
    expect([...renamed]).toEqual([
      ["a", "c"],
      ["b", "c"],
    ]);
    expect(evaluate(graph, ["c"]).get("c")).toBe(3);
  });

  test("dependents outside the chain still find it; inputs from outside become deps", () => {
    const g = graphOf(
      new Task("x", "inc", [ref("ext")]),
      new Task("y", "inc", [ref("x")]),
      new Task("other", "inc", [ref("ext")]),
      new DataNode("k", 10),
      new Task("z", "add", [ref("y"), ref("other"), ref("k")]),
    );
    const { graph, renamed } = fuse(g, { keep: ["z"] });
    // x -> y fuses; z has three inputs so y stays visible; the constant k is inlined into z.
    expect([...graph.keys()].sort()).toEqual(["other", "y", "z"]);
    expect(asFused(graph.get("y")).deps).toEqual(["ext"]);
    const z = asFused(graph.get("z"));
    expect(z.tasks.map((t) => t.key)).toEqual(["k", "z"]);
    expect([...z.deps].sort()).toEqual(["other", "y"]);
    expect(renamed.get("x")).toBe("y");
    expect(renamed.get("k")).toBe("z");
  });

  test("never fuses a kept key into its dependent, but may fuse into it", () => {
    const g = chain(4); // c-0 -> c-1 -> c-2 -> c-3
    const { graph } = fuse(g, { keep: ["c-1", "c-3"] });
    expect([...graph.keys()]).toEqual(["c-1", "c-3"]);
    expect(asFused(graph.get("c-1")).tasks.map((t) => t.key)).toEqual(["c-0", "c-1"]);
    expect(asFused(graph.get("c-3")).tasks.map((t) => t.key)).toEqual(["c-2", "c-3"]);
    expect(asFused(graph.get("c-3")).deps).toEqual(["c-1"]);
  });

  test("shared inputs and multi-input tasks are not fused", () => {
    const g = graphOf(
      new Task("a", "list", [1]),
      new Task("b", "inc", [ref("a")]),
      new Task("c", "inc", [ref("a")]),
      new Task("d", "add", [ref("b"), ref("c")]),
      new DataNode("shared", 1),
      new Task("e", "add", [ref("shared"), ref("d")]),
      new Task("f", "add", [ref("shared"), ref("e")]),
    );
    const { graph, renamed } = fuse(g, { keep: ["f"] });
    expect(renamed.size).toBe(0);
    expect(graph.size).toBe(g.size);
    for (const [k, n] of graph) expect(n).toBe(g.get(k));
  });

  test("chains are cut every maxChainLength tasks", () => {
    const g = chain(10);
    const { graph, renamed } = fuse(g, { keep: ["c-9"], maxChainLength: 4 });
    expect([...graph.keys()]).toEqual(["c-3", "c-7", "c-9"]);
    expect(asFused(graph.get("c-3")).tasks).toHaveLength(4);
    expect(asFused(graph.get("c-7")).tasks.map((t) => t.key)).toEqual(["c-4", "c-5", "c-6", "c-7"]);
    expect(asFused(graph.get("c-9")).deps).toEqual(["c-7"]);
    expect(renamed.get("c-0")).toBe("c-3");
    expect(renamed.get("c-8")).toBe("c-9");
    expect(renamed.has("c-7")).toBe(false);
    expect(evaluate(graph, ["c-9"]).get("c-9")).toBe(9);
    expect(fuse(g, { keep: ["c-9"], maxChainLength: 1 }).graph.size).toBe(10);
    expect(() => fuse(g, { keep: [], maxChainLength: 0 })).toThrow(/maxChainLength/);
  });

  test("aliases are nodes in the chain", () => {
    const g = graphOf(new DataNode("a", 5), new Alias("b", "a"), new Task("c", "inc", [ref("b")]));
    const { graph } = fuse(g, { keep: ["c"] });
    const f = asFused(graph.get("c"));
    expect(f.tasks.map((t) => t.kind)).toEqual(["data", "alias", "task"]);
    expect(evaluate(graph, ["c"]).get("c")).toBe(6);
  });

  test("a fused chain keeps its tasks' restrictions: loose only if every restricted task is", () => {
    const loose = { workers: ["w0", "w1"], allowOtherWorkers: true };
    const fusedOptions = (bOptions: { workers: string[]; allowOtherWorkers?: boolean }) => {
      const g = graphOf(new Task("a", "load", [], loose), new Task("b", "inc", [ref("a")], bOptions));
      return asFused(fuse(g, { keep: ["b"] }).graph.get("b")).options;
    };
    expect(fusedOptions({ workers: ["w1"], allowOtherWorkers: true })).toEqual({ retries: 0, workers: ["w1"], allowOtherWorkers: true });
    expect(fusedOptions({ workers: ["w1"] })).toEqual({ retries: 0, workers: ["w1"] });
  });

  test("tasks restricted to workers that share none are not fused (no one task could run them)", () => {
    for (const loose of [false, true]) {
      const opts = (w: string) => ({ workers: [w], ...(loose ? { allowOtherWorkers: true } : {}) });
      const g = graphOf(new Task("a", "load", [], opts("w0")), new Task("b", "inc", [ref("a")], opts("w1")), new Task("c", "inc", [ref("b")]));
      const { graph } = fuse(g, { keep: ["c"] });
      expect([...graph.keys()]).toEqual(["a", "c"]);
      expect(graph.get("a")).toBe(g.get("a"));
      expect(asFused(graph.get("c")).options?.workers).toEqual(["w1"]);
    }
    // Overlapping restrictions fuse, to where they meet.
    const g = graphOf(new Task("a", "load", [], { workers: ["w0", "w1"] }), new Task("b", "inc", [ref("a")], { workers: ["w1", "w2"] }));
    expect(asFused(fuse(g, { keep: ["b"] }).graph.get("b")).options?.workers).toEqual(["w1"]);
  });

  test("fusing a fused graph again flattens: no Fused inside Fused", () => {
    const g = chain(20);
    const once = fuse(g, { keep: ["c-19"], maxChainLength: 5 }).graph;
    expect(once.size).toBe(4);
    const twice = fuse(once, { keep: ["c-19"], maxChainLength: 10 });
    expect([...twice.graph.keys()]).toEqual(["c-9", "c-19"]);
    for (const n of twice.graph.values()) {
      for (const t of asFused(n).tasks) expect(t.kind).not.toBe("fused");
    }
    expect(asFused(twice.graph.get("c-19")).tasks.map((t) => t.key)).toEqual(
      Array.from({ length: 10 }, (_, i) => `c-${i + 10}`),
    );
    expect(twice.renamed.get("c-4")).toBe("c-9");
    expect(evaluate(twice.graph, ["c-19"]).get("c-19")).toBe(19);
  });

  test("random DAGs compute the same values before and after fusing", () => {
    let fusedAway = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const random = rng(seed);
      const g = randomDag(200, random);
      const keys = [...g.keys()];
      const wanted = shuffled(keys, random).slice(0, 1 + Math.floor(random() * 5));
      const culled = cull(g, wanted);
      const maxChainLength = 1 + Math.floor(random() * 8);
      const { graph, renamed } = fuse(culled, { keep: wanted, maxChainLength });
      fusedAway += renamed.size;
      expect(evaluate(graph, wanted)).toEqual(evaluate(g, wanted));
      // Every culled key is either still a key or renamed into one that is.
      for (const k of culled.keys()) {
        if (graph.has(k)) expect(renamed.has(k)).toBe(false);
        else expect(graph.has(renamed.get(k)!)).toBe(true);
      }
      for (const n of graph.values()) if (n instanceof Fused) expect(n.tasks.length).toBeLessThanOrEqual(maxChainLength);
      for (const k of wanted) expect(graph.has(k)).toBe(true);
    }
    expect(fusedAway).toBeGreaterThan(500); // the check above is not vacuous
  });

  test("a cycle is reported with its keys", () => {
    const g = graphOf(new Task("a", "inc", [ref("c")]), new Task("b", "inc", [ref("a")]), new Task("c", "inc", [ref("b")]));
    expect(() => fuse(g, { keep: [] })).toThrow(CycleError);
    // Each key is a dependency of the next: c reads b, a reads c, b reads a.
    expect(() => fuse(g, { keep: [] })).toThrow('graph has a cycle: "b" -> "c" -> "a" -> "b"');
  });

  test("100k independent tasks fuse unchanged", () => {
    const g: Graph = new Map();
    for (let i = 0; i < 100_000; i++) g.set(`x[${i}]`, new Task(`x[${i}]`, "list", [i]));
    const { graph, renamed } = fuse(g, { keep: [] });
    expect(graph.size).toBe(100_000);
    expect(renamed.size).toBe(0);
  });

  test("1M-node chain: cull + fuse + order without recursion", () => {
    const g = chain(1_000_000);
    const last = "c-999999";
    const culled = cull(g, [last]);
    const { graph, renamed } = fuse(culled, { keep: [last] });
    const priorities = order(graph);
    expect(graph.size).toBe(Math.ceil(1_000_000 / 256));
    expect(renamed.size).toBe(1_000_000 - graph.size);
    expect(asFused(graph.get(last)).tasks.length).toBe(1_000_000 % 256);
    expect(asFused(graph.get("c-255")).tasks.length).toBe(256);
    expect(priorities.get("c-255")).toBe(0);
    expect(priorities.get(last)).toBe(graph.size - 1);
  }, 60_000);
});

describe("optimize", () => {
  const g = graphOf(
    new DataNode("a", 1),
    new Task("b", "inc", [ref("a")]),
    new Task("c", "inc", [ref("b")]),
    new Task("unused", "inc", [ref("c")]),
  );

  test("culls then fuses, keeping the requested keys", () => {
    const { graph, renamed } = optimize(g, ["c"]);
    expect([...graph.keys()]).toEqual(["c"]);
    expect(asFused(graph.get("c")).tasks.map((t) => t.key)).toEqual(["a", "b", "c"]);
    expect(renamed.get("a")).toBe("c");
    const both = optimize(g, ["b", "unused"]);
    expect([...both.graph.keys()].sort()).toEqual(["b", "unused"]);
  });

  test("fuse: false only culls", () => {
    const { graph, renamed } = optimize(g, ["c"], { fuse: false });
    expect([...graph.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(renamed.size).toBe(0);
  });

  test("accepts a HighLevelGraph and only builds the nodes it needs", () => {
    let built = 0;
    const layer = GeneratedLayer.grid("inc-1", [1000], ([i]) => {
      built++;
      return new Task(`inc-1[${i}]`, "inc", [ref(`x[${i}]`)]);
    }, ["x"]);
    const x = HighLevelGraph.fromNodes("x", Array.from({ length: 1000 }, (_, i) => new DataNode(`x[${i}]`, i)));
    const hlg = x.withLayer(layer);
    const { graph } = optimize(hlg, ["inc-1[7]"]);
    expect(built).toBe(1);
    expect(asFused(graph.get("inc-1[7]")).tasks.map((t) => t.key)).toEqual(["x[7]", "inc-1[7]"]);
    expect(evaluate(graph, ["inc-1[7]"]).get("inc-1[7]")).toBe(8);
  });
});
