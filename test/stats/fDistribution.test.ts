/** F quantiles against R's `qf(p, df1, df2)`, including DESeq2's Cook's cut-off. */
import { describe, expect, it } from "vitest";
import { qf } from "../../src/stats/fDistribution.js";
import { expectClose } from "../helpers/compare.js";
import { reference } from "./reference.js";

describe("qf", () => {
  // R's qf cancels for small p (it inverts the upper beta tail, 1/x − 1 with x near 1: 7.5e-8
  // relative at qf(0.001, 1, 1000)); there the reference is R's cancellation-free
  // df2·w/(df1·(1 − w)) with w = qbeta(p, df1/2, df2/2). For p ≥ 0.5 (Cook's cut-off: 0.99) it
  // is R's qf itself.
  it("matches R's qf (p ≥ 0.5) and R's beta-quantile form (p < 0.5) to 1e-12 relative", () => {
    const { p, df1, df2, q, q_beta } = reference().qf;
    const actual = Float64Array.from(p, (v, i) =>
      qf(v as number, df1[i] as number, df2[i] as number),
    );
    const expected = Float64Array.from(
      p,
      (v, i) => ((v as number) >= 0.5 ? q[i] : q_beta[i]) as number,
    );
    const r = expectClose(actual, expected, { rel: 1e-12, abs: 0, absBelow: 0 }, "qf");
    console.info(`qf vs R: max relative error ${r.worstPlain.toExponential(2)} over ${q.length}`);
  });

  it("gives DESeq2's Cook's cut-off qf(0.99, p, m − p) to 1e-14 relative (m − p ≤ 60)", () => {
    const { p, df1, df2, q } = reference().qf;
    let worst = 0;
    for (let i = 0; i < p.length; i++) {
      const integer = Number.isInteger(df1[i]) && Number.isInteger(df2[i]);
      if (p[i] !== 0.99 || !integer || (df2[i] as number) > 60) continue;
      const e = q[i] as number;
      worst = Math.max(worst, Math.abs(qf(0.99, df1[i] as number, df2[i] as number) - e) / e);
    }
    console.info(`qf(0.99, p, m − p) vs R: max relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-14);
  });

  it("handles the ends and rejects invalid arguments", () => {
    expect(qf(0, 2, 14)).toBe(0);
    expect(qf(1, 2, 14)).toBe(Number.POSITIVE_INFINITY);
    expect(qf(Number.NaN, 2, 14)).toBeNaN();
    expect(() => qf(1.5, 2, 14)).toThrow(RangeError);
    expect(() => qf(0.5, 0, 14)).toThrow(RangeError);
    expect(() => qf(0.5, 2, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
