// The metrics feed, progress events and the dashboard server on a 2-worker LocalCluster
// (worker_threads), against dist/.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delayed, op, startDashboard, type Client, type ComputeProgress, type FeedMessage, type ProgressEvent } from "../../dist/index.js";
import { startCluster } from "./cluster.js";

let client: Client;
beforeAll(async () => {
  client = await startCluster();
});
afterAll(() => client.close());

/** A fan-in of n small tasks: n `part` tasks and one `total`. */
function graph(n: number, salt: number) {
  const part = delayed((i: number, s: number) => i * s, { name: "part" });
  return delayed(op("tessera.sum"), { name: "total" })(Array.from({ length: n }, (_, i) => part(i, salt)));
}

const until = async (what: () => boolean, ms = 10_000) => {
  const t0 = Date.now();
  while (!what()) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("progress and the metrics feed on worker_threads", () => {
  it("compute({ progress }) reports the graph's progress, ending with every task done", async () => {
    const events: ComputeProgress[] = [];
    const value = await client.compute(graph(2000, 1), { progress: (p) => events.push(p) });
    expect(value).toBe((1999 * 2000) / 2);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ total: 2001, done: 2001, erred: 0, finished: true });
    expect(events.filter((e) => e.finished)).toHaveLength(1);
    for (let i = 1; i < events.length; i++) expect(events[i]!.done).toBeGreaterThanOrEqual(events[i - 1]!.done);
  });

  it("compute({ progress: true }) draws nothing when stderr is not a terminal, and still computes", async () => {
    expect(process.stderr.isTTY).toBeFalsy();
    expect(await client.compute(graph(10, 2), { progress: true })).toBe(90);
  });

  it("a failing graph ends its progress with the failure", async () => {
    const events: ComputeProgress[] = [];
    const bad = delayed((x: number) => {
      if (x === 3) throw new Error("three");
      return x;
    }, { name: "bad" });
    const all = delayed(op("tessera.sum"), { name: "all" })([1, 2, 3, 4].map((x) => bad(x)));
    await expect(client.compute(all, { progress: (p) => events.push(p) })).rejects.toThrow("three");
    expect(events.at(-1)).toMatchObject({ total: 5, erred: 1, finished: true });
  });

  it("onMetrics streams a snapshot, then every finished task with its prefix, op and worker", async () => {
    const got: FeedMessage[] = [];
    const off = client.onMetrics((m) => got.push(m));
    await until(() => got.length > 0);
    expect(got[0]!.kind).toBe("snapshot");
    await client.compute(graph(500, 3));
    await until(() => got.slice(1).reduce((s, m) => s + m.tasks.seen, 0) >= 501);
    off();
    const ops: string[] = [];
    for (const m of got) ops.splice(m.opsFrom, m.ops.length, ...m.ops);
    const updates = got.slice(1);
    const names = new Map(got.flatMap((m) => m.progress.map((p) => [p.id, p.name] as const)));
    const seen: string[] = [];
    for (const m of updates) m.tasks.key.forEach((k, i) => seen.push(`${names.get(m.tasks.prefix[i]!)}:${ops[m.tasks.op[i]!]}:${m.tasks.stop[i]! >= m.tasks.start[i]!}`));
    // An anonymous function shipped as source shows as lambda().
    expect(seen.filter((s) => s === "part:lambda():true")).toHaveLength(500);
    expect(seen.filter((s) => s === "total:tessera.sum:true")).toHaveLength(1);
    const workers = updates.at(-1)!.workers;
    expect(workers.map((w) => w.id).sort()).toEqual(client.workers.sort());
    // The workers' own figures arrive too (polled): tasks run and memory.
    await until(() => got.at(-1)!.workers.every((w) => w.executed !== undefined));
    expect(got.at(-1)!.workers.every((w) => w.memory === undefined || w.memory.limit > 0)).toBe(true);
  });

  it("onProgress reports progress by prefix while a graph runs", async () => {
    const events: ProgressEvent[] = [];
    const off = client.onProgress((p) => events.push(p));
    const slowly = delayed(
      (x: number) => {
        const t = Date.now() + 2;
        while (Date.now() < t);
        return x;
      },
      { name: "slow" },
    );
    await client.compute(delayed(op("tessera.sum"), { name: "count" })(Array.from({ length: 300 }, (_, i) => slowly(i))));
    await new Promise((r) => setTimeout(r, 300));
    off();
    const slow = events.flatMap((e) => e.prefixes.filter((p) => p.name === "slow"));
    expect(slow.length).toBeGreaterThan(0);
    expect(slow.at(-1)).toMatchObject({ total: 300, done: 300, erred: 0 });
    expect(slow.some((p) => p.done < 300)).toBe(true);
  });
});

describe("startDashboard", () => {
  it("serves the page, a snapshot as JSON and the feed as Server-Sent Events, and stops", async () => {
    const dash = await startDashboard(client);
    try {
      expect(client.dashboardLink).toBe(dash.url);
      const page = await fetch(dash.url);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(await page.text()).toContain("<canvas");

      const feed = await fetch(`${dash.url}feed`);
      expect(feed.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = feed.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      // Complete events only: the last piece may be cut.
      const messages = (): FeedMessage[] =>
        text
          .split("\n\n")
          .slice(0, -1)
          .filter((e) => e.startsWith("data: "))
          .map((e) => JSON.parse(e.slice(6)) as FeedMessage);
      const read = async (want: (ms: FeedMessage[]) => boolean) => {
        while (!want(messages())) {
          const { value, done } = await reader.read();
          if (done) throw new Error("the feed ended");
          text += decoder.decode(value, { stream: true });
        }
      };
      await read((ms) => ms.length >= 1);
      expect(messages()[0]!.kind).toBe("snapshot");
      await client.compute(graph(100, 5));
      // Computed at once: the tasks of the first tick after the page connected reach it too.
      await read((ms) => ms.some((m) => m.kind === "update" && m.tasks.key.some((k) => k.startsWith("total-"))));
      await reader.cancel();
    } finally {
      await dash.close();
    }
    expect(client.dashboardLink).toBeUndefined();
    await expect(fetch(`${dash.url}feed.json`)).rejects.toThrow();
  });

  it("says when the page is not built, and when the port is taken", async () => {
    const empty = await mkdtemp(join(tmpdir(), "tessera-dash-"));
    const dash = await startDashboard(client, { root: empty });
    try {
      const res = await fetch(dash.url);
      expect(await res.text()).toContain("npm run build");
      expect((await fetch(`${dash.url}feed.json`)).status).toBe(200);
      await expect(startDashboard(client, { port: dash.port })).rejects.toThrow(`port ${dash.port} is in use`);
      await expect(startDashboard(client, { port: -1 })).rejects.toThrow("dashboard port");
    } finally {
      await dash.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
