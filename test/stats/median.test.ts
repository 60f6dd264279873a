/**
 * R's median by selection: R's values on small vectors, and the order statistics sorting gives
 * on every kind of order (random with many ties, sorted, reversed, constant, organ pipe).
 */
import { describe, expect, it } from "vitest";
import { medianInPlace } from "../../src/stats/median.js";

/** The median of sorted values (the definition the selection must reproduce). */
function sortedMedian(values: Float64Array): number {
  const s = values.slice().sort();
  const m = s.length;
  if (m === 0) return Number.NaN;
  const half = m >> 1;
  return m % 2 === 1 ? s[half] : (s[half - 1] + s[half]) / 2;
}

/** A deterministic sequence in [0, 1) (a linear congruential generator). */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("medianInPlace", () => {
  it("is R's median: median(c(3, 1, 2)) = 2, median(c(4, 1, 3, 2)) = 2.5, median(numeric(0)) = NA", () => {
    expect(medianInPlace(Float64Array.of(3, 1, 2))).toBe(2);
    expect(medianInPlace(Float64Array.of(4, 1, 3, 2))).toBe(2.5);
    expect(medianInPlace(Float64Array.of(-1.5))).toBe(-1.5);
    expect(medianInPlace(new Float64Array(0))).toBeNaN();
  });

  it("gives the sorted values' median on every order, every length to 300 and 20,001", () => {
    const next = sequence(7);
    const orders: Record<string, (m: number) => Float64Array> = {
      "random, many ties": (m) => Float64Array.from({ length: m }, () => Math.floor(next() * 5)),
      random: (m) => Float64Array.from({ length: m }, () => next() * 2 - 1),
      sorted: (m) => Float64Array.from({ length: m }, (_, i) => i),
      reversed: (m) => Float64Array.from({ length: m }, (_, i) => m - i),
      constant: (m) => new Float64Array(m).fill(0.25),
      "organ pipe": (m) => Float64Array.from({ length: m }, (_, i) => Math.min(i, m - i)),
    };
    let compared = 0;
    for (const [name, make] of Object.entries(orders)) {
      for (const m of [...Array.from({ length: 300 }, (_, i) => i + 1), 20_001]) {
        const values = make(m);
        const expected = sortedMedian(values);
        const copy = values.slice();
        expect(medianInPlace(copy), `${name}, ${m} values`).toBe(expected);
        // A reordering of the same values.
        expect(copy.slice().sort()).toEqual(values.slice().sort());
        compared++;
      }
    }
    expect(compared).toBe(6 * 301);
  });
});
