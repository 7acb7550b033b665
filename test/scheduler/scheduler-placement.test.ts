// Scheduler state machine: where tasks run (locality, root-task queuing, pauses, priority, stealing, rebalancing).
// As a pure state machine: feed events, compare instruction lists. No workers, no threads, no timers.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import type { Instruction, SchedulerEvent } from "../../src/scheduler/events.js";
import { computes, finished, frees, spec, withWorkers } from "./scheduler-helpers.js";

/** One worker "w0" of `limit` bytes holding `n` inputs of 100 MB, "big-0".. (each took 0.6 s). */
function bigInputsOnW0(n: number, limit: number) {
  const s = new Scheduler();
  s.handle({ type: "worker-added", worker: "w0", nthreads: 1, memoryLimit: limit });
  const srcs = Array.from({ length: n }, (_, i) => spec(`big-${i}`));
  s.handle({ type: "update-graph", client: "c", tasks: srcs, wanted: srcs.map((t) => t.key) });
  for (const t of srcs) s.handle(finished("w0", t.key, 100e6, 0.6));
  return { s, srcs };
}

/**
 * One worker "w0" holding a small input, src-1, and running or queueing four tasks on it (not
 * root-ish: few dependents); returns the scheduler and what the last update-graph sent.
 */
function fourTasksOnW0() {
  const s = withWorkers(1);
  s.handle({ type: "update-graph", client: "c", tasks: [spec("src-1")], wanted: ["src-1"] });
  s.handle(finished("w0", "src-1", 8));
  const tasks = Array.from({ length: 4 }, (_, i) => spec(`slow-${i}`, ["src-1"], i));
  return { s, out: s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) }) };
}

describe("scheduler state machine", () => {
  it("sends a dependent to the worker that holds its big input", () => {
    const s = withWorkers(2);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1"), spec("a-2", [], 1)], wanted: ["a-1", "a-2"] });
    s.handle([finished("w0", "a-1", 1e8), finished("w1", "a-2", 8)]);
    const out = s.handle({ type: "update-graph", client: "c", tasks: [spec("b-1", ["a-1"])], wanted: ["b-1"] });
    expect(computes(out)).toEqual(["b-1@w0"]);
    const out2 = s.handle({ type: "update-graph", client: "c", tasks: [spec("b-2", ["a-2"])], wanted: ["b-2"] });
    expect(computes(out2)).toEqual(["b-2@w1"]);
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
    const { s } = fourTasksOnW0();
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

  it("steals queued long tasks for an idle worker", () => {
    // Many tasks depending on one small input held by w0: all assigned to w0.
    const { s, out: first } = fourTasksOnW0();
    expect(computes(first).length).toBe(4);
    let out = s.handle({ type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 });
    const steals = out.filter((i) => i.type === "steal");
    expect(steals.length).toBeGreaterThan(0);
    const stolenKey = steals[0]!.type === "steal" ? steals[0]!.key : "";
    out = s.handle({ type: "steal-response", worker: "w0", key: stolenKey, stolen: true });
    expect(computes(out)).toEqual([`${stolenKey}@w1`]);
  });

  it("gives a stolen task to the worker that stole it, not to whichever worker is first in line", () => {
    const { s } = fourTasksOnW0();
    // Two idle workers join; each asks w0 for one of its queued tasks.
    const out = s.handle([
      { type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 },
      { type: "worker-added", worker: "w2", nthreads: 1, memoryLimit: 1e9 },
    ]);
    const steals = out.flatMap((i) => (i.type === "steal" ? [i.key] : []));
    expect(steals.length).toBe(2);
    // The later steal (w2's) is confirmed first: it goes to w2, though w1 is as idle and first.
    const moved = s.handle({ type: "steal-response", worker: "w0", key: steals[1]!, stolen: true });
    expect(computes(moved)).toEqual([`${steals[1]}@w2`]);
    expect(computes(s.handle({ type: "steal-response", worker: "w0", key: steals[0]!, stolen: true }))).toEqual([`${steals[0]}@w1`]);
  });

  it("hands the queue's last root tasks only to idle workers, so none waits behind a running one", () => {
    const s = withWorkers(2);
    const tasks = Array.from({ length: 6 }, (_, i) => spec(`load-${i}`, [], i));
    let out = s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
    expect(computes(out)).toEqual(["load-0@w0", "load-1@w1", "load-2@w0", "load-3@w1"]);
    // Two left for two threads: w0 still runs load-2, so it takes none now...
    out = s.handle(finished("w0", "load-0", 8, 0.5));
    expect(computes(out)).toEqual([]);
    // ...and one once it is idle; w1 likewise.
    out = s.handle(finished("w0", "load-2", 8, 0.5));
    expect(computes(out)).toEqual(["load-4@w0"]);
    out = s.handle([finished("w1", "load-1", 8, 0.5), finished("w1", "load-3", 8, 0.5)]);
    expect(computes(out)).toEqual(["load-5@w1"]);
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
