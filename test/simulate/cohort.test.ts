/**
 * Synthetic cohorts: the negative-binomial sampler's moments, the plan's shape and balance,
 * the files' layout (read back with the dataset and sidecar readers), and determinism.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readCsv } from "../../src/io/csv.js";
import { readDataset } from "../../src/io/dataset.js";
import { InputError } from "../../src/io/errors.js";
import { readDispersions, readSizeFactors } from "../../src/io/sidecars.js";
import {
  cohortCounts,
  DEFAULT_COHORT_MODEL,
  planCohort,
  seededRandom,
  writeCohort,
} from "../../src/simulate/cohort.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-simulate-");

/** Variance and variance of the squared deviation of NB(mean, α), from its cumulants. */
function nbMoments(mean: number, alpha: number): { variance: number; varOfSquare: number } {
  const k2 = mean * (1 + alpha * mean);
  const k4 = k2 * (1 + 6 * alpha * mean * (1 + alpha * mean));
  return { variance: k2, varOfSquare: k4 + 2 * k2 * k2 };
}

function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).sort();
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

describe("seededRandom", () => {
  it("is deterministic given the seed, and differs between seeds", () => {
    const draw = (seed: number) => {
      const rng = seededRandom(seed);
      return [rng.uniform(), rng.normal(0, 1), rng.negativeBinomial(50, 0.2)];
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    // Seeds differing only above 32 bits give different streams too.
    expect(draw(1)).not.toEqual(draw(1 + 2 ** 32));
    expect(() => seededRandom(-1)).toThrow(RangeError);
    expect(() => seededRandom(1.5)).toThrow(RangeError);
  });

  it.each([
    [100, 0.1],
    [2, 2],
    [0.3, 5],
    [50_000, 0.05],
  ])(
    "negativeBinomial(μ=%d, α=%d) has mean μ and variance μ + αμ² within sampling error",
    (mu, alpha) => {
      const rng = seededRandom(2024);
      const n = 200_000;
      const draws = new Float64Array(n);
      for (let i = 0; i < n; i++) draws[i] = rng.negativeBinomial(mu, alpha);
      expect(draws.every((y) => Number.isInteger(y) && y >= 0)).toBe(true);
      let sum = 0;
      for (const y of draws) sum += y;
      const mean = sum / n;
      let ss = 0;
      for (const y of draws) ss += (y - mean) ** 2;
      const variance = ss / (n - 1);
      const theory = nbMoments(mu, alpha);
      // Five standard errors: a false alarm has probability below 1e-6.
      expect(Math.abs(mean - mu)).toBeLessThan(5 * Math.sqrt(theory.variance / n));
      expect(Math.abs(variance - theory.variance)).toBeLessThan(
        5 * Math.sqrt(theory.varOfSquare / n),
      );
    },
  );

  it("negativeBinomial of a zero mean is 0", () => {
    const rng = seededRandom(1);
    expect(rng.negativeBinomial(0, 0.5)).toBe(0);
  });
});

describe("planCohort", () => {
  it("balances conditions within each center and keeps centers unequal but complete", () => {
    const { plan } = planCohort({
      genes: 10,
      samples: 101,
      centers: 4,
      seed: 3,
      designLevels: 3,
      deFraction: 0.2,
    });
    expect(plan.samples.length).toBe(101);
    expect(plan.samples.slice(0, 2)).toEqual(["S001", "S002"]);
    expect(plan.genes.slice(0, 2)).toEqual(["gene00001", "gene00002"]);
    expect(plan.levels).toEqual(["A", "B", "C"]);
    expect(plan.centers).toEqual(["center_1", "center_2", "center_3", "center_4"]);
    const sizes = plan.centers.map((_, c) => plan.centerOfSample.filter((x) => x === c).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(101);
    expect(new Set(sizes).size).toBeGreaterThan(1);
    // Samples are grouped by center.
    for (let j = 1; j < 101; j++) {
      expect(plan.centerOfSample[j]).toBeGreaterThanOrEqual(plan.centerOfSample[j - 1]);
    }
    for (let c = 0; c < 4; c++) {
      const perLevel = [0, 1, 2].map(
        (k) =>
          plan.levelOfSample.filter((level, j) => level === k && plan.centerOfSample[j] === c)
            .length,
      );
      expect(Math.min(...perLevel)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...perLevel) - Math.min(...perLevel)).toBeLessThanOrEqual(1);
    }
    const pooled = [0, 1, 2].map((k) => plan.levelOfSample.filter((l) => l === k).length);
    expect(Math.max(...pooled) - Math.min(...pooled)).toBeLessThanOrEqual(1);
    // Exactly 2 of 10 genes are DE, with two coefficients each; the others have zeros.
    expect(plan.de.reduce((a, b) => a + b, 0)).toBe(2);
    expect(plan.lfc.length).toBe(20);
    plan.de.forEach((de, g) => {
      const pair = [plan.lfc[2 * g], plan.lfc[2 * g + 1]];
      if (de) expect(pair.every((x) => x !== 0)).toBe(true);
      else expect(pair).toEqual([0, 0]);
    });
  });

  it("draws RNA-seq-like base means, trended dispersions and size factors", () => {
    const { plan } = planCohort({ genes: 20_000, samples: 200, centers: 3, seed: 11 });
    const m = DEFAULT_COHORT_MODEL;
    // Base means: median in the hundreds, heavy right tail, a few near-zero genes.
    const med = median(plan.baseMean);
    expect(med).toBeGreaterThan(250);
    expect(med).toBeLessThan(450);
    expect(Math.max(...plan.baseMean)).toBeGreaterThan(1e5);
    const nearZero = plan.baseMean.filter((x) => x < 1).length / 20_000;
    expect(nearZero).toBeGreaterThan(0.04);
    expect(nearZero).toBeLessThan(0.08);
    // Dispersions scatter log-normally (sd 0.5) around a1/μ + a0, capped at 10.
    const logRatio = Float64Array.from(plan.baseMean, (mu, g) =>
      Math.log(plan.dispersions[g] / (m.a1 / mu + m.a0)),
    ).filter((_, g) => plan.dispersions[g] < m.maxDispersion);
    expect(Math.abs(median(logRatio))).toBeLessThan(0.02);
    const sd = Math.sqrt(logRatio.reduce((a, x) => a + x * x, 0) / logRatio.length);
    expect(sd).toBeGreaterThan(0.48);
    expect(sd).toBeLessThan(0.52);
    expect(Math.max(...plan.dispersions)).toBeLessThanOrEqual(10);
    // Size factors: geometric mean 1, log-sd about 0.2.
    const logSf = Array.from(plan.sizeFactors, Math.log);
    expect(Math.abs(logSf.reduce((a, b) => a + b, 0))).toBeLessThan(1e-12);
    const sfSd = Math.sqrt(logSf.reduce((a, x) => a + x * x, 0) / 200);
    expect(sfSd).toBeGreaterThan(0.16);
    expect(sfSd).toBeLessThan(0.24);
    // 10 % DE genes, log2 fold changes with sd about 1.5.
    expect(plan.de.reduce((a, b) => a + b, 0)).toBe(2000);
    const lfcs = plan.lfc.filter((_, g) => plan.de[g] === 1);
    const lfcSd = Math.sqrt(lfcs.reduce((a, x) => a + x * x, 0) / lfcs.length);
    expect(lfcSd).toBeGreaterThan(1.4);
    expect(lfcSd).toBeLessThan(1.6);
  });

  it("rejects impossible options with InputErrors naming the flag", () => {
    const base = { genes: 10, samples: 10, centers: 2, seed: 1 };
    expect(() => planCohort({ ...base, samples: 3 })).toThrow(
      /--samples: 3 samples cannot give each of 2 centers all 2 conditions \(need at least 4\)/,
    );
    expect(() => planCohort({ ...base, deFraction: 1.5 })).toThrow(InputError);
    expect(() => planCohort({ ...base, designLevels: 27 })).toThrow(/at most 26 levels/);
    expect(() => planCohort({ ...base, genes: 0 })).toThrow(/--genes: must be a whole number ≥ 1/);
    expect(() => planCohort({ ...base, seed: 2 ** 53 })).toThrow(/--seed/);
  });
});

describe("writeCohort", () => {
  const options = { genes: 300, samples: 30, centers: 3, seed: 42 };
  const names = [
    "counts.csv",
    "metadata.csv",
    "truth/size_factors.csv",
    "truth/dispersions.csv",
    "truth/lfc.csv",
  ];
  const read = (dir: string) => names.map((name) => readFileSync(join(dir, name), "utf8"));

  it("writes the fit-lfc layout, readable by readDataset and the sidecar readers", async () => {
    const dir = temp.subdir("cohort");
    const summary = writeCohort(dir, options);
    const dataset = await readDataset(dir);
    const { plan } = summary;
    expect(dataset.genes).toEqual(plan.genes);
    expect(dataset.samples).toEqual(plan.samples);
    expect(dataset.counts.length).toBe(300 * 30);
    expect(dataset.centers).toEqual(["center_1", "center_2", "center_3"]);
    expect(dataset.metadata.columns).toEqual(["condition", "center"]);
    expect(dataset.metadata.values.get("condition")).toEqual(
      Array.from(plan.levelOfSample, (k) => plan.levels[k]),
    );
    expect(dataset.centerOfSample).toEqual(Array.from(plan.centerOfSample, (c) => plan.centers[c]));
    const zeroGenes = dataset.genes.filter((_, g) =>
      dataset.counts.subarray(g * 30, g * 30 + 30).every((y) => y === 0),
    ).length;
    expect(zeroGenes).toBe(summary.allZeroGenes);
    expect(readSizeFactors(summary.files.sizeFactors, dataset.samples)).toEqual(plan.sizeFactors);
    expect(readDispersions(summary.files.dispersions, dataset.genes, () => true)).toEqual(
      plan.dispersions,
    );
    const lfc = readCsv(summary.files.lfc);
    expect(lfc.header).toEqual([
      "gene",
      "log2FoldChange",
      "de",
      "baseMean",
      "Intercept",
      "condition_B_vs_A",
    ]);
    expect(lfc.rows.map((r) => Number(r.fields[1]))).toEqual(Array.from(plan.lfc));
    expect(lfc.rows.filter((r) => r.fields[2] === "true").length).toBe(30);
    expect(Number(lfc.rows[0].fields[4])).toBe(Math.log2(plan.baseMean[0]));
    // The counts are those cohortCounts draws after the same plan.
    const replay = planCohort(options);
    let g = 0;
    for (const row of cohortCounts(replay.plan, replay.rng)) {
      expect(Array.from(row)).toEqual(Array.from(dataset.counts.subarray(g * 30, g * 30 + 30)));
      g++;
    }
    expect(g).toBe(300);
  });

  it("same seed, identical files; another seed, other counts", () => {
    const a = temp.subdir("seed42");
    const b = temp.subdir("seed42-again");
    const c = temp.subdir("seed43");
    writeCohort(a, options);
    writeCohort(b, options);
    writeCohort(c, { ...options, seed: 43 });
    expect(read(b)).toEqual(read(a));
    const [countsA, , , dispA] = read(a);
    const [countsC, , , dispC] = read(c);
    expect(countsC).not.toBe(countsA);
    expect(dispC).not.toBe(dispA);
  });

  it("counts of a gene over many samples have mean sμ and variance sμ + α(sμ)²", async () => {
    const dir = temp.subdir("wide");
    const { plan } = writeCohort(dir, {
      genes: 4,
      samples: 20_000,
      centers: 2,
      seed: 5,
      deFraction: 0,
    });
    const dataset = await readDataset(dir);
    const n = 20_000;
    const s = readSizeFactors(join(dir, "truth", "size_factors.csv"), dataset.samples);
    const alphas = readDispersions(
      join(dir, "truth", "dispersions.csv"),
      dataset.genes,
      () => true,
    );
    const means = readCsv(join(dir, "truth", "lfc.csv")).rows.map((r) => Number(r.fields[3]));
    for (let g = 0; g < 4; g++) {
      const mu = means[g];
      const alpha = alphas[g];
      expect(mu).toBe(plan.baseMean[g]);
      // Σ(y − sμ) and Σ[(y − sμ)² − Var(y)] are sums of independent zero-mean terms.
      let dev = 0;
      let devVar = 0;
      let sq = 0;
      let sqVar = 0;
      for (let i = 0; i < n; i++) {
        const m = s[i] * mu;
        const y = dataset.counts[g * n + i];
        const theory = nbMoments(m, alpha);
        dev += y - m;
        devVar += theory.variance;
        sq += (y - m) ** 2 - theory.variance;
        sqVar += theory.varOfSquare;
      }
      expect(Math.abs(dev)).toBeLessThan(5 * Math.sqrt(devVar));
      expect(Math.abs(sq)).toBeLessThan(5 * Math.sqrt(sqVar));
    }
  });
});
