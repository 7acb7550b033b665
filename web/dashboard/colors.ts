/**
 * Colors: one per task prefix (by the prefix's id, so a prefix keeps its color for the whole
 * session, in the task stream and its progress bar alike), and red reserved for failures.
 */

const PALETTE = [
  "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
  "#9c755f", "#ff9da7", "#86bcb6", "#8cd17d", "#a0cbe8", "#ffbe7d",
  "#d4a6c8", "#bab0ac", "#499894", "#d37295",
];

export const ERRED = "#d62728";
export const ERRED_EDGE = "#7a0c0c";
/** Task stream lanes: inputs fetched from peers, values spilled to disk, values read back. */
export const TRANSFER_COLOR = "#6f42c1";
export const SPILL_COLOR = "#f28e2b";
export const UNSPILL_COLOR = "#17a2b8";

export function prefixColor(id: number): string {
  return PALETTE[((id % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

/** Bytes as short text: 1.5 GB, 320 MB, 12 kB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let u = 0;
  while (Math.abs(n) >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${n >= 100 || u === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A measured value: counts as counts, small values with 3 significant digits (a loss of 0.0742). */
export function formatValue(n: number): string {
  return Math.abs(n) >= 100 ? formatCount(n) : Number(n.toPrecision(3)).toString();
}
