/** The compiler: dtype rules, lowering rewrites, register allocation and the program format. */

import { describe, expect, it } from "vitest";
import { compile, disassemble, MAX_REGISTERS } from "../../src/kernels/compile.js";
import { exprDtype } from "../../src/kernels/lower.js";
import { type Expr, input, add, mul, div, pow, where, clip, astype, binary, unary, constant } from "../../src/kernels/expr.js";
import { promoteTypes } from "../../src/kernels/dtypes.js";
import { INSTR_WORDS } from "../../src/kernels/abi.js";

const x = input(0), y = input(1);

describe("dtype rules", () => {
  it("promote like numpy", () => {
    expect(promoteTypes("float32", "float64")).toBe("float64");
    expect(promoteTypes("int32", "float32")).toBe("float64");
    expect(promoteTypes("int16", "float32")).toBe("float32");
    expect(promoteTypes("uint8", "int8")).toBe("int16");
    expect(promoteTypes("uint16", "int16")).toBe("int32");
    expect(promoteTypes("bool", "uint8")).toBe("uint8");
    expect(() => promoteTypes("uint32", "int32")).toThrow(/int64/);
  });

  it("give expressions numpy's result dtypes, with JS numbers as weak scalars", () => {
    const d = (e: Expr, ...dtypes: Parameters<typeof exprDtype>[1]) => exprDtype(e, dtypes);
    expect(d(mul(x, 2), "float32")).toBe("float32");
    expect(d(mul(x, 2), "int32")).toBe("int32");
    expect(d(mul(x, 2.5), "int32")).toBe("float64");
    expect(d(mul(x, 2), "uint8")).toBe("uint8");
    expect(d(div(x, y), "int32", "int32")).toBe("float64");
    expect(d(div(x, 2), "float32")).toBe("float32");
    expect(d(binary("lt", x, y), "float32", "int8")).toBe("bool");
    expect(d(unary("sqrt", x), "int16")).toBe("float64");
    expect(d(pow(x, 2), "int32")).toBe("int32");
    expect(d(pow(x, y), "int32", "int32")).toBe("float64");
    expect(d(where(x, 1, 0), "bool")).toBe("int32");
    expect(d(where(x, y, 0), "bool", "float32")).toBe("float32");
    expect(d(clip(x, 0, 1), "float32")).toBe("float32");
    expect(d(astype(x, "bool"), "float64")).toBe("bool");
    expect(d(mul(x, constant(2, "float64")), "float32")).toBe("float64");
    expect(d(add(2, 3), "float32")).toBe("int32");
  });
});

describe("programs", () => {
  it("((x*2+1)**2).sum() is three in-place ops on one register and a reduce", () => {
    const p = compile(pow(add(mul(x, 2), 1), 2), ["float64"], { reduce: "sum" });
    expect(disassemble(p)).toBe(["r0 = mul in0 2:float64 t=0", "r0 = add r0 1:float64 t=0", "r0 = mul r0 r0 t=0", "reduce kind=0 t=0 r0"].join("\n"));
    expect(p.registers).toBe(1);
    expect(p.resultDtype).toBe("float64");
  });

  it("writes the last op straight to the output, copies when the result is an input", () => {
    expect(disassemble(compile(add(x, y), ["float32", "float32"]))).toBe("out = add in0 in1 t=1");
    expect(disassemble(compile(x, ["int32"]))).toBe("out = cast in0 2->2");
    expect(disassemble(compile(x, ["int32"], { reduce: "max" }))).toBe("reduce kind=3 t=2 in0");
  });

  it("computes a shared subexpression once and frees registers after their last use", () => {
    const s = unary("sin", x);
    const p = compile(add(mul(s, s), unary("exp", s)), ["float64"]);
    const ops = disassemble(p).split("\n");
    expect(ops.filter((l) => l.includes("sin"))).toHaveLength(1);
    expect(p.registers).toBeLessThanOrEqual(2);
    expect(p.code.length / INSTR_WORDS).toBe(4);
  });

  it("never writes a wider result into a narrower operand's register", () => {
    const p = compile(mul(astype(binary("gt", x, 0), "float64"), 3), ["float32"]);
    // gt writes a u8 mask; the f64 cast must not reuse the mask's register.
    const lines = disassemble(p).split("\n");
    const mask = lines[0]!.split(" ")[0]!;
    expect(lines[1]!.startsWith(`${mask} `)).toBe(false);
  });

  it("registers are bounded with a clear error; bad inputs and reductions are named", () => {
    // Left-deep chains need one register however long they are.
    let chain: Expr = x;
    for (let i = 0; i < 200; i++) chain = add(chain, mul(unary("sin", x), i + 1));
    expect(compile(chain, ["float64"]).registers).toBeLessThanOrEqual(3);
    // A right-deep one keeps every left operand alive while the right is computed.
    let right: Expr = unary("cos", x);
    for (let i = 0; i < MAX_REGISTERS + 2; i++) right = add(unary("sin", add(x, i)), right);
    expect(() => compile(right, ["float64"])).toThrow(/more than 48 live intermediates/);
    expect(() => compile(x, ["float64"], { reduce: "median" as "sum" })).toThrow(/unknown reduction "median"/);
    expect(() => compile(input(3), ["float64"])).toThrow(/reads input 3 but 1 input/);
  });
});
