/**
 * The DOM panels of the status page: progress by task prefix, workers (memory and occupancy),
 * and failed tasks. Each keeps one element per prefix / worker / error and updates it in place;
 * values are mirrored in data- attributes (data-done, data-total, data-percent, data-managed...)
 * so tests read numbers, not text.
 */

import type { FeedError, FeedPrefix, FeedWorker } from "tessera";
import { ERRED, formatBytes, formatCount, prefixColor } from "./colors.js";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A bar of stacked segments: widths in percent; a non-zero segment shows at least 2 px. */
function segments(bar: HTMLElement, parts: { cls: string; percent: number; color?: string }[]): void {
  while (bar.children.length < parts.length) bar.append(el("span"));
  parts.forEach((p, i) => {
    const s = bar.children[i] as HTMLElement;
    s.className = `seg ${p.cls}`;
    s.style.width = `${Math.max(0, Math.min(100, p.percent))}%`;
    s.style.minWidth = p.percent > 0 ? "2px" : "0";
    if (p.color) s.style.background = p.color;
  });
}

// ---- progress ------------------------------------------------------------------------------

export class ProgressPanel {
  private readonly rows = new Map<number, HTMLElement>();
  constructor(private readonly list: HTMLElement) {}

  render(prefixes: Iterable<FeedPrefix>): void {
    const shown = [...prefixes].filter((p) => p.total > 0).sort((a, b) => a.id - b.id);
    for (const p of shown) {
      let row = this.rows.get(p.id);
      if (!row) {
        row = el("div", "progress-row");
        const name = el("span", "name");
        const swatch = el("i", "swatch");
        swatch.style.background = prefixColor(p.id);
        name.append(swatch, el("span", undefined, p.name));
        name.title = p.name;
        row.append(name, el("div", "bar"), el("span", "count"));
        this.rows.set(p.id, row);
        this.list.append(row);
      }
      const percent = Math.floor((100 * (p.done + p.erred)) / p.total);
      Object.assign(row.dataset, { prefix: p.name, done: String(p.done), total: String(p.total), erred: String(p.erred), processing: String(p.processing), percent: String(percent) });
      const color = prefixColor(p.id);
      segments(row.children[1] as HTMLElement, [
        { cls: "done", percent: (100 * p.done) / p.total, color },
        { cls: "erred", percent: (100 * p.erred) / p.total, color: ERRED },
        { cls: "processing", percent: (100 * p.processing) / p.total, color },
      ]);
      const erred = p.erred > 0 ? ` · ${formatCount(p.erred)} failed` : "";
      row.children[2]!.textContent = `${formatCount(p.done)} / ${formatCount(p.total)}${erred}`;
    }
    const ids = new Set(shown.map((p) => p.id));
    for (const [id, row] of this.rows) {
      if (ids.has(id)) continue;
      row.remove();
      this.rows.delete(id);
    }
    this.list.dataset.prefixes = String(shown.length);
  }
}

// ---- workers -------------------------------------------------------------------------------

export class WorkersPanel {
  private readonly rows = new Map<number, HTMLTableRowElement>();
  constructor(private readonly body: HTMLTableSectionElement) {}

  render(workers: readonly FeedWorker[]): void {
    for (const w of workers) {
      let row = this.rows.get(w.index);
      if (!row) {
        row = this.body.insertRow();
        for (let i = 0; i < 5; i++) row.insertCell();
        row.cells[1]!.append(el("div", "bar occupancy"), el("span", "label"));
        row.cells[2]!.append(el("div", "bar memory"), el("span", "label"));
        row.cells[3]!.append(el("div", "bar cpu"), el("span", "label"));
        this.rows.set(w.index, row);
      }
      row.classList.toggle("gone", !w.running);
      row.cells[0]!.textContent = w.running ? w.id : `${w.id} (gone)`;
      // Occupancy: tasks assigned per thread, against a scale of 4 per thread.
      const perThread = w.processing / w.nthreads;
      segments(row.cells[1]!.firstElementChild as HTMLElement, [{ cls: "busy", percent: (100 * perThread) / 4 }]);
      row.cells[1]!.lastElementChild!.textContent = `${formatCount(w.processing)} tasks · ${w.occupancy.toFixed(2)} s`;
      const m = w.memory;
      const limit = m?.limit ?? w.memoryLimit;
      const managed = m ? m.managed : w.nbytes;
      const spilled = m?.spilled ?? 0;
      const unmanaged = m?.unmanaged ?? 0;
      const bar = row.cells[2]!.firstElementChild as HTMLElement;
      segments(bar, [
        { cls: "managed", percent: (100 * managed) / limit },
        { cls: "unmanaged", percent: (100 * unmanaged) / limit },
        { cls: "spilled", percent: (100 * spilled) / limit },
      ]);
      if (m) {
        const target = m.thresholds.target;
        const pause = m.thresholds.pause;
        bar.style.setProperty("--target", target === false ? "-10%" : `${target * 100}%`);
        bar.style.setProperty("--pause", pause === false ? "-10%" : `${pause * 100}%`);
      }
      bar.classList.toggle("paused", m?.paused === true);
      const spill = spilled > 0 ? ` · ${formatBytes(spilled)} spilled` : "";
      const other = m?.unmanaged !== undefined ? ` + ${formatBytes(unmanaged)} unmanaged` : "";
      row.cells[2]!.lastElementChild!.textContent = `${formatBytes(managed)}${other} / ${formatBytes(limit)}${spill}`;
      segments(row.cells[3]!.firstElementChild as HTMLElement, [{ cls: "busy", percent: 100 * (w.cpu ?? 0) }]);
      row.cells[3]!.lastElementChild!.textContent = cpuText(w);
      row.cells[4]!.textContent = w.executed === undefined ? "" : formatCount(w.executed);
      Object.assign(row.dataset, {
        cpu: w.cpu === undefined ? "" : String(w.cpu),
        worker: w.id,
        processing: String(w.processing),
        managed: String(managed),
        unmanaged: String(unmanaged),
        spilled: String(spilled),
        limit: String(limit),
      });
    }
  }
}

/** CPU as text: the share, and where it comes from (the event loop, or task time only). */
export function cpuText(w: FeedWorker): string {
  if (w.cpu === undefined) return "—";
  return `${Math.round(w.cpu * 100)}%${w.cpuSource === "tasks" ? " (tasks)" : ""}`;
}

/** The workers page: one row per worker with every figure the feed has for it. */
export class WorkerTable {
  private readonly rows = new Map<number, HTMLTableRowElement>();
  constructor(private readonly body: HTMLTableSectionElement) {}

  render(workers: readonly FeedWorker[]): void {
    for (const w of workers) {
      let row = this.rows.get(w.index);
      if (!row) {
        row = this.body.insertRow();
        for (let i = 0; i < COLUMNS; i++) row.insertCell();
        this.rows.set(w.index, row);
      }
      const m = w.memory;
      const managed = m ? m.managed : w.nbytes;
      const limit = m?.limit ?? w.memoryLimit;
      const cells = [
        w.running ? w.id : `${w.id} (gone)`,
        String(w.nthreads),
        formatCount(w.processing),
        `${w.occupancy.toFixed(2)} s`,
        formatBytes(managed),
        m ? `${formatBytes(m.spilled)}${m.spilledKeys ? ` (${formatCount(m.spilledKeys)})` : ""}` : "—",
        m?.unmanaged !== undefined ? formatBytes(m.unmanaged) : "—",
        formatBytes(limit),
        cpuText(w),
        w.executed === undefined ? "—" : formatCount(w.executed),
        m?.paused ? "paused" : w.running ? "" : "gone",
      ];
      cells.forEach((text, i) => {
        if (row.cells[i]!.textContent !== text) row.cells[i]!.textContent = text;
      });
      row.classList.toggle("gone", !w.running);
      row.classList.toggle("paused", m?.paused === true);
      Object.assign(row.dataset, {
        worker: w.id,
        nthreads: String(w.nthreads),
        processing: String(w.processing),
        managed: String(managed),
        spilled: String(m?.spilled ?? 0),
        unmanaged: String(m?.unmanaged ?? ""),
        limit: String(limit),
        cpu: w.cpu === undefined ? "" : String(w.cpu),
        executed: String(w.executed ?? ""),
        paused: String(m?.paused === true),
      });
    }
  }
}

const COLUMNS = 11;

// ---- errors --------------------------------------------------------------------------------

export class ErrorsPanel {
  private shown: FeedError[] = [];
  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly section: HTMLElement,
  ) {}

  render(errors: readonly FeedError[]): void {
    // Errors only accumulate (a snapshot may replace them): redraw only when the list changed.
    const same = errors.length >= this.shown.length && this.shown.every((e, i) => errors[i] === e);
    if (!same) {
      this.body.replaceChildren();
      this.shown = [];
    }
    for (let i = this.shown.length; i < errors.length; i++) this.add(errors[i]!);
    this.shown = errors.slice();
    this.section.dataset.errors = String(errors.length);
    this.section.classList.toggle("empty", errors.length === 0);
  }

  private add(e: FeedError): void {
    const row = this.body.insertRow(0);
    row.dataset.key = e.key;
    const time = new Date(e.time);
    row.insertCell().textContent = time.toLocaleTimeString();
    row.insertCell().append(el("code", undefined, e.key));
    row.insertCell().append(el("code", undefined, e.op));
    row.insertCell().textContent = e.worker;
    const cell = row.insertCell();
    cell.className = "message";
    cell.append(el("strong", undefined, `${e.name}: `), document.createTextNode(e.message));
    if (e.stack) {
      const details = el("details");
      details.append(el("summary", undefined, "stack"), el("pre", undefined, e.stack));
      cell.append(details);
    }
  }
}
