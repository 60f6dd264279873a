/**
 * The fast exponential and the kernels' loop structure: `fastExp` stays within one ulp of
 * `Math.exp` (and hands the range ends to it), and the restructured PQN and `fast` kernels
 * (gene-major, several sums per pass, ln μ = ln s + η) give exactly the doubles of plain loops doing
 * the same arithmetic, for every p (every chunking of a matrix row).
 */
import { describe, expect, it } from "vitest";
import { prepareCenterData, withSampleTerms } from "../../src/algorithms/center.js";
import { unpackSymmetric } from "../../src/algorithms/lfc/symmetric.js";
import { fastExp } from "../../src/math/exp.js";
import {
  type NbCenterData,
  type NbGeneConstants,
  nbFisherGradientNllAtSteps,
  nbScoreAndInformation,
} from "../../src/math/negativeBinomial.js";
import { pairwiseSum } from "../../src/math/summation.js";
import { rng } from "../helpers/random.js";

/** Distance in ulps between two positive finite doubles. */
function ulps(a: number, b: number): number {
  return Math.abs(a - b) / (Math.abs(b) * 2 ** -52);
}

describe("fastExp", () => {
  it("is within one ulp of Math.exp over the table's range", () => {
    const r = rng(1);
    let worst = 0;
    let differ = 0;
    const count = 200_000;
    for (let k = 0; k < count; k++) {
      const x = (r() - 0.5) * 1400;
      const ours = fastExp(x);
      const theirs = Math.exp(x);
      if (ours !== theirs) differ++;
      worst = Math.max(worst, ulps(ours, theirs));
    }
    expect(worst).toBeLessThanOrEqual(1);
    // The two disagree (by one ulp) on a minority of arguments only.
    expect(differ / count).toBeLessThan(0.2);
  });

  it("is exact where exp is, and hands the range ends and non-finite arguments to Math.exp", () => {
    expect(fastExp(0)).toBe(1);
    expect(fastExp(-0)).toBe(1);
    for (const x of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      700,
      -700,
      709.7,
      710,
      -745,
      -746,
    ]) {
      expect(Object.is(fastExp(x), Math.exp(x))).toBe(true);
    }
    for (const x of [1e-300, -1e-300, 1e-17, 699.999, -699.999, Math.LN2, 1]) {
      expect(ulps(fastExp(x), Math.exp(x))).toBeLessThanOrEqual(1);
    }
  });
});

/** The PQN step with plain loops (one sum at a time), doing the kernel's arithmetic. */
function plainPqnStep(
  data: NbCenterData,
  constants: NbGeneConstants,
  genes: Int32Array,
  beta: Float64Array,
  direction: Float64Array,
  steps: Float64Array,
  bound: number,
  minMu: number,
): { fisher: Float64Array; gradient: Float64Array; nll: Float64Array } {
  const { n, p, design, sizeFactors, counts, dispersions } = data;
  const A = genes.length;
  const S = steps.length;
  const fisher = new Float64Array(S * A * p * p);
  const gradient = new Float64Array(S * A * p);
  const nll = new Float64Array(S * A);
  const terms = new Float64Array(n);
  const score = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      const g = genes[a];
      const r = constants.inverseDispersion[g];
      const alpha = dispersions[g];
      const point = Array.from({ length: p }, (_, k) =>
        Math.min(Math.max(beta[a * p + k] - steps[s] * direction[a * p + k], -bound), bound),
      );
      for (let i = 0; i < n; i++) {
        let eta = 0;
        for (let k = 0; k < p; k++) eta += design[i * p + k] * point[k];
        const raw = sizeFactors[i] * fastExp(eta);
        const m = Math.max(raw, minMu);
        const logMu =
          raw >= minMu && raw >= 2.2250738585072014e-308 && raw <= Number.MAX_VALUE
            ? Math.log(sizeFactors[i]) + eta
            : Math.log(m);
        const y = counts[g * n + i];
        score[i] = ((r + y) * m) / (r + m);
        weight[i] = m / (1.0 + m * alpha);
        terms[i] =
          -(constants.logBinomial as Float64Array)[g * n + i] +
          (y + r) * Math.log(r + m) -
          y * logMu;
      }
      const sa = s * A + a;
      nll[sa] = constants.nllOffset[g] + pairwiseSum(terms, 0, n);
      for (let k = 0; k < p; k++) {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += design[i * p + k] * score[i];
        gradient[sa * p + k] = -constants.designTimesCounts[g * p + k] + acc;
        for (let l = k; l < p; l++) {
          let f = 0;
          for (let i = 0; i < n; i++) f += design[i * p + k] * weight[i] * design[i * p + l];
          fisher[(sa * p + k) * p + l] = f;
          fisher[(sa * p + l) * p + k] = f;
        }
      }
    }
  }
  return { fisher, gradient, nll };
}

describe("nbFisherGradientNllAtSteps", () => {
  it("gives exactly the plain loops' doubles for p = 1 … 10", () => {
    for (let p = 1; p <= 10; p++) {
      const r = rng(100 + p);
      const n = 37;
      const genes = 6;
      const design = Float64Array.from({ length: n * p }, (_, j) =>
        j % p === 0 ? 1 : r() < 0.3 ? 0 : r() * 2 - 1,
      );
      const { data, constants } = withSampleTerms(
        prepareCenterData({
          n,
          p,
          genes,
          design,
          sizeFactors: Float64Array.from({ length: n }, () => 0.3 + 2 * r()),
          counts: Float64Array.from({ length: genes * n }, () =>
            r() < 0.2 ? 0 : Math.floor(-Math.log(1 - r()) * 300),
          ),
          dispersions: Float64Array.from({ length: genes }, () => 0.01 + r()),
        }),
      );
      const active = Int32Array.of(0, 2, 3, 5);
      const beta = Float64Array.from({ length: active.length * p }, (_, j) =>
        j % p === 0 ? 3 + r() : r() - 0.5,
      );
      // Large directions push some points against the box and some μ below the floor.
      const direction = Float64Array.from({ length: active.length * p }, () => 40 * (r() - 0.5));
      const steps = Float64Array.from({ length: 6 }, (_, k) => 0.5 ** k);
      for (const minMu of [0, 0.5]) {
        const ours = nbFisherGradientNllAtSteps(
          data,
          constants,
          active,
          beta,
          direction,
          steps,
          { lower: -10, upper: 10 },
          minMu,
        );
        const plain = plainPqnStep(data, constants, active, beta, direction, steps, 10, minMu);
        // Ours are the upper triangles (as they travel) of the plain loops' whole matrices.
        expect(unpackSymmetric(ours.fisher, p)).toEqual(plain.fisher);
        expect(ours.gradient).toEqual(plain.gradient);
        expect(ours.nll).toEqual(plain.nll);
      }
    }
  });
});

/** The `fast` solver's kernel with plain loops (one point, one gene, one sample at a time). */
function plainScoreAndInformation(
  data: NbCenterData,
  constants: NbGeneConstants,
  genes: Int32Array,
  points: Float64Array,
  count: number,
  minMu: number,
): { nll: Float64Array; residual: Float64Array; information: Float64Array } {
  const { n, p, design, sizeFactors, counts, dispersions } = data;
  const A = genes.length;
  const nll = new Float64Array(count * A);
  const residual = new Float64Array(count * A * p);
  const information = new Float64Array(count * A * p * p);
  for (let s = 0; s < count; s++) {
    for (let a = 0; a < A; a++) {
      const g = genes[a];
      const alpha = dispersions[g];
      const r = constants.inverseDispersion[g];
      const sa = s * A + a;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        let eta = 0;
        for (let k = 0; k < p; k++) eta += design[i * p + k] * points[sa * p + k];
        const raw = sizeFactors[i] * fastExp(eta);
        const y = counts[g * n + i];
        let m: number;
        let score: number;
        let weight: number;
        let logMu: number;
        if (raw >= minMu) {
          m = raw;
          const d = 1 + alpha * m;
          score = (y - m) / d;
          weight = (m * (1 + alpha * y)) / (d * d);
          logMu =
            raw >= 2.2250738585072014e-308 && raw <= Number.MAX_VALUE
              ? Math.log(sizeFactors[i]) + eta
              : Math.log(m);
        } else {
          m = minMu;
          weight = m / (1 + alpha * m);
          score = weight * (Math.log(minMu) - Math.log(sizeFactors[i]) - eta + (y - m) / m);
          logMu = Math.log(minMu);
        }
        sum +=
          -(constants.logBinomial as Float64Array)[g * n + i] +
          (y + r) * Math.log(r + m) -
          y * logMu;
        for (let k = 0; k < p; k++) {
          const xk = design[i * p + k];
          if (xk === 0) continue;
          residual[sa * p + k] += xk * score;
          for (let l = k; l < p; l++)
            information[(sa * p + k) * p + l] += xk * weight * design[i * p + l];
        }
      }
      nll[sa] = constants.nllOffset[g] + sum;
      for (let k = 0; k < p; k++)
        for (let l = 0; l < k; l++)
          information[(sa * p + k) * p + l] = information[(sa * p + l) * p + k];
    }
  }
  return { nll, residual, information };
}

describe("nbScoreAndInformation", () => {
  it("gives exactly the plain loops' doubles for p = 1 … 10, floored samples included", () => {
    for (let p = 1; p <= 10; p++) {
      const r = rng(200 + p);
      const n = 29;
      const genes = 5;
      const { data, constants } = withSampleTerms(
        prepareCenterData({
          n,
          p,
          genes,
          design: Float64Array.from({ length: n * p }, (_, j) =>
            j % p === 0 ? 1 : r() < 0.4 ? 0 : r() * 2 - 1,
          ),
          sizeFactors: Float64Array.from({ length: n }, () => 0.3 + 2 * r()),
          counts: Float64Array.from({ length: genes * n }, () =>
            r() < 0.3 ? 0 : Math.floor(-Math.log(1 - r()) * 50),
          ),
          dispersions: Float64Array.from({ length: genes }, () => 0.01 + r()),
        }),
      );
      const active = Int32Array.of(1, 2, 4);
      const count = 3;
      // Intercepts from −3 to 4: some means fall below the floor.
      const points = Float64Array.from({ length: count * active.length * p }, (_, j) =>
        j % p === 0 ? 7 * r() - 3 : r() - 0.5,
      );
      for (const minMu of [0.5, 1e-8]) {
        expect(nbScoreAndInformation(data, constants, active, points, count, minMu)).toEqual(
          plainScoreAndInformation(data, constants, active, points, count, minMu),
        );
      }
    }
  });
});
