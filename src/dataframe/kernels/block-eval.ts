/**
 * A groupby's filters and lazily assigned columns (steps.ts's applyStepsMasked) evaluated a
 * block at a time in wasm memory, where the groupby kernels read them: the inputs' blocks are
 * copied in (read in place when they live there), the arithmetic and comparisons run as SIMD
 * kernels (binaryF64, compareF64, logicalU8), and the result is handed over as a pointer, so no
 * JS loop runs per row and no block is copied twice. Same expressions as eval.ts's
 * compileFloat64 / compileMask (null-free float64 columns; +, -, *, / and comparisons, which
 * IEEE makes bit-identical to JS), minus pow, neg and abs, which stay on that path.
 */

import type { Kernels } from "../../kernels/kernels.js";
import type { ExprNode } from "../expr.js";
import { nullFreeF64, type Frame } from "../frame.js";
import { BLOCK, type LazyData } from "./wasm.js";

interface EvalExports {
  binaryF64(op: number, mode: number, d: number, a: number, b: number, n: number): void;
  compareF64(op: number, d: number, a: number, b: number, n: number): void;
  logicalU8(op: number, d: number, a: number, b: number, n: number): void;
}

// Op codes of assembly/elementwise.ts and compare.ts; operand modes of binaryF64.
const BIN: Record<string, number> = { add: 10, sub: 11, mul: 12, div: 13 };
const CMP: Record<string, number> = { eq: 20, ne: 21, lt: 22, le: 23, gt: 24, ge: 25 };
const FLIP: Record<string, string> = { eq: "eq", ne: "ne", lt: "gt", le: "ge", gt: "lt", ge: "le" };
const AND = 26, OR = 27, NOT = 29;
const B_SCALAR = 1, A_SCALAR = 2;

/** Block pointer of rows [start, start + n): valid until the next call of any evaluator of the scope. */
type PtrFn = (start: number, n: number) => number;

/** Owns the wasm scratch of a partial's evaluators; free() after the kernel that reads them. */
export class BlockScope {
  private readonly ptrs: number[] = [];
  readonly ex: EvalExports | null;
  constructor(readonly k: Kernels) {
    const ex = k.exports as unknown as Partial<EvalExports>;
    // A module built before these exports: callers fall back to eval.ts's JS evaluators.
    this.ex = typeof ex.compareF64 === "function" && typeof ex.logicalU8 === "function" ? (ex as EvalExports) : null;
  }
  alloc(bytes: number): number {
    const p = this.k.alloc(Math.max(16, bytes), 16);
    this.ptrs.push(p);
    return p;
  }
  free(): void {
    for (const p of this.ptrs) this.k.free(p);
    this.ptrs.length = 0;
  }
}

/** A scratch area of `size` bytes per row, grown (rarely: blocks are BLOCK rows) when a block is bigger. */
function scratch(scope: BlockScope, size: number): (n: number) => number {
  let rows = BLOCK, p = scope.alloc(BLOCK * size);
  return (n) => (n <= rows ? p : ((rows = n), (p = scope.alloc(n * size))));
}

function compileF64(scope: BlockScope, frame: Frame, e: ExprNode): PtrFn | null {
  const ex = scope.ex!;
  const k = scope.k;
  switch (e.op) {
    case "col": {
      const d = nullFreeF64(frame, e.name);
      if (!d) return null;
      if (d.buffer === k.memory.buffer) return (start) => d.byteOffset + start * 8;
      const buf = scratch(scope, 8);
      return (start, n) => {
        const p = buf(n);
        new Float64Array(k.memory.buffer, p, n).set(d.subarray(start, start + n));
        return p;
      };
    }
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const op = BIN[e.op]!;
      if (e.a.op === "lit" && e.b.op === "lit") return null;
      // A literal side is one f64 that the kernel splats (binaryF64's scalar modes).
      const litPtr = (v: unknown): PtrFn | null => {
        if (typeof v !== "number") return null;
        const p = scope.alloc(16);
        new Float64Array(k.memory.buffer, p, 1)[0] = v;
        return () => p;
      };
      const a = e.a.op === "lit" ? litPtr(e.a.value) : compileF64(scope, frame, e.a);
      const b = e.b.op === "lit" ? litPtr(e.b.value) : compileF64(scope, frame, e.b);
      if (!a || !b) return null;
      const mode = e.b.op === "lit" ? B_SCALAR : e.a.op === "lit" ? A_SCALAR : 0;
      const out = scratch(scope, 8);
      return (start, n) => {
        const x = a(start, n), y = b(start, n);
        const d = out(n);
        ex.binaryF64(op, mode, d, x, y, n);
        return d;
      };
    }
    default:
      return null;
  }
}

function compileMaskPtr(scope: BlockScope, frame: Frame, e: ExprNode): PtrFn | null {
  const ex = scope.ex!;
  const k = scope.k;
  switch (e.op) {
    case "and":
    case "or": {
      const a = compileMaskPtr(scope, frame, e.a), b = compileMaskPtr(scope, frame, e.b);
      if (!a || !b) return null;
      const op = e.op === "and" ? AND : OR;
      const out = scratch(scope, 1);
      return (start, n) => {
        const x = a(start, n), y = b(start, n);
        const d = out(n);
        ex.logicalU8(op, d, x, y, n);
        return d;
      };
    }
    case "not": {
      const a = compileMaskPtr(scope, frame, e.a);
      if (!a) return null;
      const out = scratch(scope, 1);
      return (start, n) => {
        const x = a(start, n);
        const d = out(n);
        ex.logicalU8(NOT, d, x, x, n);
        return d;
      };
    }
    default: {
      // The comparisons; anything else stays on the JS path.
      if (!(e.op in CMP) || !("b" in e) || (e.a.op === "lit" && e.b.op === "lit")) return null;
      let op = e.op as string;
      let a: PtrFn | null, b: PtrFn | null;
      if (e.a.op === "lit" || e.b.op === "lit") {
        // Column side first; the literal as a block of copies (compareF64 reads two arrays).
        const lit = (e.b.op === "lit" ? e.b : e.a) as { value: unknown };
        if (typeof lit.value !== "number") return null;
        if (e.a.op === "lit") op = FLIP[op]!;
        a = compileF64(scope, frame, e.a.op === "lit" ? e.b : e.a);
        const v = lit.value;
        // Allocated now: an allocation while the kernels run could grow memory under them.
        const buf = scratch(scope, 8);
        let filled = 0;
        b = (_start, n) => {
          const p = buf(n);
          if (n > filled) new Float64Array(k.memory.buffer, p, (filled = Math.max(n, BLOCK))).fill(v);
          return p;
        };
      } else {
        a = compileF64(scope, frame, e.a);
        b = compileF64(scope, frame, e.b);
      }
      if (!a || !b) return null;
      const code = CMP[op]!;
      const out = scratch(scope, 1);
      return (start, n) => {
        const x = a(start, n), y = b(start, n);
        const d = out(n);
        ex.compareF64(code, d, x, y, n);
        return d;
      };
    }
  }
}

function lazyOf(scope: BlockScope, fn: PtrFn, length: number, size: 1 | 8): LazyData {
  const k = scope.k;
  return {
    lazy: true,
    length,
    BYTES_PER_ELEMENT: size,
    ptr: fn,
    block: (start, n) => (size === 8 ? new Float64Array(k.memory.buffer, fn(start, n), n) : new Uint8Array(k.memory.buffer, fn(start, n), n)),
  };
}

/** An f64 expression as LazyData computed in wasm memory, or null where eval.ts's JS path must do. */
export function wasmFloat64(scope: BlockScope | undefined, frame: Frame, e: ExprNode): LazyData | null {
  if (!scope?.ex) return null;
  const fn = compileF64(scope, frame, e);
  return fn ? lazyOf(scope, fn, frame.length, 8) : null;
}

/** Filters (each over the frame it sees) as one lazy u8 mask computed in wasm memory, or null. */
export function wasmMask(scope: BlockScope | undefined, length: number, filters: readonly { frame: Frame; predicate: ExprNode }[]): LazyData | null {
  if (!scope?.ex || filters.length === 0) return null;
  const ex = scope.ex;
  const fns: PtrFn[] = [];
  for (const { frame, predicate } of filters) {
    const fn = compileMaskPtr(scope, frame, predicate);
    if (!fn) return null;
    fns.push(fn);
  }
  let all = fns[0]!;
  for (const next of fns.slice(1)) {
    const prev = all, out = scratch(scope, 1);
    all = (start, n) => {
      const x = prev(start, n), y = next(start, n);
      const d = out(n);
      ex.logicalU8(AND, d, x, y, n);
      return d;
    };
  }
  return lazyOf(scope, all, length, 1);
}
