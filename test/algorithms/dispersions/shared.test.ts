/**
 * The federated dispersion estimation on the shared datasets, against DESeq2's own pooled fit
 * (`deseq2/fit.csv`, DESeq2 1.38.3 with the size factors of `deseq2/size_factors.csv`).
 *
 * outliers_sim: DESeq2's fit.csv holds, for the genes whose Cook's outliers it replaced
 * (cooks.csv `replace`), the dispersions refitted on the replaced counts; those genes are left
 * out of every comparison, and where a DESeq2 input must be complete (the trend and the prior
 * are fitted over all genes, before replacement) their values are our own estimates on the
 * original counts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type DispersionCenter,
  type DispersionMeans,
  geneMu,
} from "../../../src/algorithms/dispersions/center.js";
import {
  type DispersionEstimates,
  estimateDispersionsInProcess,
  runDispersionSearch,
} from "../../../src/algorithms/dispersions/inProcess.js";
import {
  digamma,
  dispersionEvalLocalStep,
} from "../../../src/algorithms/dispersions/logPosterior.js";
import {
  dispersionMomentsAggregate,
  dispersionMomentsLocalStep,
  dispersionResidualsLocalStep,
  pooledDistinctRows,
} from "../../../src/algorithms/dispersions/moments.js";
import {
  dispersionPriorVariance,
  finalDispersions,
} from "../../../src/algorithms/dispersions/prior.js";
import { coarseGrid, mapSearchStart } from "../../../src/algorithms/dispersions/search.js";
import type {
  DispersionEvalRequest,
  DispersionEvalShare,
} from "../../../src/algorithms/dispersions/state.js";
import { dispersionTrend } from "../../../src/algorithms/dispersions/trend.js";
import { maskIndices } from "../../../src/algorithms/masks.js";
import { lnGamma } from "../../../src/math/lnGamma.js";
import { agreement, describeAgreement } from "./agreement.js";
import { type DispersionFixture, loadFixture } from "./federation.js";

/** Copy of a center without μ (each test sets its own). */
function fresh(center: DispersionCenter): DispersionCenter {
  return { ...center, means: undefined };
}

/** Σ over centers of a typed-array field. */
function summed(shares: readonly object[], field: string): Float64Array {
  const arrays = shares.map((s) => (s as Record<string, Float64Array>)[field]);
  const out = arrays[0].slice();
  for (let c = 1; c < arrays.length; c++)
    for (let i = 0; i < out.length; i++) out[i] += arrays[c][i];
  return out;
}

/** max |Σ_c − pooled| / scale over the entries (scale: per entry, or |pooled| when absent). */
function poolingError(sum: Float64Array, pooled: Float64Array, scale?: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < sum.length; i++) {
    const s = scale === undefined ? Math.abs(pooled[i]) : scale[i];
    const e = Math.abs(sum[i] - pooled[i]) / Math.max(s, Number.MIN_VALUE);
    if (!(e <= worst)) worst = e;
  }
  return worst;
}

/**
 * Σ_i of the absolute summands of logLikelihood and logLikelihoodSlope at each point: the scale
 * of their rounding (the summands cancel by up to 9 orders of magnitude at α = 1e-8).
 */
function summandMagnitudes(center: DispersionCenter, request: DispersionEvalRequest) {
  const { n, counts } = center;
  const genes = maskIndices(request.mask);
  const K = request.pointsPerGene;
  const ll = new Float64Array(genes.length * K);
  const slope = new Float64Array(genes.length * K);
  const mu = new Float64Array(n);
  for (let a = 0; a < genes.length; a++) {
    geneMu(center, center.means as DispersionMeans, genes[a], mu);
    for (let k = 0; k < K; k++) {
      const alpha = Math.exp(request.points[a * K + k]);
      const r = 1 / alpha;
      for (let i = 0; i < n; i++) {
        const y = counts[genes[a] * n + i];
        const m = mu[i];
        ll[a * K + k] +=
          Math.abs(lnGamma(y + r)) +
          Math.abs(lnGamma(r)) +
          Math.abs(y * Math.log(m + r)) +
          Math.abs(r * Math.log(1 + m * alpha));
        slope[a * K + k] +=
          Math.abs(digamma(r)) +
          Math.abs(Math.log(1 + m * alpha)) +
          Math.abs((m * alpha) / (1 + m * alpha)) +
          Math.abs(digamma(y + r)) +
          Math.abs(y / (m + r));
      }
    }
  }
  return { ll, slope };
}

describe.each(["bodymap", "li_lncap", "outliers_sim"])("dispersions on %s", (name) => {
  let fx: DispersionFixture;
  let est: DispersionEstimates;
  let centers: DispersionCenter[];
  const compared = (g: number) => fx.deseq2.allZero[g] === 0 && fx.replaced[g] === 0;

  beforeAll(async () => {
    fx = await loadFixture(name);
    centers = fx.centers.map(fresh);
    est = estimateDispersionsInProcess(centers);
  });

  it("all-zero genes are those of DESeq2 and get NaN everywhere", () => {
    for (let g = 0; g < fx.genes.length; g++) {
      expect(est.initial.mask[g]).toBe(fx.deseq2.allZero[g] ? 0 : 1);
      if (fx.deseq2.allZero[g]) expect(est.final.dispersion[g]).toBeNaN();
    }
  });

  it("each local share summed over centers equals the pooled share (1e-10 relative)", () => {
    const pooled = fresh(fx.pooled);
    const momentsRequest = {
      kind: "dispersion-moments-request" as const,
      candidateRows: pooledDistinctRows(centers),
    };
    const moments = centers.map((c) => dispersionMomentsLocalStep(c, momentsRequest));
    const pooledMoments = dispersionMomentsLocalStep(pooled, momentsRequest);
    for (const field of ["gram", "normalizedSum", "designTimesNormalized"]) {
      expect(
        poolingError(summed(moments, field), (pooledMoments as never)[field]),
        field,
      ).toBeLessThan(1e-10);
    }
    const request = dispersionMomentsAggregate(moments, momentsRequest);
    const residuals = centers.map((c) => dispersionResidualsLocalStep(fresh(c), request));
    const pooledResiduals = dispersionResidualsLocalStep(pooled, request);
    for (const field of ["squaredDeviations", "roughResiduals"]) {
      expect(
        poolingError(summed(residuals, field), (pooledResiduals as never)[field]),
        field,
      ).toBeLessThan(1e-10);
    }
    // Step dispersionGrid at alpha_init with derivatives (every gene), and on the coarse grid
    // (every 50th gene), against the pooled center's μ.
    const genes = maskIndices(est.initial.mask);
    const firstRound: DispersionEvalRequest = {
      round: 0,
      mask: est.initial.mask,
      points: Float64Array.from(genes, (g) => Math.log(est.initial.alphaInit[g])),
      pointsPerGene: 1,
      derivatives: true,
      designRows: null,
    };
    const gridMask = new Uint8Array(est.initial.mask.length);
    for (let a = 0; a < genes.length; a += 50) gridMask[genes[a]] = 1;
    const grid = coarseGrid(Math.max(10, fx.pooled.n));
    const gridGenes = maskIndices(gridMask).length;
    const gridPoints = new Float64Array(gridGenes * grid.length);
    for (let a = 0; a < gridGenes; a++) gridPoints.set(grid, a * grid.length);
    const gridRound: DispersionEvalRequest = {
      round: 1,
      mask: gridMask,
      points: gridPoints,
      pointsPerGene: grid.length,
      derivatives: true,
      designRows: est.initial.designRows,
    };
    for (const round of [firstRound, gridRound]) {
      const shares: DispersionEvalShare[] = centers.map((c) => dispersionEvalLocalStep(c, round));
      const whole = dispersionEvalLocalStep(pooled, round);
      const scale = summandMagnitudes(pooled, round);
      expect(
        poolingError(summed(shares, "logLikelihood"), whole.logLikelihood, scale.ll),
      ).toBeLessThan(1e-10);
      expect(
        poolingError(summed(shares, "logLikelihoodSlope"), whole.logLikelihoodSlope, scale.slope),
      ).toBeLessThan(1e-10);
      expect(poolingError(summed(shares, "gram"), whole.gram)).toBeLessThan(1e-10);
      expect(poolingError(summed(shares, "gramSlope"), whole.gramSlope)).toBeLessThan(1e-10);
    }
  });

  /** DESeq2's gene-wise estimates and trend, completed on outliers_sim's replaced genes. */
  function deseq2Inputs() {
    const ge = fx.deseq2.dispGeneEst.slice();
    const fit = fx.deseq2.dispFit.slice();
    for (let g = 0; g < ge.length; g++) {
      if (fx.replaced[g]) {
        ge[g] = est.genewise.dispersion[g];
        fit[g] = est.trend.dispFit[g];
      }
    }
    return { ge, fit };
  }

  it("the trend fitted to DESeq2's gene-wise estimates is DESeq2's (1e-6 relative)", () => {
    const trend = dispersionTrend(est.initial.mask, est.initial.baseMean, deseq2Inputs().ge);
    expect(trend.type).toBe(name === "bodymap" ? "local" : "parametric");
    const a = agreement(trend.dispFit, fx.deseq2.dispFit, compared, 1e-6);
    console.info(`${name} trend (${trend.type}) from DESeq2's gene-wise: ${describeAgreement(a)}`);
    expect(a.within).toBe(a.genes);
  });

  it("MAP and outlier rule from DESeq2's gene-wise estimates and trend give DESeq2's dispersions", () => {
    const { ge, fit } = deseq2Inputs();
    const { mask, samples, p } = est.initial;
    const prior = dispersionPriorVariance(mask, ge, fit, samples, p);
    const map = runDispersionSearch(
      centers,
      mapSearchStart({
        mask,
        samples,
        p,
        dispGeneEst: ge,
        dispFit: fit,
        priorVariance: prior.priorVariance,
        designRows: est.initial.designRows,
      }),
      "map",
    );
    const final = finalDispersions(mask, ge, fit, map.dispersion, prior.varLogDispEsts);
    const a = agreement(final.dispersion, fx.deseq2.dispersion, compared, 1e-4);
    console.info(
      `${name} final from DESeq2's gene-wise + trend, within 1e-4: ${describeAgreement(a)}`,
    );
    expect(a.within / a.genes).toBeGreaterThanOrEqual(0.999);
    // bodymap: a handful of genes at 1e-6…3e-5, where DESeq2's line search stops one step
    // earlier or later (its stopping rule "gain < 1e-6" meets the last bits of ln Γ); exact
    // elsewhere.
    expect(a.max).toBeLessThan(1e-4);
  });

  it("the whole chain agrees with DESeq2", () => {
    const genewise = agreement(est.genewise.dispersion, fx.deseq2.dispGeneEst, compared, 0.05);
    const exact = agreement(est.genewise.dispersion, fx.deseq2.dispGeneEst, compared, 1e-6);
    const final = agreement(est.final.dispersion, fx.deseq2.dispersion, compared, 0.02);
    const finalExact = agreement(est.final.dispersion, fx.deseq2.dispersion, compared, 1e-4);
    const rounds = Object.entries(est.traffic)
      .map(([phase, t]) => {
        const perCenter = t.bytesToAggregator / centers.length;
        const perGene =
          t.geneRounds > 0 ? `, ${(perCenter / t.geneRounds).toFixed(0)} B/gene-round` : "";
        return `${phase} ${t.rounds} rounds ${(perCenter / 1e6).toFixed(1)} MB/center up${perGene}`;
      })
      .join("; ");
    console.info(
      `${name} gene-wise within 5%: ${describeAgreement(genewise)}; within 1e-6: ${describeAgreement(exact)}\n` +
        `${name} final within 2%: ${describeAgreement(final)}; within 1e-4: ${describeAgreement(finalExact)}\n` +
        `${name} trend ${est.trend.type}, rounds: ${rounds}`,
    );
    expect(genewise.within / genewise.genes).toBeGreaterThanOrEqual(0.97);
    expect(final.within / final.genes).toBeGreaterThanOrEqual(0.99);
    if (name === "bodymap") {
      // One gene (NM_005067) sits on DESeq2's "no increase" rule's threshold: DESeq2 re-run from
      // the CSV size factors also keeps its alpha_init (7.8e-6) instead of fit.csv's 1e-8. Above
      // 1e-6 it enters the trend, which moves by ≤ 7.2e-4 (as in that re-run), and every MAP
      // with it.
      expect(exact.exceptions.map((g) => fx.genes[g])).toContain("NM_005067");
      expect(genewise.genes - genewise.within).toBeLessThanOrEqual(1);
      expect(final.within / final.genes).toBeGreaterThanOrEqual(0.999);
    } else {
      // li_lncap: 4 genes refitted on DESeq2's grid whose log posterior is flat (to ~1e-7, the
      // rounding of lnΓ(y + 1/α) − lnΓ(1/α)) near α = 1e-8: the grid's argmax is decided by
      // rounding; both estimates are below 3e-8.
      for (const g of exact.exceptions) {
        expect(est.genewise.gridRefit[g]).toBe(1);
        expect(Math.max(est.genewise.dispersion[g], fx.deseq2.dispGeneEst[g])).toBeLessThan(3e-8);
      }
      expect(finalExact.within).toBe(finalExact.genes);
    }
  });
});
