import { describe, expect, test } from "vitest";
import {
  CycleError,
  DataNode,
  Task,
  TaskRef,
  naturalCompare,
  order,
  parseBlockKey,
  type Graph,
  type GraphNode,
  type Key,
} from "../../src/graph/index.js";
import { chain, randomDag, reinsert, rng, treeReduction } from "./fixtures.js";

const ref = (k: Key) => new TaskRef(k);
const graphOf = (...nodes: GraphNode[]): Graph => new Map(nodes.map((n) => [n.key, n]));

/** Keys sorted by priority. */
function sequence(priorities: Map<Key, number>): Key[] {
  return [...priorities].sort((a, b) => a[1] - b[1]).map(([k]) => k);
}

/**
 * Run `keys` in that order on one worker; a result is held from when it is computed until its
 * last dependent has run (outputs stay held). Returns the largest number held at once.
 */
function peakHeld(graph: Graph, keys: readonly Key[]): number {
  const remaining = new Map<Key, number>();
  for (const k of graph.keys()) remaining.set(k, 0);
  for (const n of graph.values()) for (const d of n.deps) remaining.set(d, remaining.get(d)! + 1);
  const done = new Set<Key>();
  let held = 0;
  let peak = 0;
  for (const k of keys) {
    for (const d of graph.get(k)!.deps) {
      if (!done.has(d)) throw new Error(`${k} ran before its dependency ${d}`);
    }
    done.add(k);
    held++;
    peak = Math.max(peak, held);
    for (const d of graph.get(k)!.deps) {
      const left = remaining.get(d)! - 1;
      remaining.set(d, left);
      if (left === 0) held--;
    }
  }
  return peak;
}

function expectValidOrder(graph: Graph, priorities: Map<Key, number>): void {
  expect(priorities.size).toBe(graph.size);
  expect([...priorities.values()].sort((a, b) => a - b)).toEqual(Array.from({ length: graph.size }, (_, i) => i));
  for (const [k, node] of graph) {
    for (const d of node.deps) if (graph.has(d)) expect(priorities.get(k)!).toBeGreaterThan(priorities.get(d)!);
  }
}

describe("order", () => {
  test("every node comes after its dependencies, priorities are 0..n-1", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const g = randomDag(300, rng(seed));
      expectValidOrder(g, order(g));
    }
    expect(order(new Map()).size).toBe(0);
  });

  test("a tree reduction holds O(log n) intermediates on one worker", () => {
    for (const leaves of [64, 1024]) {
      const { graph } = treeReduction(leaves);
      const p = order(graph);
      expectValidOrder(graph, p);
      expect(peakHeld(graph, sequence(p))).toBeLessThanOrEqual(Math.log2(leaves) + 2);
      // The simulation can tell a bad order: all leaves first holds every leaf at once.
      const breadthFirst = [...graph.keys()];
      expect(peakHeld(graph, breadthFirst)).toBeGreaterThanOrEqual(leaves);
    }
  });

  test("the tree reduction runs left to right: x[0], x[1], s1[0], x[2], ...", () => {
    const { graph } = treeReduction(8);
    expect(sequence(order(graph)).slice(0, 7)).toEqual(["x[0]", "x[1]", "s1[0]", "x[2]", "x[3]", "s1[1]", "s2[0]"]);
  });

  test("two independent chains: one finishes before the other starts", () => {
    const g = chain(50, "b");
    chain(50, "a", g);
    const seq = sequence(order(g));
    // Outputs in natural key order: chain a first, whole.
    expect(seq.slice(0, 50).every((k) => k.startsWith("a-"))).toBe(true);
    expect(seq.slice(50).every((k) => k.startsWith("b-"))).toBe(true);
  });

  test("outputs go in natural key order", () => {
    const keys = ["x[10]", "x[2]", "x[1]", "a-f00[0,10]", "a-f00[0,2]", "a-f00[0,1]", "a-f00[1,0]"];
    const g = graphOf(...keys.map((k) => new DataNode(k, 0)));
    expect(sequence(order(g))).toEqual(["a-f00[0,1]", "a-f00[0,2]", "a-f00[0,10]", "a-f00[1,0]", "x[1]", "x[2]", "x[10]"]);
  });

  test("the input that needs the most memory is computed first", () => {
    // total = add(c, s) where c is a constant (named to sort first) and s a 4-leaf sum: computing s first means
    // only s waits while c loads; loading c first would hold c through all of s.
    const { graph } = treeReduction(4);
    graph.set("a-const", new DataNode("a-const", 1));
    graph.set("total", new Task("total", "add", [ref("a-const"), ref("s2[0]")]));
    const seq = sequence(order(graph));
    expect(seq.indexOf("a-const")).toBe(seq.length - 2);
  });

  test("deterministic across runs and insertion orders", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const random = rng(seed);
      const g = randomDag(500, random);
      const expected = sequence(order(g));
      expect(sequence(order(g))).toEqual(expected);
      for (let r = 0; r < 3; r++) expect(sequence(order(reinsert(g, random)))).toEqual(expected);
    }
    const { graph } = treeReduction(64);
    expect(sequence(order(reinsert(graph, rng(99))))).toEqual(sequence(order(graph)));
  });

  test("dependencies outside the graph are ignored; a cycle throws", () => {
    const g = graphOf(new Task("a", "inc", [ref("future")]), new Task("b", "inc", [ref("a")]));
    expect(sequence(order(g))).toEqual(["a", "b"]);
    const cyc = graphOf(new Task("a", "inc", [ref("b")]), new Task("b", "inc", [ref("a")]), new DataNode("c", 1));
    expect(() => order(cyc)).toThrow(CycleError);
    const self = graphOf(new Task("a", "inc", [ref("a")]));
    expect(() => order(self)).toThrow(/"a" -> "a"/);
  });

  test("a 1M-node chain and a 100k-input fan-in order iteratively", () => {
    const g = chain(1_000_000);
    const p = order(g);
    expect(p.get("c-0")).toBe(0);
    expect(p.get("c-500000")).toBe(500_000);
    expect(p.get("c-999999")).toBe(999_999);

    const fan: Graph = new Map();
    const refs: TaskRef[] = [];
    for (let i = 0; i < 100_000; i++) {
      fan.set(`x[${i}]`, new DataNode(`x[${i}]`, i));
      refs.push(ref(`x[${i}]`));
    }
    fan.set("total", new Task("total", "add", refs));
    const q = order(fan);
    expect(q.get("x[0]")).toBe(0);
    expect(q.get("x[99999]")).toBe(99_999);
    expect(q.get("total")).toBe(100_000);
  }, 60_000);
});

describe("naturalCompare", () => {
  test("digit runs compare by value, the rest by code unit, ties by string", () => {
    const sorted = ["x[10]", "x[2]", "x[1]", "x[01]", "x", "x[1,10]", "x[1,2]", "y[0]", "X", "x-a", "x-9"].sort(naturalCompare);
    // "," sorts before "]", so x[1,2] precedes x[1] (never both in one collection anyway).
    expect(sorted).toEqual(["X", "x", "x-9", "x-a", "x[1,2]", "x[1,10]", "x[01]", "x[1]", "x[2]", "x[10]", "y[0]"]);
    expect(naturalCompare("a", "a")).toBe(0);
    expect(naturalCompare("a2", "a10")).toBeLessThan(0);
    expect(naturalCompare("a10", "a2")).toBeGreaterThan(0);
    expect(naturalCompare("a99999999999999999999", "a100000000000000000000")).toBeLessThan(0);
  });
});

describe("parseBlockKey", () => {
  test("round-trips block keys and rejects anything else", () => {
    expect(parseBlockKey("inc-3fa9[0,12]")).toEqual({ name: "inc-3fa9", index: [0, 12] });
    expect(parseBlockKey("s[]")).toEqual({ name: "s", index: [] });
    const bad = ["x", "[0]", "x[", "x[0", "x[a]", "x[1,]", "x[,1]", "x[01]", "x[-1]", "x[1.5]", "x[1] "];
    for (const k of [...bad, "x[99999999999999999999]"]) expect(parseBlockKey(k)).toBeUndefined();
  });
});
