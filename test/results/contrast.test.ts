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
