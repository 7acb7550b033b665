/**
 * Kernels: the typed API over one instance of the wasm module and its memory.
 *
 * Data lives in wasm memory and is named by pointers (byte offsets) that `alloc` hands out;
 * kernels read and write it in place. `copyIn` / `copyOut` are the only copies, one pass each.
 * Every method validates its arguments (dtype, counts, alignment, bounds) and throws a
 * KernelError naming the bad argument; the wasm code itself trusts what it is given.
 *
 * Elementwise calls (unary, binary, where, clip, astype) are one-op fused programs: they run
 * through the same interpreter as `evaluate(expr)`, so a value is bit-identical whether it was
 * computed fused or op by op, in one chunk or many.
 */

import { TILE, TILE_BYTES, INSTR_WORDS } from "./abi.js";
import { type Dtype, type TypedArray, type TypedArrayFor, checkDtype, dtypeOf, itemSize, typedArrayCtor } from "./dtypes.js";
import { type Expr, type ExprLike, type UnaryOp, type BinaryOp, input, binary as binaryExpr, unary as unaryExpr, where as whereExpr, clip as clipExpr, astype as astypeExpr } from "./expr.js";
import { type Program, compile } from "./compile.js";
import type { Partial, ReduceOp } from "./reduce-state.js";
import { type HeapStats, WasmHeap } from "./memory.js";
import type { KernelExports } from "./wasm.js";
import { KernelError } from "./errors.js";
import * as reduceOps from "./ops-reduce.js";
import { type MatmulOptions, matmul } from "./ops-matmul.js";
import { Random } from "./random.js";

/** An array operand: a pointer into wasm memory and its dtype. */
export interface ArrayArg {
  ptr: number;
  dtype: Dtype;
}
/** An array operand, or a plain number (a weak scalar, broadcast). */
export type Arg = ArrayArg | number;

// Scratch layout: one block allocated on first use, reused by every call.
const MAX_SLOTS = 256;
const MAX_INSTRS = 1024;
const MAX_TILES = 128;
const SLOTS_OFF = 0;
const CODE_OFF = SLOTS_OFF + MAX_SLOTS * 8;
const STATE_OFF = CODE_OFF + MAX_INSTRS * INSTR_WORDS * 4;
const WORK_OFF = STATE_OFF + 64;
const TILES_OFF = Math.ceil((WORK_OFF + 64) / 4096) * 4096;
const SCRATCH_BYTES = TILES_OFF + MAX_TILES * TILE_BYTES;

export class Kernels {
  readonly heap: WasmHeap;
  /** End of the module's constant data: no array may start below it. */
  readonly dataEnd: number;
  /** Random number generation (Philox4x32-10). */
  readonly random: Random;
  private scratchPtr = -1;
  private lastProgram: Program | undefined;
  private readonly programs = new WeakMap<Expr, Map<string, Program>>();
  private readonly workPtrs = new Map<string, number>();

  constructor(
    readonly exports: KernelExports,
    readonly memory: WebAssembly.Memory,
    options: { base?: number | undefined; limit?: number | undefined; maximumBytes?: number | undefined } = {},
  ) {
    this.dataEnd = exports.heapBase();
    const base = Math.ceil(Math.max(options.base ?? 0, this.dataEnd) / 16) * 16;
    const limit = options.limit ?? options.maximumBytes ?? 65536 * 65536;
    this.heap = new WasmHeap(memory, base, limit);
    this.random = new Random(this);
  }

  // ---- memory -------------------------------------------------------------------------------

  /** Allocate nbytes of wasm memory (16-byte aligned by default); may grow the memory. */
  alloc(nbytes: number, align = 16): number {
    return this.heap.alloc(nbytes, align);
  }
  /** Allocate room for `length` elements of `dtype`. */
  allocArray(dtype: Dtype, length: number): number {
    return this.heap.alloc(length * itemSize(checkDtype(dtype)));
  }
  free(ptr: number): void {
    this.heap.free(ptr);
  }
  stats(): HeapStats {
    return this.heap.stats();
  }

  /** A fresh view of wasm memory; invalid after anything that may grow the memory. */
  view<D extends Dtype>(dtype: D, ptr: number, length: number): TypedArrayFor[D] {
    this.checkArray({ ptr, dtype }, length, "view");
    const C = typedArrayCtor(dtype);
    return new C(this.memory.buffer, ptr, length) as TypedArrayFor[D];
  }

  /** Allocate and copy a typed array into wasm memory (one pass); returns the pointer. */
  copyIn(src: TypedArray): number {
    const ptr = this.heap.alloc(src.byteLength);
    this.view(dtypeOf(src), ptr, src.length).set(src);
    return ptr;
  }

  /** Copy `length` elements at ptr out into a new typed array (one pass). */
  copyOut<D extends Dtype>(dtype: D, ptr: number, length: number): TypedArrayFor[D] {
    return this.view(dtype, ptr, length).slice() as TypedArrayFor[D];
  }

  // ---- validation ---------------------------------------------------------------------------

  /** Throws unless n is a count a kernel can take. */
  checkCount(n: number, what: string): void {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new KernelError(`${what}: element count must be an integer in [0, 2^31), got ${n}`);
  }

  /**
   * Throws unless `length` elements of a.dtype at a.ptr are aligned and inside the memory above
   * the module's data (not only this instance's heap: with a shared memory, arrays another
   * instance allocated are fair inputs).
   */
  checkArray(a: ArrayArg, length: number, what: string): void {
    checkDtype(a.dtype, `${what}: dtype`);
    const size = itemSize(a.dtype);
    if (!Number.isInteger(a.ptr) || a.ptr < 0) throw new KernelError(`${what}: pointer must be a non-negative integer, got ${a.ptr}`);
    if (a.ptr % size !== 0) throw new KernelError(`${what}: pointer ${a.ptr} is not aligned to ${size} bytes (the size of ${a.dtype})`);
    if (length === 0) return;
    const end = a.ptr + length * size;
    if (a.ptr < this.dataEnd || end > this.memory.buffer.byteLength) {
      throw new KernelError(
        `${what}: ${length} ${a.dtype} at ${a.ptr} (bytes ${a.ptr}..${end}) is outside the heap [${this.dataEnd}, ${this.memory.buffer.byteLength})`,
      );
    }
  }

  /** The scratch block: program slots, code, state and register tiles. */
  scratch(): number {
    if (this.scratchPtr < 0) this.scratchPtr = this.heap.alloc(SCRATCH_BYTES, 4096);
    return this.scratchPtr;
  }

  /** A work area of `bytes` kept for reuse under `key` (matmul packing buffers). */
  workArea(key: string, bytes: number): number {
    let p = this.workPtrs.get(key);
    if (p === undefined) {
      p = this.heap.alloc(bytes, 64);
      this.workPtrs.set(key, p);
    }
    return p;
  }

  /** Offsets of the scratch areas other modules use. */
  get scratchLayout() {
    const s = this.scratch();
    return { state: s + STATE_OFF, work: s + WORK_OFF };
  }

  // ---- programs -----------------------------------------------------------------------------

  /** compile(), cached per Expr object and input dtypes. */
  compile(expr: Expr, inputDtypes: readonly Dtype[], reduce?: ReduceOp): Program {
    const key = `${inputDtypes.join(",")}|${reduce ?? ""}`;
    let byKey = this.programs.get(expr);
    if (!byKey) this.programs.set(expr, (byKey = new Map()));
    let p = byKey.get(key);
    if (!p) byKey.set(key, (p = compile(expr, inputDtypes, reduce ? { reduce } : {})));
    return p;
  }

  /**
   * Run a program over n elements: inputs are pointers (dtypes as compiled), `out` a pointer for
   * the result unless the program reduces, in which case the chunk's Partial is returned.
   * `index0` is the global index of element 0 (argmin/argmax of a chunk of a bigger array).
   * `out` may be one of the inputs (same pointer, in place), but must not partly overlap one.
   */
  runProgram(program: Program, inputs: readonly number[], n: number, out?: number, options: { index0?: number } = {}): Partial | undefined {
    this.checkCount(n, "runProgram");
    if (inputs.length !== program.inputDtypes.length) {
      throw new KernelError(`runProgram: the program takes ${program.inputDtypes.length} input(s), got ${inputs.length}`);
    }
    inputs.forEach((ptr, i) => this.checkArray({ ptr, dtype: program.inputDtypes[i]! }, n, `runProgram input ${i}`));
    if (program.reduce === undefined) {
      if (out === undefined) throw new KernelError("runProgram: the program writes an array; pass `out` (a pointer)");
      this.checkArray({ ptr: out, dtype: program.dtype }, n, "runProgram out");
    }
    const tiles = program.slots.filter((s) => s.kind === "const" || s.kind === "register").length;
    const ninstr = program.code.length / INSTR_WORDS;
    if (program.slots.length > MAX_SLOTS || ninstr > MAX_INSTRS || tiles > MAX_TILES) {
      throw new KernelError(`runProgram: program too large (${program.slots.length} slots, ${ninstr} instructions, ${tiles} tiles); split the expression`);
    }
    const s = this.scratch();
    const buf = this.memory.buffer;
    const slots = new Uint32Array(buf, s + SLOTS_OFF, program.slots.length * 2);
    let tile = 0;
    const fresh = this.lastProgram !== program;
    program.slots.forEach((spec, i) => {
      if (spec.kind === "input") {
        slots[2 * i] = inputs[spec.index]!;
        slots[2 * i + 1] = itemSize(spec.dtype);
      } else if (spec.kind === "output") {
        slots[2 * i] = out!;
        slots[2 * i + 1] = itemSize(spec.dtype);
      } else {
        const at = s + TILES_OFF + tile++ * TILE_BYTES;
        slots[2 * i] = at;
        slots[2 * i + 1] = 0;
        if (spec.kind === "const" && fresh) new (typedArrayCtor(spec.dtype))(buf, at, TILE).fill(spec.value);
      }
    });
    if (fresh) new Int32Array(buf, s + CODE_OFF, program.code.length).set(program.code);
    this.lastProgram = program;
    let state: Float64Array | undefined;
    if (program.reduce) {
      state = new Float64Array(buf, s + STATE_OFF, 4);
      state.set([0, program.reduce === "prod" || program.reduce === "all" ? 1 : 0, 0, 0]);
    }
    this.exports.run(s + CODE_OFF, ninstr, s + SLOTS_OFF, n, s + STATE_OFF, options.index0 ?? 0);
    if (!program.reduce || !state) return undefined;
    return { op: program.reduce, dtype: program.dtype, count: state[0]!, value: state[1]!, extra: state[2]! };
  }

  /** Evaluate an expression over array inputs into out; returns the result dtype. */
  evaluate(expr: Expr, inputs: readonly ArrayArg[], n: number, out: number): Dtype {
    const p = this.compile(expr, inputs.map((a) => a.dtype));
    this.runProgram(p, inputs.map((a) => a.ptr), n, out);
    return p.dtype;
  }

  /** Evaluate an expression and reduce it in the same pass (one read of each input). */
  evaluateReduce(expr: Expr, inputs: readonly ArrayArg[], n: number, op: ReduceOp, options: { index0?: number } = {}): Partial {
    const p = this.compile(expr, inputs.map((a) => a.dtype), op);
    return this.runProgram(p, inputs.map((a) => a.ptr), n, undefined, options)!;
  }

  // ---- elementwise (one-op programs) --------------------------------------------------------

  unary(op: UnaryOp, a: ArrayArg, out: number, n: number): Dtype {
    return this.elementwise((x) => unaryExpr(op, x[0]!), [a], out, n);
  }
  /** add, sub, mul, div, pow, maximum, minimum, eq..ge (u8 masks), and, or, xor. */
  binary(op: BinaryOp, a: Arg, b: Arg, out: number, n: number): Dtype {
    return this.elementwise((x) => binaryExpr(op, x[0]!, x[1]!), [a, b], out, n);
  }
  where(cond: Arg, a: Arg, b: Arg, out: number, n: number): Dtype {
    return this.elementwise((x) => whereExpr(x[0]!, x[1]!, x[2]!), [cond, a, b], out, n);
  }
  clip(a: ArrayArg, lo: Arg, hi: Arg, out: number, n: number): Dtype {
    return this.elementwise((x) => clipExpr(x[0]!, x[1]!, x[2]!), [a, lo, hi], out, n);
  }
  astype(a: ArrayArg, dtype: Dtype, out: number, n: number): Dtype {
    return this.elementwise((x) => astypeExpr(x[0]!, dtype), [a], out, n);
  }

  private elementwise(build: (x: ExprLike[]) => Expr, args: Arg[], out: number, n: number): Dtype {
    const arrays: ArrayArg[] = [];
    const operands = args.map((a): ExprLike => {
      if (typeof a === "number") return a;
      arrays.push(a);
      return input(arrays.length - 1);
    });
    if (arrays.length === 0) throw new KernelError("elementwise op: at least one operand must be an array ({ ptr, dtype })");
    const p = compile(build(operands), arrays.map((a) => a.dtype));
    this.runProgram(p, arrays.map((a) => a.ptr), n, out);
    return p.dtype;
  }

  // ---- reductions, scans, histograms, matmul ------------------------------------------------

  /** Reduce n elements: the chunk's Partial (combine / finalize in reduce-state.ts). */
  reduce(op: ReduceOp, a: ArrayArg, n: number, options: { index0?: number } = {}): Partial {
    return reduceOps.reduce(this, op, a, n, options);
  }
  /** Reduce a C-order chunk of `shape` along `axis`. */
  reduceAxis(op: ReduceOp, a: ArrayArg, shape: readonly number[], axis: number) {
    return reduceOps.reduceAxis(this, op, a, shape, axis);
  }
  /** Cumulative sum along `axis` (flattened when axis is undefined) into out; returns out's dtype. */
  cumsum(a: ArrayArg, shape: readonly number[], out: number, axis?: number): Dtype {
    return reduceOps.cumsum(this, a, shape, out, axis);
  }
  histogram(a: ArrayArg, n: number, bins: reduceOps.HistogramBins, counts?: Float64Array) {
    return reduceOps.histogram(this, a, n, bins, counts);
  }
  bincount(a: ArrayArg, n: number, minlength = 0): Float64Array {
    return reduceOps.bincount(this, a, n, minlength);
  }
  /** C (m x n) = A (m x k) · B (k x n), row-major, f32 or f64. */
  matmul(dtype: "float32" | "float64", m: number, n: number, k: number, a: number, b: number, c: number, options: MatmulOptions = {}): void {
    matmul(this, dtype, m, n, k, a, b, c, options);
  }
}

