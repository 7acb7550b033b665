// Scheduler state machine: worker restrictions, strict (`workers`) and loose (`allowOtherWorkers`).
// As a pure state machine: feed events, compare instruction lists. No workers, no threads, no timers.
import { describe, expect, it } from "vitest";
import type { Instruction, TaskSpec } from "../../src/scheduler/events.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { computes, finished, spec, withWorkers } from "./scheduler-helpers.js";

const loose = (workers: string[]): Partial<TaskSpec> => ({ workers, allowOtherWorkers: true });
const submit = (s: Scheduler, ...tasks: TaskSpec[]) => s.handle({ type: "update-graph", client: "c", tasks, wanted: tasks.map((t) => t.key) });
const removed = (worker: string) => ({ type: "worker-removed" as const, worker, reason: "test" });
const steals = (out: Instruction[]) => out.filter((i) => i.type === "steal").map((i) => (i.type === "steal" ? `${i.key}@${i.worker}` : ""));

/** w0 with `n` queued tasks (0.5 s each, the default guess), then w1 joins idle: what it steals. */
function busyW0(n: number, extra: (i: number) => Partial<TaskSpec>) {
  const s = withWorkers(1);
  const tasks = Array.from({ length: n }, (_, i) => spec(`slow-${i}`, [], i, extra(i)));
  expect(computes(submit(s, ...tasks)).every((c) => c.endsWith("@w0"))).toBe(true);
  return { s, out: s.handle({ type: "worker-added", worker: "w1", nthreads: 1, memoryLimit: 1e9 }) };
}

describe("worker restrictions", () => {
  it("gives a loose task to its named worker while it runs, busy beside an idle one and not stolen; then to any", () => {
    const { s, out } = busyW0(4, () => loose(["w0"]));
    expect(steals(out)).toEqual([]);
    // Occupancy alone would send it to the idle w1.
    expect(computes(submit(s, spec("late-1", [], 9, loose(["w0"]))))).toEqual(["late-1@w0"]);
    // w0 goes: what it ran or had queued is rescheduled on w1.
    const moved = computes(s.handle(removed("w0")));
    expect(moved.sort()).toEqual(["late-1@w1", "slow-0@w1", "slow-1@w1", "slow-2@w1", "slow-3@w1"]);
  });

  it("places a loose task anywhere when none of its workers can take work: gone, unknown or paused", () => {
    const s = withWorkers(3);
    s.handle([removed("w2"), { type: "worker-paused", worker: "w1", paused: true }]);
    const out = submit(s, spec("a-1", [], 0, loose(["w2", "w9"])), spec("b-1", [], 1, loose(["w1"])));
    expect(computes(out).sort()).toEqual(["a-1@w0", "b-1@w0"]);
    // A named worker that runs wins again.
    expect(computes(submit(s, spec("c-1", [], 2, loose(["w1", "w0"]))))).toEqual(["c-1@w0"]);
  });

  it("reschedules a loose task elsewhere when its named worker dies while it runs or while it waits", () => {
    const s = withWorkers(2);
    let out = submit(s, spec("run-1", [], 0, loose(["w0"])), spec("dep-1", [], 1, { workers: ["w1"] }), spec("wait-1", ["dep-1"], 2, loose(["w0"])));
    expect(computes(out).sort()).toEqual(["dep-1@w1", "run-1@w0"]);
    out = s.handle(removed("w0"));
    expect(computes(out)).toEqual(["run-1@w1"]);
    out = s.handle(finished("w1", "dep-1"));
    expect(computes(out)).toEqual(["wait-1@w1"]);
    expect(s.stateOf("wait-1")).toBe("processing");
  });

  it("lets an idle worker steal a loose task only when it is named, or when no named worker can take work", () => {
    // Named w0 and w1: the idle w1 may steal.
    expect(steals(busyW0(4, () => loose(["w0", "w1"])).out).length).toBeGreaterThan(0);
    // w0 pauses: its queue is surplus, and its loose tasks are anyone's; strict ones stay.
    const { s } = busyW0(4, (i) => (i % 2 === 0 ? loose(["w0"]) : { workers: ["w0"] }));
    const out = s.handle({ type: "worker-paused", worker: "w0", paused: true });
    expect(steals(out).sort()).toEqual(["slow-0@w0", "slow-2@w0"]);
  });

  it("keeps a strict task waiting for its gone or unknown workers, and says why in its story, once", () => {
    const s = withWorkers(2);
    s.handle(removed("w0"));
    let out = submit(s, spec("pin-1", [], 0, { workers: ["w0", "w9"] }));
    expect(computes(out)).toEqual([]);
    expect(s.stateOf("pin-1")).toBe("ready");
    const last = s.story("pin-1").at(-1)!;
    expect(last).toMatchObject({ from: "ready", to: "ready" });
    expect(last.note).toBe("no-worker: restricted to w0 (gone), w9 (unknown); it waits for one of them (allowOtherWorkers: true lets it run elsewhere)");
    // Another worker joins: still not one of its own, and nothing new to say.
    out = s.handle({ type: "worker-added", worker: "w2", nthreads: 1, memoryLimit: 1e9 });
    expect(computes(out)).toEqual([]);
    expect(s.story("pin-1").filter((e) => e.note).length).toBe(1);
    // One of its workers joins (an id may come back): it runs there.
    out = s.handle({ type: "worker-added", worker: "w9", nthreads: 1, memoryLimit: 1e9 });
    expect(computes(out)).toEqual(["pin-1@w9"]);
  });

  it("notes a task no worker at all can take", () => {
    const s = new Scheduler();
    submit(s, spec("a-1"));
    expect(s.story("a-1").at(-1)!.note).toBe("no-worker: no running, unpaused worker; it waits for one");
    const out = s.handle({ type: "worker-added", worker: "w0", nthreads: 1, memoryLimit: 1e9 });
    expect(computes(out)).toEqual(["a-1@w0"]);
  });
});
