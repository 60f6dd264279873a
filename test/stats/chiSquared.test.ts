/**
 * The χ² upper tail against R's `pchisq(x, df, lower.tail = FALSE)` (fixtures/pchisq.R), and
 * against the p-values DESeq2's likelihood-ratio test wrote from its own statistics.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { chiSquaredUpperTail } from "../../src/stats/chiSquared.js";
import { deseq2Table } from "../helpers/deseq2.js";
import { sharedPath } from "../helpers/shared.js";

const fixture = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures", "pchisq.json"), "utf8"),
) as { x: number[]; df: number[]; upper: number[] };

/** The smallest normal double: below it R returns subnormal numbers (or 0). */
const MIN_NORMAL = 2.2250738585072014e-308;
/** The smallest subnormal double, 2^-1074. */
const MIN_SUBNORMAL = 4.9406564584124654e-324;

describe("chiSquaredUpperTail", () => {
  it("matches R's pchisq upper tail to 2e-13 relative, and R's subnormal tails to their last bit", () => {
    let worst = 0;
    let compared = 0;
    let subnormal = 0;
    for (let i = 0; i < fixture.x.length; i++) {
      const expected = fixture.upper[i];
      const actual = chiSquaredUpperTail(fixture.x[i], fixture.df[i]);
      if (expected < MIN_NORMAL) {
        // R's subnormal (or 0) tail: ours the same but for the subnormal's last bit (a sweep
        // found an LRT's 3.4e-318 written as 0).
        expect(
          Math.abs(actual - expected),
          `x = ${fixture.x[i]}, df = ${fixture.df[i]}`,
        ).toBeLessThanOrEqual(Math.max(2e-13 * expected, MIN_SUBNORMAL));
        subnormal++;
        continue;
      }
      compared++;
      worst = Math.max(worst, Math.abs(actual - expected) / expected);
    }
    console.info(`pchisq vs R: max relative error ${worst.toExponential(2)} over ${compared}`);
    expect(compared).toBeGreaterThan(150);
    expect(subnormal).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(2e-13);
  });

  it("gives the p-values DESeq2's LRT wrote from its statistics within the rounding of its CSV", () => {
    for (const dataset of ["bodymap", "li_lncap", "outliers_sim"]) {
      const table = deseq2Table(dataset, "lrt_results.csv.gz", "deseq2_more");
      // ~ center + factor against ~ center: df = the factor's coefficients.
      const names = readFileSync(
        sharedPath("data", dataset, "deseq2_more", "batch_names.txt"),
        "utf8",
      )
        .split("\n")
        .filter((n) => n !== "");
      const df = names.filter((n) => n !== "Intercept" && !n.startsWith("center_")).length;
      const stat = table.numbers("stat");
      const pvalue = table.numbers("pvalue");
      let worst = 0;
      let compared = 0;
      for (let g = 0; g < stat.length; g++) {
        if (Number.isNaN(stat[g]) || Number.isNaN(pvalue[g])) continue;
        // DESeq2's CSV holds 15 significant digits of each.
        compared++;
        const actual = chiSquaredUpperTail(stat[g], df);
        if (pvalue[g] < MIN_NORMAL) expect(actual).toBeLessThan(MIN_NORMAL);
        // The CSV's 15 digits of the statistic move ln p by up to |d ln p/dx|·5e-15·x ≤ 2.5e-15·x
        // (the slope tends to −1/2); the bound allows twice that, plus 1e-13.
        else
          worst = Math.max(
            worst,
            Math.abs(actual - pvalue[g]) / pvalue[g] / (1e-13 + 5e-15 * stat[g]),
          );
      }
      console.info(
        `${dataset} (df ${df}): LRT p-values from DESeq2's statistics, worst error / bound ${worst.toFixed(3)} over ${compared}`,
      );
      expect(compared).toBeGreaterThan(1000);
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it("is 1 at x ≤ 0, 0 at +∞, NaN at NaN, and rejects invalid degrees of freedom", () => {
    expect(chiSquaredUpperTail(0, 1)).toBe(1);
    expect(chiSquaredUpperTail(-3, 2)).toBe(1);
    expect(chiSquaredUpperTail(Number.POSITIVE_INFINITY, 2)).toBe(0);
    expect(chiSquaredUpperTail(Number.NaN, 2)).toBeNaN();
    expect(() => chiSquaredUpperTail(1, 0)).toThrow(RangeError);
    expect(() => chiSquaredUpperTail(1, Number.NaN)).toThrow(RangeError);
  });
});
