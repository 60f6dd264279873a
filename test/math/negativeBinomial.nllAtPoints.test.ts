/**
 * nbNllAtPoints (the `deseq2` solver's L-BFGS-B objective) against its definition term by term:
 * −Σᵢ R's dnbinom(yᵢ, 1/α, sᵢ·2^(xᵢβ)) summed as R's sum(), from the primitives
 * test/math/nbDensity.test.ts checks against R itself. The kernel computes 2^(xβ) once per
 * distinct design row, and reuses a density from a gene's first point where a row's xβ is the
 * same: these designs repeat rows in any order, or never, and the points follow L-BFGS-B's
 * numerical gradient (x, x ± ε·e_k) or not.
 */
import { describe, expect, it } from "vitest";
import { prepareCenterData } from "../../src/algorithms/center.js";
import { glibcPowerOfTwo, nbLogDensity, sumLikeR } from "../../src/math/nbDensity.js";
import { nbNllAtPoints } from "../../src/math/negativeBinomial.js";
import { rng } from "../helpers/random.js";

/** −Σᵢ dnbinom(y, 1/α, s·2^(xβ)) of one gene at one point, sample by sample. */
function definition(
  design: Float64Array,
  sizeFactors: Float64Array,
  counts: Float64Array,
  alpha: number,
  beta: Float64Array,
  p: number,
): number {
  const n = sizeFactors.length;
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let eta = 0;
    for (let k = 0; k < p; k++) eta += design[i * p + k] * beta[k];
    terms[i] = nbLogDensity(counts[i], 1 / alpha, sizeFactors[i] * glibcPowerOfTwo(eta));
  }
  return -sumLikeR(terms);
}

describe("nbNllAtPoints", () => {
  const n = 30;
  const p = 4;
  const genes = 12;
  const r = rng(20261207);
  // Intercept, a 3-level factor in shuffled order (two columns), and a last column either a
  // two-level factor (rows repeat: 6 classes) or a continuous covariate (no two rows equal).
  const designs = {
    grouped: Float64Array.from({ length: n * p }, (_, j) => {
      const i = Math.floor(j / p);
      const level = (i * 7) % 3;
      return [1, level === 1 ? 1 : 0, level === 2 ? 1 : 0, (i * 5) % 2][j % p];
    }),
    continuous: Float64Array.from({ length: n * p }, (_, j) => {
      const i = Math.floor(j / p);
      const level = (i * 7) % 3;
      return [1, level === 1 ? 1 : 0, level === 2 ? 1 : 0, i / 7 - 2][j % p];
    }),
  };
  const sizeFactors = Float64Array.from({ length: n }, () => 0.4 + r() * 1.5);
  // Counts with zeros, small and large values; one gene all zero.
  const counts = Float64Array.from({ length: genes * n }, (_, j) =>
    j < n ? 0 : r() < 0.2 ? 0 : Math.floor(-Math.log(1 - r()) * 10 ** (1 + 3 * r())),
  );
  const dispersions = Float64Array.from({ length: genes }, () => 0.01 + 2 * r());

  it.each(Object.entries(designs))(
    "is −sum(dnbinom(y, 1/α, s·2^(xβ))) bit for bit, every gene and point (%s design)",
    (_, design) => {
      const { data, constants } = prepareCenterData({
        n,
        p,
        genes,
        design,
        sizeFactors,
        counts,
        dispersions,
      });
      const active = Int32Array.from([0, 2, 3, 5, 8, 11]);
      // L-BFGS-B's layout: x, then x ± ε·e_k (whose rows with x_k's column 0 keep x's xβ), here
      // for k = 1 and 3; the first two genes' points are unrelated to each other instead.
      const count = 5;
      const points = new Float64Array(active.length * count * p);
      for (let a = 0; a < active.length; a++) {
        const x = Array.from({ length: p }, (_, k) => (k === 0 ? 2 + 10 * r() : 4 * (r() - 0.5)));
        for (let s = 0; s < count; s++) {
          for (let k = 0; k < p; k++) {
            const nudge = s === 0 || k !== (s < 3 ? 1 : 3) ? 0 : s % 2 === 1 ? 1e-3 : -1e-3;
            points[(a * count + s) * p + k] =
              a < 2 && s > 0 ? (k === 0 ? 2 + 10 * r() : 4 * (r() - 0.5)) : x[k] + nudge;
          }
        }
      }
      // Points where μ overflows to ∞ or underflows to 0, on the all-zero gene and another.
      points[p] = 1100;
      points[2 * p] = -1100;
      points[count * p] = 1100;
      points[(count + 1) * p] = -1100;
      const nll = nbNllAtPoints(data, constants, active, points, count);
      expect(nll.length).toBe(active.length * count);
      for (let a = 0; a < active.length; a++) {
        const g = active[a];
        for (let s = 0; s < count; s++) {
          const beta = points.subarray((a * count + s) * p, (a * count + s + 1) * p);
          const expected = definition(
            design,
            sizeFactors,
            counts.subarray(g * n, (g + 1) * n),
            dispersions[g],
            beta,
            p,
          );
          expect(Object.is(nll[a * count + s], expected), `gene ${g} point ${s}`).toBe(true);
        }
      }
      // The all-zero gene: μ = ∞ gives density 0 (NLL +∞), μ = 0 density 1 (NLL −0, as R's
      // −sum(0, …)); gene 2: NLL +∞ at both.
      expect([nll[1], nll[2], nll[count], nll[count + 1]]).toEqual([
        Number.POSITIVE_INFINITY,
        -0,
        Number.POSITIVE_INFINITY,
        Number.POSITIVE_INFINITY,
      ]);
    },
  );
});
