/**
 * The fused-program interpreter: runs a chain of elementwise ops, and optionally one reduction,
 * over n elements in ONE pass, a tile of TILE elements at a time.
 *
 * A program (compiled by src/kernels/compile.ts) is:
 *
 *   code   i32[6 * ninstr]   instructions [op, t, d, a, b, c] (see below)
 *   slots  u32[2 * nslots]   per slot {base, stride}: its data for the tile starting at
 *                            element t0 is at base + stride * t0
 *
 * Every operand is a slot, so every op is a plain pointer loop (elementwise.ts, compare.ts):
 *   - an input or output chunk: base = its pointer, stride = its element size;
 *   - a register: base = a TILE_BYTES area of scratch, stride 0 (reused by every tile);
 *   - a constant: a scratch tile the host filled with the value once, stride 0.
 * So `((x*2+1)**2).sum()` is MUL r0,x,c2; ADD r0,r0,c1; MUL r0,r0,r0; REDUCE SUM r0: per
 * tile, x is read from the chunk once, everything else stays in L1, and nothing chunk-sized
 * is ever written. Without a reduction the last op writes straight into the output chunk.
 *
 *   op               t                    d             a       b       c
 *   (op word bits 8-9, ADD..MIN: 1 b is a constant (splat it), 2 a is, 3 a and b are one slot)
 *   NEG..SIGMOID     f64|f32|i32          dst           x       -       -
 *   ADD..MIN         f64|f32|i32          dst           x       y       -
 *   EQ..GE           operand dtype        dst (u8)      x       y       -
 *   AND,OR,XOR,NOT   u8                   dst (u8)      x       y|-     -
 *   WHERE            dtype of x, y        dst           mask    x       y
 *   CAST             from dtype           dst           x       to      -
 *   REDUCE           dtype of x           reduce kind   x       -       -
 *
 * The REDUCE state (reduce.ts) lives at `state`; `index0` is the global index of element 0
 * (for argmin/argmax of a chunk that is part of a bigger array).
 */

import { TILE, F64, F32, I32, U8, I8, I16, U16, U32 } from "./types";
import { unaryT, binaryT, SIGMOID, ADD, MIN } from "./elementwise";
import { compareT, logical, whereT, castT, EQ, GE, AND, NOT } from "./compare";
import { reduceTile } from "./reduce";

export const WHERE: i32 = 30;
export const CAST: i32 = 31;
export const REDUCE: i32 = 40;

/**
 * The op word's bits above the opcode: for ADD..MIN, the operand mode (elementwise.ts): 1 = b
 * is a constant, 2 = a is a constant, 3 = a and b are the same slot.
 */
const OP_MASK: i32 = 0xff;
const SCALAR_SHIFT: i32 = 8;

function unary(t: i32, op: i32, d: usize, a: usize, n: i32): void {
  if (t == F64) unaryT<f64>(op, d, a, n);
  else if (t == F32) unaryT<f32>(op, d, a, n);
  else if (t == I32) unaryT<i32>(op, d, a, n);
  else unreachable();
}

// The per-dtype loops are exported (index.ts) so that Binaryen does not inline them all into
// run(): one giant function compiles to much slower machine code in V8 than many small ones.
export function binaryF64(op: i32, mode: i32, d: usize, a: usize, b: usize, n: i32): void {
  binaryT<f64>(op, mode, d, a, b, n);
}
export function binaryF32(op: i32, mode: i32, d: usize, a: usize, b: usize, n: i32): void {
  binaryT<f32>(op, mode, d, a, b, n);
}
export function binaryI32(op: i32, mode: i32, d: usize, a: usize, b: usize, n: i32): void {
  binaryT<i32>(op, mode, d, a, b, n);
}

// For the dataframe's block evaluators (src/dataframe/kernels/block-eval.ts): a filter's
// comparison and its and/or/not straight into wasm memory, where the groupby reads the mask.
export function compareF64(op: i32, d: usize, a: usize, b: usize, n: i32): void {
  compareT<f64>(op, d, a, b, n);
}
export function logicalU8(op: i32, d: usize, a: usize, b: usize, n: i32): void {
  logical(op, d, a, b, n);
}

function binary(t: i32, op: i32, mode: i32, d: usize, a: usize, b: usize, n: i32): void {
  if (t == F64) binaryF64(op, mode, d, a, b, n);
  else if (t == F32) binaryF32(op, mode, d, a, b, n);
  else if (t == I32) binaryI32(op, mode, d, a, b, n);
  else unreachable();
}

function compare(t: i32, op: i32, d: usize, a: usize, b: usize, n: i32): void {
  switch (t) {
    case F64: compareT<f64>(op, d, a, b, n); break;
    case F32: compareT<f32>(op, d, a, b, n); break;
    case I32: compareT<i32>(op, d, a, b, n); break;
    case U8: compareT<u8>(op, d, a, b, n); break;
    case I8: compareT<i8>(op, d, a, b, n); break;
    case I16: compareT<i16>(op, d, a, b, n); break;
    case U16: compareT<u16>(op, d, a, b, n); break;
    case U32: compareT<u32>(op, d, a, b, n); break;
    default: unreachable();
  }
}

function where(t: i32, d: usize, c: usize, a: usize, b: usize, n: i32): void {
  if (t == F64) whereT<u64>(d, c, a, b, n);
  else if (t == F32 || t == I32 || t == U32) whereT<u32>(d, c, a, b, n);
  else if (t == I16 || t == U16) whereT<u16>(d, c, a, b, n);
  else whereT<u8>(d, c, a, b, n);
}

function castFrom<F>(to: i32, d: usize, a: usize, n: i32): void {
  switch (to) {
    case F64: castT<F, f64>(d, a, n); break;
    case F32: castT<F, f32>(d, a, n); break;
    case I32: castT<F, i32>(d, a, n); break;
    case U8: castT<F, u8>(d, a, n); break;
    case I8: castT<F, i8>(d, a, n); break;
    case I16: castT<F, i16>(d, a, n); break;
    case U16: castT<F, u16>(d, a, n); break;
    case U32: castT<F, u32>(d, a, n); break;
    default: unreachable();
  }
}

function cast(from: i32, to: i32, d: usize, a: usize, n: i32): void {
  switch (from) {
    case F64: castFrom<f64>(to, d, a, n); break;
    case F32: castFrom<f32>(to, d, a, n); break;
    case I32: castFrom<i32>(to, d, a, n); break;
    case U8: castFrom<u8>(to, d, a, n); break;
    case I8: castFrom<i8>(to, d, a, n); break;
    case I16: castFrom<i16>(to, d, a, n); break;
    case U16: castFrom<u16>(to, d, a, n); break;
    case U32: castFrom<u32>(to, d, a, n); break;
    default: unreachable();
  }
}

function reduceAny(t: i32, kind: i32, p: usize, n: i32, s: usize, index0: f64): void {
  switch (t) {
    case F64: reduceTile<f64>(kind, p, n, s, index0); break;
    case F32: reduceTile<f32>(kind, p, n, s, index0); break;
    case I32: reduceTile<i32>(kind, p, n, s, index0); break;
    case U8: reduceTile<u8>(kind, p, n, s, index0); break;
    case I8: reduceTile<i8>(kind, p, n, s, index0); break;
    case I16: reduceTile<i16>(kind, p, n, s, index0); break;
    case U16: reduceTile<u16>(kind, p, n, s, index0); break;
    case U32: reduceTile<u32>(kind, p, n, s, index0); break;
    default: unreachable();
  }
}

// @ts-ignore: decorator
@inline function slotPtr(slots: usize, s: i32, t0: i32): usize {
  const e = slots + (<usize>s) * 8;
  return <usize>load<u32>(e) + <usize>load<u32>(e, 4) * <usize>t0;
}

/** Run `ninstr` instructions at `code` over n elements, tile by tile. */
export function run(code: usize, ninstr: i32, slots: usize, n: i32, state: usize, index0: f64): void {
  for (let t0 = 0; t0 < n; t0 += TILE) {
    const len = min(TILE, n - t0);
    for (let k = 0; k < ninstr; k++) {
      const ins = code + (<usize>k) * 24;
      const word = load<i32>(ins), t = load<i32>(ins, 4);
      const op = word & OP_MASK;
      const a = slotPtr(slots, load<i32>(ins, 12), t0);
      if (op == REDUCE) {
        reduceAny(t, load<i32>(ins, 8), a, len, state, index0 + <f64>t0);
        continue;
      }
      const d = slotPtr(slots, load<i32>(ins, 8), t0);
      if (op <= SIGMOID) unary(t, op, d, a, len);
      else if (op <= MIN) binary(t, op, word >> SCALAR_SHIFT, d, a, slotPtr(slots, load<i32>(ins, 16), t0), len);
      else if (op >= EQ && op <= GE) compare(t, op, d, a, slotPtr(slots, load<i32>(ins, 16), t0), len);
      else if (op >= AND && op <= NOT) {
        const b = op == NOT ? a : slotPtr(slots, load<i32>(ins, 16), t0);
        logical(op, d, a, b, len);
      } else if (op == WHERE) {
        where(t, d, a, slotPtr(slots, load<i32>(ins, 16), t0), slotPtr(slots, load<i32>(ins, 20), t0), len);
      } else if (op == CAST) cast(t, load<i32>(ins, 16), d, a, len);
      else unreachable();
    }
  }
}
