// The dashboard page's state (web/dashboard/state.ts): snapshots replace, updates add.
import { describe, expect, it } from "vitest";
import type { FeedMessage, FeedTasks } from "../../src/dashboard/protocol.js";
import { DashboardState, SPILL, TRANSFER, TaskRing } from "../../web/dashboard/state.js";
import { layered } from "../../web/dashboard/graph.js";

const tasks = (keys: string[], start = 0, erred = 0): FeedTasks => ({
  seen: keys.length,
  stride: 1,
  key: keys,
  prefix: keys.map(() => 0),
  op: keys.map(() => 0),
  worker: keys.map((_, i) => i % 2),
  start: keys.map((_, i) => start + i),
  stop: keys.map((_, i) => start + i + 1),
  erred: keys.map(() => erred),
});

const message = (kind: FeedMessage["kind"], time: number, extra: Partial<FeedMessage> = {}): FeedMessage => ({
  kind,
  seq: 1,
  time,
  base: 1000,
  tasks: tasks([]),
  activity: { seen: 0, kind: [], worker: [], peer: [], key: [], count: [], nbytes: [], start: [], stop: [] },
  progress: [],
  workers: [{ index: 0, id: "w0", running: true, nthreads: 1, memoryLimit: 100, processing: 0, occupancy: 0, nbytes: 5 }],
  errors: [],
  ops: [],
  opsFrom: 0,
  series: [],
  ...extra,
});

describe("DashboardState", () => {
  it("keeps logged series: a snapshot's, then each update's new points; a snapshot starts again", () => {
    const s = new DashboardState(100);
    s.apply(message("snapshot", 2000, { series: [{ name: "loss", x: [0, 1], y: [2, 1.5] }] }));
    s.apply(message("update", 2100, { series: [{ name: "loss", x: [2], y: [1.2] }, { name: "samples/s", x: [2], y: [900] }] }));
    expect(s.metrics.get("loss")).toEqual({ x: [0, 1, 2], y: [2, 1.5, 1.2] });
    expect(s.metrics.get("samples/s")).toEqual({ x: [2], y: [900] });
    s.apply(message("snapshot", 2200, { series: [{ name: "loss", x: [5], y: [0.5] }] }));
    expect([...s.metrics.keys()]).toEqual(["loss"]);
    expect(s.metrics.get("loss")).toEqual({ x: [5], y: [0.5] });
    // A feed from an older server has no series at all.
    s.apply({ ...message("update", 2300), series: undefined } as unknown as FeedMessage);
    expect(s.metrics.get("loss")!.x.length).toBe(1);
  });


  it("adds updates to a snapshot and starts again at the next snapshot", () => {
    const s = new DashboardState(100);
    s.apply(message("snapshot", 1000, { tasks: tasks(["a-1", "a-2"]), ops: ["load"], progress: [{ id: 0, name: "a", total: 4, done: 2, erred: 0, processing: 1 }] }));
    s.apply(
      message("update", 1200, {
        tasks: tasks(["a-3"], 10, 1),
        ops: ["sum"],
        opsFrom: 1,
        progress: [{ id: 0, name: "a", total: 4, done: 3, erred: 1, processing: 0 }],
        errors: [{ key: "a-3", op: "sum", worker: "w0", name: "Error", message: "boom", time: 1011 }],
      }),
    );
    expect(s.stream.size).toBe(3);
    expect(s.latestStop).toBe(1011);
    expect(s.ops).toEqual(["load", "sum"]);
    expect(s.totals()).toEqual({ total: 4, done: 3, erred: 1, processing: 0 });
    expect(s.errors.map((e) => e.key)).toEqual(["a-3"]);
    // One chart point per update: 1 task in 0.2 s.
    expect(s.series.rate).toEqual([5]);
    expect(s.series.memory).toEqual([5]);
    s.apply(message("snapshot", 1300, { tasks: tasks(["b-1"]), ops: ["x"] }));
    expect(s.stream.size).toBe(1);
    expect(s.ops).toEqual(["x"]);
    expect(s.errors).toEqual([]);
    expect(s.prefixes.size).toBe(0);
  });

  it("keeps the most recent tasks when the ring is full", () => {
    const r = new TaskRing(3);
    for (let i = 0; i < 5; i++) r.push(`k-${i}`, 0, 0, 0, i, i + 1, 0);
    expect(r.size).toBe(3);
    expect([...r.key].sort()).toEqual(["k-2", "k-3", "k-4"]);
  });

  it("keeps transfers and spills, counted by kind, until the next snapshot", () => {
    const s = new DashboardState(100);
    s.apply(message("snapshot", 1000));
    s.apply(
      message("update", 1200, {
        activity: { seen: 2, kind: [TRANSFER, SPILL], worker: [0, 0], peer: [1, -1], key: ["x-1", ""], count: [1, 4], nbytes: [64, 400], start: [5, 0], stop: [7, 150] },
      }),
    );
    expect(s.activity.size).toBe(2);
    expect(s.activitySeen).toEqual([1, 4, 0]);
    expect(s.activity.start[0]).toBe(1005);
    expect(s.latestStop).toBe(1150);
    s.apply(message("snapshot", 1300));
    expect(s.activity.size).toBe(0);
  });
});

describe("the graph page's layout", () => {
  it("puts each task right of its dependencies, and a reduction's inputs beside each other", () => {
    // a, b -> c; d, e -> f; c, f -> g
    const key = ["a", "b", "c", "d", "e", "f", "g"];
    const edges = [["a", "c"], ["b", "c"], ["d", "f"], ["e", "f"], ["c", "g"], ["f", "g"]];
    const { x, y } = layered({ key, from: edges.map((e) => key.indexOf(e[0]!)), to: edges.map((e) => key.indexOf(e[1]!)) });
    const at = (k: string) => key.indexOf(k);
    for (const [f, t] of edges) expect(x[at(t!)]!).toBeGreaterThan(x[at(f!)]!);
    expect([x[at("a")], x[at("c")], x[at("g")]]).toEqual([0, 0.5, 1]);
    // c sits between its inputs a and b; f between d and e; no crossing.
    expect(Math.abs(y[at("c")]! - (y[at("a")]! + y[at("b")]!) / 2)).toBeLessThan(0.26);
    expect(y[at("c")]! < y[at("f")]!).toBe(y[at("a")]! < y[at("d")]!);
    expect(y[at("g")]).toBe(0.5);
  });
});
