/**
 * The terminal progress bar of `compute(x, { progress: true })`: one line on stderr, redrawn in
 * place at each progress tick (~5 per second) and finished with a newline. Drawn only when
 * stderr is a terminal, so logs and pipes get nothing; in a browser there is no stderr and no
 * bar (use a progress callback there). No Node import: the stream is found on globalThis.
 */

import type { ComputeProgress } from "./protocol.js";

/** The part of a Node tty.WriteStream the bar uses. */
export interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

function stderrStream(): BarStream | undefined {
  return (globalThis as { process?: { stderr?: BarStream } }).process?.stderr;
}

/** A progress callback drawing on `stream` (default stderr), or undefined when it is not a terminal. */
export function terminalProgress(stream: BarStream | undefined = stderrStream()): ((p: ComputeProgress) => void) | undefined {
  if (!stream?.isTTY) return undefined;
  let last = "";
  return (p) => {
    const line = formatProgress(p, stream.columns || 80);
    if (p.finished) stream.write(`\r\x1b[K${line}\n`);
    else if (line !== last) stream.write(`\r\x1b[K${line}`);
    last = line;
  };
}

const count = (n: number): string => n.toLocaleString("en-US");

/**
 * One line: `[#########---------]  50% | 5,000/10,000 tasks | 1.2 s`, fitted to `columns`
 * (failed tasks are counted after the tasks when there are any).
 */
export function formatProgress(p: ComputeProgress, columns = 80): string {
  const fraction = p.total > 0 ? Math.min(1, (p.done + p.erred) / p.total) : p.finished ? 1 : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const erred = p.erred > 0 ? ` | ${count(p.erred)} erred` : "";
  const tail = ` ${percent} | ${count(p.done)}/${count(p.total)} tasks${erred} | ${p.elapsed.toFixed(1)} s`;
  const width = Math.max(10, Math.min(40, columns - tail.length - 3));
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]${tail}`;
}
