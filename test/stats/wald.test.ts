/**
 * DESeq2's Wald test: all four altHypothesis with a log2 fold-change threshold against
 * DESeq2's `results()`, and the default test against the shared datasets' results.csv.
 */
import { afterAll, describe, expect, it } from "vitest";
import { normalUpperTail } from "../../src/stats/normal.js";
import { LOG2_E, lnToLog2, waldTest } from "../../src/stats/wald.js";
import { expectClose } from "../helpers/compare.js";
import { DATASETS, deseq2Results, f64, reference } from "./reference.js";

const measured: string[] = [];
afterAll(() => console.info(`Wald test errors:\n  ${measured.join("\n  ")}`));

/**
 * Half a unit in the 15th significant digit of x: the rounding of R's `write.csv`, which is
 * how DESeq2's results.csv stores stat.
 */
function halfUnit15(x: number): number {
  return 0.5 * 10 ** (Math.floor(Math.log10(Math.abs(x))) - 14);
}

describe("waldTest against DESeq2 results(lfcThreshold, altHypothesis)", () => {
  const cases = reference().wald;

  it("covers the default test and all four alternatives with a nonzero threshold", () => {
    const seen = new Set(cases.filter((c) => c.lfcThreshold > 0).map((c) => c.altHypothesis));
    expect([...seen].sort()).toEqual(["greater", "greaterAbs", "less", "lessAbs"]);
    expect(cases.some((c) => c.lfcThreshold === 0)).toBe(true);
  });

  it.each(cases.map((c) => [`${c.altHypothesis}, lfcThreshold ${c.lfcThreshold}`, c] as const))(
    "%s: stat and pvalue to 1e-14 relative, NA where DESeq2 has NA",
    (name, c) => {
      const r = waldTest(f64(c.log2FoldChange), f64(c.lfcSE), {
        lfcThreshold: c.lfcThreshold,
        altHypothesis: c.altHypothesis,
      });
      const tol = { rel: 1e-14, abs: 1e-14, absBelow: 1e-300 };
      const s = expectClose(r.stat, f64(c.stat), tol, `${name} stat`);
      const p = expectClose(r.pvalue, f64(c.pvalue), tol, `${name} pvalue`);
      measured.push(
        `${name}: stat ${s.worstPlain.toExponential(2)}, pvalue ${p.worstPlain.toExponential(2)}`,
      );
    },
  );

  it("converts natural-log coefficients with R's log2(exp(1))", () => {
    expect(LOG2_E).toBe(reference().log2e);
    expect(Array.from(lnToLog2(Float64Array.of(1, -2.5)))).toEqual([LOG2_E, -2.5 * LOG2_E]);
  });

  it("rejects what DESeq2 rejects", () => {
    const x = Float64Array.of(1);
    expect(() => waldTest(x, x, { altHypothesis: "lessAbs" })).toThrow(RangeError);
    expect(() => waldTest(x, x, { lfcThreshold: -1 })).toThrow(RangeError);
    expect(() => waldTest(x, Float64Array.of(1, 2))).toThrow(RangeError);
  });
});

describe.each(DATASETS)("Wald p-values of DESeq2's results.csv: %s", (dataset) => {
  const res = deseq2Results(dataset);

  // DESeq2's pvalue is 2·pnorm(|stat|, lower.tail = FALSE) of the full-precision stat; the CSV
  // holds stat to 15 significant digits, which alone moves the p-value by up to
  // |s|·δs·(|s| + 1/|s|) relative (δs = half a unit in the 15th digit): 1.9e-12 at s = 37.4.
  // Each p-value must be within 1e-12 relative plus that propagated rounding.
  it("pvalue = 2·Q(|stat|) to 1e-12 relative plus the CSV's rounding of stat; 0 where DESeq2 has 0", () => {
    let worstPlain = 0;
    let worstRatio = 0;
    let zeros = 0;
    let missing = 0;
    for (let i = 0; i < res.stat.length; i++) {
      const expected = res.pvalue[i];
      const s = Math.abs(res.stat[i]);
      const actual = 2 * normalUpperTail(s);
      if (Number.isNaN(expected)) {
        expect(Number.isNaN(res.stat[i]), `${dataset} gene ${i}: NA pvalue, stat not NA`).toBe(
          true,
        );
        expect(actual).toBeNaN();
        missing++;
        continue;
      }
      if (expected === 0) {
        expect(actual, `${dataset} gene ${i}: stat ${res.stat[i]}`).toBe(0);
        zeros++;
        continue;
      }
      const rel = Math.abs(actual - expected) / expected;
      const allowed = 1e-12 + (s > 0 ? s * halfUnit15(s) * (s + 1 / s) : 0);
      worstPlain = Math.max(worstPlain, rel);
      worstRatio = Math.max(worstRatio, rel / allowed);
      if (rel > allowed)
        expect(rel, `${dataset} gene ${i}: stat ${res.stat[i]}`).toBeLessThanOrEqual(allowed);
    }
    measured.push(
      `${dataset} pvalue from stat: max relative ${worstPlain.toExponential(2)} (${(worstRatio * 100).toFixed(1)}% of allowance), ${zeros} exact zeros, ${missing} NA`,
    );
  });

  it("stat = log2FoldChange / lfcSE to 1e-13 relative (both read at 15 digits)", () => {
    const r = waldTest(res.log2FoldChange, res.lfcSE);
    const s = expectClose(r.stat, res.stat, { rel: 1e-13, abs: 1e-13 }, `${dataset} stat`);
    measured.push(`${dataset} stat from LFC/SE: max ${s.worstPlain.toExponential(2)}`);
  });
});
