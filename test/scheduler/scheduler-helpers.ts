// Shared by the scheduler state-machine tests: task specs, a scheduler with workers, finish events,
// and readers that pick computes, frees and reports out of an instruction list.
import { Scheduler } from "../../src/scheduler/scheduler.js";
import type { Instruction, SchedulerEvent, TaskSpec } from "../../src/scheduler/events.js";

export const spec = (key: string, deps: string[] = [], order = 0, extra: Partial<TaskSpec> = {}): TaskSpec => ({
  key,
  deps,
  order,
  run: { key },
  ...extra,
});

export function withWorkers(n: number, opts: ConstructorParameters<typeof Scheduler>[0] = {}): Scheduler {
  const s = new Scheduler(opts);
  const events: SchedulerEvent[] = [];
  for (let i = 0; i < n; i++) events.push({ type: "worker-added", worker: `w${i}`, nthreads: 1, memoryLimit: 1e9 });
  s.handle(events);
  return s;
}

export const computes = (out: Instruction[]) =>
  out.filter((i) => i.type === "compute").map((i) => (i.type === "compute" ? `${i.key}@${i.worker}` : ""));
export const frees = (out: Instruction[]) => out.flatMap((i) => (i.type === "free" ? i.keys.map((k) => `${k}@${i.worker}`) : []));
export const reports = (out: Instruction[]) =>
  out.filter((i) => i.type === "report").map((i) => (i.type === "report" ? `${i.client}:${i.key}:${i.state}` : ""));

export const finished = (worker: string, key: string, nbytes = 8, duration = 0.001): SchedulerEvent => ({
  type: "task-finished",
  worker,
  key,
  nbytes,
  duration,
});
