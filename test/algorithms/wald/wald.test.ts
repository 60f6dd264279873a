/**
 * Wald standard errors from the centers' XᵀWX, at DESeq2's own coefficients, dispersions and
 * size factors: they must be DESeq2's `lfcSE` (the sandwich covariance of `fitBeta`), and the
 * centers' XᵀWX must add up to the pooled one.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../../src/algorithms/hyperparameters.js";
import { levelsOf, prepareRequest } from "../../../src/algorithms/setup/state.js";
import { contrastEstimate, waldCovariance } from "../../../src/algorithms/wald/aggregate.js";
import { informationLocalStep } from "../../../src/algorithms/wald/local.js";
import { mergeLevels } from "../../../src/design/designMatrix.js";
import type { CenterSession } from "../../../src/federation/centerSession.js";
import { simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { deseq2Table } from "../../helpers/deseq2.js";
import { DESIGNS } from "../../helpers/fits.js";
import { sharedPath } from "../../helpers/shared.js";

const DATASETS = ["bodymap", "li_lncap", "outliers_sim"];

/** Sessions prepared with DESeq2's size factors and dispersions; β is DESeq2's (natural log). */
async function preparedWithDeseq2(dataset: string) {
  const sessions = await simulatedCenters(sharedPath("data", dataset));
  const fit = deseq2Table(dataset, "fit.csv");
  const sf = deseq2Table(dataset, "size_factors.csv");
  const sfOf = new Map(sf.ids.map((s, i) => [s, sf.numbers("size_factor")[i]]));
  const allZero = fit.numbers("all_zero");
  const genes = fit.ids.filter((_, g) => allZero[g] === 0);
  const rows = fit.ids.flatMap((_, g) => (allZero[g] === 0 ? [g] : []));
  const dispersion = fit.numbers("dispersion");
  const tag = { runId: "wald", phase: "setup", round: 0 };
  const levels = mergeLevels(
    sessions.map((s) =>
      levelsOf(s.run(tag, "levels", { kind: "levels-request", formula: DESIGNS[dataset] })),
    ),
  );
  for (const s of sessions) {
    s.run(
      { ...tag, round: 1 },
      "prepare",
      prepareRequest({
        formula: DESIGNS[dataset],
        levels,
        references: {},
        genes,
        dispersions: Float64Array.from(rows, (g) => dispersion[g]),
        sizeFactors: Float64Array.from(s.data.samples, (x) => sfOf.get(x) as number),
        hyperparameters: DEFAULT_HYPERPARAMETERS,
      }),
    );
  }
  const betaColumns = betaLn(fit);
  const p = betaColumns.length;
  const beta = new Float64Array(rows.length * p);
  rows.forEach((g, j) => {
    for (let k = 0; k < p; k++) beta[j * p + k] = betaColumns[k][g];
  });
  return { sessions, rows, beta, p };
}

function betaLn(fit: ReturnType<typeof deseq2Table>): Float64Array[] {
  const out: Float64Array[] = [];
  for (const name of fit.header.filter((h) => h.startsWith("beta_ln.")))
    out.push(fit.numbers(name));
  return out;
}

function informationShares(sessions: CenterSession[], beta: Float64Array, p: number) {
  return sessions.map((s) =>
    s.run({ runId: "wald", phase: "wald", round: 0 }, "information", {
      kind: "information-request",
      beta,
      coefficients: p,
      refit: false,
    }),
  );
}

describe("Wald standard errors", () => {
  for (const dataset of DATASETS) {
    it(`${dataset}: lfcSE equals DESeq2's to 1e-6 relative at DESeq2's coefficients`, async () => {
      const { sessions, rows, beta, p } = await preparedWithDeseq2(dataset);
      const shares = informationShares(sessions, beta, p);
      const xtwx = shares[0].xtwx.slice();
      for (const share of shares.slice(1))
        for (let i = 0; i < xtwx.length; i++) xtwx[i] += share.xtwx[i];
      const { sigma } = waldCovariance(xtwx, p);
      // Exactly symmetric, so the saved fit's upper triangles (sigma_upper) hold all of it and
      // `results --from` weighs any contrast with the run's very matrix.
      let asymmetric = 0;
      for (let i = 0; i < sigma.length; i++) {
        const o = i - (i % (p * p));
        const a = Math.floor((i % (p * p)) / p);
        if (!Object.is(sigma[i], sigma[o + (i % p) * p + a])) asymmetric++;
      }
      expect(asymmetric).toBe(0);
      const contrast = new Float64Array(p);
      contrast[p - 1] = 1;
      const { log2FoldChange, lfcSE } = contrastEstimate(beta, sigma, contrast);
      const results = deseq2Table(dataset, "results.csv");
      const expectedSE = results.numbers("lfcSE");
      const expectedLfc = results.numbers("log2FoldChange");
      const replaced =
        dataset === "outliers_sim"
          ? deseq2Table(dataset, "cooks.csv").numbers("replace")
          : new Float64Array(results.ids.length);
      let worst = 0;
      let compared = 0;
      rows.forEach((g, j) => {
        if (replaced[g] === 1) return; // refitted on replaced counts, which the centers do not hold here
        compared++;
        worst = Math.max(worst, Math.abs(lfcSE[j] - expectedSE[g]) / expectedSE[g]);
        expect(log2FoldChange[j]).toBeCloseTo(expectedLfc[g], 10);
      });
      expect(compared).toBeGreaterThan(rows.length * 0.97);
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it("the centers' XᵀWX add up to the pooled XᵀWX", async () => {
    const { sessions, beta, p } = await preparedWithDeseq2("li_lncap");
    const shares = informationShares(sessions, beta, p);
    const centers = sessions.map((s) => s.preparedFit?.main.data);
    const [a, b] = centers;
    if (a === undefined || b === undefined) throw new Error("not prepared");
    const n = a.n + b.n;
    const genes = a.genes;
    const counts = new Float64Array(genes * n);
    for (let g = 0; g < genes; g++) {
      counts.set(a.counts.subarray(g * a.n, (g + 1) * a.n), g * n);
      counts.set(b.counts.subarray(g * b.n, (g + 1) * b.n), g * n + a.n);
    }
    const design = new Float64Array([...a.design, ...b.design]);
    const sizeFactors = new Float64Array([...a.sizeFactors, ...b.sizeFactors]);
    const pooled = informationLocalStep(
      {
        main: {
          data: { n, p, genes, design, sizeFactors, counts, dispersions: a.dispersions },
          constants: sessions[0].preparedFit?.main.constants as never,
        },
      },
      { kind: "information-request", beta, coefficients: p, refit: false },
    );
    for (let i = 0; i < pooled.xtwx.length; i++) {
      const sum = shares[0].xtwx[i] + shares[1].xtwx[i];
      expect(Math.abs(sum - pooled.xtwx[i])).toBeLessThanOrEqual(1e-12 * Math.abs(pooled.xtwx[i]));
    }
  });
});
