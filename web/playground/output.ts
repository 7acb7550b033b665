/**
 * What a program shows below the editor: show(x) renders a value (an Arrow table as an HTML
 * table, an NDArray by shape and values, an object of numbers as a list, else text), plot(y)
 * a line chart (uPlot; calling it again updates the same chart, at most once a frame), log()
 * lines of text. Rendered values carry data- attributes (data-kind, data-key, data-value,
 * data-rows, data-points) so tests read numbers, not text.
 */

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const ROWS_SHOWN = 50;

interface ArrowLike {
  numRows: number;
  schema: { fields: { name: string }[] };
  getChildAt(i: number): { get(row: number): unknown } | null;
}

const isArrowTable = (v: unknown): v is ArrowLike =>
  typeof v === "object" && v !== null && "numRows" in v && "schema" in v && typeof (v as { getChildAt?: unknown }).getChildAt === "function";

const isNDArray = (v: unknown): v is { shape: readonly number[]; data: ArrayLike<number> } =>
  typeof v === "object" && v !== null && Array.isArray((v as { shape?: unknown }).shape) && ArrayBuffer.isView((v as { data?: unknown }).data);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** A cell or a value as short text: numbers to 6 significant digits. */
export function formatValue(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en-US") : String(Number(v.toPrecision(6)));
  if (typeof v === "bigint") return v.toLocaleString("en-US");
  if (v === null || v === undefined) return "null";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

export class Output {
  private chart: uPlot | undefined;
  private chartData: number[] = [];
  private chartPending = false;

  constructor(
    private readonly result: HTMLElement,
    private readonly chartHost: HTMLElement,
    private readonly logBox: HTMLElement,
  ) {}

  clear(): void {
    this.result.replaceChildren();
    delete this.result.dataset.kind;
    this.logBox.replaceChildren();
    this.chart?.destroy();
    this.chart = undefined;
    this.chartData = [];
    this.chartHost.hidden = true;
    delete this.chartHost.dataset.points;
  }

  show(value: unknown): void {
    this.result.replaceChildren();
    if (isArrowTable(value)) return this.table(value);
    if (isNDArray(value)) {
      this.result.dataset.kind = "ndarray";
      const head = Array.from(value.data).slice(0, 20).map(formatValue).join(", ");
      this.result.append(el("pre", `NDArray shape [${value.shape.join(", ")}]: ${head}${value.data.length > 20 ? ", …" : ""}`));
      return;
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "number" || typeof v === "string" || typeof v === "bigint" || v === null)) {
      this.result.dataset.kind = "object";
      const list = el("table", undefined, "values");
      for (const [k, v] of Object.entries(value)) {
        const row = list.insertRow();
        row.dataset.key = k;
        row.dataset.value = String(v);
        row.insertCell().textContent = k;
        const cell = row.insertCell();
        cell.textContent = formatValue(v);
        cell.className = "num";
      }
      this.result.append(list);
      return;
    }
    this.result.dataset.kind = "text";
    this.result.append(el("pre", typeof value === "string" ? value : formatValue(value)));
  }

  private table(t: ArrowLike): void {
    this.result.dataset.kind = "table";
    const fields = t.schema.fields;
    const cols = fields.map((_, j) => t.getChildAt(j)!);
    const table = el("table", undefined, "frame");
    table.dataset.rows = String(t.numRows);
    table.dataset.columns = JSON.stringify(fields.map((f) => f.name));
    const head = table.createTHead().insertRow();
    for (const f of fields) head.append(el("th", f.name));
    const body = table.createTBody();
    for (let i = 0; i < Math.min(t.numRows, ROWS_SHOWN); i++) {
      const row = body.insertRow();
      cols.forEach((c) => {
        const v = c.get(i);
        const cell = row.insertCell();
        cell.textContent = formatValue(v);
        if (typeof v === "number" || typeof v === "bigint") cell.className = "num";
      });
    }
    this.result.append(table);
    if (t.numRows > ROWS_SHOWN) this.result.append(el("p", `first ${ROWS_SHOWN} of ${t.numRows.toLocaleString("en-US")} rows`, "note"));
  }

  /** Draw y against its index; a later call replaces the data (redrawn once per frame). */
  plot(y: ArrayLike<number>, options: { label?: string } = {}): void {
    this.chartData = Array.from(y);
    if (!this.chart) {
      this.chartHost.hidden = false;
      this.chart = new uPlot(
        {
          width: Math.max(300, this.chartHost.clientWidth),
          height: 220,
          legend: { show: true },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: false } },
          series: [{ label: "step" }, { label: options.label ?? "y", stroke: "#4e79a7", width: 1.5 }],
          axes: [{ label: "step" }, { size: 60 }],
        },
        [[], []],
        this.chartHost,
      );
    }
    if (this.chartPending) return;
    this.chartPending = true;
    requestAnimationFrame(() => {
      this.chartPending = false;
      const ys = this.chartData;
      this.chart?.setData([ys.map((_, i) => i), ys]);
      this.chartHost.dataset.points = String(ys.length);
      this.chartHost.dataset.first = String(ys[0]);
      this.chartHost.dataset.last = String(ys.at(-1));
    });
  }

  log(...parts: unknown[]): void {
    this.logBox.append(el("div", parts.map((p) => (typeof p === "string" ? p : formatValue(p))).join(" ")));
  }
}
