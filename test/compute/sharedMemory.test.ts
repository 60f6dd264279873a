/**
 * A center holds its counts and their ln Γ terms once (README, worker pool): both live in shared
 * memory from the start, so the gene pool (compute/genePool.ts) reads them in place instead of
 * copying them, and a center's own dataset is its data, not a copy of it. So do the other arrays
 * of a value per gene and sample a `run` makes: the counts of a subset of the genes (the run's,
 * the fit's). The dispersion estimation's μ is not one of them: the center keeps its p
 * coefficients per gene and makes a gene's μ when it reaches the gene.
 */
import { describe, expect, it } from "vitest";
import { prepareCenterData, withSampleTerms } from "../../src/algorithms/center.js";
import {
  type DispersionCenter,
  type DispersionMeans,
  geneMu,
} from "../../src/algorithms/dispersions/center.js";
import { dispersionResidualsLocalStep } from "../../src/algorithms/dispersions/moments.js";
import { dispersionMuLocalStep } from "../../src/algorithms/dispersions/mu.js";
import { countsOfRows } from "../../src/algorithms/setup/local.js";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import { readDataset } from "../../src/io/dataset.js";
import { type NbCenterData, nbGeneConstants } from "../../src/math/negativeBinomial.js";
import { sharedPath } from "../helpers/shared.js";

/** A fit's data for `counts` (genes × n): an intercept, unit size factors, dispersion 0.1. */
function interceptOnly(counts: Float64Array, n: number, genes: number): NbCenterData {
  return {
    n,
    p: 1,
    genes,
    design: new Float64Array(n).fill(1),
    sizeFactors: new Float64Array(n).fill(1),
    counts,
    dispersions: new Float64Array(genes).fill(0.1),
  };
}

describe("shared memory at a center", () => {
  it("the counts as read, each center's counts and their ln Γ terms are in SharedArrayBuffers", async () => {
    const dataset = await readDataset(sharedPath("data", "outliers_sim"));
    expect(dataset.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const name of dataset.centers) {
      const center = centerDataFromDataset(dataset, name);
      expect(center.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
      const n = center.samples.length;
      const genes = center.genes.length;
      const { logBinomial } = nbGeneConstants(interceptOnly(center.counts, n, genes));
      expect(logBinomial?.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(logBinomial?.length).toBe(genes * n);
    }
  });

  it("a prepared fit keeps each gene's ln Γ terms' sum, not a value per gene and sample", async () => {
    const dataset = await readDataset(sharedPath("data", "outliers_sim"));
    const data = centerDataFromDataset(dataset, dataset.centers[0]);
    const n = data.samples.length;
    const genes = data.genes.length;
    const fit = prepareCenterData(interceptOnly(data.counts, n, genes));
    // Besides the counts (the center's own array), nothing of G×n values.
    expect(fit.data.counts).toBe(data.counts);
    expect(fit.constants.logBinomial).toBeNull();
    for (const [name, v] of Object.entries(fit.constants))
      if (v !== null) expect((v as Float64Array).length, name).toBeLessThan(genes * n);
    // The kernels that sum each sample's term get them once, the same object every time.
    const full = withSampleTerms(fit);
    expect(withSampleTerms(fit)).toBe(full);
    const terms = full.constants.logBinomial as Float64Array;
    expect(terms.length).toBe(genes * n);
    for (const g of [0, 1, genes - 1]) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += terms[g * n + i];
      expect(fit.constants.logBinomialSum[g]).toBe(sum);
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

  it("a subset of the genes' counts is in a SharedArrayBuffer; μ is kept as coefficients, not per sample", async () => {
    const dataset = await readDataset(sharedPath("data", "outliers_sim"));
    const data = centerDataFromDataset(dataset, dataset.centers[0]);
    const n = data.samples.length;
    const all = Int32Array.from(data.genes, (_, g) => g);
    expect(countsOfRows(data, all)).toBe(data.counts);
    const some = Int32Array.of(5, 2, 40);
    const subset = countsOfRows(data, some);
    expect(subset.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(subset.subarray(n, 2 * n))).toEqual(
      Array.from(data.counts.subarray(2 * n, 3 * n)),
    );
    const genes = 3;
    const center: DispersionCenter = {
      n,
      p: 1,
      genes,
      design: new Float64Array(n).fill(1),
      sizeFactors: new Float64Array(n).fill(1),
      counts: subset,
    };
    /** Gene g's μ over the samples, and every array the center holds besides its own data. */
    const muOf = (g: number) => {
      const mu = new Float64Array(n);
      geneMu(center, center.means as DispersionMeans, g, mu);
      return mu;
    };
    const perSample = () =>
      [...Object.entries(center), ...Object.entries(center.means ?? {})].filter(
        ([k, v]) =>
          k !== "counts" && ArrayBuffer.isView(v) && (v as Float64Array).length >= genes * n,
      );
    const mask = Uint8Array.of(1, 0, 1);
    dispersionResidualsLocalStep(center, {
      kind: "dispersion-residuals-request",
      mask,
      baseMean: Float64Array.of(10, 20),
      linearBeta: Float64Array.of(10, 20),
      setLinearMu: true,
      minMu: 0.5,
      samples: n,
      designColumns: 1,
      meanInverseSizeFactor: 1,
      linearMu: true,
      designRows: Float64Array.of(1),
    });
    expect(center.means?.beta.length).toBe(genes);
    expect(perSample()).toEqual([]);
    expect([muOf(0)[n - 1], muOf(1)[0], muOf(2)[n - 1]]).toEqual([10, Number.NaN, 20]);
    dispersionMuLocalStep(center, {
      kind: "dispersion-mu-request",
      mask,
      beta: Float64Array.of(0, Math.log(4)),
      link: "log",
      minMu: 0.5,
    });
    expect(perSample()).toEqual([]);
    expect([muOf(0)[0], muOf(1)[n - 1], muOf(2)[0]]).toEqual([1, Number.NaN, 4]);
  });
});
