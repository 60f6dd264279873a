/**
 * The paths the shared datasets do not take: B as upper triangles instead of per-row sums, a
 * design whose distinct rows outnumber its columns (μ from an NB GLM, step dispersionMu), and
 * the phase objects the runner drives.
 */
import { describe, expect, it } from "vitest";
import {
  type DispersionCenter,
  type DispersionMeans,
  geneMu,
} from "../../../src/algorithms/dispersions/center.js";
import {
  estimateDispersionsInProcess,
  runDispersionSearch,
} from "../../../src/algorithms/dispersions/inProcess.js";
import { dispersionEvalLocalStep } from "../../../src/algorithms/dispersions/logPosterior.js";
import {
  dispersionMomentsAggregate,
  dispersionMomentsLocalStep,
  dispersionResidualsAggregate,
  dispersionResidualsLocalStep,
  pooledDistinctRows,
} from "../../../src/algorithms/dispersions/moments.js";
import { genewiseDispersionPhase } from "../../../src/algorithms/dispersions/phase.js";
import { genewiseSearchStart } from "../../../src/algorithms/dispersions/search.js";
import type {
  DispersionSearchResult,
  DispersionSearchState,
  InitialDispersions,
} from "../../../src/algorithms/dispersions/state.js";
import { maskIndices } from "../../../src/algorithms/masks.js";
import { agreement } from "./agreement.js";
import { loadFixture } from "./federation.js";

/** outliers_sim's centers with μ set (group design, linear μ). */
async function groupCenters(): Promise<{
  centers: DispersionCenter[];
  initial: InitialDispersions;
}> {
  const fx = await loadFixture("outliers_sim");
  const centers = fx.centers.map((c) => ({ ...c, means: undefined }));
  const momentsRequest = {
    kind: "dispersion-moments-request" as const,
    candidateRows: pooledDistinctRows(centers),
  };
  const request = dispersionMomentsAggregate(
    centers.map((c) => dispersionMomentsLocalStep(c, momentsRequest)),
    momentsRequest,
  );
  const shares = centers.map((c) => dispersionResidualsLocalStep(c, request));
  return { centers, initial: dispersionResidualsAggregate(request, shares) };
}

describe("dispersion search paths", () => {
  it("B as upper triangles gives the estimates of B as per-row sums", async () => {
    const { centers, initial } = await groupCenters();
    const compact = genewiseSearchStart(initial);
    expect(compact.designRows?.length).toBe(2 * 2);
    const rows = runDispersionSearch(centers, compact, "rows");
    const triangles = runDispersionSearch(centers, { ...compact, designRows: null }, "triangles");
    const same = agreement(
      triangles.dispersion,
      rows.dispersion,
      (g) => initial.mask[g] === 1,
      1e-10,
    );
    expect(same.within / same.genes).toBeGreaterThanOrEqual(0.999);
  });

  it("the phase object reaches the in-process driver's result", async () => {
    const { centers, initial } = await groupCenters();
    const phase = genewiseDispersionPhase();
    let state: DispersionSearchState = genewiseSearchStart(initial);
    let result: DispersionSearchResult | null = null;
    while (result === null) {
      if (phase.activeGenes(state) === 0) {
        result = phase.finish(state);
        break;
      }
      const next = phase.aggregate(
        state,
        centers.map((c) => dispersionEvalLocalStep(c, state)),
      );
      if (phase.isResult(next)) result = next;
      else state = next;
    }
    const direct = runDispersionSearch(centers, genewiseSearchStart(initial), "direct");
    expect(Array.from(result.dispersion)).toEqual(Array.from(direct.dispersion));
    expect(result.rounds).toBe(direct.rounds);
  });

  it("a design with more distinct rows than columns takes μ from the GLM coefficients", async () => {
    const fx = await loadFixture("outliers_sim");
    // Add a continuous covariate: 18 distinct rows for 3 columns.
    let sample = 0;
    const centers = fx.centers.map((c) => {
      const design = new Float64Array(c.n * 3);
      for (let i = 0; i < c.n; i++) {
        design.set([c.design[i * 2], c.design[i * 2 + 1], (sample++ % 7) / 7], i * 3);
      }
      return { ...c, p: 3, design, means: undefined } as DispersionCenter;
    });
    let called = 0;
    const estimates = estimateDispersionsInProcess(centers, undefined, (initial) => {
      called++;
      expect(initial.linearMu).toBe(false);
      // Any coefficients will do here: log of the mean normalised count, no effects.
      const genes = maskIndices(initial.mask);
      const beta = new Float64Array(genes.length * 3);
      for (let a = 0; a < genes.length; a++) beta[a * 3] = Math.log(initial.baseMean[genes[a]]);
      return beta;
    });
    expect(called).toBe(1);
    expect(estimates.traffic.dispersionMu.rounds).toBe(1);
    const genes = maskIndices(estimates.initial.mask);
    for (const g of genes) {
      expect(estimates.final.dispersion[g]).toBeGreaterThanOrEqual(1e-8);
      expect(estimates.final.dispersion[g]).toBeLessThanOrEqual(18);
    }
    // μ = max(s·baseMean, 0.5) for every sample of a fitted gene.
    const c = centers[0];
    const g = genes[0];
    const mu = new Float64Array(c.n);
    geneMu(c, c.means as DispersionMeans, g, mu);
    for (let i = 0; i < c.n; i++)
      expect(mu[i]).toBeCloseTo(
        Math.max(c.sizeFactors[i] * estimates.initial.baseMean[g], 0.5),
        10,
      );
    expect(() =>
      estimateDispersionsInProcess(centers.map((x) => ({ ...x, means: undefined }))),
    ).toThrow(/glmBeta/);
  });
});
