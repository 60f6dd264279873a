import { describe, expect, it } from "vitest";
import { parseFormula, parseReducedFormula } from "../../src/design/formula.js";
import { InputError } from "../../src/io/errors.js";

describe("parseFormula", () => {
  it("parses main-effect formulas, tolerating whitespace", () => {
    expect(parseFormula("~ tissue")).toEqual({ text: "~ tissue", terms: ["tissue"] });
    expect(parseFormula("~tissue").terms).toEqual(["tissue"]);
    expect(parseFormula("  ~  batch+ condition  ").terms).toEqual(["batch", "condition"]);
    expect(parseFormula("~\tbatch +\n condition + age").terms).toEqual([
      "batch",
      "condition",
      "age",
    ]);
  });

  it("accepts R names with dots and underscores, and backtick-quoted names", () => {
    expect(parseFormula("~ cell.type + cell_line + .hidden").terms).toEqual([
      "cell.type",
      "cell_line",
      ".hidden",
    ]);
    expect(parseFormula("~ `cell type` + `2nd batch`").terms).toEqual(["cell type", "2nd batch"]);
  });

  it("parses interactions: a * b is a + b + a:b, terms by degree, variables in formula order", () => {
    expect(parseFormula("~ a * b")).toEqual({
      text: "~ a * b",
      terms: ["a", "b"],
      interactions: [["a", "b"]],
    });
    expect(parseFormula("~ a + b + b:a").interactions).toEqual([["a", "b"]]);
    expect(parseFormula("~ c + a * b").terms).toEqual(["c", "a", "b"]);
    expect(parseFormula("~ a * b * c")).toMatchObject({
      terms: ["a", "b", "c"],
      interactions: [
        ["a", "b"],
        ["a", "c"],
        ["b", "c"],
        ["a", "b", "c"],
      ],
    });
    // Repeats that R collapses.
    expect(parseFormula("~ a * b + a:b + b * a").interactions).toEqual([["a", "b"]]);
    expect(parseFormula("~ a + b").interactions).toBeUndefined();
  });

  it("reads the intercept as R does: 0 + and - 1 remove it, 1 + keeps it; factor(x)", () => {
    for (const text of ["~ 0 + tissue", "~ tissue - 1", "~ tissue + 0", "~ 0 + tissue - 1"])
      expect(parseFormula(text)).toEqual({ text, terms: ["tissue"], intercept: false });
    expect(parseFormula("~ 1 + tissue")).toEqual({ text: "~ 1 + tissue", terms: ["tissue"] });
    expect(parseFormula("~ factor(batch) + condition")).toEqual({
      text: "~ factor(batch) + condition",
      terms: ["batch", "condition"],
      factors: ["batch"],
    });
    expect(parseFormula("~ 0 + factor( batch )").factors).toEqual(["batch"]);
  });

  const rejected: [string, RegExp][] = [
    ["tissue", /must start with "~"/],
    ["", /must start with "~"/],
    ["y ~ tissue", /a left-hand side is not allowed/],
    ["~", /it has no variable/],
    ["~   ", /it has no variable/],
    ["~ 1", /it has no variable/],
    ["~ 0", /it has no variable/],
    ["~ 0 + 1 + a", /both removes \(0\) and keeps \(1\) the intercept/],
    ["~ 0 + a * b", /without an intercept .* cannot have interaction terms/],
    ["~ a - b", /removing terms with - is not supported/],
    ["~ factor(a):b", /factor\(a\) is supported as a main effect only/],
    ["~ factor(a) + a", /variable "a" appears twice/],
    ["~ a:b", /interaction a:b needs "a" as a main effect too \(write a \* b\)/],
    ["~ a + a:b", /interaction a:b needs "b" as a main effect too/],
    ["~ a * a", /"a \* a": a variable appears twice in the term/],
    ["~ a * b:c", /write a \* b or a:b, not both in a term/],
    ["~ a^2", /powers of terms/],
    ["~ log(age)", /transformations such as log\(age\) are not supported/],
    ["~ a + a", /variable "a" appears twice/],
    ["~ a +", /a term is empty/],
    ["~ a + + b", /a term is empty/],
    ["~ 2a", /"2a" is not a variable name/],
    ["~ cell type", /"cell type" is not a variable name \(quote unusual names with backticks\)/],
  ];
  for (const [formula, reason] of rejected) {
    it(`rejects ${JSON.stringify(formula)}, naming it`, () => {
      expect(() => parseFormula(formula)).toThrow(InputError);
      expect(() => parseFormula(formula)).toThrow(`design ${JSON.stringify(formula)}: `);
      expect(() => parseFormula(formula)).toThrow(reason);
      expect(() => parseFormula(formula)).toThrow(
        /expected a formula like "~ batch \+ condition"$/,
      );
    });
  }
});

describe("parseReducedFormula", () => {
  const full = parseFormula("~ batch + sex + condition");

  it("takes `~ 1` (intercept only) and any proper subset of the full design's variables", () => {
    expect(parseReducedFormula("~ 1", full).terms).toEqual([]);
    expect(parseReducedFormula(" ~1 ", full).terms).toEqual([]);
    expect(parseReducedFormula("~ batch", full).terms).toEqual(["batch"]);
    expect(parseReducedFormula("~ sex + batch", full).terms).toEqual(["sex", "batch"]);
  });

  it.each([
    ["~ batch + age", /variable "age" is not in the full design/],
    ["~ batch + sex + condition", /keeps every variable of the full design/],
    ["~ condition + sex + batch", /keeps every variable of the full design/],
    ["~ batch:sex", /needs "batch" as a main effect too/],
    ["~ batch * sex", /interaction batch:sex is not in the full design/],
    ["batch", /must start with "~"/],
  ])("refuses %s, naming the reduced design", (text, reason) => {
    expect(() => parseReducedFormula(text, full)).toThrow(InputError);
    expect(() => parseReducedFormula(text, full)).toThrow(reason);
    expect(() => parseReducedFormula(text, full)).toThrow(/^reduced design |^design /);
  });
});
