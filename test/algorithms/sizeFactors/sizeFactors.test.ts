/**
 * Federated median-of-ratios size factors against DESeq2's pooled `sizeFactors(dds)`, on every
 * shared dataset; and the pooling invariant: centers' log sums add up to the pooled ones.
 */
import { describe, expect, it } from "vitest";
import { logGeometricMeans } from "../../../src/algorithms/sizeFactors/aggregate.js";
import { localLogSums, localSizeFactors } from "../../../src/algorithms/sizeFactors/local.js";
import { InputError } from "../../../src/io/errors.js";
import { simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { deseq2Table } from "../../helpers/deseq2.js";
import { sharedPath } from "../../helpers/shared.js";

const DATASETS = ["bodymap", "li_lncap", "outliers_sim"];

function deseq2SizeFactors(dataset: string): Map<string, number> {
  const table = deseq2Table(dataset, "size_factors.csv");
  const values = table.numbers("size_factor");
  return new Map(table.ids.map((s, i) => [s, values[i]]));
}

describe("size factors (median of ratios)", () => {
  for (const dataset of DATASETS) {
    it(`${dataset}: equal DESeq2's to 1e-8 relative, through the centers' sessions`, async () => {
      const sessions = await simulatedCenters(sharedPath("data", dataset));
      const genes = sessions[0].data.genes;
      const tag = { runId: "sf", phase: "size-factors", round: 0 };
      const shares = sessions.map((s) =>
        s.run(tag, "logSums", { kind: "log-sums-request", genes, genesWithZeros: false }),
      );
      const logGeoMeans = logGeometricMeans(shares);
      const expected = deseq2SizeFactors(dataset);
      let worst = 0;
      for (const s of sessions) {
        const share = s.run({ ...tag, round: 1 }, "sizeFactors", {
          kind: "size-factors-request",
          stabilize: false,
          logGeoMeans,
        });
        // What travels: the sample count, nothing per sample; the size factors stay here.
        expect(share).toEqual({
          kind: "size-factors-share",
          samples: s.data.samples.length,
          logSizeFactorSum: 0,
        });
        const sizeFactors = s.runState?.sizeFactors as Float64Array;
        s.data.samples.forEach((sample, i) => {
          const e = expected.get(sample) as number;
          worst = Math.max(worst, Math.abs(sizeFactors[i] - e) / e);
        });
      }
      expect(worst).toBeLessThan(1e-8);
    });
  }

  it("the centers' log sums and zero flags add up to the pooled ones", async () => {
    const sessions = await simulatedCenters(sharedPath("data", "li_lncap"));
    const n = sessions.map((s) => s.data.samples.length);
    const genes = sessions[0].data.genes.length;
    const pooledCounts = new Float64Array(genes * (n[0] + n[1]));
    for (let g = 0; g < genes; g++) {
      let k = 0;
      sessions.forEach((s, c) => {
        for (let i = 0; i < n[c]; i++)
          pooledCounts[g * (n[0] + n[1]) + k++] = s.data.counts[g * n[c] + i];
      });
    }
    const pooled = localLogSums(pooledCounts, n[0] + n[1], true);
    const parts = sessions.map((s, c) => localLogSums(s.data.counts, n[c], true));
    for (let g = 0; g < genes; g++) {
      const sum = parts[0].logSums[g] + parts[1].logSums[g];
      expect(Math.abs(sum - pooled.logSums[g])).toBeLessThanOrEqual(
        1e-12 * Math.max(1, Math.abs(sum)),
      );
      expect(parts[0].hasZero[g] | parts[1].hasZero[g]).toBe(pooled.hasZero[g]);
    }
  });

  it("takes R's median: the mean of the two middle ratios for an even number of genes", () => {
    // Two samples, four reference genes: ratios of sample 0 are ln(1), ln(2), ln(4), ln(8) − ln 1.
    const counts = Float64Array.from([1, 1, 2, 1, 4, 1, 8, 1]);
    const sizeFactors = localSizeFactors(counts, 2, new Float64Array(4));
    expect(sizeFactors[0]).toBeCloseTo(Math.exp((Math.log(2) + Math.log(4)) / 2), 14);
    expect(sizeFactors[1]).toBe(1);
  });

  it("fails with a clear error when every gene has a zero somewhere", () => {
    const share = localLogSums(Float64Array.from([0, 1, 3, 0]), 2, false);
    expect(() => logGeometricMeans([share])).toThrow(InputError);
    expect(() => logGeometricMeans([share])).toThrow(/every gene contains at least one zero/);
  });
});
