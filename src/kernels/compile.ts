/**
 * compile(expr, inputDtypes, { reduce }) -> Program: the fused kernel for one chunk.
 *
 * The Expr is lowered to typed IR (lower.ts), then emitted in post-order as instructions of the
 * interpreter in assembly/program.ts (see its header for the instruction table). Every operand
 * is a slot:
 *
 *   slot 0..I-1   the inputs, in order           base = chunk pointer, stride = element size
 *   slot I        the output (no reduction)       base = out pointer,   stride = element size
 *   then          constants, one per (dtype, value), each a tile the runner fills once per call
 *   then          registers, one TILE_BYTES tile each, reused by every tile of the chunk
 *
 * Registers are allocated with use counts: an operand's register is freed after its last use,
 * and an op may write in place into a dying operand's register when its result is no wider
 * (the loops load before they store, front to back). The root op writes straight to the output
 * slot, or feeds the REDUCE instruction, so no chunk-sized intermediate ever exists.
 *
 * A DAG (the same Expr object used twice) is computed once. Compile once per distinct chain and
 * reuse the Program for every chunk: it holds no pointers.
 */

import { OP, REDUCE_KIND, DTYPE_CODE, INSTR_WORDS } from "./abi.js";
import { type Dtype, checkDtype, itemSize } from "./dtypes.js";
import type { Expr } from "./expr.js";
import { type Ir, lower } from "./lower.js";
import { type ReduceOp, REDUCE_OPS, reduceResultDtype } from "./reduce-state.js";
import { KernelError } from "./errors.js";

export type SlotSpec =
  | { kind: "input"; index: number; dtype: Dtype }
  | { kind: "output"; dtype: Dtype }
  | { kind: "const"; value: number; dtype: Dtype }
  | { kind: "register"; index: number };

export interface Program {
  /** INSTR_WORDS int32 per instruction: [op, t, d, a, b, c]. */
  readonly code: Int32Array;
  readonly slots: readonly SlotSpec[];
  readonly registers: number;
  readonly inputDtypes: readonly Dtype[];
  /** Dtype of the elementwise result: what `out` receives, or what is reduced. */
  readonly dtype: Dtype;
  readonly reduce?: ReduceOp;
  /** Dtype of the final value: `dtype`, or the reduction's result dtype. */
  readonly resultDtype: Dtype;
}

export interface CompileOptions {
  /** Reduce the elementwise result instead of writing it out. */
  reduce?: ReduceOp;
}

/** Bits of the op word above the opcode: operand mode (b constant, a constant, a is b). */
const SCALAR_SHIFT = 8;

/** Most registers a program may use (the runner's scratch holds them in one block). */
export const MAX_REGISTERS = 48;

export function compile(expr: Expr, inputDtypes: readonly Dtype[], options: CompileOptions = {}): Program {
  inputDtypes.forEach((d, i) => checkDtype(d, `dtype of input ${i}`));
  const reduce = options.reduce;
  if (reduce !== undefined && !REDUCE_OPS.includes(reduce)) {
    throw new KernelError(`unknown reduction ${JSON.stringify(reduce)}; expected one of ${REDUCE_OPS.join(", ")}`);
  }
  const root = lower(expr, inputDtypes);
  return new Emitter(inputDtypes, root, reduce).program;
}

class Emitter {
  readonly program: Program;
  private readonly code: number[] = [];
  private readonly slots: SlotSpec[] = [];
  private readonly consts = new Map<string, number>();
  private readonly uses = new Map<Ir, number>();
  private readonly slotOf = new Map<Ir, number>();
  private readonly registerSlots: number[] = [];
  private readonly freeRegs: number[] = [];
  private outSlot = -1;

  constructor(inputDtypes: readonly Dtype[], root: Ir, reduce: ReduceOp | undefined) {
    inputDtypes.forEach((dtype, index) => this.slots.push({ kind: "input", index, dtype }));
    if (!reduce) {
      this.outSlot = this.slots.length;
      this.slots.push({ kind: "output", dtype: root.dtype });
    }
    this.countUses(root);
    if (reduce) {
      const s = this.emit(root, false);
      const kind = reduce === "mean" ? REDUCE_KIND.sum : reduce === "std" ? REDUCE_KIND.var : REDUCE_KIND[reduce];
      this.code.push(OP.reduce, DTYPE_CODE[root.dtype], kind, s, 0, 0);
    } else if (root.k === "op" || root.k === "cast") {
      this.emit(root, true);
    } else {
      // The result is an input or a constant: copy it out.
      const s = this.emit(root, false);
      this.code.push(OP.cast, DTYPE_CODE[root.dtype], this.outSlot, s, DTYPE_CODE[root.dtype], 0);
    }
    this.program = {
      code: Int32Array.from(this.code),
      slots: this.slots,
      registers: this.registerSlots.length,
      inputDtypes: [...inputDtypes],
      dtype: root.dtype,
      ...(reduce ? { reduce } : {}),
      resultDtype: reduce ? reduceResultDtype(reduce, root.dtype) : root.dtype,
    };
  }

  private countUses(n: Ir): void {
    const seen = this.uses.has(n);
    this.uses.set(n, (this.uses.get(n) ?? 0) + 1);
    if (seen) return;
    if (n.k === "op") n.args.forEach((a) => this.countUses(a));
    else if (n.k === "cast") this.countUses(n.a);
  }

  /** Emit n (once) and return its slot; `toOutput` writes the root into the output slot. */
  private emit(n: Ir, toOutput: boolean): number {
    const done = this.slotOf.get(n);
    if (done !== undefined) return done;
    let slot: number;
    if (n.k === "input") slot = n.index;
    else if (n.k === "const") slot = this.constSlot(n.value, n.dtype);
    else {
      const args = n.k === "op" ? n.args : [n.a];
      const argSlots = args.map((a) => this.emit(a, false));
      // Release operands whose last use is this op; one may become the destination.
      const dying: number[] = [];
      args.forEach((a, i) => {
        const left = this.uses.get(a)! - 1;
        this.uses.set(a, left);
        if (left === 0 && this.isRegister(argSlots[i]!) && !dying.includes(argSlots[i]!)) dying.push(argSlots[i]!);
      });
      const width = itemSize(n.dtype);
      const inPlace = dying.find((s) => args.some((a, i) => argSlots[i] === s && itemSize(a.dtype) >= width));
      slot = toOutput ? this.outSlot : inPlace ?? this.newRegister();
      for (const s of dying) if (s !== slot) this.freeRegs.push(s);
      this.pushInstr(n, slot, argSlots);
    }
    this.slotOf.set(n, slot);
    return slot;
  }

  private pushInstr(n: Ir, d: number, a: number[]): void {
    if (n.k === "cast") {
      this.code.push(OP.cast, DTYPE_CODE[n.a.dtype], d, a[0]!, DTYPE_CODE[n.dtype], 0);
    } else if (n.k === "op") {
      let word: number = OP[n.op];
      if (word >= OP.add && word <= OP.minimum && word !== OP.pow) {
        // Tell the interpreter a constant operand can be splatted (assembly/program.ts).
        const aConst = this.slots[a[0]!]!.kind === "const", bConst = this.slots[a[1]!]!.kind === "const";
        if (bConst && !aConst) word |= 1 << SCALAR_SHIFT;
        else if (aConst && !bConst) word |= 2 << SCALAR_SHIFT;
        else if (a[0] === a[1]) word |= 3 << SCALAR_SHIFT;
      }
      this.code.push(word, DTYPE_CODE[n.t], d, a[0]!, a[1] ?? 0, a[2] ?? 0);
    }
  }

  private isRegister(slot: number): boolean {
    return this.slots[slot]!.kind === "register";
  }

  private newRegister(): number {
    const free = this.freeRegs.pop();
    if (free !== undefined) return free;
    if (this.registerSlots.length >= MAX_REGISTERS) {
      throw new KernelError(`expression needs more than ${MAX_REGISTERS} live intermediates; split it into two kernel calls`);
    }
    const slot = this.slots.length;
    this.slots.push({ kind: "register", index: this.registerSlots.length });
    this.registerSlots.push(slot);
    return slot;
  }

  private constSlot(value: number, dtype: Dtype): number {
    const key = `${dtype}:${Object.is(value, -0) ? "-0" : String(value)}`;
    let slot = this.consts.get(key);
    if (slot === undefined) {
      slot = this.slots.length;
      this.slots.push({ kind: "const", value, dtype });
      this.consts.set(key, slot);
    }
    return slot;
  }
}

/** A readable listing of a program, for debugging and tests. */
export function disassemble(p: Program): string {
  const names = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));
  const slotName = (s: number): string => {
    const spec = p.slots[s];
    if (!spec) return `?${s}`;
    if (spec.kind === "input") return `in${spec.index}`;
    if (spec.kind === "output") return "out";
    if (spec.kind === "const") return `${spec.value}:${spec.dtype}`;
    return `r${spec.index}`;
  };
  const lines: string[] = [];
  for (let i = 0; i < p.code.length; i += INSTR_WORDS) {
    const [word, t, d, a, b, c] = p.code.subarray(i, i + INSTR_WORDS);
    const op = word! & 0xff;
    const name = names.get(op!) ?? `op${op}`;
    if (op === OP.reduce) lines.push(`reduce kind=${d} t=${t} ${slotName(a!)}`);
    else if (op === OP.cast) lines.push(`${slotName(d!)} = cast ${slotName(a!)} ${t}->${b}`);
    else if (op === OP.where) lines.push(`${slotName(d!)} = where ${slotName(a!)} ${slotName(b!)} ${slotName(c!)} t=${t}`);
    else if (op < OP.add || op === OP.not) lines.push(`${slotName(d!)} = ${name} ${slotName(a!)} t=${t}`);
    else lines.push(`${slotName(d!)} = ${name} ${slotName(a!)} ${slotName(b!)} t=${t}`);
  }
  return lines.join("\n");
}
