/**
 * DESeq2's weighted upper quantile (its β prior for `lfcShrink(type = "normal")`), against
 * DESeq2 1.38.3's own `Hmisc.wtd.quantile` and `matchWeightedUpperQuantileForVariance` on 40
 * random cases with tied values, zeros and zero weights (fixtures/weightedQuantile.R).
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { expect, it } from "vitest";
import {
  matchWeightedUpperQuantileForVariance,
  weightedQuantile,
} from "../../src/math/weightedQuantile.js";

interface Case {
  x: string[] | string;
  w: string[] | string;
  quantile: string;
  variance: string;
}

const cases = JSON.parse(
  gunzipSync(readFileSync(new URL("fixtures/weightedQuantile.json.gz", import.meta.url))).toString(
    "utf8",
  ),
) as Case[];

const numbers = (v: string[] | string): Float64Array =>
  Float64Array.from(Array.isArray(v) ? v : [v], Number);

it("gives DESeq2's weighted 95% quantile of |x| and its prior variance, to the last bit", () => {
  expect(cases).toHaveLength(40);
  for (const [i, c] of cases.entries()) {
    const x = numbers(c.x);
    const w = numbers(c.w);
    expect(weightedQuantile(Float64Array.from(x, Math.abs), w, 1 - 0.05), `case ${i + 1}`).toBe(
      Number(c.quantile),
    );
    expect(matchWeightedUpperQuantileForVariance(x, w), `case ${i + 1}`).toBe(Number(c.variance));
  }
});
