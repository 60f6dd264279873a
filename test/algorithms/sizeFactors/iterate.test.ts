/**
 * The fixed-gene-set problem of DESeq2's iterative size factors (iterate.ts): the centers'
 * roots t_j(λ) and the aggregator's search of the common slope λ with Σ t_j = 0, against the
 * Poisson limit's closed form and the Lagrange condition read off the NB density itself; the
 * gene set against R's `gene.ll > quantile(gene.ll, 0.05)`.
 */
import { describe, expect, it } from "vitest";
import {
  candidateLogSizeFactors,
  commonSlope,
  type IterateCenterData,
  iterateGeneSet,
  sizeFactorCandidateLocal,
  sizeFactorRootLocal,
} from "../../../src/algorithms/sizeFactors/iterate.js";
import type { SizeFactorProblem } from "../../../src/algorithms/sizeFactors/state.js";
import { nbLogDensity } from "../../../src/math/nbDensity.js";

/** A center from sample-major rows of counts (samples × genes) and its size factors. */
function center(rows: number[][], sizeFactors: number[]): IterateCenterData {
  const n = rows.length;
  const genes = rows[0].length;
  const counts = new Float64Array(genes * n);
  rows.forEach((row, j) => {
    row.forEach((y, g) => {
      counts[g * n + j] = y;
    });
  });
  return { n, counts, sizeFactors: Float64Array.from(sizeFactors) };
}

/** Solve the problem over the centers as the federation does (pooled sums per round). */
async function solve(centers: IterateCenterData[], problem: Omit<SizeFactorProblem, "lambda">) {
  const samples = centers.reduce((m, c) => m + c.n, 0);
  const solved = await commonSlope(problem, samples, async (lambda) => {
    const shares = centers.map((c) =>
      sizeFactorRootLocal(c, { kind: "size-factor-root-request", ...problem, lambda }),
    );
    return {
      logSum: shares.reduce((m, s) => m + s.logSum, 0),
      slope: shares.reduce((m, s) => m + s.slope, 0),
      beyond: shares.reduce((m, s) => m + s.beyond[0], 0),
    };
  });
  const request = {
    kind: "size-factor-candidate-request" as const,
    ...problem,
    ...solved,
    atStart: false,
    commit: false,
  };
  return { ...solved, t: centers.map((c) => candidateLogSizeFactors(c, request)), request };
}

// Two centers, 5 samples, 6 genes; size factors of the iteration's start 0.5 to 2, and genes of
// small baseMean, so that DESeq2's floor q = max(baseMean·s, 0.5)/s makes q differ by sample.
const A = center(
  [
    [12, 0, 40, 3, 150, 7],
    [9, 1, 55, 0, 120, 4],
    [20, 2, 31, 5, 210, 9],
  ],
  [0.5, 1, 2],
);
const B = center(
  [
    [15, 0, 47, 2, 160, 6],
    [6, 1, 29, 1, 99, 2],
  ],
  [1.25, 0.8],
);
const baseMean = Float64Array.of(12, 0.4, 40, 0.3, 150, 5.5);

describe("DESeq2's iterative size factors: the fixed-gene-set problem", () => {
  it("Poisson limit: t_j = ln((Y_j − λ)/Q_j) with Σ t_j = 0 (closed form up to a 1-D root)", async () => {
    const problem = {
      baseMean,
      // r = 1e12: the NB is the Poisson within ~1e-10.
      dispersions: new Float64Array(6).fill(1e-12),
      keep: Uint8Array.of(1, 1, 1, 1, 1, 0),
      minMu: 0.5,
    };
    const { t } = await solve([A, B], problem);
    // Closed form: h_j′(t) = Y_j − Q_j e^t, with Y_j, Q_j over the kept genes.
    const YQ: [number, number][] = [];
    for (const c of [A, B])
      for (let j = 0; j < c.n; j++) {
        let Y = 0;
        let Q = 0;
        for (let g = 0; g < 6; g++) {
          if (!problem.keep[g]) continue;
          Y += c.counts[g * c.n + j];
          Q += Math.max(baseMean[g] * c.sizeFactors[j], 0.5) / c.sizeFactors[j];
        }
        YQ.push([Y, Q]);
      }
    const sumT = (lambda: number) => YQ.reduce((m, [Y, Q]) => m + Math.log((Y - lambda) / Q), 0);
    let lo = -1e6;
    let hi = Math.min(...YQ.map(([Y]) => Y));
    for (let k = 0; k < 200; k++) {
      const mid = (lo + hi) / 2;
      if (sumT(mid) > 0) lo = mid;
      else hi = mid;
    }
    const lambda = (lo + hi) / 2;
    const expected = YQ.map(([Y, Q]) => Math.log((Y - lambda) / Q));
    const ours = [...t[0], ...t[1]];
    ours.forEach((value, j) => {
      expect(Math.abs(value - expected[j])).toBeLessThan(1e-9);
    });
    expect(Math.abs(ours.reduce((m, v) => m + v, 0))).toBeLessThan(1e-12);
  });

  it("NB: every sample's slope of its own log-likelihood (from the density) is the same λ", async () => {
    const dispersions = Float64Array.of(0.08, 0.5, 0.05, 0.9, 0.02, 0.3);
    const keep = Uint8Array.of(1, 1, 1, 1, 1, 1);
    const { t, lambda } = await solve([A, B], { baseMean, dispersions, keep, minMu: 0.5 });
    // h_j(t) = Σ_g ln NB(y; q e^t, 1/α) by R's dnbinom; central differences of it at t_j.
    const slopes: number[] = [];
    [A, B].forEach((c, k) => {
      for (let j = 0; j < c.n; j++) {
        const h = (x: number) => {
          let sum = 0;
          for (let g = 0; g < 6; g++) {
            const q = Math.max(baseMean[g] * c.sizeFactors[j], 0.5) / c.sizeFactors[j];
            sum += nbLogDensity(c.counts[g * c.n + j], 1 / dispersions[g], q * Math.exp(x));
          }
          return sum;
        };
        const d = 1e-5;
        slopes.push((h(t[k][j] + d) - h(t[k][j] - d)) / (2 * d));
      }
    });
    for (const slope of slopes) expect(Math.abs(slope - lambda)).toBeLessThan(1e-6);
    expect(Math.abs([...t[0], ...t[1]].reduce((m, v) => m + v, 0))).toBeLessThan(1e-12);
  });

  it("a center's evaluation: per gene its samples' summed ln NB (R's dnbinom) and Σ (t − ln s)²", async () => {
    const dispersions = Float64Array.of(0.08, 0.5, 0.05, 0.9, 0.02, 0.3);
    const problem = { baseMean, dispersions, keep: Uint8Array.of(1, 1, 1, 1, 1, 0), minMu: 0.5 };
    const { t, request } = await solve([A, B], problem);
    const share = sizeFactorCandidateLocal(A, request, t[0]);
    for (let g = 0; g < 6; g++) {
      let expected = 0;
      for (let j = 0; j < A.n; j++) {
        const q = Math.max(baseMean[g] * A.sizeFactors[j], 0.5) / A.sizeFactors[j];
        expected += nbLogDensity(A.counts[g * A.n + j], 1 / dispersions[g], q * Math.exp(t[0][j]));
      }
      expect(share.geneLogLik[g]).toBeCloseTo(expected, 12);
    }
    const moved = [0, 1, 2].reduce((m, j) => m + (t[0][j] - Math.log(A.sizeFactors[j])) ** 2, 0);
    expect(share.moved).toBeCloseTo(moved, 14);
  });

  it("a slope at or above a sample's Σ y has no root there: counted, never solved", () => {
    const problem = {
      kind: "size-factor-root-request" as const,
      baseMean,
      dispersions: new Float64Array(6).fill(0.1),
      keep: Uint8Array.of(0, 1, 0, 0, 0, 0),
      minMu: 0.5,
      // Gene 1's counts at B are 0 and 1: λ = 1 is beyond both samples.
      lambda: 1,
    };
    expect(sizeFactorRootLocal(B, problem)).toEqual({
      kind: "size-factor-root-share",
      logSum: 0,
      slope: 0,
      beyond: Float64Array.of(2),
    });
  });
});

describe("DESeq2's gene set: gene.ll > quantile(gene.ll, 0.05)", () => {
  it("21 genes 1…21: R's type-7 quantile is 2, so 19 genes are kept; genes without counts never", () => {
    const ll = Float64Array.from({ length: 23 }, (_, g) => g - 1);
    const nonZero = Uint8Array.from({ length: 23 }, (_, g) => (g < 2 ? 0 : 1));
    // Non-zero genes hold 1…21; genes 0 and 1 (no count anywhere) are left out of the quantile.
    const keep = iterateGeneSet(ll, nonZero);
    expect(Array.from(keep)).toEqual([0, 0, 0, 0, ...new Array(19).fill(1)]);
  });
});
