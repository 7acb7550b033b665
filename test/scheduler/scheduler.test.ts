// The scheduler as a pure state machine: feed events, compare instruction lists. No workers,
// no threads, no timers.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import type { Instruction, SchedulerEvent, TaskSpec } from "../../src/scheduler/events.js";

const spec = (key: string, deps: string[] = [], order = 0, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  key,
  deps,
  order,
  run: { key },
  ...extra,
});

function withWorkers(n: number, opts: ConstructorParameters<typeof Scheduler>[0] = {}): Scheduler {
  const s = new Scheduler(opts);
  const events: SchedulerEvent[] = [];
  for (let i = 0; i < n; i++) events.push({ type: "worker-added", worker: `w${i}`, nthreads: 1, memoryLimit: 1e9 });
  s.handle(events);
  return s;
}

const computes = (out: Instruction[]) =>
  out.filter((i) => i.type === "compute").map((i) => (i.type === "compute" ? `${i.key}@${i.worker}` : ""));
const frees = (out: Instruction[]) => out.flatMap((i) => (i.type === "free" ? i.keys.map((k) => `${k}@${i.worker}`) : []));
const reports = (out: Instruction[]) =>
  out.filter((i) => i.type === "report").map((i) => (i.type === "report" ? `${i.client}:${i.key}:${i.state}` : ""));

const finished = (worker: string, key: string, nbytes = 8, duration = 0.001): SchedulerEvent => ({
  type: "task-finished",
  worker,
  key,
  nbytes,
  duration,
});

/** One worker "w0" of `limit` bytes holding `n` inputs of 100 MB, "big-0".. (each took 0.6 s). */
function bigInputsOnW0(n: number, limit: number) {
  const s = new Scheduler();
  s.handle({ type: "worker-added", worker: "w0", nthreads: 1, memoryLimit: limit });
  const srcs = Array.from({ length: n }, (_, i) => spec(`big-${i}`));
  s.handle({ type: "update-graph", client: "c", tasks: srcs, wanted: srcs.map((t) => t.key) });
  for (const t of srcs) s.handle(finished("w0", t.key, 100e6, 0.6));
  return { s, srcs };
}

describe("scheduler state machine", () => {
  it("runs a single task and reports it to the client", () => {
    const s = withWorkers(1);
    const out = s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1")], wanted: ["a-1"] });
    expect(out).toEqual([{ type: "compute", worker: "w0", key: "a-1", ref: expect.any(Number), run: { key: "a-1" }, priority: 0, deps: [] }]);
    expect(s.stateOf("a-1")).toBe("processing");
    const done = s.handle(finished("w0", "a-1"));
    expect(done).toEqual([{ type: "report", client: "c", key: "a-1", state: "memory", nbytes: 8 }]);
    expect(s.stateOf("a-1")).toBe("memory");
    expect(s.whoHas("a-1")).toEqual(["w0"]);
    const rel = s.handle({ type: "client-release", client: "c", keys: ["a-1"] });
    expect(rel).toEqual([{ type: "free", worker: "w0", keys: ["a-1"] }]);
    expect(s.stateOf("a-1")).toBe("forgotten");
    expect(s.tasks.size).toBe(0);
  });

  it("walks a diamond, releasing inputs once their last dependent finishes", () => {
    const s = withWorkers(1);
    const tasks = [spec("a-1", [], 0), spec("b-1", ["a-1"], 1), spec("c-1", ["a-1"], 2), spec("d-1", ["b-1", "c-1"], 3)];
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: ["d-1"] });
    expect(computes(out)).toEqual(["a-1@w0"]);
    out = s.handle(finished("w0", "a-1"));
    expect(computes(out).sort()).toEqual(["b-1@w0", "c-1@w0"]);
    out = s.handle(finished("w0", "b-1"));
    expect(out).toEqual([]);
    out = s.handle(finished("w0", "c-1"));
    expect(computes(out)).toEqual(["d-1@w0"]);
    expect(frees(out)).toEqual(["a-1@w0"]);
    out = s.handle(finished("w0", "d-1"));
    expect(frees(out).sort()).toEqual(["b-1@w0", "c-1@w0"]);
    expect(reports(out)).toEqual(["c:d-1:memory"]);
    expect(s.story("a-1").map((e) => `${e.from}>${e.to}`)).toEqual([
      "released>waiting",
      "waiting>ready",
      "ready>processing",
      "processing>memory",
      "memory>released",
    ]);
  });

  it("sends a dependent to the worker that holds its big input", () => {
    const s = withWorkers(2);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1"), spec("a-2", [], 1)], wanted: ["a-1", "a-2"] });
    s.handle([finished("w0", "a-1", 1e8), finished("w1", "a-2", 8)]);
    const out = s.handle({ type: "update-graph", client: "c", tasks: [spec("b-1", ["a-1"])], wanted: ["b-1"] });
    expect(computes(out)).toEqual(["b-1@w0"]);
    const out2 = s.handle({ type: "update-graph", client: "c", tasks: [spec("b-2", ["a-2"])], wanted: ["b-2"] });
    expect(computes(out2)).toEqual(["b-2@w1"]);
  });

  it("tells the remote worker where inputs live and lets the last user move them", () => {
    const s = withWorkers(2);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("x-1"), spec("y-1", [], 1)], wanted: [] });
    // Nothing wanted: both forgotten at once.
    expect(s.tasks.size).toBe(0);
    const tasks = [spec("x-1", [], 0, { workers: ["w0"] }), spec("y-1", ["x-1"], 1, { workers: ["w1"] })];
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: ["y-1"] });
    expect(computes(out)).toEqual(["x-1@w0"]);
    out = s.handle(finished("w0", "x-1", 800));
    expect(out).toEqual([
      {
        type: "compute",
        worker: "w1",
        key: "y-1",
        ref: expect.any(Number),
        run: { key: "y-1" },
        priority: 0,
        deps: [{ key: "x-1", holders: ["w0"], nbytes: 800, move: true }],
      },
    ]);
    out = s.handle([{ type: "replica-added", worker: "w1", key: "x-1", nbytes: 800, movedFrom: "w0" }, finished("w1", "y-1")]);
    expect(frees(out)).toEqual(["x-1@w1"]);
  });

  it("retries a failing task, then errs it and its dependents with the original error", () => {
    const s = withWorkers(1);
    const tasks = [spec("a-1", [], 0, { retries: 1 }), spec("b-1", ["a-1"], 1)];
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: ["b-1"] });
    expect(computes(out)).toEqual(["a-1@w0"]);
    const error = { name: "Error", message: "boom", op: "fail" };
    out = s.handle({ type: "task-erred", worker: "w0", key: "a-1", error });
    expect(computes(out)).toEqual(["a-1@w0"]); // the retry
    out = s.handle({ type: "task-erred", worker: "w0", key: "a-1", error });
    expect(out).toEqual([
      { type: "report", client: "c", key: "b-1", state: "erred", error: { ...error, key: "a-1", worker: "w0" } },
    ]);
    expect(s.stateOf("b-1")).toBe("erred");
    expect(s.stateOf("a-1")).toBe("erred");
    s.handle({ type: "client-release", client: "c", keys: ["b-1"] });
    expect(s.tasks.size).toBe(0);
  });

  it("errs a task whose dependency is unknown, naming both keys", () => {
    const s = withWorkers(1);
    const out = s.handle({ type: "update-graph", client: "c", tasks: [spec("b-1", ["nope-1"])], wanted: ["b-1"] });
    expect(out).toHaveLength(1);
    const r = out[0]!;
    expect(r.type === "report" && r.state === "erred" && r.error.message).toMatch(/b-1 depends on nope-1/);
  });

  it("cancels: running work is stopped and upstream tasks nobody needs are forgotten", () => {
    const s = withWorkers(1);
    const tasks = [spec("a-1"), spec("b-1", ["a-1"], 1)];
    s.handle({ type: "update-graph", client: "c", tasks, wanted: ["b-1"] });
    const out = s.handle({ type: "cancel", client: "c", keys: ["b-1"], reason: "aborted" });
    expect(out).toEqual([
      { type: "report", client: "c", key: "b-1", state: "cancelled", reason: "aborted" },
      { type: "cancel-task", worker: "w0", key: "a-1" },
    ]);
    expect(s.tasks.size).toBe(0);
    // A late finish of the cancelled task frees its data.
    expect(s.handle(finished("w0", "a-1"))).toEqual([{ type: "free", worker: "w0", keys: ["a-1"] }]);
  });

  it("keeps keys another client still wants", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c1", tasks: [spec("a-1")], wanted: ["a-1"] });
    const out = s.handle({ type: "update-graph", client: "c2", tasks: [spec("a-1")], wanted: ["a-1"] });
    expect(out).toEqual([]);
    const done = s.handle(finished("w0", "a-1"));
    expect(reports(done)).toEqual(["c1:a-1:memory", "c2:a-1:memory"]);
    expect(s.handle({ type: "client-release", client: "c1", keys: ["a-1"] })).toEqual([]);
    expect(s.handle({ type: "client-release", client: "c2", keys: ["a-1"] })).toEqual([{ type: "free", worker: "w0", keys: ["a-1"] }]);
  });

  it("queues root tasks and hands them out as workers have room (backpressure)", () => {
    const s = withWorkers(2);
    const tasks = Array.from({ length: 10 }, (_, i) => spec(`load-${i}`, [], i));
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
    // Unknown duration: ceil(1 thread * workerSaturation 1.1) = 2 tasks per worker until one finishes.
    expect(computes(out)).toEqual(["load-0@w0", "load-1@w1", "load-2@w0", "load-3@w1"]);
    out = s.handle([finished("w0", "load-0", 8, 0.0001), finished("w0", "load-2", 8, 0.0001)]);
    // Known to be short now: w0 may queue up to queueSeconds of them.
    expect(computes(out).length).toBeGreaterThan(2);
    expect(computes(out)[0]).toBe("load-4@w0");
  });

  it("holds root tasks back to ceil(nthreads * workerSaturation) per worker while they are long", () => {
    const s = new Scheduler();
    s.handle([
      { type: "worker-added", worker: "a", nthreads: 4, memoryLimit: 1e9 },
      { type: "worker-added", worker: "b", nthreads: 2, memoryLimit: 1e9 },
    ]);
    const tasks = Array.from({ length: 100 }, (_, i) => spec(`load-${i}`, [], i));
    const sum = spec("sum-1", tasks.map((t) => t.key), 100);
    let out = s.handle({ type: "update-graph", client: "c", tasks: [...tasks, sum], wanted: ["sum-1"] });
    const per = (o: Instruction[]) => {
      const n: Record<string, number> = {};
      for (const c of computes(o)) n[c.split("@")[1]!] = (n[c.split("@")[1]!] ?? 0) + 1;
      return n;
    };
    expect(per(out)).toEqual({ a: 5, b: 3 }); // ceil(4 * 1.1), ceil(2 * 1.1)
    const onB = computes(out).find((c) => c.endsWith("@b"))!.split("@")[0]!;
    // Each finish (a long task: no short-task allowance) frees exactly one place.
    out = s.handle(finished("a", "load-0", 8e6, 1));
    expect(computes(out)).toEqual(["load-8@a"]);
    out = s.handle(finished("b", onB, 8e6, 1));
    expect(computes(out)).toEqual(["load-9@b"]);
    expect(s.counts().ready).toBe(100 - 10);
  });

  it("places every root task at once when workerSaturation is Infinity (queuing off)", () => {
    const s = withWorkers(2, { workerSaturation: Infinity });
    const tasks = Array.from({ length: 50 }, (_, i) => spec(`load-${i}`, [], i));
    const out = s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
    expect(computes(out).length).toBe(50);
    expect(() => new Scheduler({ workerSaturation: 0 })).toThrow(/workerSaturation must be a number above 0/);
  });

  it("gives a paused worker nothing new, lets an idle worker steal its queue, and feeds it again on resume", () => {
    const s = withWorkers(2);
    // Tasks on an input held by w0 would all go to w0 (locality), but w0 is paused.
    s.handle({ type: "update-graph", client: "c", tasks: [spec("src-1", [], 0, { workers: ["w0"] })], wanted: ["src-1"] });
    s.handle(finished("w0", "src-1", 1e8));
    s.handle({ type: "worker-paused", worker: "w0", paused: true });
    let out = s.handle({ type: "update-graph", client: "c", tasks: [spec("use-1", ["src-1"], 1)], wanted: ["use-1"] });
    expect(computes(out)).toEqual(["use-1@w1"]);
    // Root tasks are queued for w1 only (w0 takes none while paused).
    const roots = Array.from({ length: 6 }, (_, i) => spec(`load-${i}`, [], 10 + i));
    out = s.handle({ type: "update-graph", client: "c", tasks: roots, wanted: roots.map((t) => t.key) });
    expect(computes(out).every((c) => c.endsWith("@w1"))).toBe(true);
    // Only-w0 tasks wait (unrunnable) while w0 is paused, and go to it when it resumes.
    out = s.handle({ type: "update-graph", client: "c", tasks: [spec("pin-1", [], 20, { workers: ["w0"] })], wanted: ["pin-1"] });
    expect(computes(out)).toEqual([]);
    expect(s.stateOf("pin-1")).toBe("ready");
    out = s.handle({ type: "worker-paused", worker: "w0", paused: false });
    expect(computes(out)).toContain("pin-1@w0");
    expect(computes(out).some((c) => c.startsWith("load-") && c.endsWith("@w0"))).toBe(true);
  });

  it("has idle workers steal the queue of a paused worker, and never steal into one", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("src-1")], wanted: ["src-1"] });
    s.handle(finished("w0", "src-1", 8));
    const tasks = Array.from({ length: 4 }, (_, i) => spec(`slow-${i}`, ["src-1"], i));
    s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
    // w1 joins paused: it steals nothing.
    let out = s.handle([
      { type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 },
      { type: "worker-paused", worker: "w1", paused: true },
    ]);
    expect(out.filter((i) => i.type === "steal")).toEqual([]);
    // w1 resumes and w0 pauses: w1 steals from w0, whose queue is all surplus now.
    out = s.handle([
      { type: "worker-paused", worker: "w1", paused: false },
      { type: "worker-paused", worker: "w0", paused: true },
    ]);
    const steals = out.filter((i) => i.type === "steal");
    expect(steals.length).toBe(2);
    expect(steals.every((i) => i.type === "steal" && i.worker === "w0")).toBe(true);
  });

  it("moves processing tasks to the queue order by user priority, then submission, then graph order", () => {
    const s = withWorkers(1, { workerSaturation: 1 });
    s.handle({ type: "update-graph", client: "c", tasks: [spec("x-0")], wanted: ["x-0"] }); // occupies w0
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1", [], 5), spec("a-2", [], 1)], wanted: ["a-1", "a-2"] });
    s.handle({ type: "update-graph", client: "c", tasks: [spec("u-1", [], 0, { priority: 10 })], wanted: ["u-1"] });
    const seq: string[] = [];
    let out = s.handle(finished("w0", "x-0", 8, 0.5));
    for (let i = 0; i < 3; i++) {
      const c = computes(out);
      seq.push(...c);
      out = s.handle(finished("w0", c[0]!.split("@")[0]!, 8, 0.5));
    }
    expect(seq).toEqual(["u-1@w0", "a-2@w0", "a-1@w0"]);
  });

  it("recomputes data lost with a worker and reruns its processing tasks elsewhere", () => {
    const s = withWorkers(2);
    const tasks = [spec("a-1", [], 0, { workers: ["w0"] }), spec("b-1", ["a-1"], 1)];
    s.handle({ type: "update-graph", client: "c", tasks, wanted: ["b-1"] });
    let out = s.handle(finished("w0", "a-1", 8));
    expect(computes(out)).toEqual(["b-1@w0"]);
    // w0 dies: b-1 must run again, and a-1 (lost with w0) must be recomputed first — but a-1 may
    // only run on w0, so it waits for such a worker.
    out = s.handle({ type: "worker-removed", worker: "w0", reason: "crashed" });
    expect(computes(out)).toEqual([]);
    expect(s.stateOf("a-1")).toBe("ready");
    expect(s.stateOf("b-1")).toBe("waiting");
    out = s.handle({ type: "worker-added", worker: "w0", nthreads: 1, memoryLimit: 1e9 });
    expect(computes(out)).toEqual(["a-1@w0"]);
    const story = s.story("b-1").map((e) => `${e.from}>${e.to}`);
    expect(story).toContain("processing>waiting");
  });

  it("errs a task with KilledWorker after its workers keep dying", () => {
    const s = withWorkers(1, { allowedFailures: 1 });
    s.handle({ type: "update-graph", client: "c", tasks: [spec("bad-1")], wanted: ["bad-1"] });
    s.handle([
      { type: "worker-removed", worker: "w0", reason: "oom" },
      { type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 },
    ]);
    const out = s.handle([
      { type: "worker-removed", worker: "w1", reason: "oom" },
      { type: "worker-added", worker: "w2", nthreads: 1, memoryLimit: 1e9 },
    ]);
    expect(reports(out)).toEqual(["c:bad-1:erred"]);
  });

  it("steals queued long tasks for an idle worker", () => {
    const s = withWorkers(1);
    // Many tasks depending on one small input held by w0: all assigned to w0 (not root-ish: few dependents).
    s.handle({ type: "update-graph", client: "c", tasks: [spec("src-1")], wanted: ["src-1"] });
    s.handle(finished("w0", "src-1", 8));
    const tasks = Array.from({ length: 4 }, (_, i) => spec(`slow-${i}`, ["src-1"], i));
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
    expect(computes(out).length).toBe(4);
    out = s.handle({ type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 });
    const steals = out.filter((i) => i.type === "steal");
    expect(steals.length).toBeGreaterThan(0);
    const stolenKey = steals[0]!.type === "steal" ? steals[0]!.key : "";
    out = s.handle({ type: "steal-response", worker: "w0", key: stolenKey, stolen: true });
    expect(computes(out)).toEqual([`${stolenKey}@w1`]);
  });

  it("charges a steal a pass through the spill disk on each side that holds more than its memory limit", () => {
    // 100 MB inputs on w0 and tasks of 0.6 s each: worth moving at 250 MB/s (0.4 s), not when
    // the input is also read from w0's disk and written to w1's (0.4 s more per side).
    const run = (limit: number) => {
      const { s, srcs } = bigInputsOnW0(4, limit);
      const tasks = srcs.map((t, i) => spec(`step-${i}`, [t.key], i));
      s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
      s.handle(finished("w0", "step-0", 8, 0.6));
      const out = s.handle({ type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: limit });
      return out.filter((i) => i.type === "steal").length;
    };
    expect(run(1e9)).toBeGreaterThan(0);
    // 300 MB held on w0 against a 250 MB limit; w1 would hold 100 MB against 50 MB.
    expect(run(250e6)).toBe(0);
    expect(run(50e6)).toBe(0);
  });

  it("places a task away from its input's holder only when that pays for the spill disks too", () => {
    // Eight 100 MB inputs on w0, then tasks of a prefix known to take 0.6 s, one per input: as
    // w0's queue grows, moving an input (0.4 s at 250 MB/s) pays sooner than when w0 holds more
    // than its limit and the input comes off its disk (0.4 s more).
    const placedOnW1 = (limit: number) => {
      const { s, srcs } = bigInputsOnW0(8, limit);
      s.handle({ type: "update-graph", client: "c", tasks: [spec("step-x", ["big-0"])], wanted: ["step-x"] });
      s.handle(finished("w0", "step-x", 8, 0.6));
      s.handle({ type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: limit });
      const tasks = srcs.map((t, i) => spec(`step-${i}`, [t.key], i));
      const out = s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
      return computes(out).filter((c) => c.endsWith("@w1")).length;
    };
    expect(placedOnW1(250e6)).toBeLessThan(placedOnW1(1e12));
  });

  it("does not steal a task for the duration charged before its prefix was known, when moving its input costs more", () => {
    const s = withWorkers(1);
    // A 100 MB input on w0 (0.4 s to move at the assumed 250 MB/s), then four tasks of a prefix
    // never seen: each charged the unknown-duration default (0.5 s), which would pay for a move.
    s.handle({ type: "update-graph", client: "c", tasks: [spec("big-1")], wanted: ["big-1"] });
    s.handle(finished("w0", "big-1", 100e6));
    const tasks = Array.from({ length: 4 }, (_, i) => spec(`step-${i}`, ["big-1"], i));
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
    expect(computes(out).length).toBe(4);
    // The first finishes in 10 ms: the others are now known to be short.
    out = s.handle(finished("w0", "step-0", 8, 0.01));
    out = s.handle({ type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 });
    expect(out.filter((i) => i.type === "steal")).toEqual([]);
  });

  it("rebalances: plans acquires to the lighter worker, frees the old copy on arrival, and reports when every move has ended", () => {
    const s = withWorkers(2);
    const data = (key: string, nbytes: number): SchedulerEvent => ({ type: "data-added", client: "c", worker: "w0", key, nbytes });
    s.handle([data("k-1", 400), data("k-2", 300), data("k-3", 200), data("k-4", 100)]);
    let out = s.handle({ type: "rebalance", client: "c", id: 7 });
    // 1000 bytes on w0: moving 400 and then 100 leaves 500 / 500 (300 next would not lower the larger load).
    expect(out).toEqual([{ type: "acquire", worker: "w1", keys: ["k-1", "k-4"], holders: ["w0", "w0"] }]);
    out = s.handle({ type: "replica-added", worker: "w1", key: "k-1", nbytes: 400 });
    expect(frees(out)).toEqual(["k-1@w0"]);
    expect(s.whoHas("k-1")).toEqual(["w1"]);
    // The other fetch failed (reported by the worker with the key as its own dependent).
    out = s.handle({ type: "missing-data", worker: "w1", key: "k-4", dep: "k-4", holder: "w0" });
    expect(out.filter((i) => i.type === "rebalanced")).toEqual([{ type: "rebalanced", client: "c", id: 7, moved: 1, bytes: 400 }]);
    // A receiver that goes away ends its moves too.
    s.handle({ type: "worker-added", worker: "w2", nthreads: 1, memoryLimit: 1e9 });
    out = s.handle({ type: "rebalance", client: "c", id: 8, keys: ["k-2", "k-3"] });
    const acquire = out.find((i) => i.type === "acquire");
    expect(acquire).toBeDefined();
    out = s.handle({ type: "worker-removed", worker: acquire!.type === "acquire" ? acquire!.worker : "", reason: "test" });
    expect(out.filter((i) => i.type === "rebalanced")).toEqual([{ type: "rebalanced", client: "c", id: 8, moved: 0, bytes: 0 }]);
  });

  it("reports the transition story with stimuli and workers", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1")], wanted: ["a-1"] }, 5);
    s.handle(finished("w0", "a-1"), 7);
    const story = s.story("a-1");
    expect(story.map((e) => [e.from, e.to, e.stimulus.replace(/-\d+$/, ""), e.time])).toEqual([
      ["released", "waiting", "update-graph", 5],
      ["waiting", "ready", "update-graph", 5],
      ["ready", "processing", "schedule", 5],
      ["processing", "memory", "task-finished", 7],
    ]);
    expect(story[2]!.worker).toBe("w0");
  });

  it("forgets a chain of 200k tasks without recursion", () => {
    const s = withWorkers(1);
    const n = 200_000;
    const tasks = Array.from({ length: n }, (_, i) => spec(`c-${i}`, i ? [`c-${i - 1}`] : [], i));
    s.handle({ type: "update-graph", client: "c", tasks, wanted: [`c-${n - 1}`] });
    expect(s.tasks.size).toBe(n);
    s.handle({ type: "cancel", client: "c", keys: [`c-${n - 1}`] });
    expect(s.tasks.size).toBe(0);
  });

  it("finishes tasks by the ref echoed from the compute instruction, and never confuses a reused slot", () => {
    const s = withWorkers(1);
    let out = s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1")], wanted: ["a-1"] });
    const first = out[0]!;
    const ref = first.type === "compute" ? first.ref : -1;
    // Cancel a-1: its slot is freed, then reused by b-1.
    s.handle({ type: "cancel", client: "c", keys: ["a-1"] });
    out = s.handle({ type: "update-graph", client: "c", tasks: [spec("b-1")], wanted: ["b-1"] });
    const second = out.find((i) => i.type === "compute")!;
    expect(second.type === "compute" && second.ref).not.toBe(ref);
    // A late finish of a-1 carrying its stale ref must not finish b-1.
    out = s.handle({ type: "task-finished", worker: "w0", key: "a-1", ref, nbytes: 8, duration: 0.001 });
    expect(out).toEqual([{ type: "free", worker: "w0", keys: ["a-1"] }]);
    expect(s.stateOf("b-1")).toBe("processing");
    out = s.handle({ type: "task-finished", worker: "w0", key: "b-1", ref: second.type === "compute" ? second.ref : -1, nbytes: 8, duration: 0.001 });
    expect(reports(out)).toEqual(["c:b-1:memory"]);
  });

  it("counts tasks per state", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1"), spec("b-1", ["a-1"], 1)], wanted: ["b-1"] });
    expect(s.counts()).toMatchObject({ processing: 1, waiting: 1, memory: 0 });
  });

  it("keeps small results and ships them inline to dependents and clients", () => {
    const s = withWorkers(2);
    const tasks = [spec("a-1", [], 0, { workers: ["w0"] }), spec("b-1", ["a-1"], 1, { workers: ["w1"] })];
    s.handle({ type: "update-graph", client: "c", tasks, wanted: ["a-1", "b-1"] });
    const out = s.handle({ type: "task-finished", worker: "w0", key: "a-1", nbytes: 8, duration: 0.001, small: { value: 42 } });
    const compute = out.find((i) => i.type === "compute");
    expect(compute).toMatchObject({ key: "b-1", worker: "w1", deps: [{ key: "a-1", small: { value: 42 } }] });
    expect(s.gatherSource("a-1", false)).toEqual({ value: 42 });
    // A big result is fetched from its holder instead.
    s.handle({ type: "task-finished", worker: "w1", key: "b-1", nbytes: 1e6, duration: 0.001 });
    expect(s.gatherSource("b-1", true)).toEqual({ worker: "w1", move: true });
    // Released data takes its small value with it.
    s.handle({ type: "client-release", client: "c", keys: ["a-1"] });
    expect(s.gatherSource("a-1", false)).toBe("released");
  });

  it("ships a small input inline also to the worker that holds it, a big one by reference", () => {
    const s = withWorkers(1);
    const tasks = [spec("a-1"), spec("big-1", [], 1), spec("b-1", ["a-1", "big-1"], 2)];
    s.handle({ type: "update-graph", client: "c", tasks, wanted: ["b-1"] });
    s.handle({ type: "task-finished", worker: "w0", key: "a-1", nbytes: 8, duration: 0.001, small: { value: 7 } });
    const out = s.handle({ type: "task-finished", worker: "w0", key: "big-1", nbytes: 1e6, duration: 0.001 });
    const compute = out.find((i) => i.type === "compute");
    // The worker holds both: the big one needs no location, the small one travels as its value.
    expect(compute).toMatchObject({ key: "b-1", worker: "w0", deps: [{ key: "a-1", small: { value: 7 } }] });
    expect((compute as { deps: readonly unknown[] }).deps).toHaveLength(1);
  });

  it("links dependencies by position when the client sends depIndex, by key otherwise", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("f-1")], wanted: ["f-1"] });
    s.handle(finished("w0", "f-1"));
    // b depends on a (position 0) and on f-1, a key from an earlier submission (-1: by key).
    const tasks = [spec("a-1", [], 0), spec("b-1", ["a-1", "f-1"], 1)];
    const depStart = Int32Array.from([0, 0, 2]);
    const depIndex = Int32Array.from([0, -1]);
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: ["b-1"], depStart, depIndex });
    expect(computes(out)).toEqual(["a-1@w0"]);
    out = s.handle(finished("w0", "a-1"));
    expect(computes(out)).toEqual(["b-1@w0"]);
  });

  it("finds every key of a submission made to an empty scheduler (its index deferred), and dedupes the next one against it", () => {
    const s = withWorkers(1);
    // a <- b, and b wants "x-1", which is in neither submission nor held: missing.
    const tasks = [spec("a-1", [], 0), spec("b-1", ["a-1"], 1), spec("c-1", ["x-1"], 2)];
    const depStart = Int32Array.from([0, 0, 1, 2]);
    const depIndex = Int32Array.from([0, -1]);
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: ["b-1", "c-1", "nope-1"], depStart, depIndex });
    expect(computes(out)).toEqual(["a-1@w0"]);
    expect(reports(out).sort()).toEqual(["c:c-1:erred", "c:nope-1:erred"]);
    expect(s.gatherSource("a-1", false)).toBe("processing");
    // The same keys again, plus one more: nothing runs twice.
    out = s.handle({
      type: "update-graph",
      client: "c",
      tasks: [spec("a-1", [], 0), spec("d-1", ["a-1"], 1)],
      wanted: ["d-1"],
      depStart: Int32Array.from([0, 0, 1]),
      depIndex: Int32Array.from([0]),
    });
    expect(computes(out)).toEqual([]);
    out = s.handle(finished("w0", "a-1"));
    expect(computes(out).sort()).toEqual(["b-1@w0", "d-1@w0"]);
    expect(s.gatherSource("a-1", false)).toEqual({ worker: "w0", move: false });
    // Released and forgotten, the keys are gone from the index; a new submission starts afresh.
    s.handle(finished("w0", "b-1"));
    s.handle(finished("w0", "d-1"));
    s.handle({ type: "client-release", client: "c", keys: ["b-1", "c-1", "d-1"] });
    expect(s.gatherSource("a-1", false)).toBe("not known to the scheduler");
    out = s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1")], wanted: ["a-1"], depStart: Int32Array.from([0, 0]), depIndex: new Int32Array(0) });
    expect(computes(out)).toEqual(["a-1@w0"]);
  });

  it("keeps locality for tasks on a long-lived input that many finished computations used", () => {
    const s = withWorkers(2);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("big-1", [], 0, { workers: ["w1"] })], wanted: ["big-1"] });
    s.handle(finished("w1", "big-1", 8e7));
    // Twenty computations over big-1 come and go: its forgotten dependents must not make the
    // next one look "root-ish" (and be placed by occupancy alone, away from its input).
    for (let i = 0; i < 20; i++) {
      s.handle({ type: "update-graph", client: "c", tasks: [spec(`use-${i}`, ["big-1"])], wanted: [`use-${i}`] });
      s.handle(finished("w1", `use-${i}`, 8));
      s.handle({ type: "client-release", client: "c", keys: [`use-${i}`] });
    }
    const out = s.handle({ type: "update-graph", client: "c", tasks: [spec("use-x", ["big-1"])], wanted: ["use-x"] });
    expect(computes(out)).toEqual(["use-x@w1"]);
  });
});
