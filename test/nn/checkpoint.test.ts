// Checkpoints during data-parallel training: written atomically every N steps, `resume` from the
// newest or a named one gives exactly (bit for bit) the uninterrupted run, and a worker killed
// mid-run fails the run naming worker and step, or with `restart: true` the run goes on from the
// last checkpoint to the same result as a run never interrupted.
import { mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster, array as da, nn, type Client } from "../../dist/index.js";

let client: Client;
beforeAll(async () => {
  client = await LocalCluster.start({ workers: 2 });
});
afterAll(() => client?.close());

const sameBytes = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const tmp = () => mkdtempSync(path.join(os.tmpdir(), "tessera-nn-ckpt-"));

/** 600 rows, 8 features, 3 classes that depend on the features nonlinearly. */
function data(n = 600) {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const X = new Float64Array(n * 8).map(u);
  const y = new Float64Array(n).map((_, i) => (X[i * 8]! * X[i * 8 + 1]! > 0 ? 1 : 0) + (X[i * 8 + 2]! > 0.3 ? 1 : 0));
  return { x: da.fromTypedArray(X, { shape: [n, 8], chunks: [100, 8] }), y: da.fromTypedArray(y, { chunks: [100] }) };
}

// Dropout and a warm-up + cosine schedule: a resumed run must also get the masks and the rates right.
const spec = nn.sequential([nn.dense(8, 32), nn.relu(), nn.dropout(0.2), nn.dense(32, 3)], { seed: 4 });
const base = { epochs: 3, batchSize: 32, workers: 2, seed: 7, optimizer: nn.adam({ lr: 5e-3, schedule: nn.warmupLr(5, nn.cosineLr()) }) };

describe("checkpoints and resume", () => {
  it("resume from the newest or a named checkpoint equals the uninterrupted run bit for bit", async () => {
    const d = data();
    const whole = await nn.fitDataParallel(client, spec, d, base);
    expect(whole.steps).toBe(3 * 19);

    const dir = tmp();
    const written: number[] = [];
    const part = await nn.fitDataParallel(client, spec, d, { ...base, checkpoint: { dir, every: 10, keep: 3 }, maxSteps: 35, onCheckpoint: (e) => written.push(e.step) });
    expect(part.steps).toBe(35);
    // Every 10 steps, and one at the end; the oldest beyond keep removed; no temporary files left.
    expect(written).toEqual([10, 20, 30, 35]);
    expect(readdirSync(dir).sort()).toEqual(["step-000000020.tsnn", "step-000000030.tsnn", "step-000000035.tsnn"]);

    // Named files first: resume: true then writes into dir (and prunes it).
    for (const resume of [path.join(dir, "step-000000030.tsnn"), path.join(dir, "step-000000020.tsnn"), true] as const) {
      const rest = await nn.fitDataParallel(client, spec, d, { ...base, checkpoint: { dir: resume === true ? dir : tmp(), every: 10 }, resume });
      expect(rest.startStep).toBe(resume === true ? 35 : Number(/(\d+)\.tsnn$/.exec(resume)![1]));
      expect(sameBytes(rest.replicaParams[0]!, whole.replicaParams[0]!)).toBe(true);
      expect(sameBytes(rest.replicaParams[1]!, whole.replicaParams[0]!)).toBe(true);
      rest.optimizerState.forEach((s, i) => expect(sameBytes(s, whole.optimizerState[i]!)).toBe(true));
      expect(rest.optimizerSteps).toBe(whole.optimizerSteps);
      // The history too: epochs finished before the checkpoint come from it, the one in progress adds up.
      expect(rest.history).toEqual(whole.history);
    }
  }, 60_000);

  it("a checkpoint holds the run's position; resume checks it fits the run and says what differs", async () => {
    const d = data();
    const dir = tmp();
    await nn.fitDataParallel(client, spec, d, { ...base, epochs: 1, checkpoint: { dir, every: 5 } });
    const c = nn.decodeCheckpoint(new Uint8Array(await (await import("node:fs/promises")).readFile(path.join(dir, "step-000000019.tsnn"))));
    expect(c.train).toMatchObject({ step: 19, stepsPerEpoch: 19, batchSize: 32, rows: 600, seed: 7 });
    expect(c.train!.assign.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.optimizer!.t).toBe(19);
    await expect(nn.fitDataParallel(client, spec, d, { ...base, batchSize: 16, checkpoint: { dir, every: 5 }, resume: true })).rejects.toThrow(/cannot resume: the checkpoint's batchSize is 32 but this run's is 16/);
    await expect(nn.fitDataParallel(client, spec, d, { ...base, seed: 8, checkpoint: { dir, every: 5 }, resume: true })).rejects.toThrow(/seed is 7 but this run's is 8/);
    await expect(nn.fitDataParallel(client, spec, d, { ...base, resume: true })).rejects.toThrow(/resume: true reads the newest checkpoint of checkpoint.dir/);
    await expect(nn.fitDataParallel(client, spec, d, { ...base, checkpoint: { dir, every: 0 } })).rejects.toThrow(/checkpoint.every must be a positive integer/);
    // resume: true on an empty directory starts afresh.
    const fresh = await nn.fitDataParallel(client, spec, d, { ...base, epochs: 1, checkpoint: { dir: tmp(), every: 5 }, resume: true });
    expect(fresh.startStep).toBe(0);
  }, 30_000);
});

describe("a worker lost mid-training", () => {
  // Long enough that the kill lands mid-run: 80 epochs of 19 steps.
  const long = { ...base, epochs: 80, optimizer: nn.adam({ lr: 1e-3 }) };
  const big = nn.sequential([nn.dense(8, 64), nn.relu(), nn.dense(64, 64), nn.relu(), nn.dense(64, 3)], { seed: 5 });

  /**
   * Kill the worker of replica 1 once `step` has been reported, the way the cluster kills a
   * worker over its memory limit (runner.terminateWorker): removed, then its thread terminated.
   * (A plain link.terminate() is a clean close, which the cluster does not treat as a loss.)
   */
  function killAt(step: number, workers: () => string[]) {
    let done = false;
    const runner = (client as unknown as { runner: { link(id: string): { terminate(): Promise<void> } | undefined; removeWorker(id: string, reason: string): void } }).runner;
    return (e: nn.StepEvent) => {
      if (done || e.step < step) return;
      done = true;
      const id = workers()[1]!;
      const link = runner.link(id);
      runner.removeWorker(id, "killed by the test");
      void link?.terminate();
    };
  }
  const waitWorkers = async () => {
    for (let i = 0; i < 200 && client.workers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  };

  it("stops with an error naming the worker and the step", async () => {
    const d = data();
    const before = [...client.workers];
    const err = await nn.fitDataParallel(client, big, d, { ...long, onStep: killAt(40, () => before) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/worker \S+ \(replica \d\) was lost at step \d+/);
    expect((err as Error).message).toMatch(/restart: true/);
    await waitWorkers();
  }, 60_000);

  it("with restart: true goes on from the last checkpoint to the uninterrupted run's result", async () => {
    const d = data();
    await waitWorkers();
    const whole = await nn.fitDataParallel(client, big, d, long);
    const ids = [...client.workers];
    const saved: number[] = [];
    const run = await nn.fitDataParallel(client, big, d, { ...long, checkpoint: { dir: tmp(), every: 25 }, restart: true, onStep: killAt(200, () => ids), onCheckpoint: (e) => saved.push(e.step) });
    expect(run.restarts).toBe(1);
    expect(run.startStep).toBeGreaterThan(0);
    expect(run.startStep % 25).toBe(0);
    expect(run.workers).not.toEqual(ids);
    expect(sameBytes(run.replicaParams[0]!, whole.replicaParams[0]!)).toBe(true);
    expect(sameBytes(run.replicaParams[1]!, whole.replicaParams[0]!)).toBe(true);
    expect(run.history).toEqual(whole.history);
    expect(saved.at(-1)).toBe(80 * 19);
  }, 90_000);
});
