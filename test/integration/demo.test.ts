// `npm start` runs examples/demo.mjs: run it as a user would and check what it prints, so the
// README's first command keeps working (graph, futures, errors, Parquet groupby, training).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the demo pipeline (npm start)", () => {
  it("runs to the end and prints its results", async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["examples/demo.mjs"], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
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
