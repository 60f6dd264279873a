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

  const rejected: [string, RegExp][] = [
    ["tissue", /must start with "~"/],
    ["", /must start with "~"/],
    ["y ~ tissue", /a left-hand side is not allowed/],
    ["~", /it has no variable/],
    ["~   ", /it has no variable/],
    ["~ 1", /intercept terms .* are not supported/],
    ["~ 0 + tissue", /intercept terms .* are not supported/],
    ["~ tissue - 1", /removing terms with - is not supported/],
    ["~ a:b", /interactions are not supported/],
    ["~ a * b", /interactions are not supported/],
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
    ["~ batch:sex", /interactions are not supported/],
    ["batch", /must start with "~"/],
  ])("refuses %s, naming the reduced design", (text, reason) => {
    expect(() => parseReducedFormula(text, full)).toThrow(InputError);
    expect(() => parseReducedFormula(text, full)).toThrow(reason);
    expect(() => parseReducedFormula(text, full)).toThrow(/^reduced design |^design /);
  });
});
