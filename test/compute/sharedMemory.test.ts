/**
 * A center holds its counts and their ln Γ terms once (README, worker pool): both live in shared
 * memory from the start, so the gene pool (compute/genePool.ts) reads them in place instead of
 * copying them, and a center's own dataset is its data, not a copy of it.
 */
import { describe, expect, it } from "vitest";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import { readDataset } from "../../src/io/dataset.js";
import { nbGeneConstants } from "../../src/math/negativeBinomial.js";
import { sharedPath } from "../helpers/shared.js";

describe("shared memory at a center", () => {
  it("the counts as read, each center's counts and their ln Γ terms are in SharedArrayBuffers", async () => {
    const dataset = await readDataset(sharedPath("data", "outliers_sim"));
    expect(dataset.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const name of dataset.centers) {
      const center = centerDataFromDataset(dataset, name);
      expect(center.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
      const n = center.samples.length;
      const genes = center.genes.length;
      const { logBinomial } = nbGeneConstants({
        n,
        p: 1,
        genes,
        design: new Float64Array(n).fill(1),
        sizeFactors: new Float64Array(n).fill(1),
        counts: center.counts,
        dispersions: new Float64Array(genes).fill(0.1),
      });
      expect(logBinomial.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(logBinomial.length).toBe(genes * n);
    }
  });

  it("a dataset of one center's own samples is that center's data, not a copy", async () => {
    const dataset = await readDataset(sharedPath("data", "outliers_sim"));
    const [name] = dataset.centers;
    // Every sample is this center's: the slice is the whole table, in order.
    const mine = centerDataFromDataset(
      { ...dataset, centers: [name], centerOfSample: dataset.samples.map(() => name) },
      name,
    );
    expect(mine.counts).toBe(dataset.counts);
    const other = centerDataFromDataset(dataset, name);
    expect(other.counts).not.toBe(dataset.counts);
  });
});
