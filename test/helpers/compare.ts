/**
 * Elementwise comparison with a report of the worst offender, so that a failing parity test
 * says where and by how much.
 */
import { expect } from "vitest";

/**
 * Tolerances: relative, and absolute where |expected| is below `absBelow`. With `scale`, an
 * entry also passes when its error is within `rel` of `scale[i]`: for a sum of large terms that
 * cancel (an NLL or gradient of a gene with millions of counts) the fixtures' README defines the
 * tolerance relative to the sum of absolute terms, since one ulp of ln or exp in a term moves it.
 */
export interface Tolerance {
  rel: number;
  abs: number;
  absBelow?: number;
  scale?: ArrayLike<number>;
}

/** Largest error found by {@link compareArrays}. */
export interface CompareReport {
  worst: number;
  index: number;
  actual: number;
  expected: number;
  /** Entries that pass only thanks to `scale` (outside the plain relative/absolute bound). */
  scaledOnly: number;
  /** Largest plain relative (or absolute below `absBelow`) error. */
  worstPlain: number;
}

/**
 * Compare two arrays: NaN must match NaN exactly; otherwise |a−e| ≤ rel·|e| when
 * |e| ≥ absBelow (default 1), else |a−e| ≤ abs.
 * @returns the worst error relative to its allowance (≤ 1 passes)
 */
export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
): CompareReport {
  const absBelow = tol.absBelow ?? 1;
  let worst = 0;
  let index = -1;
  let scaledOnly = 0;
  let worstPlain = 0;
  if (actual.length !== expected.length) {
    return {
      worst: Number.POSITIVE_INFINITY,
      index: -1,
      actual: actual.length,
      expected: expected.length,
      scaledOnly,
      worstPlain,
    };
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ratio: number;
    if (Number.isNaN(e) || Number.isNaN(a))
      ratio = Number.isNaN(e) && Number.isNaN(a) ? 0 : Number.POSITIVE_INFINITY;
    else if (a === e) ratio = 0;
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ratio = Number.POSITIVE_INFINITY;
    else {
      const err = Math.abs(a - e);
      ratio = Math.abs(e) >= absBelow ? err / (tol.rel * Math.abs(e)) : err / tol.abs;
      worstPlain = Math.max(worstPlain, Math.abs(e) >= absBelow ? err / Math.abs(e) : err);
      if (ratio > 1 && tol.scale !== undefined) {
        const scaled = err / (tol.rel * tol.scale[i]);
        if (scaled <= 1) {
          scaledOnly++;
          ratio = scaled;
        }
      }
    }
    if (ratio > worst) {
      worst = ratio;
      index = i;
    }
  }
  return {
    worst,
    index,
    actual: index >= 0 ? actual[index] : 0,
    expected: index >= 0 ? expected[index] : 0,
    scaledOnly,
    worstPlain,
  };
}

/** Assert {@link compareArrays} passes, naming `what` in the failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what: string,
): CompareReport {
  const r = compareArrays(actual, expected, tol);
  expect(r.worst, `${what}: worst at ${r.index}: ${r.actual} vs ${r.expected}`).toBeLessThanOrEqual(
    1,
  );
  return r;
}
