// The runner holds back batches of frees alone (each message wakes a worker) and sends them with
// the next message to that worker, or a moment later; a free never overtakes a later message.
import { describe, expect, it } from "vitest";
import { Runner } from "../../src/cluster/runner.js";
import type { WorkerLink } from "../../src/cluster/link.js";
import { Task } from "../../src/graph/task.js";
import type { TaskSpec } from "../../src/scheduler/events.js";
import type { FromWorker, Report, ToWorker } from "../../src/worker/protocol.js";

interface FakeWorker extends WorkerLink {
  got: ToWorker[];
  finishAll(): void;
}

function fakeWorker(id: string): FakeWorker {
  let onMessage: ((m: FromWorker) => void) | undefined;
  const got: ToWorker[] = [];
  const w: FakeWorker = {
    id,
    nthreads: 1,
    memoryLimit: 1e9,
    sharesMemory: true,
    exited: new Promise<string>(() => {}),
    got,
    control: {} as WorkerLink["control"],
    post(msg: ToWorker) {
      got.push(msg);
    },
    listen(m) {
      onMessage = m;
    },
    async terminate() {},
    finishAll() {
      const keys: string[] = [];
      const refs: number[] = [];
      for (const m of got) if (m.t === "batch" && m.compute) (keys.push(...m.compute.keys), refs.push(...m.compute.refs));
      got.length = 0;
      const r: Report = { t: "report", done: keys, refs, smallIndex: [], smallValue: [], nbytes: keys.map(() => 4096), start: keys.map(() => 0), stop: keys.map(() => 1), erred: [], replicaKeys: [], replicaBytes: [], stolen: [], missing: [] };
      onMessage?.(r);
    },
  };
  return w;
}

const settle = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));
const spec = (key: string, deps: string[], order: number, worker: string): TaskSpec => ({ key, deps, order, run: new Task(key, "x.f", deps.map(() => 0)), workers: [worker] });

/**
 * Two workers; b-1 on w1 feeds c-1 on w0, d-1 on w1 comes after c-1. Runs until c-1 is done:
 * a-1 (on w0) and b-1 (on w1) are freed, and d-1 goes to w1.
 */
async function untilC() {
    const runner = new Runner();
    const w0 = fakeWorker("w0");
    const w1 = fakeWorker("w1");
    runner.addWorker(w0);
    runner.addWorker(w1);
    await settle();
    runner.updateGraph("c", [spec("a-1", [], 0, "w0"), spec("b-1", [], 1, "w1"), spec("c-1", ["a-1", "b-1"], 2, "w0"), spec("d-1", ["c-1"], 3, "w1")], ["d-1"]);
    await settle();
    w0.finishAll();
    w1.finishAll();
    await settle();
    w0.finishAll(); // c-1 done: a-1 (on w0) and b-1 (on w1) are freed; d-1 goes to w1
    await settle();
  return { runner, w0, w1 };
}

describe("Runner frees", () => {
  it("holds a worker's frees until a message goes to it, or briefly", async () => {
    const { runner, w0, w1 } = await untilC();
    // w1 got d-1's batch with b-1's free in it, ahead of the compute; w0's free of a-1 is held.
    const toW1 = w1.got.filter((m) => m.t === "batch");
    expect(toW1.map((m) => (m.t === "batch" ? [m.free, m.compute?.keys] : null))).toEqual([[["b-1"], ["d-1"]]]);
    expect(w0.got.filter((m) => m.t === "batch" && m.free)).toEqual([]);
    await settle(10);
    expect(w0.got.filter((m) => m.t === "batch").map((m) => (m.t === "batch" ? m.free : null))).toEqual([["a-1"]]);
    await runner.close();
  });

  it("sends held frees before data put on the same worker, and at once when nothing runs", async () => {
    const { runner, w0, w1 } = await untilC(); // a-1's free on w0 is held while d-1 runs on w1
    w0.got.length = 0;
    runner.scatter("c", ["a-1"], [new Float64Array(1000)], ["w0"]);
    expect(w0.got.map((m) => m.t)).toEqual(["batch", "put"]);
    expect(w0.got[0]).toMatchObject({ t: "batch", free: ["a-1"] });
    // d-1 done: nothing runs any more, so c-1's free goes to w0 now, not after a delay.
    w0.got.length = 0;
    w1.finishAll();
    await settle();
    expect(w0.got.filter((m) => m.t === "batch").map((m) => (m.t === "batch" ? m.free : null))).toEqual([["c-1"]]);
    await runner.close();
  });
});
