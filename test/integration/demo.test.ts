// `npm start` runs examples/demo.mjs: run it as a user would and check what it prints, so the
// README's first command keeps working (graph, futures, errors, Parquet groupby, training), and
// that `--stay` keeps its dashboard up until Ctrl-C.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the demo pipeline (npm start)", () => {
  it("runs to the end, prints its results, and with --stay serves its dashboard until SIGINT", async () => {
    const child = spawn(process.execPath, ["examples/demo.mjs", "--stay"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await expect.poll(() => out, { timeout: 120_000, interval: 200 }).toMatch(/stays up at (http\S+)/);
      const url = /stays up at (http\S+)/.exec(out)![1]!;
      const feed = await fetch(`${url}feed.json`);
      expect(feed.status).toBe(200);
      expect(((await feed.json()) as { kind: string }).kind).toBe("snapshot");
      child.kill("SIGINT");
      expect(await exited, err).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    expect(out).toMatch(/^tessera demo: 2 workers/m);
    expect(out).toMatch(/expected failure: task lambda-\w+ .*not a number: "x2"/);
    expect(out).toMatch(/grouped 2,000,000 Parquet rows by city/);
    const acc = /held-out accuracy ([\d.]+)% \((\d+) rows\)/.exec(out);
    expect(acc, out).not.toBeNull();
    expect(Number(acc![1])).toBeGreaterThanOrEqual(95);
    expect(Number(acc![2])).toBe(800);
    expect(out).toMatch(/^done in [\d.]+ s$/m);
  }, 150_000);
});
