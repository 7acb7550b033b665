// Scattered data reaches the scheduler only once its worker says it is stored: before, a task
// sent to another worker could have its peer ask the holder before the put arrived there
// (different channels keep no order), find nothing, and fail the key as lost.
import { describe, expect, it } from "vitest";
import { Runner, type ClientReport } from "../../src/cluster/runner.js";
import { fakeWorker, settle, task } from "../dashboard/fake-worker.js";

function twoWorkers() {
  const runner = new Runner();
  const w0 = fakeWorker("w0");
  const w1 = fakeWorker("w1");
  runner.addWorker(w0);
  runner.addWorker(w1);
  const reports: ClientReport[] = [];
  runner.connectClient("c", (r) => reports.push(...r));
  return { runner, w0, w1, reports };
}

describe("Runner scatter", () => {
  it("tells the scheduler of scattered keys only once their worker stored them", async () => {
    const { runner, w0, w1, reports } = twoWorkers();
    await settle();
    runner.scatter("c", ["x-1", "y-1"], [1, 2]);
    await settle();
    expect([w0.puts.length, w1.puts.length]).toEqual([1, 1]);
    // Nothing is known of them yet: no task can be sent anywhere for them.
    expect(runner.scheduler.stateOf("x-1")).toBe("forgotten");
    expect(reports).toEqual([]);
    w0.storePuts();
    await settle();
    expect(runner.scheduler.stateOf("x-1")).toBe("memory");
    expect(runner.scheduler.stateOf("y-1")).toBe("forgotten");
    expect(reports.map((r) => [r.key, r.state])).toEqual([["x-1", "memory"]]);
    w1.storePuts();
    await settle();
    expect(runner.scheduler.whoHas("y-1")).toEqual(["w1"]);
    runner.updateGraph("c", [task("z-1", "x.add", ["x-1", "y-1"])], ["z-1"]);
    await settle();
    expect([...w0.batches, ...w1.batches].flatMap((b) => b.keys)).toEqual(["z-1"]);
    await runner.close();
  });

  it("sends a share to another worker when its worker goes before storing it", async () => {
    const { runner, w0, w1, reports } = twoWorkers();
    await settle();
    runner.scatter("c", ["x-1", "y-1"], [1, 2]);
    w0.exit("crashed: test");
    await settle();
    // w1 got its own share, then w0's.
    expect(w1.puts.map((p) => p.keys)).toEqual([["y-1"], ["x-1"]]);
    w1.storePuts();
    await settle();
    expect(reports.map((r) => [r.key, r.state]).sort()).toEqual([["x-1", "memory"], ["y-1", "memory"]]);
    expect(runner.scheduler.whoHas("x-1")).toEqual(["w1"]);
    await runner.close();
  });

  it("fails the keys, naming the worker, when none of the chosen workers is left", async () => {
    const { runner, w0, reports } = twoWorkers();
    await settle();
    runner.scatter("c", ["x-1"], [1], ["w0"]);
    w0.exit("crashed: test");
    await settle();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ key: "x-1", state: "erred", error: { name: "DataLost" } });
    const message = (reports[0] as Extract<ClientReport, { state: "erred" }>).error.message;
    expect(message).toContain("worker w0 went away (crashed: test) before it stored it");
    expect(message).toContain("among w0");
    await runner.close();
  });
});
