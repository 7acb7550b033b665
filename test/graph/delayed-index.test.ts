import { describe, expect, test } from "vitest";
import { COLLECTION } from "../../src/client/collection.js";
import { Delayed, delayed } from "../../src/client/delayed.js";
import type { Future } from "../../src/client/future.js";
import { indexGraph, type IndexedGraph } from "../../src/graph/dag.js";

const noop = (x: unknown) => x;
const many = (...xs: unknown[]) => xs.length;

/** The walk's own index must be exactly the one indexGraph builds from the walk's graph. */
function expectSameIndex(d: Delayed): IndexedGraph {
  const spec = d[COLLECTION]();
  const own = spec.indexed!;
  const built = indexGraph(spec.graph as Map<string, never>);
  expect(own.keys).toEqual(built.keys);
  expect(own.nodes).toEqual(built.nodes);
  for (const field of ["depStart", "depList", "dependentStart", "dependentList"] as const) {
    expect(Array.from(own[field]), field).toEqual(Array.from(built[field]));
  }
  expect([...own.index]).toEqual([...built.index]);
  return own;
}

describe("a Delayed walk indexes its graph on the way", () => {
  test("repeated, nested and shared arguments, equal keys on distinct objects", () => {
    const leaf = delayed(noop);
    const node = delayed(many);
    const x = leaf(1);
    const y = leaf(2);
    const xAgain = leaf(1); // the same key as x, another object
    const g = delayed((a: unknown, b: unknown) => [a, b])({ p: [x, y, x], q: xAgain }, [y, 7, { r: leaf(3) }]);
    const h = node(g, g, x, node(y, xAgain), delayed([x, y]), x.get(0 as never), 5);
    let level: Delayed[] = Array.from({ length: 200 }, (_, i) => leaf(i % 30));
    while (level.length > 1) {
      const next: Delayed[] = [];
      for (let i = 0; i < level.length; i += 4) next.push(node(...level.slice(i, i + 4), h));
      level = next;
    }
    const own = expectSameIndex(level[0]!);
    // Equal keys are one node; every edge survived.
    expect(new Set(own.keys).size).toBe(own.n);
    expect(own.depStart[own.n]).toBeGreaterThan(own.n);
  });

  test("futures among the arguments are linked by key and left out of the graph", () => {
    const f = Delayed.fromFuture({ key: "held-1" } as unknown as Future<number>);
    const a = delayed(many)(f, delayed(noop)(1), f);
    const b = delayed(many)(a, f, delayed(noop)(1));
    const own = expectSameIndex(b);
    expect(own.keys).not.toContain("held-1");
    expect(b[COLLECTION]().external).toEqual(["held-1"]);
  });

  test("a second walk of the same objects gives the same index", () => {
    const leaf = delayed(noop);
    const shared = leaf(0);
    const top = delayed(many)(shared, delayed(many)(shared, leaf(1)), shared);
    const first = expectSameIndex(top);
    const second = expectSameIndex(top);
    expect(Array.from(second.depList)).toEqual(Array.from(first.depList));
  });
});
