/**
 * How many points a gene's next round of DESeq2's line search evaluates after a rejection: up
 * to the first halving a quadratic model of the posterior along the step accepts (checked here
 * against the Armijo rule on exact quadratics, by brute force), one more from the second
 * rejection on, never more than 8; the 1, 2, 4, 8 schedule when the model says nothing.
 */
import { expect, it } from "vitest";
import { ARMIJO_EPSILON } from "../../../src/algorithms/dispersions/options.js";
import { halvingsToAccept } from "../../../src/algorithms/dispersions/search.js";

/** First j ≥ 1 whose step κ/2^j the Armijo rule accepts on f(s) = lp + s·dlp² − C·s²/2. */
function firstAccepted(lp: number, dlp: number, kappa: number, c: number): number {
  for (let j = 1; j < 60; j++) {
    const s = kappa / 2 ** j;
    const f = lp + s * dlp * dlp - (c * s * s) / 2;
    if (-f <= -lp - s * ARMIJO_EPSILON * dlp * dlp) return j;
  }
  throw new Error("no halving accepted");
}

it("reaches the first halving the Armijo rule accepts on an exact quadratic, one more after two rejections, at most 8", () => {
  let checked = 0;
  for (const lp of [-120.5, -3.25, 0.75]) {
    for (const dlp of [-40, -2.5, 0.3, 7]) {
      for (const kappa of [1, 0.5, 0.015625]) {
        for (const c of [0.01, 3, 250, 1e4, 1e6]) {
          const s = kappa;
          const rejected = lp + s * dlp * dlp - (c * s * s) / 2;
          // Only a rejected step asks: the model's curvature must reject κ itself.
          if (-rejected <= -lp - s * ARMIJO_EPSILON * dlp * dlp) continue;
          const j = firstAccepted(lp, dlp, kappa, c);
          expect(halvingsToAccept(lp, dlp, kappa, rejected, 1)).toBe(Math.min(8, j));
          expect(halvingsToAccept(lp, dlp, kappa, rejected, 2)).toBe(Math.min(8, j + 1));
          checked++;
        }
      }
    }
  }
  expect(checked).toBeGreaterThan(80);
});

it("falls back to 2^r points (at most 8) when the rejected value says nothing", () => {
  for (const [r, points] of [
    [1, 2],
    [2, 4],
    [3, 8],
    [7, 8],
  ]) {
    expect(halvingsToAccept(-10, 2, 1, Number.NaN, r)).toBe(points);
    // A zero slope: no step, no curvature to read.
    expect(halvingsToAccept(-10, 0, 1, -10, r)).toBe(points);
  }
});
