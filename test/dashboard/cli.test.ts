// `tessera dashboard` (src/dashboard/cli.ts) as a user runs it: the built CLI in a child process.
// Needs `npm run build` (dist/ and web-dist/).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseDashboardArgs } from "../../src/dashboard/cli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = `${ROOT}dist/cli/main.js`;

/** Start the CLI; resolves with its output so far once `ready` matches it. */
function start(args: string[], ready: RegExp) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const seen = new Promise<string>((done, fail) => {
    const check = () => ready.test(out) && done(out);
    child.stdout.on("data", (d: Buffer) => ((out += d.toString()), check()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    void exited.then((code) => fail(new Error(`tessera dashboard exited (${code}) before ${ready}:\n${out}`)));
  });
  return { child, seen, exited, output: () => out };
}

describe("tessera dashboard", () => {
  it("parses its arguments, and names a bad one", () => {
    expect(parseDashboardArgs([])).toEqual({ port: 8787, host: "127.0.0.1", demo: false, runs: Infinity, stay: false });
    expect(parseDashboardArgs(["--port", "0", "--demo", "--runs=2", "--stay"])).toMatchObject({ port: 0, demo: true, runs: 2, stay: true });
    expect(() => parseDashboardArgs(["--port", "http"])).toThrow('--port must be an integer from 0 to 65535, got "http"');
    expect(() => parseDashboardArgs(["--runs", "0"])).toThrow("--runs must be a positive integer");
    expect(() => parseDashboardArgs(["--port"])).toThrow("--port needs a value");
    expect(() => parseDashboardArgs(["--verbose"])).toThrow('unknown argument "--verbose"');
  });

  it.skipIf(!existsSync(CLI))("serves the built pages, cross-origin isolated, until interrupted", async () => {
    const run = start(["dashboard", "--port", "0"], /serving the pages at (http:\S+)/);
    try {
      const out = await run.seen;
      const url = /serving the pages at (http:\S+)/.exec(out)![1]!;
      const landing = await fetch(url);
      expect(landing.status).toBe(200);
      expect(landing.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(landing.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
      expect(await landing.text()).toContain("<title>tessera</title>");
      const dashboard = await fetch(`${url}dashboard/?demo`);
      expect(await dashboard.text()).toContain("tessera — dashboard");
      const playground = await fetch(`${url}playground/`);
      expect(playground.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
      expect(await playground.text()).toContain("tessera — playground");
      // No cluster here: no feed.
      expect((await fetch(`${url}feed.json`)).status).toBe(404);
    } finally {
      run.child.kill("SIGINT");
    }
    expect(await run.exited).toBe(0);
  });

  it.skipIf(!existsSync(CLI))("with --demo, runs the workload on a LocalCluster whose dashboard it serves", async () => {
    const run = start(["dashboard", "--demo", "--runs", "1", "--port", "0"], /run 1: /);
    const out = await run.seen;
    expect(await run.exited).toBe(0);
    expect(out).toMatch(/dashboard at http:\/\/127\.0\.0\.1:\d+\//);
    expect(out).toMatch(/run 1: \d+ tasks in [\d.]+ s; total=[\d.]+ mean=0\.\d+; failed on purpose: .*bad input 13/);
  }, 60_000);
});
