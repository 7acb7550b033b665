// The metrics collector over a real Runner and Scheduler, with fake workers that report what
// the test says (no threads): what the feed's messages hold, tick by tick.
import { describe, expect, it } from "vitest";
import { Runner } from "../../src/cluster/runner.js";
import { MetricsCollector, opName } from "../../src/dashboard/collector.js";
import { ActivityBuffer, TaskBuffer, concatActivity, concatTasks } from "../../src/dashboard/task-buffer.js";
import { SPILL, TRANSFER, UNSPILL, type ComputeProgress, type FeedMessage, type ProgressEvent } from "../../src/dashboard/protocol.js";
import { Fused, Task } from "../../src/graph/task.js";
import type { WorkerMetrics } from "../../src/worker/control.js";
import { fakeWorker, finishPending, settle, task, type FakeWorker } from "./fake-worker.js";

/** Finish tasks as the scheduler hands them out (one at a time per thread), until `until` is next; 2 ms each from t0. */
async function finishUntil(w: FakeWorker, t0: number, until: string): Promise<string[]> {
  const done: string[] = [];
  while (w.batches.length > 0 && w.batches[0]!.keys[0] !== until) {
    done.push(...finishPending(w, t0 + 2 * done.length));
    await settle();
  }
  return done;
}

async function setup() {
  // One root task per worker at a time, so the counts below do not depend on queuing's slack.
  const runner = new Runner({ workerSaturation: 1 });
  const w0 = fakeWorker("w0", { memory: { limit: 1e9, managed: 800, spilled: 0 } as WorkerMetrics["memory"] });
  runner.addWorker(w0);
  await settle();
  // A long interval: the test ticks by hand.
  const collector = new MetricsCollector(runner, { interval: 3_600_000, metricsInterval: 0, heartbeat: 1000 });
  return { runner, w0, collector };
}

describe("MetricsCollector", () => {
  it("sends a snapshot first, then updates holding the finished tasks in columns", async () => {
    const { runner, w0, collector } = await setup();
    const got: FeedMessage[] = [];
    const off = collector.subscribe((m) => got.push(m));
    collector.tick(1000);
    expect(got.map((m) => m.kind)).toEqual(["snapshot"]);
    expect(got[0]!.workers).toMatchObject([{ index: 0, id: "w0", running: true, nthreads: 1, processing: 0 }]);

    runner.updateGraph("c", [task("load-1", "io.load"), task("load-2", "io.load", [], 1), task("sum-1", "tessera.sum", ["load-1", "load-2"], 2)], ["sum-1"]);
    await settle();
    collector.tick(1100);
    const queued = got.at(-1)!;
    expect(queued.kind).toBe("update");
    // Root tasks go out one per thread; the rest wait in the scheduler's queue.
    expect(queued.progress).toEqual([
      { id: 0, name: "load", total: 2, done: 0, erred: 0, processing: 1 },
      { id: 1, name: "sum", total: 1, done: 0, erred: 0, processing: 0 },
    ]);
    expect(queued.workers[0]).toMatchObject({ processing: 1, executed: 7, memory: { managed: 800 } });

    expect(await finishUntil(w0, 5000, "sum-1")).toEqual(["load-1", "load-2"]);
    collector.tick(1200);
    const m = got.at(-1)!;
    expect(m.tasks.seen).toBe(2);
    expect(m.tasks.key).toEqual(["load-1", "load-2"]);
    expect(m.tasks.prefix).toEqual([0, 0]);
    expect(m.tasks.worker).toEqual([0, 0]);
    expect(m.base).toBe(5000);
    expect(m.tasks.start).toEqual([0, 2]);
    expect(m.tasks.stop).toEqual([2, 4]);
    expect(m.tasks.erred).toEqual([0, 0]);
    expect(m.ops.slice(0, 1)).toEqual(["io.load"]);
    expect(m.tasks.op).toEqual([m.opsFrom, m.opsFrom]);
    expect(m.progress.find((p) => p.name === "load")).toMatchObject({ total: 2, done: 2, processing: 0 });

    // The failure: in the stream (erred 1) and in errors, with the worker's stack.
    const [sumKey] = w0.batches.splice(0)[0]!.keys;
    w0.report({ erred: [{ key: sumKey!, error: { name: "TypeError", message: "bad", stack: "TypeError: bad\n    at sum" }, start: 6000, stop: 6001 }] });
    await settle();
    collector.tick(1300);
    const e = got.at(-1)!;
    expect(e.tasks.erred).toEqual([1]);
    expect(e.errors).toEqual([{ key: "sum-1", op: "tessera.sum", worker: "w0", name: "TypeError", message: "bad", stack: "TypeError: bad\n    at sum", time: 6001 }]);
    expect(e.progress.find((p) => p.name === "sum")).toMatchObject({ total: 1, done: 0, erred: 1 });

    // Nothing new: no message until the heartbeat is due.
    const n = got.length;
    collector.tick(1400);
    expect(got.length).toBe(n);
    collector.tick(2400);
    expect(got.length).toBe(n + 1);

    // A late subscriber's snapshot holds the recent stream, every prefix, the errors and ops.
    const late: FeedMessage[] = [];
    collector.subscribe((m2) => late.push(m2));
    collector.tick(2500);
    const snap = late[0]!;
    expect(snap.kind).toBe("snapshot");
    expect(snap.tasks.key).toEqual(["load-1", "load-2", "sum-1"]);
    expect(snap.tasks.start.map((s) => s + snap.base)).toEqual([5000, 5002, 6000]);
    expect(snap.progress.map((p) => p.name)).toEqual(["load", "sum"]);
    expect(snap.errors.map((x) => x.key)).toEqual(["sum-1"]);
    expect(snap.opsFrom).toBe(0);
    expect(snap.ops).toEqual(expect.arrayContaining(["io.load", "tessera.sum"]));
    expect(collector.snapshot().tasks.key).toEqual(snap.tasks.key);
    off();
  });

  it("taps worker reports only while someone needs them", async () => {
    const { runner, collector } = await setup();
    const taps = () => (runner as unknown as { reportTaps: Set<unknown> }).reportTaps.size;
    expect(taps()).toBe(0);
    const off = collector.onProgress(() => {});
    expect(taps()).toBe(0); // overall progress reads the scheduler's counters: no tap
    const unsub = collector.subscribe(() => {});
    expect(taps()).toBe(1);
    unsub();
    off();
    expect(taps()).toBe(0);
  });

  it("reports overall progress, and one graph's progress to its tracker", async () => {
    const { runner, w0, collector } = await setup();
    const overall: ProgressEvent[] = [];
    const mine: ComputeProgress[] = [];
    collector.onProgress((p) => overall.push(p));
    const tracker = collector.track(["a-1", "a-2", "a-3"], (p) => mine.push(p));
    runner.updateGraph("c", [task("a-1", "f"), task("a-2", "f", [], 1), task("a-3", "f", [], 2)], ["a-1", "a-2", "a-3"]);
    await settle();
    collector.tick(10);
    expect(overall.at(-1)).toMatchObject({ total: 3, done: 0, processing: 1 });
    expect(mine.at(-1)).toMatchObject({ total: 3, done: 0, erred: 0, finished: false });
    finishPending(w0, 1);
    await settle();
    collector.tick(20);
    expect(overall.at(-1)).toMatchObject({ total: 3, done: 1 });
    expect(mine.at(-1)).toMatchObject({ total: 3, done: 1, finished: false });
    const count = mine.length;
    collector.tick(30); // unchanged: no event
    expect(mine.length).toBe(count);
    tracker.finish(true);
    expect(mine.at(-1)).toMatchObject({ total: 3, done: 3, erred: 0, finished: true });
  });

  it("counts keys already in memory when a tracked graph is submitted", async () => {
    const { runner, w0, collector } = await setup();
    runner.updateGraph("c", [task("a-1", "f")], ["a-1"]);
    await settle();
    finishPending(w0, 0);
    await settle();
    const mine: ComputeProgress[] = [];
    collector.track(["a-1", "b-1"], (p) => mine.push(p));
    runner.updateGraph("c", [task("a-1", "f"), task("b-1", "g", ["a-1"], 1)], ["b-1"]);
    await settle();
    collector.tick(10);
    expect(mine.at(-1)).toMatchObject({ total: 2, done: 1 });
  });
});

describe("MetricsCollector: transfers, spills, CPU and the task graph", () => {
  /** Two workers whose metrics the test sets; w1 without a loop measure (as in a browser). */
  async function twoWorkers() {
    const runner = new Runner({ workerSaturation: 1 });
    const m0: Partial<WorkerMetrics> & { loop?: { active: number; idle: number } } = {};
    const w0 = fakeWorker("w0");
    w0.control.metrics = async () => ({ id: "w0", stored: 0, nbytes: 0, queued: 0, executed: 1, movedKeys: 0, movedBytes: 0, copiedKeys: 0, copiedBytes: 0, ...m0 });
    const w1 = fakeWorker("w1");
    runner.addWorker(w0);
    runner.addWorker(w1);
    await settle();
    const collector = new MetricsCollector(runner, { interval: 3_600_000, metricsInterval: 0, heartbeat: 1000 });
    return { runner, w0, w1, m0, collector };
  }
  const memory = (spillCount: number, spillBytes: number, unspillCount: number, unspillBytes: number) =>
    ({ limit: 1e9, managed: 10, spilled: 0, spillCount, spillBytes, unspillCount, unspillBytes }) as unknown as WorkerMetrics["memory"];
  /** Let the metrics polls started by a tick come back, with the wall clock moved on. */
  const polled = () => new Promise<void>((r) => setTimeout(r, 15));

  it("streams inputs fetched from peers, spills between polls, and each worker's CPU", async () => {
    const { w0, w1, m0, collector } = await twoWorkers();
    const got: FeedMessage[] = [];
    collector.subscribe((m) => got.push(m));
    m0.loop = { active: 100, idle: 100 };
    m0.memory = memory(2, 200, 0, 0);
    collector.tick(1000);
    await polled();
    expect(got[0]!.kind).toBe("snapshot");
    expect(got[0]!.activity.kind).toEqual([]);

    // w0 fetched an input from w1; then, by its next poll, spilled 3 more values and read 1 back.
    w0.report({ fetched: [{ key: "x-1", from: "w1", nbytes: 64, start: 7000, stop: 7002.5 }] });
    // w1 (no loop measure) reports 50 ms of tasks: its CPU is task time over wall time.
    w1.report({ erred: [{ key: "nope-1", error: { name: "Error", message: "unknown task" }, start: 7000, stop: 7050 }] });
    m0.loop = { active: 175, idle: 125 };
    m0.memory = memory(5, 500, 1, 100);
    await settle();
    collector.tick(1100);
    await polled();
    collector.tick(1200);
    await polled();
    collector.tick(1300);
    const updates = got.filter((m) => m.kind === "update");
    const activity = updates.flatMap((m) => m.activity.kind.map((kind, i) => ({ kind, worker: m.activity.worker[i], peer: m.activity.peer[i], key: m.activity.key[i], count: m.activity.count[i], nbytes: m.activity.nbytes[i], start: m.base + m.activity.start[i]!, stop: m.base + m.activity.stop[i]! })));
    expect(activity).toContainEqual({ kind: TRANSFER, worker: 0, peer: 1, key: "x-1", count: 1, nbytes: 64, start: 7000, stop: 7002.5 });
    const spills = activity.filter((a) => a.kind !== TRANSFER);
    expect(spills.map(({ kind, worker, count, nbytes }) => ({ kind, worker, count, nbytes }))).toEqual([
      { kind: SPILL, worker: 0, count: 3, nbytes: 300 },
      { kind: UNSPILL, worker: 0, count: 1, nbytes: 100 },
    ]);
    // Spills span the interval between the two polls.
    expect(spills[0]!.stop).toBeGreaterThan(spills[0]!.start);
    const last = got.at(-1)!;
    expect(last.workers[0]).toMatchObject({ cpu: 0.75, cpuSource: "loop" });
    expect(last.workers[1]).toMatchObject({ cpuSource: "tasks" });
    // 50 ms of tasks within one poll interval (~15 ms, capped at 1), then none in the next.
    const cpus = updates.map((m) => m.workers[1]!.cpu).filter((c) => c !== undefined);
    expect(cpus).toHaveLength(2);
    expect(cpus[0]).toBeGreaterThan(0);
    expect(cpus[0]).toBeLessThanOrEqual(1);
    expect(cpus[1]).toBe(0);

    // A late subscriber's snapshot carries the recent activity too.
    const snap = collector.snapshot();
    expect(snap.activity.key).toContain("x-1");
    expect(snap.activity.kind).toEqual(expect.arrayContaining([TRANSFER, SPILL, UNSPILL]));
  });

  it("gives the task graph the scheduler holds: nodes by state, dependency edges, or only the count above the limit", async () => {
    const { runner, w0, collector } = await twoWorkers();
    runner.updateGraph("c", [task("a-1", "f"), task("b-1", "f", [], 1), task("c-1", "g", ["a-1", "b-1"], 2)], ["c-1"]);
    await settle();
    const g = collector.graph();
    expect(g.total).toBe(3);
    expect(g.tooLarge).toBe(false);
    expect([...g.key].sort()).toEqual(["a-1", "b-1", "c-1"]);
    const at = (k: string) => g.key.indexOf(k);
    const edges = g.from.map((f, i) => `${g.key[f]}->${g.key[g.to[i]!]}`).sort();
    expect(edges).toEqual(["a-1->c-1", "b-1->c-1"]);
    expect(g.state[at("c-1")]).toBe("waiting");
    expect(["processing", "ready", "waiting"]).toContain(g.state[at("a-1")]);
    expect(g.prefixes[g.prefix[at("c-1")]!]).toBe("c");
    void w0;
    const small = collector.graph(2);
    expect(small).toMatchObject({ total: 3, tooLarge: true, limit: 2, key: [], from: [] });
  });
});

describe("ActivityBuffer", () => {
  it("keeps up to its capacity per interval and counts the rest", () => {
    const b = new ActivityBuffer(2);
    for (let i = 0; i < 5; i++) b.push(TRANSFER, 0, 1, `k-${i}`, 1, 8, 100 + i, 101 + i);
    const out = b.drain(100);
    expect(out).toMatchObject({ seen: 5, key: ["k-0", "k-1"], start: [0, 1], stop: [1, 2] });
    expect(b.length).toBe(0);
    const joined = concatActivity([{ base: 100, activity: out }, { base: 110, activity: { ...out, start: [0], stop: [5], key: ["k-9"], kind: [SPILL], worker: [1], peer: [-1], count: [4], nbytes: [40], seen: 1 } }], 100);
    expect(joined).toMatchObject({ seen: 6, key: ["k-0", "k-1", "k-9"], start: [0, 1, 10], stop: [1, 2, 15], kind: [TRANSFER, TRANSFER, SPILL] });
  });
});

describe("TaskBuffer", () => {
  it("keeps every task until full, then 1 in 2, 4, ... and every failure", () => {
    const b = new TaskBuffer(8);
    for (let i = 0; i < 20; i++) if (b.admit()) b.push(`t-${i}`, 0, 0, 0, 100 + i, 101 + i, 0);
    b.admitFailure();
    b.push("bad", 0, 0, 0, 200, 201, 1);
    expect(b.seen).toBe(21);
    expect(b.stride).toBe(4);
    const out = b.drain(100);
    expect(out.key).toEqual(["t-0", "t-4", "t-8", "t-12", "t-16", "bad"]);
    expect(out.start).toEqual([0, 4, 8, 12, 16, 100]);
    expect(out.stride).toBe(4);
    expect(b.length).toBe(0);
    expect(b.stride).toBe(1);
  });

  it("joins drained batches under one base", () => {
    const one = { base: 1000, tasks: new TaskBuffer(4) };
    const two = { base: 1010, tasks: new TaskBuffer(4) };
    one.tasks.push("a", 0, 0, 0, 1000.5, 1001, 0);
    two.tasks.push("b", 1, 1, 1, 1010, 1012.25, 1);
    const joined = concatTasks([{ base: 1000, tasks: one.tasks.drain(1000) }, { base: 1010, tasks: two.tasks.drain(1010) }], 1000);
    expect(joined).toMatchObject({ key: ["a", "b"], start: [0.5, 10], stop: [1, 12.25], worker: [0, 1], erred: [0, 1] });
  });
});

describe("opName", () => {
  it("names a task's op; a fused chain by its last op", () => {
    expect(opName(new Task("x-1", "tessera.sum", []))).toBe("tessera.sum");
    expect(opName(new Fused("y-1", [new Task("a-1", "load", []), new Task("y-1", "parse", [])]))).toBe("parse");
    expect(opName({ op: "wire.op", args: [] })).toBe("wire.op");
    expect(opName(undefined)).toBe("?");
  });
});
