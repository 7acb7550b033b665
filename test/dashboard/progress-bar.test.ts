// The terminal progress bar of compute(x, { progress: true }).
import { describe, expect, it } from "vitest";
import { formatProgress, terminalProgress } from "../../src/dashboard/progress-bar.js";

describe("progress bar", () => {
  it("draws a bar with percent, counts, failures and time, fitted to the terminal", () => {
    expect(formatProgress({ total: 10_000, done: 5_000, erred: 0, elapsed: 1.25, finished: false }, 80)).toBe(
      `[${"#".repeat(20)}${"-".repeat(20)}]  50% | 5,000/10,000 tasks | 1.3 s`,
    );
    const narrow = formatProgress({ total: 4, done: 1, erred: 1, elapsed: 0, finished: false }, 50);
    expect(narrow).toBe(`[${"#".repeat(6)}${"-".repeat(6)}]  50% | 1/4 tasks | 1 erred | 0.0 s`);
    expect(narrow.length).toBeLessThanOrEqual(50);
    expect(formatProgress({ total: 0, done: 0, erred: 0, elapsed: 0, finished: true })).toContain("100%");
  });

  it("draws on a terminal only, in place, and ends the line when finished", () => {
    expect(terminalProgress({ isTTY: false, write: () => true })).toBeUndefined();
    expect(terminalProgress(undefined)).toBeUndefined();
    const out: string[] = [];
    const draw = terminalProgress({ isTTY: true, columns: 80, write: (t) => out.push(t) })!;
    draw({ total: 2, done: 1, erred: 0, elapsed: 0.1, finished: false });
    draw({ total: 2, done: 1, erred: 0, elapsed: 0.1, finished: false }); // same line: not redrawn
    draw({ total: 2, done: 2, erred: 0, elapsed: 0.2, finished: true });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\r\x1b\[K\[#+-+\]  50% \| 1\/2 tasks \| 0\.1 s$/);
    expect(out[1]).toMatch(/^\r\x1b\[K\[#+\] 100% \| 2\/2 tasks \| 0\.2 s\n$/);
  });
});
