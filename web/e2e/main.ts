/**
 * The e2e page's script: starts a 2-worker LocalCluster on Web Workers, runs a handful of small
 * graphs that cover the futures/delayed API, worker-to-worker transfer and cross-origin
 * isolation, draws one table row per check, and publishes the outcome on
 * `window.__tesseraE2E` for test/e2e/cluster.test.ts (which also screenshots the table).
 *
 * Functions given to delayed/submit/map are shipped to the workers as source, so they must not
 * capture variables: this file is minified by `vite build`, and the shipped source is the
 * minified one.
 */

import { LocalCluster, TaskError, array as da, delayed, op, type Client, type Future, type WorkerMetrics } from "tessera";
import type { CheckResult, E2EReport } from "./report.js";

const CHECK_TIMEOUT_MS = 15_000;

interface Outcome {
  ok: boolean;
  result: string;
}

type Check = { name: string; run: (client: Client) => Promise<Outcome> };

const expectEqual = (got: unknown, want: unknown): Outcome => {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  return { ok: g === w, result: g === w ? g : `got ${g}, want ${w}` };
};

const totals = (ms: WorkerMetrics[]) => ({
  moved: ms.reduce((s, m) => s + m.movedKeys, 0),
  movedBytes: ms.reduce((s, m) => s + m.movedBytes, 0),
  copied: ms.reduce((s, m) => s + m.copiedKeys, 0),
  copiedBytes: ms.reduce((s, m) => s + m.copiedBytes, 0),
});

const checks: Check[] = [
  {
    name: "diamond",
    async run(client) {
      const a = delayed((x: number) => x * 10)(4);
      const b = delayed((x: number) => x + 1)(a);
      const c = delayed((x: number) => x - 1)(a);
      const d = delayed((x: number, y: number) => x * y)(b, c);
      return expectEqual(await client.compute([b, c, d]), [41, 39, 41 * 39]);
    },
  },
  {
    name: "map-gather",
    async run(client) {
      const xs = Array.from({ length: 10 }, (_, i) => i);
      const fs = client.map((x: number) => x * x, xs);
      return expectEqual(await client.gather(fs), xs.map((x) => x * x));
    },
  },
  {
    name: "fan-in",
    async run(client) {
      const n = 400;
      const double = delayed((j: number) => j * 2);
      const parts = Array.from({ length: n }, (_, i) => double(i));
      const total = delayed(op("tessera.sum"))(parts);
      const got = await client.compute(total);
      const want = n * (n - 1);
      return { ok: got === want, result: `${n} tasks -> tessera.sum = ${got}${got === want ? "" : ` (want ${want})`}` };
    },
  },
  {
    name: "scatter-sum",
    async run(client) {
      const n = 1_000_000;
      const [big] = await client.scatter([new Float64Array(n).fill(0.5)]);
      const total = client.submit((a: Float64Array) => a.reduce((s, v) => s + v, 0), big!);
      const got = await total.result();
      return { ok: got === n / 2, result: `sum of ${n} x 0.5 = ${got}` };
    },
  },
  {
    name: "task-error",
    async run(client) {
      const bad = delayed(
        function boom(x: number): number {
          throw new RangeError(`no good: ${x}`);
        },
        { name: "boom" },
      )(7);
      const err: unknown = await client.compute(bad).then(
        (v) => v,
        (e: unknown) => e,
      );
      if (!(err instanceof TaskError)) return { ok: false, result: `expected a TaskError, got ${String(err)}` };
      const cause = err.cause as Error | undefined;
      const ok =
        err.key === bad.key && err.message.includes(bad.key) && cause?.name === "RangeError" && cause.message === "no good: 7";
      return { ok, result: `${err.name}: ${err.message}` };
    },
  },
  {
    name: "cross-origin-isolated",
    async run(client) {
      const page = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
      // Dedicated workers inherit the page's isolation; check it where the tasks run.
      const inWorker = await client
        .submit(() => globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === "function")
        .result();
      return { ok: page && inWorker === true, result: `page: ${page}, worker: ${String(inWorker)}` };
    },
  },
  {
    name: "worker-to-worker",
    async run(client) {
      const [w0, w1] = client.workers;
      if (!w0 || !w1) return { ok: false, result: `need 2 workers, have ${client.workers.length}` };
      const before = totals(await client.metrics());
      const n = 1_000_000;
      const x = client.submitWith<Float64Array>({ workers: [w0], pure: false }, (len: number) => new Float64Array(len).fill(2), n);
      const y = client.submitWith<number>({ workers: [w1] }, (a: Float64Array) => a.reduce((s, v) => s + v, 0), x);
      x.release(); // y is now x's only user: w0 may hand its buffer over without a copy
      const got = await y.result();
      const after = totals(await client.metrics());
      const moved = after.moved - before.moved;
      const copied = after.copied - before.copied;
      const bytes = after.movedBytes - before.movedBytes + (after.copiedBytes - before.copiedBytes);
      const ranOn = client.story(y).find((e) => e.to === "processing")?.worker;
      const ok = got === 2 * n && moved + copied > 0 && ranOn === w1;
      return {
        ok,
        result: `${w0} -> ${w1}: moved ${moved}, copied ${copied} (${(bytes / 1e6).toFixed(1)} MB); sum ${got} on ${ranOn}`,
      };
    },
  },
  {
    name: "rebalance",
    async run(client) {
      const [w0, w1] = client.workers;
      if (!w0 || !w1) return { ok: false, result: `need 2 workers, have ${client.workers.length}` };
      // Six 1 MiB arrays on one worker; rebalance moves three to the other, worker to worker.
      const fs = (await client.scatter(Array.from({ length: 6 }, (_, i) => new Float64Array(2 ** 17).fill(i)), { workers: [w0] })) as Future[];
      const r = await client.rebalance(fs);
      const holders = fs.map((f) => client.whoHas(f)[f.key]!);
      const onW1 = holders.filter((h) => h.length === 1 && h[0] === w1).length;
      const values = (await client.gather(fs)) as Float64Array[];
      const intact = values.every((v, i) => v.length === 2 ** 17 && v.every((x) => x === i));
      for (const f of fs) f.release();
      return { ok: r.moved === 3 && onW1 === 3 && holders.every((h) => h.length === 1) && intact, result: `moved ${r.moved} (${r.bytes} B); ${onW1} of 6 now on ${w1}; values intact: ${intact}` };
    },
  },
];

const MiB = 2 ** 20;

/**
 * Data 4x the cluster's memory on Web Workers: 2 workers of 16 MiB each persist a 128 MiB array,
 * so most of it goes to each worker's OPFS file; its sum comes back exact, and random blocks
 * read back from disk give the same bits as fresh ones.
 */
async function outOfCore(): Promise<Outcome> {
  const limit = 16 * MiB;
  const client = await LocalCluster.start({ workers: 2, memoryLimit: limit });
  try {
    const n = 16 * MiB; // float64: 128 MiB in 64 blocks of 2 MiB
    const x = await da.arange(0, n, 1, { chunks: [MiB / 4], dtype: "float64" }).persist();
    const mem = (await client.metrics()).map((m) => m.memory!);
    const problems: string[] = [];
    for (const [i, w] of mem.entries()) {
      if (w.managed > 0.6 * limit) problems.push(`worker ${i} holds ${w.managed} B in memory, over target`);
      if (w.spillErrors > 0) problems.push(`worker ${i}: ${w.spillErrors} spill errors`);
      if (!String(w.spillTo).includes("OPFS")) problems.push(`worker ${i} spills to ${String(w.spillTo)}`);
    }
    // Where the blocks land is up to the scheduler (a worker slowed by a loaded machine gets
    // fewer), so spilling is asked of the cluster; each worker's memory is held to its target.
    if (mem.every((w) => w.spilledKeys === 0)) problems.push(`no worker spilled (${mem.map((w) => w.managed).join(" / ")} B in memory)`);
    const held = mem.reduce((s, w) => s + w.managed + w.spilled, 0);
    if (held !== n * 8) problems.push(`holds ${held} B, want ${n * 8}`);
    const sum = await x.sum().item();
    if (sum !== (n * (n - 1)) / 2) problems.push(`sum ${sum}, want ${(n * (n - 1)) / 2}`);
    const r = await da.random.normal([4 * MiB], { chunks: [MiB / 4], seed: 3 }).persist(); // 32 MiB more
    const fresh = da.random.normal([4 * MiB], { chunks: [MiB / 4], seed: 3 });
    const [a, b] = [await r.sum().item(), await fresh.sum().item()];
    if (a !== b) problems.push(`random sums differ after spilling: ${a} vs ${b}`);
    const spilled = (await client.metrics()).reduce((s, m) => s + m.memory!.spillCount, 0);
    return {
      ok: problems.length === 0,
      result: problems.length > 0 ? problems.join("; ") : `128 MiB on 2 x 16 MiB workers: sum ${sum}, ${spilled} values spilled to OPFS`,
    };
  } finally {
    await client.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

const tbody = document.querySelector<HTMLTableSectionElement>("#checks tbody")!;
const status = document.getElementById("status")!;

function addRow(c: CheckResult): void {
  const tr = document.createElement("tr");
  tr.className = c.ok ? "ok" : "failed";
  tr.dataset.check = c.name;
  for (const [cls, text] of [
    ["name", c.name],
    ["result", c.result],
    ["ms", c.ms.toFixed(0)],
    ["verdict", c.ok ? "ok" : "failed"],
  ] as const) {
    const td = document.createElement("td");
    td.className = cls;
    td.textContent = text;
    tr.append(td);
  }
  tbody.append(tr);
}

async function timed(name: string, run: () => Promise<Outcome>): Promise<CheckResult> {
  const t0 = performance.now();
  let out: Outcome;
  try {
    out = await withTimeout(run(), CHECK_TIMEOUT_MS, name);
  } catch (err) {
    out = { ok: false, result: describeError(err) };
  }
  const c: CheckResult = { name, ...out, ms: performance.now() - t0 };
  addRow(c);
  return c;
}

async function main(): Promise<E2EReport> {
  const t0 = performance.now();
  const results: CheckResult[] = [];
  let client: Client | undefined;
  const start = await timed("start", async () => {
    client = await LocalCluster.start({ workers: 2 });
    return { ok: client.workers.length === 2, result: `workers: ${client.workers.join(", ")}` };
  });
  results.push(start);
  if (client) {
    for (const check of checks) {
      status.textContent = `running ${check.name}…`;
      results.push(await timed(check.name, () => check.run(client!)));
    }
    results.push(
      await timed("close", async () => {
        await client!.close();
        return { ok: true, result: "workers terminated" };
      }),
    );
  }
  status.textContent = "running out-of-core…";
  results.push(await timed("out-of-core", outOfCore));
  const ok = results.every((c) => c.ok);
  return { done: true, ok, checks: results, totalMs: performance.now() - t0 };
}

main()
  .catch((err: unknown): E2EReport => ({ done: true, ok: false, checks: [], error: describeError(err), totalMs: 0 }))
  .then((report) => {
    const failed = report.checks.filter((c) => !c.ok).length;
    status.textContent = report.error
      ? `error: ${report.error}`
      : `${report.checks.length - failed}/${report.checks.length} checks passed in ${report.totalMs.toFixed(0)} ms`;
    document.body.dataset.done = report.ok ? "ok" : "failed";
    window.__tesseraE2E = report;
  });
