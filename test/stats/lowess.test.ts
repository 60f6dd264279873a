/** lowess against R's `lowess()` (C `clowess`): ties, outliers, f, iter, delta. */
import { describe, expect, it } from "vitest";
import { lowess } from "../../src/stats/lowess.js";
import { expectClose } from "../helpers/compare.js";
import { f64, reference } from "./reference.js";

describe("lowess", () => {
  it("matches R's lowess() to 1e-13 (relative, absolute below 1)", () => {
    let worst = 0;
    for (const [k, c] of reference().lowess.entries()) {
      const fit = lowess(f64(c.x), f64(c.y), { f: c.f, iter: c.iter, delta: c.delta });
      expectClose(fit.x, f64(c.fit_x), { rel: 0, abs: 0, absBelow: 0 }, `lowess x, case ${k}`);
      const r = expectClose(fit.y, f64(c.fit_y), { rel: 1e-13, abs: 1e-13 }, `lowess y, case ${k}`);
      worst = Math.max(worst, r.worstPlain);
    }
    console.info(`lowess vs R: max error ${worst.toExponential(2)}`);
  });

  it("rejects invalid input", () => {
    const x = Float64Array.of(1, 2, 3);
    expect(() => lowess(x, Float64Array.of(1, 2))).toThrow(RangeError);
    expect(() => lowess(x, Float64Array.of(1, Number.NaN, 2))).toThrow(RangeError);
    expect(() => lowess(x, x, { f: 0 })).toThrow(RangeError);
    expect(() => lowess(x, x, { iter: -1 })).toThrow(RangeError);
  });
});
