/**
 * The task stream: one row per worker, one rectangle per finished task from its start to its
 * stop, colored by task prefix; failed tasks are red with a dark edge and at least 3 px wide, so
 * one failure among thousands still shows. The window ends at the latest stop seen and reaches
 * back at most WINDOW_MS (a performance report shows all of it). Each row has two thin lanes
 * for what the worker did besides tasks: at the top, inputs it fetched from peers (purple, from
 * request to arrival: they overlap the tasks it runs meanwhile); at the bottom, values it
 * spilled to disk (orange stripes) or read back (teal stripes) during each metrics interval. Drawn on a canvas
 * (a DOM node per task would not keep up); hovering a rectangle names its task or transfer.
 * After each draw the canvas carries data-drawn, data-erred, data-transfers, data-spills and
 * data-rows for tests and curious readers.
 */

import { ERRED, ERRED_EDGE, SPILL_COLOR, TRANSFER_COLOR, UNSPILL_COLOR, formatBytes, formatCount, prefixColor } from "./colors.js";
import { SPILL, TRANSFER, type DashboardState } from "./state.js";

const WINDOW_MS = 20_000;
const GUTTER = 92;
const AXIS = 22;
const TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

export class TaskStream {
  private readonly ctx: CanvasRenderingContext2D;
  /** Geometry of the last draw, for hit testing. */
  private view = { start: 0, scale: 1, rowH: 20, rowOf: new Map<number, number>() };
  /** Spill lanes are hatched (as spilled memory is in the workers' bars): no task looks like them. */
  private readonly hatch: { spill: CanvasPattern | undefined; unspill: CanvasPattern | undefined };

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly tip: HTMLElement,
    private readonly state: DashboardState,
    /** Milliseconds shown, back from the latest stop (Infinity: everything kept). */
    private readonly windowMs = WINDOW_MS,
  ) {
    this.ctx = canvas.getContext("2d")!;
    this.hatch = { spill: stripes(canvas, SPILL_COLOR), unspill: stripes(canvas, UNSPILL_COLOR) };
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => (this.tip.hidden = true));
  }

  draw(): void {
    const { canvas, ctx, state } = this;
    const workers = state.workers;
    const rows = Math.max(1, workers.length);
    const rowH = Math.max(14, Math.min(34, Math.floor(240 / rows)));
    const cssW = Math.max(320, canvas.clientWidth);
    const cssH = rows * rowH + AXIS + 4;
    const dpr = globalThis.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.height = `${cssH}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);

    const rowOf = new Map<number, number>();
    workers.forEach((w, i) => rowOf.set(w.index, i));
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (let r = 0; r < rows; r++) {
      ctx.fillStyle = r % 2 === 0 ? "#f7f7f9" : "#ffffff";
      ctx.fillRect(GUTTER, r * rowH, cssW - GUTTER, rowH);
      const w = workers[r];
      ctx.fillStyle = w && !w.running ? "#aaa" : "#333";
      if (w) ctx.fillText(w.running ? w.id : `${w.id} (gone)`, 6, r * rowH + rowH / 2, GUTTER - 10);
    }

    const ring = state.stream;
    const n = ring.size;
    const end = state.latestStop;
    let drawn = 0;
    let erred = 0;
    if (n > 0 && end > 0) {
      const windowMs = this.windowMs;
      let start = end;
      for (let i = 0; i < n; i++) {
        if (ring.stop[i]! >= end - windowMs && ring.start[i]! < start) start = ring.start[i]!;
      }
      start = Math.max(start, end - windowMs);
      const plotW = cssW - GUTTER - 8;
      const span = Math.max(end - start, 1);
      const scale = plotW / span;
      this.view = { start, scale, rowH, rowOf };
      const failures: number[] = [];
      let fill = -1;
      for (let i = 0; i < n; i++) {
        const stop = ring.stop[i]!;
        if (stop < start) continue;
        const row = rowOf.get(ring.worker[i]!);
        if (row === undefined) continue;
        if (ring.erred[i]) {
          failures.push(i);
          continue;
        }
        const p = ring.prefix[i]!;
        if (p !== fill) {
          ctx.fillStyle = prefixColor(p);
          fill = p;
        }
        const x = GUTTER + (Math.max(ring.start[i]!, start) - start) * scale;
        ctx.fillRect(x, row * rowH + 2, Math.max(1, (stop - Math.max(ring.start[i]!, start)) * scale), rowH - 4);
        drawn++;
      }
      ctx.lineWidth = 1;
      for (const i of failures) {
        const row = rowOf.get(ring.worker[i]!)!;
        const x = GUTTER + (Math.max(ring.start[i]!, start) - start) * scale;
        const w = Math.max(3, (ring.stop[i]! - Math.max(ring.start[i]!, start)) * scale);
        ctx.fillStyle = ERRED;
        ctx.fillRect(x, row * rowH + 1, w, rowH - 2);
        ctx.strokeStyle = ERRED_EDGE;
        ctx.strokeRect(x + 0.5, row * rowH + 1.5, w - 1, rowH - 3);
        drawn++;
        erred++;
      }
      this.lanes(start, scale, rowH, rowOf);
      this.axis(start, span, scale, rows * rowH, cssW);
    } else {
      ctx.fillStyle = "#888";
      ctx.fillText("waiting for tasks…", GUTTER + 12, (rows * rowH) / 2);
    }
    canvas.dataset.drawn = String(drawn);
    canvas.dataset.erred = String(erred);
    canvas.dataset.rows = String(workers.length);
  }

  /** Transfers (top lane) and spills / read-backs (bottom lane) in the window; counts them in data-. */
  private lanes(start: number, scale: number, rowH: number, rowOf: Map<number, number>): void {
    const { ctx, canvas } = this;
    const a = this.state.activity;
    const lane = Math.max(3, Math.round(rowH * 0.26));
    let transfers = 0;
    let spills = 0;
    ctx.globalAlpha = 0.85;
    for (let i = 0; i < a.size; i++) {
      const stop = a.stop[i]!;
      if (stop < start) continue;
      const row = rowOf.get(a.worker[i]!);
      if (row === undefined) continue;
      const x = GUTTER + (Math.max(a.start[i]!, start) - start) * scale;
      const w = Math.max(2, (stop - Math.max(a.start[i]!, start)) * scale);
      const kind = a.kind[i]!;
      if (kind === TRANSFER) {
        ctx.fillStyle = TRANSFER_COLOR;
        ctx.fillRect(x, row * rowH + 1, w, lane);
        transfers++;
      } else {
        ctx.fillStyle = (kind === SPILL ? this.hatch.spill : this.hatch.unspill) ?? (kind === SPILL ? SPILL_COLOR : UNSPILL_COLOR);
        ctx.fillRect(x, (row + 1) * rowH - 1 - lane, w, lane);
        spills++;
      }
    }
    ctx.globalAlpha = 1;
    canvas.dataset.transfers = String(transfers);
    canvas.dataset.spills = String(spills);
  }

  /** The transfer or spill under a point of the row's lanes, described; undefined when none. */
  private activityAt(row: number, yInRow: number, t: number, slack: number): string | undefined {
    const { rowH, rowOf } = this.view;
    const lane = Math.max(3, Math.round(rowH * 0.26));
    const top = yInRow <= lane + 1;
    const bottom = yInRow >= rowH - 1 - lane;
    if (!top && !bottom) return undefined;
    const a = this.state.activity;
    const workers = this.state.workers;
    for (let i = a.size - 1; i >= 0; i--) {
      if (rowOf.get(a.worker[i]!) !== row || (a.kind[i] === TRANSFER) !== top) continue;
      if (a.start[i]! - slack > t || t > a.stop[i]! + slack) continue;
      const ms = a.stop[i]! - a.start[i]!;
      if (a.kind[i] === TRANSFER) {
        const from = workers.find((w) => w.index === a.peer[i])?.id ?? "?";
        return `transfer ${a.key[i]}\nfrom ${from} · ${formatBytes(a.nbytes[i]!)} in ${ms < 1 ? ms.toFixed(3) : ms.toFixed(1)} ms`;
      }
      const what = a.kind[i] === SPILL ? "spilled to disk" : "read back from disk";
      return `${formatCount(a.count[i]!)} value${a.count[i] === 1 ? "" : "s"} ${what} (${formatBytes(a.nbytes[i]!)})\nduring these ${(ms / 1000).toFixed(1)} s`;
    }
    return undefined;
  }

  private axis(start: number, span: number, scale: number, top: number, cssW: number): void {
    const ctx = this.ctx;
    const step = TICK_STEPS.find((s) => span / s <= 8) ?? Math.ceil(span / 8000) * 1000;
    ctx.strokeStyle = "#999";
    ctx.fillStyle = "#555";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.beginPath();
    ctx.moveTo(GUTTER, top + 0.5);
    ctx.lineTo(cssW - 8, top + 0.5);
    for (let t = Math.ceil(start / step) * step; t <= start + span; t += step) {
      const x = Math.round(GUTTER + (t - start) * scale) + 0.5;
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + 4);
      ctx.fillText(clock(t, step), x - 20, top + 6);
    }
    ctx.stroke();
  }

  private hover(e: MouseEvent): void {
    const { rowH, rowOf, start, scale } = this.view;
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const row = Math.floor(y / rowH);
    const t = start + (x - GUTTER) / scale;
    const slack = 2 / scale;
    const ring = this.state.stream;
    const other = x >= GUTTER ? this.activityAt(row, y - row * rowH, t, slack) : undefined;
    if (other !== undefined) {
      this.show(other, x, y, rect.width);
      return;
    }
    let found = -1;
    for (let i = 0; i < ring.size; i++) {
      if (rowOf.get(ring.worker[i]!) !== row) continue;
      if (ring.start[i]! - slack <= t && t <= ring.stop[i]! + slack) found = i;
    }
    if (found < 0 || x < GUTTER) {
      this.tip.hidden = true;
      return;
    }
    const ms = ring.stop[found]! - ring.start[found]!;
    const w = this.state.workers.find((w) => w.index === ring.worker[found]);
    this.show(`${ring.key[found]}\n${this.state.opName(ring.op[found]!)} on ${w?.id ?? "?"} · ${ms < 1 ? ms.toFixed(3) : ms.toFixed(1)} ms${ring.erred[found] ? " · FAILED" : ""}`, x, y, rect.width);
  }

  private show(text: string, x: number, y: number, width: number): void {
    this.tip.textContent = text;
    this.tip.style.left = `${Math.min(x + 12, width - 260)}px`;
    this.tip.style.top = `${y + 14}px`;
    this.tip.hidden = false;
  }
}

/** A diagonal-stripes fill of `color` on white (undefined where a canvas cannot make one). */
function stripes(like: HTMLCanvasElement, color: string): CanvasPattern | undefined {
  const tile = like.ownerDocument.createElement("canvas");
  tile.width = tile.height = 6;
  const c = tile.getContext("2d");
  if (!c) return undefined;
  c.fillStyle = "#ffffff";
  c.fillRect(0, 0, 6, 6);
  c.strokeStyle = color;
  c.lineWidth = 2.2;
  c.beginPath();
  for (const o of [-6, 0, 6]) {
    c.moveTo(o, 6);
    c.lineTo(o + 6, 0);
  }
  c.stroke();
  return c.createPattern(tile, "repeat") ?? undefined;
}

/** Clock time of an epoch-ms instant, to the precision the tick step needs. */
function clock(t: number, step: number): string {
  const d = new Date(t);
  const hms = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}:${String(d.getSeconds()).padStart(2, "0")}`;
  if (step >= 1000) return hms;
  const digits = step >= 100 ? 1 : step >= 10 ? 2 : 3;
  return `${hms.slice(3)}.${String(d.getMilliseconds()).padStart(3, "0").slice(0, digits)}`;
}
