/**
 * Core ops every worker has. Collections (arrays, dataframes, ML) register their own in their
 * folders; these are the ones the graph machinery and the futures API need.
 */

import { registerOp } from "./registry.js";
import { IDENTITY_OP } from "./wire.js";

registerOp(IDENTITY_OP, (x: unknown) => x);

/** Pack arguments into one array value (used to gather many keys into one task). */
registerOp("tessera.list", (...xs: unknown[]) => xs);

/** `container[index]`, for destructuring a task's result. */
registerOp("tessera.getitem", (container: unknown, index: string | number) => {
  if (container === null || container === undefined) {
    throw new TypeError(`cannot take item ${JSON.stringify(index)} of ${container}`);
  }
  return (container as Record<string | number, unknown>)[index];
});

/** Sum of numbers, or of an array of numbers (the benchmark's fan-in). */
registerOp("tessera.sum", (...xs: unknown[]) => {
  const list = xs.length === 1 && Array.isArray(xs[0]) ? (xs[0] as unknown[]) : xs;
  let s = 0;
  for (const x of list) {
    if (typeof x !== "number") throw new TypeError(`tessera.sum: expected numbers, got ${typeof x}`);
    s += x;
  }
  return s;
});

/** Does nothing, returns nothing: scheduler benchmarks and barriers. */
registerOp("tessera.noop", () => undefined);
