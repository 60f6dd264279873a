/** Sample quantiles against R's `quantile(x, probs, type = 7)`. */
import { describe, expect, it } from "vitest";
import { quantileType7 } from "../../src/stats/quantile.js";
import { expectClose } from "../helpers/compare.js";
import { f64, reference } from "./reference.js";

describe("quantileType7", () => {
  it("reproduces R's quantile(type = 7) bit for bit (ties, n = 1, n = 2, zeros)", () => {
    for (const [k, c] of reference().quantile7.entries()) {
      const actual = quantileType7(f64(c.x), f64(c.probs));
      expectClose(actual, f64(c.q), { rel: 0, abs: 0, absBelow: 0 }, `quantile case ${k}`);
    }
  });

  it("rejects NaN data and probabilities outside [0, 1], clamps R's fuzz", () => {
    expect(() => quantileType7(Float64Array.of(1, Number.NaN), [0.5])).toThrow(RangeError);
    expect(() => quantileType7(Float64Array.of(1, 2), [1.1])).toThrow(RangeError);
    expect(quantileType7(Float64Array.of(1, 2), [1 + 1e-15])[0]).toBe(2);
    expect(quantileType7(new Float64Array(0), [0.5])[0]).toBeNaN();
  });
});
