/**
 * The numbers shared with the wasm module (assembly/types.ts, elementwise.ts, compare.ts,
 * program.ts, reduce.ts). Changing one here without the other breaks every kernel call, so
 * the loader compares ABI_VERSION with the module's `abiVersion()`.
 */

import type { Dtype } from "./dtypes.js";

export const ABI_VERSION = 3;

/** Elements per program tile and bytes per register (TILE elements of up to 8 bytes). */
export const TILE = 512;
export const TILE_BYTES = TILE * 8;

/** Dtype codes; bool is stored as uint8 0/1. */
export const DTYPE_CODE: Record<Dtype, number> = {
  float64: 0,
  float32: 1,
  int32: 2,
  uint8: 3,
  int8: 4,
  int16: 5,
  uint16: 6,
  uint32: 7,
  bool: 3,
};

/** Instruction opcodes of the program interpreter (assembly/program.ts). */
export const OP = {
  neg: 1,
  abs: 2,
  sqrt: 3,
  exp: 4,
  log: 5,
  sin: 6,
  cos: 7,
  tanh: 8,
  sigmoid: 9,
  add: 10,
  sub: 11,
  mul: 12,
  div: 13,
  pow: 14,
  maximum: 15,
  minimum: 16,
  eq: 20,
  ne: 21,
  lt: 22,
  le: 23,
  gt: 24,
  ge: 25,
  and: 26,
  or: 27,
  xor: 28,
  not: 29,
  where: 30,
  cast: 31,
  reduce: 40,
} as const;

/** Reduction kinds (assembly/reduce.ts); mean uses the sum state, std the var state. */
export const REDUCE_KIND = {
  sum: 0,
  prod: 1,
  min: 2,
  max: 3,
  argmin: 4,
  argmax: 5,
  var: 6,
  any: 7,
  all: 8,
} as const;

/** Words per instruction: [op, t, d, a, b, c]. */
export const INSTR_WORDS = 6;
