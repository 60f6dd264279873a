/**
 * Contrasts as DESeq2 resolves them: the default is the last coefficient; factor,level,reference
 * gives +1/−1 weights on the levels' columns (none for the design's reference level).
 */
import { describe, expect, it } from "vitest";
import { designColumns } from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import { InputError } from "../../src/io/errors.js";
import { parseContrast, resolveContrast } from "../../src/results/contrast.js";

const formula = parseFormula("~ age + tissue");
const levels = { tissue: ["adipose", "blood", "heart"] };
const columns = designColumns(formula, levels);

function weights(spec?: string) {
  const c = resolveContrast(
    spec === undefined ? undefined : parseContrast(spec),
    formula,
    levels,
    columns,
  );
  return { weights: Array.from(c.weights), description: c.description };
}

describe("contrasts", () => {
  it("default: the last coefficient (the last factor's last level against its reference)", () => {
    expect(columns).toEqual([
      "Intercept",
      "age",
      "tissue_blood_vs_adipose",
      "tissue_heart_vs_adipose",
    ]);
    expect(weights()).toEqual({ weights: [0, 0, 0, 1], description: "tissue heart vs adipose" });
  });

  it("a level against the reference, the reverse, and two non-reference levels", () => {
    expect(weights("tissue,blood,adipose").weights).toEqual([0, 0, 1, 0]);
    expect(weights("tissue,adipose,heart").weights).toEqual([0, 0, 0, -1]);
    expect(weights("tissue,heart,blood")).toEqual({
      weights: [0, 0, -1, 1],
      description: "tissue heart vs blood",
    });
  });

  it("a continuous variable by name", () => {
    expect(weights("age")).toEqual({ weights: [0, 1, 0, 0], description: "age" });
  });

  it("refuses what the design does not have, naming it", () => {
    expect(() => weights("tissue,liver,adipose")).toThrow(/"liver" is not a level of tissue/);
    expect(() => weights("batch,a,b")).toThrow(/"batch" is not a factor of the design/);
    expect(() => weights("tissue")).toThrow(/not a continuous variable/);
    expect(() => weights("tissue,heart,heart")).toThrow(InputError);
    expect(() => parseContrast("a,b")).toThrow(/expected factor,level,reference/);
  });
});

describe("contrasts of designs without an intercept and with factor(x), as DESeq2 resolves them", () => {
  const resolve = (text: string, lv: Record<string, string[]>, spec?: string) => {
    const f = parseFormula(text);
    const cols = designColumns(f, lv);
    const c = resolveContrast(spec === undefined ? undefined : parseContrast(spec), f, lv, cols);
    return { columns: cols, weights: Array.from(c.weights), description: c.description };
  };
  const lv = { condition: ["A", "B", "C"], batch: ["b1", "b2"] };

  it("default: the last factor's last level against its first (DESeq2 1.38.3's results() descriptions)", () => {
    // R: resultsNames conditionA conditionB conditionC; "condition C vs A".
    expect(resolve("~ 0 + condition", lv)).toEqual({
      columns: ["conditionA", "conditionB", "conditionC"],
      weights: [-1, 0, 1],
      description: "condition C vs A",
    });
    // R: conditionA conditionB conditionC batchb2; "batch b2 vs b1".
    expect(resolve("~ condition + batch - 1", lv)).toEqual({
      columns: ["conditionA", "conditionB", "conditionC", "batchb2"],
      weights: [0, 0, 0, 1],
      description: "batch b2 vs b1",
    });
  });

  it("two levels of a fully coded factor, of a treatment-coded one, and a factor(x) coefficient by name", () => {
    expect(resolve("~ 0 + condition + batch", lv, "condition,B,C").weights).toEqual([0, 1, -1, 0]);
    expect(resolve("~ 0 + condition + batch", lv, "batch,b1,b2").weights).toEqual([0, 0, 0, -1]);
    const f = parseFormula("~ factor(n) + condition");
    const nLevels = { n: ["1", "2", "10"], condition: ["A", "B"] };
    const cols = designColumns(f, nLevels);
    expect(cols).toEqual(["Intercept", "factor.n.2", "factor.n.10", "condition_B_vs_A"]);
    const byName = resolveContrast({ kind: "coefficient", name: "factor.n.10" }, f, nLevels, cols);
    expect({ w: Array.from(byName.weights), d: byName.description }).toEqual({
      w: [0, 0, 1, 0],
      d: "factor.n.10",
    });
    const levelsOfN = resolveContrast(parseContrast("n,10,2"), f, nLevels, cols);
    expect(Array.from(levelsOfN.weights)).toEqual([0, -1, 1, 0]);
  });
});
