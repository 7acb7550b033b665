// The scheduler's progress counters by key prefix (what the dashboard's bars show), driven as a
// pure state machine: feed events, read scheduler.prefixes.
import { describe, expect, it } from "vitest";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import type { SchedulerEvent, TaskSpec } from "../../src/scheduler/events.js";

const spec = (key: string, deps: string[] = [], order = 0): TaskSpec => ({ key, deps, order, run: { key } });
const finished = (worker: string, key: string): SchedulerEvent => ({ type: "task-finished", worker, key, nbytes: 8, duration: 0.001 });
const erred = (worker: string, key: string): SchedulerEvent => ({ type: "task-erred", worker, key, error: { name: "Error", message: "boom" } });

function withWorkers(n: number): Scheduler {
  const s = new Scheduler();
  s.handle(Array.from({ length: n }, (_, i): SchedulerEvent => ({ type: "worker-added", worker: `w${i}`, nthreads: 1, memoryLimit: 1e9 })));
  return s;
}

function progress(s: Scheduler, name: string) {
  const p = s.prefixes.find((x) => x.name === name);
  return p ? { total: p.total, done: p.done, erred: p.erred, live: p.live } : undefined;
}

describe("progress by prefix", () => {
  it("counts tasks as they are submitted, finish and are forgotten; an idle prefix starts afresh", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1"), spec("a-2", [], 1), spec("b-1", ["a-1", "a-2"], 2)], wanted: ["b-1"] });
    expect(progress(s, "a")).toEqual({ total: 2, done: 0, erred: 0, live: 2 });
    expect(progress(s, "b")).toEqual({ total: 1, done: 0, erred: 0, live: 1 });
    s.handle(finished("w0", "a-1"));
    s.handle(finished("w0", "a-2"));
    expect(progress(s, "a")).toMatchObject({ total: 2, done: 2 });
    s.handle(finished("w0", "b-1"));
    expect(progress(s, "b")).toEqual({ total: 1, done: 1, erred: 0, live: 1 });
    // Released, everything is forgotten; the counts stay for the bars.
    s.handle({ type: "client-release", client: "c", keys: ["b-1"] });
    expect(progress(s, "a")).toEqual({ total: 2, done: 2, erred: 0, live: 0 });
    expect(progress(s, "b")).toEqual({ total: 1, done: 1, erred: 0, live: 0 });
    // The next graph with prefix "a" counts from zero.
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-3")], wanted: ["a-3"] });
    expect(progress(s, "a")).toEqual({ total: 1, done: 0, erred: 0, live: 1 });
  });

  it("counts a failure once, and the dependents that fail with it under their own prefix", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1"), spec("c-1", ["a-1"], 1), spec("c-2", ["a-1"], 2)], wanted: ["c-1", "c-2"] });
    s.handle(erred("w0", "a-1"));
    expect(progress(s, "a")).toMatchObject({ total: 1, done: 0, erred: 1 });
    expect(progress(s, "c")).toMatchObject({ total: 2, done: 0, erred: 2 });
  });

  it("drops tasks forgotten before they finished (cancelled) from the total", () => {
    const s = withWorkers(1);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("x-1"), spec("x-2", [], 1)], wanted: ["x-1", "x-2"] });
    s.handle(finished("w0", "x-1"));
    s.handle({ type: "cancel", client: "c", keys: ["x-2"] });
    expect(progress(s, "x")).toEqual({ total: 1, done: 1, erred: 0, live: 1 });
  });

  it("does not count a task twice when it is recomputed after its worker died", () => {
    const s = withWorkers(2);
    s.handle({ type: "update-graph", client: "c", tasks: [spec("a-1", [], 0)], wanted: ["a-1"] });
    const holder = s.whoHas("a-1").length === 0 ? [...s.workers.values()].find((w) => w.processing.size > 0)!.id : "";
    s.handle(finished(holder, "a-1"));
    expect(progress(s, "a")).toMatchObject({ total: 1, done: 1 });
    s.handle({ type: "worker-removed", worker: holder, reason: "test" });
    expect(s.stateOf("a-1")).toBe("processing");
    const other = holder === "w0" ? "w1" : "w0";
    s.handle(finished(other, "a-1"));
    expect(s.stateOf("a-1")).toBe("memory");
    expect(progress(s, "a")).toEqual({ total: 1, done: 1, erred: 0, live: 1 });
  });
});
