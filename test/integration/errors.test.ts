// Errors, retries, cancellation and lost workers on worker_threads.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delayed, op, TaskError, TesseraError, CancelledError, type Client } from "../../dist/index.js";
import { startCluster } from "./cluster.js";

let client: Client;
beforeAll(async () => {
  client = await startCluster();
});
afterAll(() => client.close());

describe("errors across worker boundaries", () => {
  it("carries message, stack, key, op and cause; dependents fail with the original error", async () => {
    class ParseError extends Error {
      code = "E_PARSE";
    }
    void ParseError;
    const bad = delayed(
      function parse(s: string) {
        const inner = new RangeError(`bad digit in ${s}`);
        const e = new Error(`cannot parse ${JSON.stringify(s)}`, { cause: inner });
        (e as Error & { code: string }).code = "E_PARSE";
        throw e;
      },
      { name: "parse" },
    )("12x");
    const dependent = delayed((x: number) => x + 1)(bad);
    const err = await client.compute(dependent).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskError);
    const te = err as TaskError;
    expect(te.key).toBe(bad.key);
    expect(te.op).toMatch(/^src:/);
    expect(te.worker).toMatch(/^w\d+-\d$/);
    expect(te.message).toContain(bad.key);
    expect(te.message).toContain('cannot parse "12x"');
    const cause = te.cause as Error & { code?: string };
    expect(cause.message).toBe('cannot parse "12x"');
    expect(cause.code).toBe("E_PARSE");
    expect(cause.stack).toContain("parse");
    expect((cause.cause as Error).name).toBe("RangeError");
    expect((cause.cause as Error).message).toBe("bad digit in 12x");
  });

  it("explains a shipped function that uses a captured variable", async () => {
    const k = 3;
    const f = client.submit((x: number) => x + k, 1);
    const err = (await f.result().catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.message).toMatch(/k is not defined/);
    expect(err.message).toMatch(/without its closure/);
  });

  it("names an unknown op", async () => {
    const err = (await client.submit("nope.missing", 1).result().catch((e: unknown) => e)) as TaskError;
    expect(err.message).toMatch(/unknown op "nope.missing"/);
  });

  it("retries a task, then succeeds", async () => {
    const tag = `t${Math.random()}`;
    // Fails the first time on each worker it lands on: at most two failures with 2 workers.
    const f = client.submitWith({ retries: 2 }, "fx.failTimes", 1, tag);
    expect(await f.result()).toMatch(/^ok after 1 failure/);
    const g = client.submitWith({ retries: 0 }, "fx.failTimes", 1, `${tag}-b`);
    await expect(g.result()).rejects.toThrow(/planned failure 1/);
  });

  it("cancels a running task with an AbortSignal, and the op sees its signal abort", async () => {
    const ac = new AbortController();
    const wait = delayed(op("fx.waitForAbort"), { pure: false })();
    const p = client.compute(wait, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    ac.abort(new Error("user gave up"));
    await expect(p).rejects.toThrow("user gave up");
    await new Promise((r) => setTimeout(r, 50));
    const counts = await client.gather(client.workers.map((w) => client.submitWith({ workers: [w], pure: false }, "fx.abortedCount")));
    expect((counts as number[]).reduce((a, b) => a + b, 0)).toBe(1);
    expect(client.runner.scheduler.stateOf(wait.key)).toBe("forgotten");
  });

  it("rejects at once for an already aborted signal", async () => {
    const ac = new AbortController();
    ac.abort(new Error("too late"));
    await expect(client.compute(delayed((x: number) => x)(1), { signal: ac.signal })).rejects.toThrow("too late");
  });

  it("cancels a future", async () => {
    const f = client.submitWith({ pure: false }, "fx.waitForAbort");
    await new Promise((r) => setTimeout(r, 50));
    f.cancel("no longer needed");
    const err = await f.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(f.status).toBe("cancelled");
  });

  it("a task fetching its input from a worker that dies gets it recomputed, instead of waiting forever", async () => {
    const a = client.submit((n: number) => new Float64Array(n).fill(1), 100_000); // fetched, not inlined
    await a.wait();
    const holder = client.whoHas(a)[a.key]![0]!;
    const other = client.workers.find((w) => w !== holder)!;
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), "tessera-exit-")), "exited");
    // The holder is busy (answering no peer) when the other worker asks it for `a`, then dies.
    const killer = client.submitWith({ workers: [holder], pure: false }, "fx.busyThenExitOnce", 400, marker);
    await new Promise((r) => setTimeout(r, 50));
    const b = client.submitWith({ workers: [other] }, (x: Float64Array) => x.length, a);
    expect(await b.result()).toBe(100_000);
    // Restricted to a worker that is gone, the killer waits for it (as in Dask): let it go.
    killer.cancel();
    for (let i = 0; i < 100 && client.workers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(client.workers.length).toBe(2);
  }, 30_000);

  it("runs a task that allows other workers elsewhere when the only worker it names dies", async () => {
    const named = client.workers[0]!;
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), "tessera-exit-")), "exited");
    // The first run kills its worker; the rerun, wherever it lands, finds the marker and returns 0.
    const f = client.submitWith({ workers: [named], allowOtherWorkers: true, pure: false }, "fx.busyThenExitOnce", 50, marker);
    // Strictly restricted, it would wait for the dead worker forever.
    const waited = new Promise((_, reject) => setTimeout(() => reject(new Error("still waiting for its dead worker")), 10_000));
    expect(await Promise.race([f.result(), waited])).toBe(0);
    const ran = client.story(f).filter((e) => e.to === "processing").map((e) => e.worker);
    expect(ran[0]).toBe(named);
    expect(ran.at(-1)).not.toBe(named);
    for (let i = 0; i < 100 && client.workers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(client.workers.length).toBe(2);
  }, 30_000);

  it("rejects bad restriction options when the call is made, as Dask does", () => {
    const inc = (x: number) => x + 1;
    const named = client.workers.slice(0, 1);
    expect(() => delayed(inc, { workers: named, allowOtherWorkers: "yes" as unknown as boolean })).toThrow(/allowOtherWorkers must be true or false, got "yes"/);
    expect(() => client.submitWith({ allowOtherWorkers: true }, inc, 1)).toThrow(TesseraError);
    expect(() => client.map(inc, [1], { allowOtherWorkers: true })).toThrow(/allowOtherWorkers: true needs workers/);
    expect(() => client.submitWith({ workers: named[0] as unknown as string[] }, inc, 1)).toThrow(/workers must be an array of worker ids/);
    // false without workers is what no option means.
    expect(() => delayed(inc, { allowOtherWorkers: false })(1)).not.toThrow();
  });

  it("rejects other bad task and compute options when the call is made, naming the option", async () => {
    const inc = (x: number) => x + 1;
    expect(() => delayed(inc, { retry: 2 } as never)).toThrow(/"retry" is not a task option; the options are name, pure, retries, priority, workers, allowOtherWorkers/);
    expect(() => client.submitWith({ retries: -1 }, inc, 1)).toThrow(/retries must be a whole number of retries \(0 or more\), got -1/);
    expect(() => client.map(inc, [1], { priority: "high" as never })).toThrow(/priority must be a finite number \(higher runs first\), got "high"/);
    expect(() => client.submitWith({ key: 7 as never }, inc, 1)).toThrow(/key must be a non-empty string, got 7/);
    expect(() => delayed(inc, { name: "" })).toThrow(/name must be a non-empty string/);
    const x = delayed(inc)(1);
    await expect(client.compute(x, { retries: 1.5 })).rejects.toThrow(/compute: retries must be a whole number/);
    await expect(client.compute(x, { signal: "stop" as never })).rejects.toThrow(/compute: signal must be an AbortSignal/);
    expect(() => client.persist(x, { priority: NaN })).toThrow(/persist: priority must be a finite number \(higher runs first\), got NaN/);
    expect(await client.compute(x, { retries: 2, priority: -1, optimize: false })).toBe(2);
  });

  it("replaces a worker that dies, recomputes, and gives up on a task that keeps killing workers", async () => {
    const x = client.submit((n: number) => n * 2, 21);
    await x.wait();
    const killer = client.submitWith({ pure: false }, "fx.exitWorker");
    const err = (await killer.result().catch((e: unknown) => e)) as TaskError;
    expect(err).toBeInstanceOf(TaskError);
    expect(err.message).toMatch(/KilledWorker|workers that died/);
    // The cluster is whole again, and data lost with dead workers is recomputed on demand.
    for (let i = 0; i < 50 && client.workers.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(client.workers.length).toBe(2);
    expect(await client.compute(delayed((v: number) => v + 1)(x))).toBe(43);
  }, 60_000);
});
