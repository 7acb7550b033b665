/**
 * The graph page: the task graph the scheduler holds now (FeedGraph), drawn on a canvas in
 * layers from left to right: a task's layer is the longest chain of dependencies below it, and
 * within a layer tasks sit near the average height of their dependencies (one barycenter pass,
 * which untangles trees and reductions well enough). Nodes are colored by state, edges are
 * thin grey lines. Above the feed's limit the page says how many tasks there are instead.
 * Once a computation is over and the scheduler holds nothing, the last graph seen stays up.
 * data-nodes, data-edges, data-total, data-too-large and data-memory etc. (tasks per state)
 * mirror what is drawn.
 */

import type { FeedGraph } from "tessera";
import { formatCount } from "./colors.js";

export const STATE_COLORS: Record<string, string> = {
  released: "#d0d5dd",
  waiting: "#a0a7b4",
  ready: "#edc948",
  processing: "#4e79a7",
  memory: "#59a14f",
  erred: "#d62728",
};

interface Layout {
  x: Float64Array;
  y: Float64Array;
  r: number;
}

export class GraphView {
  private readonly ctx: CanvasRenderingContext2D;
  private layout: Layout | undefined;
  private shown: FeedGraph | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly caption: HTMLElement,
    private readonly legend: HTMLElement,
    private readonly tip: HTMLElement,
  ) {
    this.ctx = canvas.getContext("2d")!;
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => (this.tip.hidden = true));
  }

  /** Draw `current` (the graph now); `last` (the last with tasks) stands in when current is empty. */
  render(current: FeedGraph | undefined, last: FeedGraph | undefined): void {
    const canvas = this.canvas;
    if (!current) {
      this.caption.textContent = "Fetching the task graph…";
      return;
    }
    canvas.dataset.total = String(current.total);
    canvas.dataset.tooLarge = String(current.tooLarge);
    if (current.tooLarge) {
      this.caption.textContent = `The scheduler holds ${formatCount(current.total)} tasks: too large to draw here (the limit is ${formatCount(current.limit)}).`;
      this.caption.className = "caption too-large";
      this.clear(120);
      this.shown = undefined;
      this.legend.replaceChildren();
      canvas.dataset.nodes = "0";
      canvas.dataset.edges = "0";
      return;
    }
    const g = current.total > 0 ? current : last;
    if (!g || g.key.length === 0) {
      this.caption.textContent = "The scheduler holds no tasks now.";
      this.caption.className = "caption";
      this.clear(120);
      this.shown = undefined;
      this.legend.replaceChildren();
      canvas.dataset.nodes = "0";
      canvas.dataset.edges = "0";
      return;
    }
    this.caption.className = "caption";
    this.caption.textContent =
      g === current
        ? `${formatCount(g.key.length)} tasks, ${formatCount(g.from.length)} dependencies`
        : `No tasks held now; the last graph seen (${new Date(g.time).toLocaleTimeString()}): ${formatCount(g.key.length)} tasks, ${formatCount(g.from.length)} dependencies`;
    if (this.shown === undefined || !sameNodes(this.shown, g)) this.layout = layered(g);
    this.shown = g;
    this.draw(g, this.layout!);
  }

  private size(height: number): { w: number; h: number } {
    const canvas = this.canvas;
    const w = Math.max(320, canvas.clientWidth);
    const dpr = globalThis.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = `${height}px`;
    }
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.ctx.clearRect(0, 0, w, height);
    return { w, h: height };
  }

  private clear(height: number): void {
    this.size(height);
  }

  private draw(g: FeedGraph, layout: Layout): void {
    const { w, h } = this.size(GRAPH_HEIGHT);
    const ctx = this.ctx;
    const px = (i: number) => PAD + layout.x[i]! * (w - 2 * PAD);
    const py = (i: number) => PAD + layout.y[i]! * (h - 2 * PAD);
    ctx.strokeStyle = "#8a93a3";
    ctx.lineWidth = 0.7;
    ctx.globalAlpha = g.from.length > 3000 ? 0.12 : g.from.length > 500 ? 0.3 : 0.6;
    ctx.beginPath();
    for (let e = 0; e < g.from.length; e++) {
      ctx.moveTo(px(g.from[e]!), py(g.from[e]!));
      ctx.lineTo(px(g.to[e]!), py(g.to[e]!));
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    const counts: Record<string, number> = {};
    const r = layout.r;
    for (let i = 0; i < g.key.length; i++) {
      const state = g.state[i]!;
      counts[state] = (counts[state] ?? 0) + 1;
      ctx.fillStyle = STATE_COLORS[state] ?? "#888";
      ctx.fillRect(px(i) - r, py(i) - r, 2 * r, 2 * r);
    }
    const canvas = this.canvas;
    canvas.dataset.nodes = String(g.key.length);
    canvas.dataset.edges = String(g.from.length);
    canvas.dataset.states = JSON.stringify(counts);
    this.legend.replaceChildren(
      ...Object.keys(STATE_COLORS).map((state) => {
        const item = document.createElement("span");
        const swatch = document.createElement("i");
        swatch.style.background = STATE_COLORS[state]!;
        item.append(swatch, `${state} ${formatCount(counts[state] ?? 0)}`);
        return item;
      }),
    );
  }

  private hover(e: MouseEvent): void {
    const g = this.shown;
    const layout = this.layout;
    if (!g || !layout) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    const w = rect.width;
    const h = rect.height;
    let best = -1;
    let bestD = (layout.r + 3) ** 2;
    for (let i = 0; i < g.key.length; i++) {
      const d = (PAD + layout.x[i]! * (w - 2 * PAD) - x) ** 2 + (PAD + layout.y[i]! * (h - 2 * PAD) - y) ** 2;
      if (d <= bestD) {
        best = i;
        bestD = d;
      }
    }
    if (best < 0) {
      this.tip.hidden = true;
      return;
    }
    this.tip.textContent = `${g.key[best]}\n${g.state[best]} · ${g.prefixes[g.prefix[best]!] ?? "?"}`;
    this.tip.style.left = `${Math.min(x + 12, w - 260)}px`;
    this.tip.style.top = `${y + 14}px`;
    this.tip.hidden = false;
  }
}

const PAD = 14;
const GRAPH_HEIGHT = 520;

function sameNodes(a: FeedGraph, b: FeedGraph): boolean {
  if (a.key.length !== b.key.length || a.from.length !== b.from.length) return false;
  for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return false;
  return true;
}

/**
 * Positions in [0, 1]²: x by layer (longest path from a task without dependencies), y by
 * order within the layer. Exported for tests.
 */
export function layered(g: Pick<FeedGraph, "key" | "from" | "to">): Layout {
  const n = g.key.length;
  const deps: number[][] = Array.from({ length: n }, () => []);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Int32Array(n);
  for (let e = 0; e < g.from.length; e++) {
    deps[g.to[e]!]!.push(g.from[e]!);
    dependents[g.from[e]!]!.push(g.to[e]!);
    indegree[g.to[e]!]!++;
  }
  // Kahn's order gives each task's layer after all its dependencies'.
  const layer = new Int32Array(n);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indegree[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    for (const j of dependents[i]!) {
      if (layer[i]! + 1 > layer[j]!) layer[j] = layer[i]! + 1;
      if (--indegree[j]! === 0) queue.push(j);
    }
  }
  let depth = 0;
  for (let i = 0; i < n; i++) depth = Math.max(depth, layer[i]!);
  const layers: number[][] = Array.from({ length: depth + 1 }, () => []);
  for (let i = 0; i < n; i++) layers[layer[i]!]!.push(i);
  const y = new Float64Array(n);
  const x = new Float64Array(n);
  let widest = 1;
  layers.forEach((members, l) => {
    if (l > 0) {
      // Barycenter of the dependencies' heights (placed already: they are in earlier layers).
      const bary = new Map<number, number>();
      for (const i of members) {
        const d = deps[i]!;
        let sum = 0;
        for (const j of d) sum += y[j]!;
        bary.set(i, d.length > 0 ? sum / d.length : 0.5);
      }
      members.sort((a, b) => bary.get(a)! - bary.get(b)! || a - b);
    }
    widest = Math.max(widest, members.length);
    members.forEach((i, k) => {
      y[i] = members.length === 1 ? 0.5 : (k + 0.5) / members.length;
      x[i] = depth === 0 ? 0.5 : l / depth;
    });
  });
  const r = Math.max(1, Math.min(6, (GRAPH_HEIGHT - 2 * PAD) / widest / 2.5, 900 / (depth + 1) / 4));
  return { x, y, r };
}
