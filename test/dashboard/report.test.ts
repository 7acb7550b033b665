// performanceReport (src/dashboard/report.ts): its page assembly (the built page's module script
// and stylesheet links give way to the inlined report script, styles and data, and no inlined
// text can end its <script> or <style> early), and what it records of a computation too short
// for the feed to tick during it. The whole report in Chromium: test/e2e/report.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Client } from "../../src/client/client.js";
import { Runner } from "../../src/cluster/runner.js";
import { metricsOf } from "../../src/dashboard/collector.js";
import { assemble, performanceReport, type ReportData } from "../../src/dashboard/report.js";
import { fakeWorker, finishPending, settle, task } from "./fake-worker.js";

const page = {
  html: `<!doctype html><html><head><title>x</title>
<script type="module" crossorigin src="../assets/dashboard-abc.js"></script>
<link rel="modulepreload" crossorigin href="../assets/chunk.js">
<link rel="stylesheet" crossorigin href="../assets/dashboard.css">
</head><body><main></main></body></html>`,
  script: `var s="</script><b>";console.log("$&")`,
  style: `.a::after{content:"</style>"}`,
};

const data: ReportData = { title: "t", start: 1, stop: 2, messages: [], graph: { time: 1, total: 1, tooLarge: false, limit: 5000, key: ["</script><script>alert(1)</script>"], prefix: [0], prefixes: { 0: "x" }, state: ["memory"], from: [], to: [] } };

describe("performance report assembly", () => {
  it("inlines the script, styles and data in place of the built page's links", () => {
    const html = assemble(page, data);
    expect(html).not.toContain("../assets/");
    expect(html).not.toContain('type="module"');
    // Each inlined text is closed only by its own tag.
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(html.match(/<\/style>/g)).toHaveLength(1);
    expect(html).toContain(`var s="<\\/script><b>";console.log("$&")`);
    const json = /<script id="tessera-report" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
    expect((JSON.parse(json) as ReportData).graph!.key[0]).toBe("</script><script>alert(1)</script>");
    expect(html.indexOf("<style>")).toBeLessThan(html.indexOf("</head>"));
    expect(html.indexOf('id="tessera-report"')).toBeGreaterThan(html.indexOf("<main>"));
  });
});

/** A built page's three files, bare, under a new folder: performanceReport's `root`. */
function pageRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "tessera-report-unit-"));
  mkdirSync(join(root, "dashboard"));
  mkdirSync(join(root, "dashboard-report"));
  writeFileSync(join(root, "dashboard", "index.html"), "<html><head></head><body></body></html>");
  writeFileSync(join(root, "dashboard-report", "report.js"), "");
  writeFileSync(join(root, "dashboard-report", "report.css"), "");
  return root;
}

describe("performance report recording", () => {
  it("holds the work's tasks in an update after its snapshot when the feed first ticks after the work is done", async () => {
    const runner = new Runner({ workerSaturation: 1 });
    const w0 = fakeWorker("w0");
    runner.addWorker(w0);
    await settle();
    // A long interval: the feed ticks only when the test says.
    const collector = metricsOf(runner, { interval: 3_600_000, metricsInterval: 0 });
    const client = new Client(runner, async () => {});
    const root = pageRoot();
    const filename = join(root, "report.html");
    try {
      const work = async (): Promise<number> => {
        runner.updateGraph("c", [task("load-1", "io.load"), task("load-2", "io.load", [], 1)], ["load-1", "load-2"]);
        await settle();
        const t0 = Date.now();
        while (w0.batches.length > 0) {
          finishPending(w0, t0);
          await settle();
        }
        // The feed's first tick comes once the work is done, as it does when a computation
        // ends within the interval after the report subscribed.
        setTimeout(() => collector.tick(), 0);
        return 42;
      };
      expect(await performanceReport(client, work, { root, filename })).toBe(42);
      const json = /<script id="tessera-report" type="application\/json">(.*?)<\/script>/s.exec(readFileSync(filename, "utf8"))![1]!;
      const data = JSON.parse(json) as ReportData;
      expect(data.messages.map((m) => m.kind)).toEqual(["snapshot", "update"]);
      // The snapshot is the state before the work; the update holds what the work did.
      expect(data.messages[0]!.tasks.key).toEqual([]);
      expect(data.messages[1]!.tasks.key).toEqual(["load-1", "load-2"]);
      expect(data.messages[1]!.time).toBeGreaterThanOrEqual(data.stop);
    } finally {
      await client.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
