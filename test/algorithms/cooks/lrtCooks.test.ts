/**
 * Cook's distances after a likelihood-ratio test, against DESeq2 1.38.3's (fixtures/make_lrt_cooks.R:
 * a sparse dataset, `DESeq(test = "LRT", reduced = ~ 1)` and `DESeq()`, no replacement).
 * `nbinomLRT` computes them before it stores its full model's μ, so their residuals take the μ
 * `estimateDispersionsGeneEst` left (for a group design the linear-model μ, floored at 0.5);
 * `nbinomWaldTest`'s take its fit's. The hat values are the same fit's in both.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CooksCenter } from "../../../src/algorithms/cooks/center.js";
import { type CooksFit, geneCooksDistances } from "../../../src/algorithms/cooks/cooks.js";
import { waldCovariance } from "../../../src/algorithms/wald/aggregate.js";
import { weightedGram } from "../../../src/algorithms/wald/local.js";
import { readCsv } from "../../../src/io/csv.js";
import { deseq2TableAt } from "../../helpers/deseq2.js";

const table = deseq2TableAt(join(import.meta.dirname, "fixtures", "lrt_cooks.csv.gz"));
const column = (name: string) => table.numbers(name);
const SAMPLES = 24;
const genes = table.ids.length / SAMPLES;
const p = 2;

/** Gene g's value of a per-gene column (repeated on each of its samples' rows). */
const perGene = (values: Float64Array) =>
  Float64Array.from({ length: genes }, (_, g) => values[g * SAMPLES]);

// The fixture's 24 samples (three centers of 4 A then 4 B), pooled here as one center.
const metadata = readCsv(join(import.meta.dirname, "fixtures", "lrt", "metadata.csv"));
const conditionColumn = metadata.header.indexOf("condition");
const isB = metadata.rows.map((row) => (row.fields[conditionColumn] === "B" ? 1 : 0));
const center: CooksCenter = {
  n: SAMPLES,
  p,
  genes,
  design: Float64Array.from({ length: SAMPLES * p }, (_, k) =>
    k % p === 0 ? 1 : isB[Math.floor(k / p)],
  ),
  sizeFactors: column("size_factor").slice(0, SAMPLES),
  counts: column("count"),
};
const interleave = (a: Float64Array, b: Float64Array) =>
  Float64Array.from({ length: 2 * a.length }, (_, k) => (k % 2 === 0 ? a[k / 2] : b[(k - 1) / 2]));
const beta = interleave(perGene(column("beta_intercept")), perGene(column("beta_condition")));
const dispersions = perGene(column("dispersion"));
const robust = perGene(column("robust_dispersion"));
const linear = interleave(perGene(column("linear_intercept")), perGene(column("linear_condition")));
// The Wald step's hat inputs: DESeq2's ridge-regularised (XᵀWX + λI)⁻¹ at the final fit.
const { inverse: hatInverse } = waldCovariance(weightedGram(center, beta, dispersions), p);

// Where IRLS reached maxit (100), optim gave the final β but DESeq2's hat values, hence its
// distances, are IRLS's last iterate's: those genes are not compared.
const irlsEnded = perGene(column("beta_iter")).map((iterations) => (iterations < 100 ? 1 : 0));

/** Largest relative difference between our distances under `fit` and DESeq2's `expected`. */
function worstRelative(fit: CooksFit, expected: Float64Array): number {
  let worst = 0;
  const d = new Float64Array(SAMPLES);
  for (let g = 0; g < genes; g++) {
    if (irlsEnded[g] === 0) continue;
    geneCooksDistances(center, fit, robust[g], g, d);
    for (let i = 0; i < SAMPLES; i++) {
      const want = expected[g * SAMPLES + i];
      worst = Math.max(worst, Math.abs(d[i] - want) / Math.max(Math.abs(want), 1e-300));
    }
  }
  return worst;
}

describe("Cook's distances after a likelihood-ratio test (DESeq2's nbinomLRT)", () => {
  it("take the gene-wise dispersion step's μ (the linear-model μ here), the Wald test's its fit's", () => {
    expect(genes).toBe(119);
    expect(irlsEnded.filter((x) => x === 1).length).toBe(118);
    expect(isB).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
    const lrt = column("cooks_lrt");
    const wald = column("cooks_wald");
    const fitsMu = { beta, dispersions, hatInverse };
    const dispersionsMu = { ...fitsMu, residualLink: "identity" as const, residualBeta: linear };
    expect(worstRelative(dispersionsMu, lrt)).toBeLessThan(1e-11);
    expect(worstRelative({ ...fitsMu, residualLink: "fit" }, wald)).toBeLessThan(1e-11);
    expect(worstRelative(fitsMu, wald)).toBeLessThan(1e-11);
    // The two are different numbers: the fit's μ would not give DESeq2's LRT distances.
    expect(worstRelative(fitsMu, lrt)).toBeGreaterThan(0.05);
  });

  it("refuses residual coefficients not sized as β", () => {
    const d = new Float64Array(SAMPLES);
    const fit = {
      beta,
      dispersions,
      hatInverse,
      residualLink: "log" as const,
      residualBeta: linear.subarray(2),
    };
    expect(() => geneCooksDistances(center, fit, robust[0], 0, d)).toThrow(/not sized as β/);
  });
});
