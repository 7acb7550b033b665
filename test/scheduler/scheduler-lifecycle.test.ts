// Scheduler state machine: a task's life (run, release, retry, err, cancel, lost workers, stories, inline results).
// As a pure state machine: feed events, compare instruction lists. No workers, no threads, no timers.
import { describe, expect, it } from "vitest";
import { computes, finished, frees, reports, spec, withWorkers } from "./scheduler-helpers.js";

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

  it("errs scattered data that is lost, and its dependents, saying how it went", () => {
    const errorsOf = (out: ReturnType<typeof s.handle>) =>
      out.flatMap((i) => (i.type === "report" && i.state === "erred" ? [`${i.key}: ${i.error.message}`] : []));
    const s = withWorkers(2);
    s.handle([
      { type: "data-added", client: "c", worker: "w0", key: "x-1", nbytes: 8 },
      { type: "data-added", client: "c", worker: "w1", key: "y-1", nbytes: 8 },
    ]);
    // A peer asked w0 for x-1 for task z-1, and w0 did not have it.
    s.handle({ type: "update-graph", client: "c", tasks: [spec("z-1", ["x-1"], 0, { workers: ["w1"] })], wanted: ["z-1"] });
    let out = s.handle({ type: "missing-data", worker: "w1", key: "z-1", dep: "x-1", holder: "w0" });
    const why = "x-1 was scattered, not computed, so it cannot be recomputed: w1 asked w0 for it, and w0, the only worker known to hold it, did not have it";
    expect(errorsOf(out).sort()).toEqual([`x-1: ${why} (scatter it again)`, `z-1: ${why} (scatter it again)`]);
    // Its only holder dies.
    out = s.handle({ type: "worker-removed", worker: "w1", reason: "crashed" });
    expect(errorsOf(out)).toEqual([
      "y-1: y-1 was scattered, not computed, so it cannot be recomputed: w1, the only worker that held it, is gone (crashed) (scatter it again)",
    ]);
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
});
