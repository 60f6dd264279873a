/**
 * The upper-tail normal probability against R's `pnorm(q, lower.tail = FALSE)`, including the
 * far tail and R's cut-offs to exactly 0 and 1.
 */
import { describe, expect, it } from "vitest";
import { normalUpperTail } from "../../src/stats/normal.js";
import { expectClose } from "../helpers/compare.js";
import { f64, reference } from "./reference.js";

describe("normalUpperTail", () => {
  it("matches R's pnorm(q, lower.tail = FALSE) to 1e-14 relative from q = −9 to 100", () => {
    const { q, upper } = reference().normal;
    const actual = Float64Array.from(q, (v) => normalUpperTail(v as number));
    const r = expectClose(actual, f64(upper), { rel: 1e-14, abs: 0, absBelow: 0 }, "pnorm");
    console.info(`normalUpperTail vs R pnorm: max relative error ${r.worstPlain.toExponential(2)}`);
  });

  it("is exactly 0 from q = 37.5193 and exactly 1 up to q = −8.2924, as R", () => {
    expect(normalUpperTail(37.5193)).toBe(0);
    expect(normalUpperTail(37.5192)).toBeGreaterThan(0);
    expect(normalUpperTail(-8.2924)).toBe(1);
    expect(normalUpperTail(Number.POSITIVE_INFINITY)).toBe(0);
    expect(normalUpperTail(Number.NEGATIVE_INFINITY)).toBe(1);
    expect(normalUpperTail(Number.NaN)).toBeNaN();
    expect(normalUpperTail(0)).toBe(0.5);
  });
});
