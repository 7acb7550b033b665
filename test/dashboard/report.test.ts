// performanceReport's page assembly (src/dashboard/report.ts): the built page's module script
// and stylesheet links give way to the inlined report script, styles and data, and no inlined
// text can end its <script> or <style> early. The whole report in Chromium: test/e2e/report.test.ts.
import { describe, expect, it } from "vitest";
import { assemble, type ReportData } from "../../src/dashboard/report.js";

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
