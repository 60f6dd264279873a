/**
 * The `fast` solver: its kernel against closed forms, and its acceptance on real and simulated
 * data (≤ 30 round trips; DESeq2's coefficients on the shared datasets).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prepareCenterData, withSampleTerms } from "../../src/algorithms/center.js";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { readCsv } from "../../src/io/csv.js";
import {
  nbFisherGradientNllAtSteps,
  nbScoreAndInformation,
} from "../../src/math/negativeBinomial.js";
import { fitOverFederation, simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { agreement, compareFits } from "../../src/reports/agreement.js";
import { writeCohort } from "../../src/simulate/cohort.js";
import { deseq2Coefficients } from "../helpers/deseq2.js";
import { fitShared } from "../helpers/fits.js";
import { sharedPath } from "../helpers/shared.js";

const table: string[] = [];
afterAll(() => console.info(`fast solver:\n  ${table.join("\n  ")}`));

describe("the kernel", () => {
  const data = withSampleTerms(
    prepareCenterData({
      n: 5,
      p: 2,
      genes: 1,
      design: Float64Array.of(1, 0, 1, 0, 1, 1, 1, 1, 1, 1),
      sizeFactors: Float64Array.of(0.8, 1.1, 0.9, 1.2, 1.0),
      counts: Float64Array.of(12, 30, 7, 55, 41),
      dispersions: Float64Array.of(0.2),
    }),
  );
  const beta = Float64Array.of(2.7, 0.9);
  const genes = Int32Array.of(0);

  it("above the floor, F is the score −∇NLL and −∂F/∂β the observed information", () => {
    const out = nbScoreAndInformation(data.data, data.constants, genes, beta, 1, 0.5);
    const ref = nbFisherGradientNllAtSteps(
      data.data,
      data.constants,
      genes,
      beta,
      null,
      null,
      { lower: -30, upper: 30 },
      0.5,
    );
    for (let k = 0; k < 2; k++) expect(out.residual[k]).toBeCloseTo(-ref.gradient[k], 10);
    expect(out.nll[0]).toBeCloseTo(ref.nll[0], 10);
    // Central finite differences of F.
    const h = 1e-6;
    for (let l = 0; l < 2; l++) {
      const plus = beta.slice();
      const minus = beta.slice();
      plus[l] += h;
      minus[l] -= h;
      const fp = nbScoreAndInformation(data.data, data.constants, genes, plus, 1, 0.5).residual;
      const fm = nbScoreAndInformation(data.data, data.constants, genes, minus, 1, 0.5).residual;
      for (let k = 0; k < 2; k++) {
        expect(-(fp[k] - fm[k]) / (2 * h)).toBeCloseTo(out.information[k * 2 + l], 5);
      }
    }
  });

  it("on the floor, F is IRLS's pseudo-residual: zero where xβ = ln(min_mu/s) + (y − min_mu)/min_mu", () => {
    const floored = withSampleTerms(
      prepareCenterData({
        ...data.data,
        n: 1,
        design: Float64Array.of(1, 0),
        sizeFactors: Float64Array.of(2),
        counts: Float64Array.of(0),
      }),
    );
    const fixed = Math.log(0.5 / 2) - 1;
    const out = nbScoreAndInformation(
      floored.data,
      floored.constants,
      genes,
      Float64Array.of(fixed, 0),
      1,
      0.5,
    );
    expect(out.residual[0]).toBeCloseTo(0, 14);
    expect(out.information[0]).toBeCloseTo(0.5 / (1 + 0.2 * 0.5), 14);
  });
});

/** README's table ("Newton, smallest merit, …, shipped"): round trips with the initialisation. */
const README_ROUNDS: Record<string, number> = { bodymap: 7, li_lncap: 12, outliers_sim: 9 };

describe("acceptance", () => {
  for (const dataset of ["bodymap", "li_lncap", "outliers_sim"]) {
    it(`${dataset}: ≤ 30 round trips (README's ${README_ROUNDS[dataset]}); ≥ 99.9 % of genes within 2 % + 1e-3 of DESeq2, the others no worse`, async () => {
      // fit-lfc --solver fast with DESeq2's size factors and dispersions (the README design),
      // computed once per vitest run (fitShared; transports.test.ts compares li_lncap's).
      const { outcome: o, centers } = await fitShared(dataset, "irls-pqn", "fast");
      const rounds = (o.ledger.rounds.init ?? 0) + (o.ledger.rounds.newton ?? 0);
      expect(rounds).toBeLessThanOrEqual(30);
      expect(rounds).toBe(README_ROUNDS[dataset]);
      const p = o.columns.length;
      const genes = Array.from(o.fitted, (g) => o.genes[g]);
      const reference = deseq2Coefficients(dataset, genes, p);
      // outliers_sim: DESeq2 refitted 60 genes on replaced counts (Cook's), not what fit-lfc fits.
      const compared = new Uint8Array(genes.length).fill(1);
      if (dataset === "outliers_sim") {
        const cooks = readCsv(sharedPath("data", dataset, "deseq2", "cooks.csv"));
        const replaced = new Set(
          cooks.rows.filter((r) => r.fields[1] === "TRUE").map((r) => r.fields[0]),
        );
        genes.forEach((g, j) => {
          if (replaced.has(g)) compared[j] = 0;
        });
      }
      const a = agreement(compareFits(centers, o.result.beta, reference, 0.5), compared);
      const unconverged = o.result.pqnDiverged.reduce((x, y) => x + y, 0);
      table.push(
        `${dataset}: ${rounds} rounds (init + ${o.ledger.rounds.newton} Newton), ${a.within}/${a.genes} within (${((100 * a.within) / a.genes).toFixed(3)} %), ${a.outsideHigher} outside with a higher objective, ${unconverged} unconverged`,
      );
      expect(a.within / a.genes).toBeGreaterThanOrEqual(0.999);
      expect(a.outsideHigher).toBe(0);
      expect(unconverged).toBe(0);
    });
  }

  const tmp = mkdtempSync(join(tmpdir(), "fedseq-fast-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  for (const [genes, samples, centers, levels, seed] of [
    [3000, 24, 3, 2, 1],
    [3000, 60, 5, 3, 2],
    [2000, 12, 2, 2, 3],
  ]) {
    it(`simulated cohort ${genes} genes × ${samples} samples, ${centers} centers, ${levels} levels: ≤ 30 round trips (README's 7), all converged`, async () => {
      const dir = join(tmp, `sim-${seed}`);
      writeCohort(dir, { genes, samples, centers, seed, designLevels: levels, deFraction: 0.1 });
      const o = await fitOverFederation(new InProcessTransport(await simulatedCenters(dir)), {
        design: "~ condition",
        sizeFactorsFile: join(dir, "truth", "size_factors.csv"),
        dispersionsFile: join(dir, "truth", "dispersions.csv"),
        mode: "irls-pqn",
        solver: "fast",
        references: {},
        fixedRounds: false,
        hp: DEFAULT_HYPERPARAMETERS,
        outDir: "unused",
      });
      const rounds = (o.ledger.rounds.init ?? 0) + (o.ledger.rounds.newton ?? 0);
      const unconverged = o.result.pqnDiverged.reduce((x, y) => x + y, 0);
      table.push(
        `simulated ${genes}×${samples}, ${centers} centers, ${levels} levels: ${rounds} rounds, ${unconverged} unconverged`,
      );
      expect(rounds).toBeLessThanOrEqual(30);
      expect(rounds).toBe(7);
      expect(unconverged).toBe(0);
    });
  }
});
