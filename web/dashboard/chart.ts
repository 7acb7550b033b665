/**
 * Throughput and memory over time (uPlot): tasks finished per second on the left axis; on the
 * right, bytes of results the workers hold (managed) and, where it can be measured (Node), the
 * workers' whole memory. One point per feed update, the last 600.
 */

import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatBytes, formatCount, formatValue } from "./colors.js";
import type { Series } from "./state.js";

export class RateChart {
  private readonly plot: uPlot;

  constructor(private readonly host: HTMLElement) {
    const opts: uPlot.Options = {
      width: Math.max(300, host.clientWidth),
      height: 170,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, rate: { auto: true }, bytes: { auto: true } },
      series: [
        {},
        { label: "tasks/s", scale: "rate", stroke: "#4e79a7", width: 1.5, fill: "rgba(78,121,167,0.12)", value: (_u, v) => (v == null ? "—" : formatCount(v)) },
        { label: "managed memory", scale: "bytes", stroke: "#f28e2b", width: 1.5, value: (_u, v) => (v == null ? "—" : formatBytes(v)) },
        { label: "measured memory", scale: "bytes", stroke: "#a0a7b4", width: 1.5, dash: [4, 3], value: (_u, v) => (v == null ? "—" : formatBytes(v)) },
      ],
      axes: [
        {},
        { scale: "rate", size: 60, values: (_u, ticks) => ticks.map((t) => formatCount(t)) },
        { scale: "bytes", side: 1, size: 64, grid: { show: false }, values: (_u, ticks) => ticks.map((t) => formatBytes(t)) },
      ],
    };
    this.plot = new uPlot(opts, [[], [], [], []], host);
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(300, host.clientWidth), height: 170 })).observe(host);
  }

  render(s: Series): void {
    // Copies: the state keeps appending to its arrays, and uPlot keeps what it is given.
    this.plot.setData([s.time.slice(), s.rate.slice(), s.memory.slice(), s.measured.slice()]);
    this.host.dataset.points = String(s.time.length);
  }
}

/**
 * The series the client logged (client.logMetric), one small line chart each, made as names
 * first appear; the section stays hidden until there is one.
 */
export class MetricCharts {
  private readonly plots = new Map<string, { plot: uPlot; box: HTMLElement }>();

  constructor(private readonly section: HTMLElement, private readonly host: HTMLElement) {}

  render(metrics: ReadonlyMap<string, { x: number[]; y: number[] }>): void {
    this.section.classList.toggle("empty", metrics.size === 0);
    for (const [name, s] of metrics) {
      let p = this.plots.get(name);
      if (!p) {
        const box = document.createElement("div");
        box.className = "metric";
        box.dataset.name = name;
        this.host.append(box);
        const width = () => Math.max(260, Math.floor(this.host.clientWidth / 2) - 12);
        const plot = new uPlot(
          {
            width: width(),
            height: 150,
            title: name,
            legend: { live: false },
            cursor: { drag: { x: false, y: false } },
            scales: { x: { time: false }, y: { auto: true } },
            series: [{}, { label: name, stroke: "#4e79a7", width: 1.25, value: (_u, v) => (v == null ? "—" : formatValue(v)) }],
            axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((t) => formatValue(t)) }],
          },
          [[], []],
          box,
        );
        new ResizeObserver(() => plot.setSize({ width: width(), height: 150 })).observe(this.host);
        this.plots.set(name, (p = { plot, box }));
      }
      if (Number(p.box.dataset.points ?? -1) === s.x.length && s.x.length < 10_000) continue;
      p.plot.setData([s.x.slice(), s.y.slice()]);
      p.box.dataset.points = String(s.x.length);
      p.box.dataset.last = String(s.y.at(-1) ?? "");
    }
  }
}
