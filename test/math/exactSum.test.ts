/**
 * The correctly rounded sum (src/math/exactSum.ts) against closed forms and against BigInt:
 * every finite double is an integer multiple of 2^-1074, so the exact sum is a BigInt sum and
 * "correctly rounded" is checked against the result's two neighbours (test/helpers/exactFloat.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exactSum, exactSumAcross } from "../../src/math/exactSum.js";
import { exactOf, isCorrectlyRounded } from "../helpers/exactFloat.js";

function exactTotal(values: readonly number[]): bigint {
  let total = 0n;
  for (const x of values) total += exactOf(x);
  return total;
}

describe("exactSum: the correctly rounded sum", () => {
  it("closed forms where float addition in order is wrong", () => {
    // Ten 0.1s: the doubles sum exactly to 1.00000000000000005551…, which rounds to 1 (a loop
    // in order gives 0.9999999999999999).
    const tenths = new Array(10).fill(0.1);
    expect(tenths.reduce((a, b) => a + b, 0)).toBe(0.9999999999999999);
    expect(exactSum(tenths)).toBe(1);
    // Cancellation: the small terms survive.
    expect(exactSum([1e100, 1, -1e100, 1])).toBe(2);
    expect(1e100 + 1 + -1e100 + 1).toBe(1);
    expect(exactSum([1e11, 1e-10, -1e11])).toBe(1e-10);
    // The half-way correction: 1 + 2^-53 is a tie (to even: 1); a further 2^-106 breaks it upwards.
    expect(exactSum([1, 2 ** -53])).toBe(1);
    expect(exactSum([1, 2 ** -53, 2 ** -106])).toBe(1 + 2 ** -52);
    expect(exactSum([1, 2 ** -53, -(2 ** -106)])).toBe(1);
    expect(exactSum([-1, -(2 ** -53), -(2 ** -106)])).toBe(-1 - 2 ** -52);
  });

  it("order does not matter, zero is +0, strided reads", () => {
    const values = [3.3e7, -1e-9, 0.1, -3.3e7, 7e-5, 1e-9];
    const reversed = [...values].reverse();
    expect(exactSum(values)).toBe(exactSum(reversed));
    expect(Object.is(exactSum([-0, -0]), 0)).toBe(true);
    expect(Object.is(exactSum([0.5, -0.5]), 0)).toBe(true);
    expect(exactSum([])).toBe(0);
    // Every second value from index 1: 2 + 4 + 6.
    expect(exactSum(Float64Array.of(1, 2, 3, 4, 5, 6), 1, 3, 2)).toBe(12);
  });

  it("IEEE semantics for NaN and infinities", () => {
    expect(exactSum([1, Number.NaN, 2])).toBeNaN();
    expect(exactSum([1, Number.POSITIVE_INFINITY, 2])).toBe(Number.POSITIVE_INFINITY);
    expect(exactSum([Number.NEGATIVE_INFINITY, -1])).toBe(Number.NEGATIVE_INFINITY);
    expect(exactSum([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBeNaN();
    // Overflow of the exact sum: ±∞ (the partials held +∞ and −∞, whose sum was NaN, before).
    expect(exactSum([1e308, 1e308])).toBe(Number.POSITIVE_INFINITY);
    expect(exactSum([-1e308, 1, -1e308])).toBe(Number.NEGATIVE_INFINITY);
    expect(exactSum([1e308, 1e308, Number.NaN])).toBeNaN();
  });

  it("is the correctly rounded exact sum of random doubles of mixed magnitudes (property, BigInt)", () => {
    const value = fc
      .tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -200, max: 200 }))
      .map(([m, k]) => m * 2 ** k);
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 70 }), (values) => {
        const sum = exactSum(values);
        expect(isCorrectlyRounded(sum, exactTotal(values)), `${values} → ${sum}`).toBe(true);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it("few terms of like magnitude, as centers' shares and ring words are, round as BigInt says (property)", () => {
    // Mostly the two-sum path; cancellations and ties built in send some to the partials.
    const value = fc.oneof(
      fc
        .tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -3, max: 3 }))
        .map(([m, k]) => m * 2 ** k),
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map((n) => n * 2 ** -30),
      fc.constantFrom(1, -1, 2 ** -53, -(2 ** -53), 2 ** -106, 0, -0),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), (values) => {
        const sum = exactSum(values);
        expect(isCorrectlyRounded(sum, exactTotal(values)), `${values} → ${sum}`).toBe(true);
        expect(Object.is(sum, -0)).toBe(false);
      }),
      { numRuns: 20000, seed: 13 },
    );
  });

  it("ties and near-ties built on purpose round as BigInt says (property)", () => {
    // a + a·2^-53·(1 ± tiny): the exact sum sits at or next to a half-way point.
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 2, noNaN: true }),
        fc.integer({ min: -60, max: 60 }),
        fc.constantFrom(0, 1, -1),
        fc.integer({ min: 54, max: 120 }),
        (m, k, sign, far) => {
          const a = m * 2 ** k;
          const values = [a, a * 2 ** -53, sign * a * 2 ** -far, -a * 2 ** -60];
          expect(isCorrectlyRounded(exactSum(values), exactTotal(values))).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 11 },
    );
  });

  it("exactSumAcross: each element the correctly rounded sum of its column (property, BigInt)", () => {
    const value = fc.oneof(
      fc
        .tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -60, max: 60 }))
        .map(([m, k]) => m * 2 ** k),
      fc.constantFrom(1, -1, 2 ** -53, 2 ** -106, 1e300, -1e300, 0, -0),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((count) =>
          fc.array(fc.array(value, { minLength: count, maxLength: count }), {
            minLength: 1,
            maxLength: 12,
          }),
        ),
        (rows) => {
          const count = rows[0].length;
          const vectors = Array.from({ length: count }, (_, v) =>
            Float64Array.from(rows, (row) => row[v]),
          );
          const pooled = exactSumAcross(vectors);
          rows.forEach((row, i) => {
            expect(isCorrectlyRounded(pooled[i], exactTotal(row)), `${row}`).toBe(true);
            expect(Object.is(pooled[i], -0)).toBe(false);
          });
        },
      ),
      { numRuns: 3000, seed: 17 },
    );
    const specials = exactSumAcross([
      Float64Array.of(Number.NaN, Number.POSITIVE_INFINITY, 1e308),
      Float64Array.of(1, Number.NEGATIVE_INFINITY, 1e308),
    ]);
    expect(specials[0]).toBeNaN();
    expect(specials[1]).toBeNaN();
    expect(specials[2]).toBe(Number.POSITIVE_INFINITY);
  });
});
