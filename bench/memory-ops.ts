/**
 * Ops of the memory benchmark, loaded by the workers as the module "membench": dataframe
 * partitions made on the workers from a seed partition, so the data never passes through the
 * client (whose memory counts in the process's RSS like the workers').
 */

interface SeedTable {
  getChild(name: string): { get(i: number): unknown } | null;
}

/**
 * Partition p (the one value of the seed's column "p") of `rows` rows: `key` int32 in [0, 1000),
 * `value` float64, from a hash of the row number (deterministic, no state).
 */
export function makePartition(seed: SeedTable, rows: number) {
  const p = Number(seed.getChild("p")!.get(0));
  const key = new Int32Array(rows);
  const value = new Float64Array(rows);
  for (let j = 0; j < rows; j++) {
    let h = Math.imul((p * rows + j) ^ 0x9e3779b9, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    key[j] = (h >>> 0) % 1000;
    value[j] = ((h >>> 10) & 0xfffff) / 0x100000;
  }
  return { length: rows, names: ["key", "value"], columns: [{ type: "int32", data: key }, { type: "float64", data: value }] };
}
