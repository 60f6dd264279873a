/**
 * The aggregator's log posterior and its slope in log α from pooled sums (DESeq2's
 * `log_posterior` and `dlog_posterior`), against closed forms: B = Σ_d w_d x_d x_dᵀ from per-row
 * weight sums, −½ ln det B, and tr(B⁻¹B′) by the 3×3 adjugate.
 */
import { describe, expect, it } from "vitest";
import type {
  DispersionCenter,
  DispersionMeans,
} from "../../../src/algorithms/dispersions/center.js";
import {
  DistinctCounts,
  digamma,
  dispersionEvalLocalStep,
  LogPosterior,
} from "../../../src/algorithms/dispersions/logPosterior.js";
import type { DispersionEvalRequest } from "../../../src/algorithms/dispersions/state.js";
import { maskIndices } from "../../../src/algorithms/masks.js";
import { lnGamma } from "../../../src/math/lnGamma.js";

/** Design rows D×p of a 3-column design with a continuous covariate (D = 4 < p(p+1)/2 = 6). */
const ROWS = Float64Array.of(1, 0, 0.5, 1, 1, 0, 1, 0, -2.25, 1, 1, 3);
const P = 3;
const D = 4;

/** Σ_d w_d x_d x_dᵀ as a full 3×3 matrix, row-major. */
function gramOf(w: ArrayLike<number>, offset: number): number[] {
  const m = new Array(9).fill(0);
  for (let d = 0; d < D; d++)
    for (let k = 0; k < P; k++)
      for (let l = 0; l < P; l++) m[k * 3 + l] += w[offset + d] * ROWS[d * P + k] * ROWS[d * P + l];
  return m;
}

function det3(m: number[]): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/** tr(A⁻¹B) = tr(adj(A)·B)/det A. */
function traceInverseTimes(a: number[], b: number[]): number {
  const adj = [
    a[4] * a[8] - a[5] * a[7],
    a[2] * a[7] - a[1] * a[8],
    a[1] * a[5] - a[2] * a[4],
    a[5] * a[6] - a[3] * a[8],
    a[0] * a[8] - a[2] * a[6],
    a[2] * a[3] - a[0] * a[5],
    a[3] * a[7] - a[4] * a[6],
    a[1] * a[6] - a[0] * a[7],
    a[0] * a[4] - a[1] * a[3],
  ];
  let t = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) t += adj[i * 3 + j] * b[j * 3 + i];
  return t / det3(a);
}

describe("LogPosterior with design rows", () => {
  // Two points: per-row weight sums w_d and their slopes w'_d = −Σ w_i² (negative).
  const gram = Float64Array.of(2.5, 0.75, 1.25, 4, 0.5, 3, 2, 1.5);
  const gramSlope = Float64Array.of(-1.5, -0.25, -0.5, -2, -0.125, -2, -1, -0.75);
  const ll = Float64Array.of(-120.5, -98.25);
  const llSlope = Float64Array.of(3.5, -7.25);

  it("value: pooled ll − ½ ln det B (+ the prior's term)", () => {
    const posterior = new LogPosterior(P, ROWS);
    for (const index of [0, 1]) {
      const cr = -0.5 * Math.log(det3(gramOf(gram, index * D)));
      expect(posterior.value(ll, gram, index, -1, 0, null)).toBeCloseTo(ll[index] + cr, 12);
      const prior = (-0.5 * (-1 - -2) ** 2) / 0.5;
      expect(posterior.value(ll, gram, index, -1, -2, 0.5)).toBeCloseTo(ll[index] + cr + prior, 12);
    }
  });

  it("slope: (ll′/α² − ½ tr(B⁻¹B′))·α (+ the prior's slope)", () => {
    const posterior = new LogPosterior(P, ROWS);
    for (const index of [1, 0]) {
      const logAlpha = -0.75;
      const alpha = Math.exp(logAlpha);
      const trace = traceInverseTimes(gramOf(gram, index * D), gramOf(gramSlope, index * D));
      const expected = (llSlope[index] / (alpha * alpha) - 0.5 * trace) * alpha;
      expect(posterior.slope(llSlope, gram, gramSlope, index, logAlpha, 0, null)).toBeCloseTo(
        expected,
        11,
      );
      expect(posterior.slope(llSlope, gram, gramSlope, index, logAlpha, -2, 0.5)).toBeCloseTo(
        expected - (logAlpha - -2) / 0.5,
        11,
      );
    }
  });

  it("a non-finite row sum makes B singular (as 0·∞ = NaN does in the dense product)", () => {
    // +∞ in row 0 (x = (1, 0, 0.5)): B's entries are +∞ where x_0k·x_0l ≠ 0 and NaN elsewhere,
    // no pivot is usable, and a singular B counts as det 0 (value +∞), as the search expects.
    const posterior = new LogPosterior(P, ROWS);
    const infinite = Float64Array.of(Number.POSITIVE_INFINITY, 0.75, 1.25, 4);
    expect(posterior.value(Float64Array.of(-1), infinite, 0, 0, 0, null)).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(posterior.slope(Float64Array.of(1), infinite, gramSlope, 0, 0, 0, null)).toBeNaN();
    // A finite point after it is exact again (the factorisation is not reused across arrays).
    expect(posterior.value(ll, gram, 0, 0, 0, null)).toBeCloseTo(
      ll[0] - 0.5 * Math.log(det3(gramOf(gram, 0))),
      12,
    );
  });
});

describe("dispersionEvalLocalStep", () => {
  /**
   * The documented sums (state.ts, DispersionEvalShare) computed sample by sample, in sample
   * order, with ln Γ(y + r) and ψ(y + r) called for every sample: what the step gives, bit for
   * bit, however it shares the terms of repeated counts.
   */
  function direct(center: DispersionCenter, request: DispersionEvalRequest) {
    const { n, p, counts, design, sizeFactors } = center;
    const { beta, link, minMu } = center.means as DispersionMeans;
    expect(link).toBe("log");
    // μ as DESeq2's estimateDispersionsGeneEst has it: max(s·exp(xβ), minmu).
    const mu = (g: number, i: number) => {
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[i * p + k] * beta[g * p + k];
      return Math.max(sizeFactors[i] * Math.exp(xb), minMu);
    };
    const genes = maskIndices(request.mask);
    const K = request.pointsPerGene;
    const q = (p * (p + 1)) / 2;
    const ll: number[] = [];
    const slope: number[] = [];
    const gram: number[] = [];
    const gramSlope: number[] = [];
    genes.forEach((g, a) => {
      for (let k = 0; k < K; k++) {
        const alpha = Math.exp(request.points[a * K + k]);
        const r = 1 / alpha;
        const lgr = lnGamma(r);
        const dgr = digamma(r);
        let v = 0;
        let s = 0;
        const w: number[] = [];
        const ws: number[] = [];
        for (let i = 0; i < n; i++) {
          const y = counts[g * n + i];
          const m = mu(g, i);
          const l1 = Math.log(1.0 + m * alpha);
          v += (y === 0 ? lgr : lnGamma(y + r)) - lgr - y * Math.log(m + r) - r * l1;
          const ma = m * alpha;
          s += dgr + l1 - ma / (1.0 + ma) - (y === 0 ? dgr : digamma(y + r)) + y / (m + r);
          const t = 1 / m + alpha;
          w.push(1 / t);
          ws.push(-1 / (t * t));
        }
        ll.push(v);
        slope.push(s);
        for (const [weights, out] of [
          [w, gram],
          [ws, gramSlope],
        ] as const) {
          for (let c = 0; c < p; c++)
            for (let d = c; d < p; d++) {
              let acc = 0;
              for (let i = 0; i < n; i++)
                acc += design[i * p + c] * (design[i * p + d] * weights[i]);
              out.push(acc);
            }
        }
      }
    });
    expect(gram.length).toBe(genes.length * K * q);
    return { ll, slope, gram, gramSlope };
  }

  it("the sums of every sample, bit for bit, with counts repeated or all distinct", () => {
    let seed = 11;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    // 40 samples (counts indexed from 16): genes of a few small counts repeated many times,
    // of counts all distinct, of zeros only, and of one count.
    const n = 40;
    const genes = 4;
    const p = 2;
    const counts = new Float64Array(genes * n);
    for (let i = 0; i < n; i++) {
      counts[i] = Math.floor(random() * 5);
      counts[n + i] = 1000 + 37 * i;
      counts[2 * n + i] = 0;
      counts[3 * n + i] = i === 7 ? 12 : 0;
    }
    const center: DispersionCenter = {
      n,
      p,
      genes,
      design: Float64Array.from({ length: n * p }, (_, j) => (j % p === 0 ? 1 : (j >> 1) % 2)),
      sizeFactors: Float64Array.from({ length: n }, () => 0.5 + random()),
      counts,
      // Per gene, log means around its counts' (μ below the 0.5 floor for the zero genes).
      means: {
        link: "log",
        beta: Float64Array.from({ length: genes * p }, (_, j) =>
          j % p === 0 ? [1, 7, -3, -1][j >> 1] : 2 * random() - 1,
        ),
        minMu: 0.5,
      },
    };
    const request: DispersionEvalRequest = {
      round: 3,
      mask: new Uint8Array(genes).fill(1),
      points: Float64Array.from({ length: genes * 3 }, () => -4 + 6 * random()),
      pointsPerGene: 3,
      derivatives: true,
    };
    const share = dispersionEvalLocalStep(center, request);
    const want = direct(center, request);
    expect(Array.from(share.logLikelihood)).toEqual(want.ll);
    expect(Array.from(share.logLikelihoodSlope)).toEqual(want.slope);
    expect(Array.from(share.gram)).toEqual(want.gram);
    expect(Array.from(share.gramSlope)).toEqual(want.gramSlope);
    // The repeated counts were shared: gene 0 holds at most 5 distinct counts.
    const distinct = new DistinctCounts(n);
    expect(distinct.index(counts, 0)).toBeLessThanOrEqual(4);
    expect(distinct.index(counts, n)).toBe(n);
    expect(distinct.index(counts, 2 * n)).toBe(0);
    expect(distinct.index(counts, 3 * n)).toBe(1);
    // Gene 3 (indexed last): its one positive count is value 0, every other sample a zero.
    expect(Array.from(distinct.of)).toEqual(
      Array.from({ length: n }, (_, i) => (i === 7 ? 0 : -1)),
    );
    expect(distinct.values[0]).toBe(12);
  });

  it("weights stay finite where μ overflows, the log-likelihood does not (registry: gram and gramSlope are declared finite)", () => {
    // One gene whose μ overflows at one sample (a coefficient of 30 times a covariate of 40:
    // e^1200), at the extremes of the points a search sends (DESeq2's clip of log α to
    // [−30, 10], and the grid's top ln maxDisp for 10^5 samples).
    const n = 3;
    const p = 2;
    const center: DispersionCenter = {
      n,
      p,
      genes: 1,
      design: Float64Array.of(1, 0, 1, 1, 1, 40),
      sizeFactors: Float64Array.of(1, 1, 1),
      counts: Float64Array.of(3, 0, 7),
      means: { link: "log", beta: Float64Array.of(0.5, 30), minMu: 0.5 },
    };
    const points = Float64Array.of(-30, 0, 10, Math.log(1e5));
    const share = dispersionEvalLocalStep(center, {
      round: 0,
      mask: Uint8Array.of(1),
      points,
      pointsPerGene: points.length,
      derivatives: true,
    });
    // Per sample μ = e^0.5, e^30.5 and +∞ (covariates 0, 1 and 40); w = 1/(1/μ + α), which is 1/α
    // where μ = +∞, and its slope −1/(1/μ + α)²; the triangle is [Σ w, Σ w x, Σ w x²].
    const mu = [Math.exp(0.5), Math.exp(30.5), Number.POSITIVE_INFINITY];
    const near = (got: number, want: number) =>
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-15 * Math.abs(want));
    for (let k = 0; k < points.length; k++) {
      const alpha = Math.exp(points[k]);
      const w = mu.map((m) => 1 / (1 / m + alpha));
      const ws = mu.map((m) => -1 / (1 / m + alpha) ** 2);
      const gram = Array.from(share.gram.subarray(3 * k, 3 * k + 3));
      const slope = Array.from(share.gramSlope.subarray(3 * k, 3 * k + 3));
      expect([...gram, ...slope].every(Number.isFinite), `log α ${points[k]}`).toBe(true);
      for (const [got, weights] of [
        [gram, w],
        [slope, ws],
      ] as const) {
        near(got[0], weights[0] + weights[1] + weights[2]);
        near(got[1], weights[1] + 40 * weights[2]);
        near(got[2], weights[1] + 1600 * weights[2]);
      }
      expect(w[2]).toBe(1 / alpha);
      // The log-likelihood is not finite there (y·ln(μ + r) with μ = +∞).
      expect(Number.isFinite(share.logLikelihood[k])).toBe(false);
    }
  });
});
