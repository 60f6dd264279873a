/**
 * The Cook's screening round (`cooksScreen`, src/algorithms/cooks/privateCooks.ts): a gene is
 * left out of the trimmed-mean searches when no sample has a Cook's distance above the cutoff
 * (or NaN) at the robust dispersion's floor 0.04. Sound only if a distance never grows with the
 * robust dispersion, in floating point: per sample, D(α_rob) > c implies D(0.04) > c or NaN, for
 * every α_rob ≥ 0.04 the searches could give (NaN included). Attacked here with random centers
 * whose means underflow and overflow, hat values near and past 1, zero counts and cutoffs down
 * to 0. The shared datasets' end-to-end check (same outcome as searching every gene) is in
 * privateEndToEnd.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CooksPlan } from "../../../src/algorithms/cooks/cells.js";
import type { CooksCenter } from "../../../src/algorithms/cooks/center.js";
import {
  cooksScreenCandidates,
  cooksScreenLocalStep,
  cooksScreenRequest,
  type PrivateCooksRequest,
  privateCooksLocalStep,
} from "../../../src/algorithms/cooks/privateCooks.js";
import { ROBUST_MIN_DISPERSION } from "../../../src/algorithms/cooks/robustDispersion.js";
import { rng } from "../../helpers/random.js";

/** A random center of `genes` genes over `cells` design rows (intercept + indicator columns). */
function randomCenter(
  seed: number,
  genes: number,
): {
  center: CooksCenter;
  cellRows: Float64Array;
  beta: Float64Array;
  dispersions: Float64Array;
  hatInverse: Float64Array;
} {
  const r = rng(seed);
  const p = 1 + Math.floor(r() * 3);
  const n = 2 + Math.floor(r() * 10);
  const cellRows = new Float64Array(p * p);
  for (let c = 0; c < p; c++) {
    cellRows[c * p] = 1;
    if (c > 0) cellRows[c * p + c] = 1;
  }
  const design = new Float64Array(n * p);
  for (let i = 0; i < n; i++) design.set(cellRows.subarray((i % p) * p, ((i % p) + 1) * p), i * p);
  const sizeFactors = Float64Array.from({ length: n }, () => 0.2 + 3 * r());
  // Means from e^-800 (0 in doubles) to e^400 (past √MAX, μ² = ∞); counts 0 to 1e9.
  const beta = Float64Array.from({ length: genes * p }, () => {
    const u = r();
    return u < 0.05 ? -800 : u < 0.1 ? 400 : u < 0.15 ? 300 : -5 + 20 * r();
  });
  const counts = Float64Array.from({ length: genes * n }, () => {
    const u = r();
    return u < 0.3 ? 0 : u < 0.35 ? 1e9 : Math.floor(r() ** 3 * 5000);
  });
  const dispersions = Float64Array.from({ length: genes }, () => 10 ** (-8 + 9 * r()));
  // (XᵀWX + Λ)⁻¹: A·Aᵀ, scaled from tiny to large so that h = w·xᵀHx spans 0 to past 1; for one
  // gene in five minus a multiple of I, indefinite (h < 0 for some samples: what a malicious
  // aggregator may send).
  const hatInverse = new Float64Array(genes * p * p);
  for (let g = 0; g < genes; g++) {
    const a = Float64Array.from({ length: p * p }, () => r() - 0.3);
    const scale = 10 ** (-6 + 8 * r());
    const shift = r() < 0.2 ? r() : 0;
    for (let k = 0; k < p; k++)
      for (let l = 0; l < p; l++) {
        let s = 0;
        for (let j = 0; j < p; j++) s += a[k * p + j] * a[l * p + j];
        hatInverse[g * p * p + k * p + l] = scale * (s - (k === l ? shift : 0));
      }
  }
  return {
    center: { n, p, genes, design, sizeFactors, counts },
    cellRows,
    beta,
    dispersions,
    hatInverse,
  };
}

/** A plan with just the cutoff (all the screening request reads of it, with p). */
function planWith(p: number, cutoff: number): CooksPlan {
  return { p, cutoff } as unknown as CooksPlan;
}

describe("the Cook's screening round", () => {
  it("counts at the floor at least the samples above the cutoff at any α_rob ≥ 0.04 (property)", () => {
    const GENES = 40;
    let screenedOut = 0;
    let aboveSomewhere = 0;
    let negativeHat = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        fc.constantFrom(0, 1e-15, 1e-3, 1, 1e6, 1e300, Number.NaN, Number.POSITIVE_INFINITY),
        fc.constantFrom(1, 0.5, 2),
        (seed, cutoff, offset, filterScale) => {
          // results()' cutoff may differ from the replacement's: the screening takes the smaller.
          const filterCutoff = cutoff * filterScale;
          const { center, cellRows, beta, dispersions, hatInverse } = randomCenter(seed, GENES);
          const screen = cooksScreenRequest(planWith(center.p, cutoff), {
            beta,
            dispersions,
            hatInverse,
            filterCutoff,
          });
          if (screen === null) throw new Error(`cutoff ${cutoff} ≥ 0 not screened`);
          const atFloor = cooksScreenLocalStep(center, screen).aboveAtFloor;
          const r = rng(seed ^ 0x5bd1e995);
          // α_rob: the floor itself, one ulp above it, the offset, random above it, +∞ or NaN
          // (what privateRobustMoments may give: ≥ 0.04, or NaN).
          const choices = [
            () => ROBUST_MIN_DISPERSION,
            () => ROBUST_MIN_DISPERSION * (1 + Number.EPSILON),
            () => ROBUST_MIN_DISPERSION + offset,
            () => ROBUST_MIN_DISPERSION + 10 ** (-10 + 14 * r()),
            () => Number.POSITIVE_INFINITY,
            () => Number.NaN,
          ];
          const robust = Float64Array.from({ length: GENES }, (_, g) => choices[g % 6]());
          const cells = center.p;
          const request: PrivateCooksRequest = {
            kind: "cooks-private-request",
            p: center.p,
            cellRows,
            forMaxCooks: new Uint8Array(cells).fill(1),
            replaceable: new Uint8Array(cells),
            sets: Uint8Array.of(1, 1, 1),
            beta,
            dispersions,
            robustDispersions: robust,
            hatInverse,
            residualLink: "fit",
            residualBeta: new Float64Array(0),
            cutoff,
            filterCutoff,
            trimmedBaseMean: new Float64Array(GENES),
            thirdBucket: new Float64Array(2 * GENES).fill(Number.NaN),
          };
          const share = privateCooksLocalStep(center, request);
          for (let g = 0; g < GENES; g++) {
            for (const field of [
              "aboveAll",
              "aboveAllFilter",
              "aboveEligible",
              "aboveKept",
            ] as const)
              expect(share[field][g], `gene ${g} ${field}`).toBeLessThanOrEqual(atFloor[g]);
            if (atFloor[g] === 0) screenedOut++;
            if (share.aboveAll[g] > 0) aboveSomewhere++;
            const { p, n, design } = center;
            for (let i = 0; i < n; i++) {
              let q = 0;
              for (let k = 0; k < p; k++)
                for (let l = 0; l < p; l++)
                  q += design[i * p + k] * hatInverse[g * p * p + k * p + l] * design[i * p + l];
              if (q < 0) negativeHat++;
            }
          }
        },
      ),
      { numRuns: 300, seed: 20261206 },
    );
    // The generator reaches both sides: genes screened out, and genes with outliers at α_rob;
    // and samples with negative hat values.
    console.log(
      `screened out ${screenedOut}, above somewhere ${aboveSomewhere} of ${300 * GENES} genes; ${negativeHat} samples with h < 0`,
    );
    expect(screenedOut).toBeGreaterThan(200);
    expect(aboveSomewhere).toBeGreaterThan(1000);
    expect(negativeHat).toBeGreaterThan(1000);
  });

  it("a mean that underflows to 0 makes a candidate: D = ∞ under a count, NaN under a zero", () => {
    const center: CooksCenter = {
      n: 3,
      p: 1,
      genes: 2,
      design: Float64Array.of(1, 1, 1),
      sizeFactors: Float64Array.of(1, 1, 1),
      counts: Float64Array.of(0, 0, 5, 0, 0, 0),
    };
    const screen = cooksScreenRequest(planWith(1, 5), {
      beta: Float64Array.of(-800, -800),
      dispersions: Float64Array.of(0.1, 0.1),
      hatInverse: Float64Array.of(0.3, 0.3),
    });
    if (screen === null) throw new Error("not screened");
    const share = cooksScreenLocalStep(center, screen);
    // Gene 0: (5 − 0)²/0 = ∞ for its third sample; the zeros are 0/0 = NaN, counted too (a
    // NaN at the floor is NaN at any α_rob, and withholds DESeq2's flag: conservative).
    expect(Array.from(share.aboveAtFloor)).toEqual([3, 3]);
    expect(Array.from(cooksScreenCandidates([share, share]))).toEqual([1, 1]);
  });

  it("screens against the smaller cutoff, and not at all without a cutoff ≥ 0", () => {
    const fit = {
      beta: Float64Array.of(1),
      dispersions: Float64Array.of(0.1),
      hatInverse: Float64Array.of(0.3),
    };
    expect(cooksScreenRequest(planWith(1, 5), { ...fit, filterCutoff: 2 })?.cutoff).toBe(2);
    expect(cooksScreenRequest(planWith(1, 5), { ...fit, filterCutoff: 9 })?.cutoff).toBe(5);
    expect(cooksScreenRequest(planWith(1, Number.NaN), { ...fit, filterCutoff: 3 })?.cutoff).toBe(
      3,
    );
    expect(cooksScreenRequest(planWith(1, 5), { ...fit, filterCutoff: -1 })).toBeNull();
    expect(
      cooksScreenRequest(planWith(1, Number.NaN), { ...fit, filterCutoff: Number.NaN }),
    ).toBeNull();
    expect(cooksScreenRequest(planWith(1, Number.NaN), fit)).toBeNull();
  });
});
