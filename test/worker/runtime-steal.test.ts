// The worker's run loop answers a steal between tasks: a steal of a queued task, sent while the
// task before it runs (in its synchronous part, after an await), finds it not yet started.
import { describe, expect, it } from "vitest";
import type { FromWorker, Report } from "../../src/worker/protocol.js";
import { WorkerRuntime } from "../../src/worker/runtime.js";

describe("worker run loop", () => {
  it("handles a steal sent during an async task before it starts the next task", async () => {
    const reports: Report[] = [];
    const rt = new WorkerRuntime({ id: "w", allowSource: false, post: (m: FromWorker) => m.t === "report" && reports.push(m) });
    // The steal travels as the runner's messages do: on a port, delivered by the event loop.
    const ch = new MessageChannel();
    ch.port2.onmessage = () => rt.handle({ t: "batch", steal: ["second-1"] });
    const started: string[] = [];
    rt.registry.register("t.slow", async (name: string) => {
      started.push(name);
      await new Promise((r) => setTimeout(r, 1)); // an op's await (a file opened, say)
      if (name === "first-1") ch.port1.postMessage("steal");
      const until = performance.now() + 10; // then its synchronous part (decoding)
      while (performance.now() < until);
      return name;
    });
    rt.handle({ t: "batch", compute: { keys: ["first-1", "second-1"], refs: [1, 2], ops: ["t.slow", "t.slow"], args: [["first-1"], ["second-1"]] } });
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toEqual(["first-1"]);
    expect(reports.flatMap((r) => r.done)).toEqual(["first-1"]);
    expect(reports.flatMap((r) => r.stolen)).toEqual([{ key: "second-1", stolen: true }]);
    rt.close();
    ch.port1.close();
  });
});
