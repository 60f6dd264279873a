/**
 * The whole federated Cook's protocol on two small synthetic datasets made by
 * `fixtures/make_synthetic.R` with DESeq2 1.38.3, for the branches `outliers_sim` does not
 * reach: a cell too small to replace (maxCooks recomputed after the refit from its samples,
 * outliers flagged `replace` with nothing replaced), results()' two-level-factor rule, and a
 * continuous design (no cell of 3: all samples trimmed by 1/8, no maxCooks recorded).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { aggregateCells, cellsLocalStep, cooksPlan } from "../../../src/algorithms/cooks/cells.js";
import type { CooksCenter } from "../../../src/algorithms/cooks/center.js";
import {
  aggregateCooks,
  cooksFilterMask,
  cooksLocalStep,
  cooksRequest,
  countsWithReplacements,
  replaceOutliersLocal,
} from "../../../src/algorithms/cooks/cooks.js";
import {
  robustMoments,
  startRobustPass1,
  startRobustPass2,
} from "../../../src/algorithms/cooks/robustDispersion.js";
import { sumOverCenters } from "../../../src/algorithms/shares.js";
import { waldCovariance } from "../../../src/algorithms/wald/aggregate.js";
import { weightedGram } from "../../../src/algorithms/wald/local.js";
import { readCsv } from "../../../src/io/csv.js";
import { runSearch } from "./outliersSim.js";

const here = dirname(fileURLToPath(import.meta.url));

interface Table {
  ids: string[];
  header: string[];
  text(name: string): string[];
  numbers(name: string): Float64Array;
}

function table(dataset: string, file: string): Table {
  const csv = readCsv(join(here, "fixtures", "synthetic", dataset, file));
  const column = (name: string) => {
    const k = csv.header.indexOf(name);
    if (k < 0) throw new Error(`${file}: no column ${name}`);
    return csv.rows.map((r) => r.fields[k]);
  };
  return {
    ids: csv.rows.map((r) => r.fields[0]),
    header: csv.header,
    text: column,
    numbers: (name) =>
      Float64Array.from(column(name), (v) =>
        v === "TRUE" ? 1 : v === "FALSE" ? 0 : v === "NA" ? Number.NaN : Number(v),
      ),
  };
}

function relative(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  return Math.abs(a - b) / Math.abs(b);
}

function runDataset(dataset: string, twoLevelFactor: boolean) {
  const counts = table(dataset, "counts.csv");
  const samples = table(dataset, "samples.csv");
  const metadata = table(dataset, "metadata.csv");
  const genes = table(dataset, "genes.csv");
  const replaced = table(dataset, "replace_counts.csv");
  const sampleIds = samples.ids;
  const nGenes = counts.ids.length;
  const p = 2;
  const sf = samples.numbers("size_factor");
  const d1 = samples.numbers("design_1");
  const d2 = samples.numbers("design_2");
  const centerOf = metadata.text("center");
  const centerNames = [...new Set(centerOf)].sort();
  const columns = sampleIds.map((s) => counts.numbers(s));
  const centers: (CooksCenter & { samples: number[] })[] = centerNames.map((name) => {
    const idx = sampleIds.flatMap((_, i) => (centerOf[i] === name ? [i] : []));
    const n = idx.length;
    const c = new Float64Array(nGenes * n);
    for (let g = 0; g < nGenes; g++) {
      for (let j = 0; j < n; j++) c[g * n + j] = columns[idx[j]][g];
    }
    return {
      samples: idx,
      n,
      p,
      genes: nGenes,
      design: Float64Array.from(idx.flatMap((i) => [d1[i], d2[i]])),
      sizeFactors: Float64Array.from(idx, (i) => sf[i]),
      counts: c,
    };
  });
  const beta = new Float64Array(nGenes * p);
  const b1 = genes.numbers("beta_ln_1");
  const b2 = genes.numbers("beta_ln_2");
  for (let g = 0; g < nGenes; g++) {
    beta[g * p] = b1[g];
    beta[g * p + 1] = b2[g];
  }
  const dispersions = genes.numbers("dispersion");

  const cellTable = aggregateCells(centers.map((c) => cellsLocalStep(c)));
  const plan = cooksPlan(cellTable);
  const pass1 = startRobustPass1(plan, nGenes, { thirdLargestCount: twoLevelFactor });
  runSearch(centers, pass1);
  const pass2 = startRobustPass2(plan, pass1);
  runSearch(centers, pass2);
  const moments = robustMoments(plan, pass1, pass2);
  const hatShares = centers.map((c) => ({ xtwx: weightedGram(c, beta, dispersions) }));
  const hatInverse = waldCovariance(sumOverCenters(hatShares, "xtwx"), p).inverse;
  const request = cooksRequest(plan, {
    beta,
    dispersions,
    robustDispersions: moments.dispersion,
    hatInverse,
    trimmedBaseMean: moments.trimmedBaseMean,
    thirdLargestCount: moments.thirdLargestCount,
  });
  const shares = centers.map((c) => cooksLocalStep(c, request));
  const replacements = centers.map((c) => replaceOutliersLocal(c, request));
  const outcome = aggregateCooks(
    plan,
    shares,
    replacements.map((r) => r.share),
  );
  return {
    plan,
    moments,
    shares,
    outcome,
    genes,
    check(options: { readonly converged: (g: number) => boolean }) {
      const robust = genes.numbers("robust_dispersion");
      const wald = genes.numbers("wald_max_cooks");
      const finalMax = genes.numbers("max_cooks");
      for (let g = 0; g < nGenes; g++) {
        expect(relative(moments.dispersion[g], robust[g]), `robust ${g}`).toBeLessThan(1e-10);
        if (!options.converged(g)) continue;
        expect(relative(outcome.waldMaxCooks[g], wald[g]), `wald maxCooks ${g}`).toBeLessThan(1e-6);
        expect(relative(outcome.maxCooks[g], finalMax[g]), `maxCooks ${g}`).toBeLessThan(1e-6);
      }
      expect(Array.from(outcome.replace)).toEqual(Array.from(genes.numbers("replace")));
      centers.forEach((center, c) => {
        const local = countsWithReplacements(center.counts, center.n, replacements[c].replaced);
        center.samples.forEach((i, j) => {
          const expected = replaced.numbers(sampleIds[i]);
          for (let g = 0; g < nGenes; g++) {
            expect(local[g * center.n + j]).toBe(expected[g]);
          }
        });
      });
      const mask = cooksFilterMask(plan, outcome, { twoLevelFactor });
      expect(Array.from(mask)).toEqual(Array.from(genes.numbers("pvalue_na")));
      const noReplace = cooksPlan(cellTable, { minReplicatesForReplace: Number.POSITIVE_INFINITY });
      const without = cooksFilterMask(noReplace, aggregateCooks(noReplace, shares), {
        twoLevelFactor,
      });
      expect(Array.from(without)).toEqual(Array.from(genes.numbers("pvalue_na_without_refit")));
    },
  };
}

describe("unbalanced: A × 8 (replaceable), B × 4", () => {
  const run = runDataset("unbalanced", true);
  const iterations = run.genes.numbers("beta_iter");

  it("matches DESeq2: robust dispersions, maxCooks before and after the refit, replacement, filtering", () => {
    expect(run.plan.allReplaceable).toBe(false);
    expect(run.outcome.refitted).toBe(true);
    run.check({ converged: (g) => iterations[g] < 100 });
  });

  it("exercises the branches: flagged genes with nothing replaced, genes kept by the two-level rule", () => {
    const { outcome, plan } = run;
    const flaggedNotReplaced = outcome.replace.filter(
      (r, g) => r === 1 && outcome.replacedEntries[g] === 0,
    ).length;
    expect(flaggedNotReplaced).toBeGreaterThan(0);
    const noReplace = cooksPlan(plan.table, { minReplicatesForReplace: Number.POSITIVE_INFINITY });
    const outcome0 = aggregateCooks(noReplace, run.shares);
    const kept = outcome0.waldMaxCooks.filter(
      (x, g) => x > plan.cutoff && outcome0.threeCountsAboveArgmax[g] === 1,
    ).length;
    expect(kept).toBe(2);
  });
});

describe("continuous: ~ x, no design cell of 3", () => {
  const run = runDataset("continuous", false);

  it("matches DESeq2 (all samples trimmed by 1/8, maxCooks NA, nothing replaced)", () => {
    expect(run.plan.robustGroups).toHaveLength(1);
    expect(run.plan.recordsMaxCooks).toBe(false);
    expect(run.plan.sufficientReplicates).toBe(false);
    expect(run.outcome.maxCooks.every((x) => Number.isNaN(x))).toBe(true);
    run.check({ converged: () => true });
  });
});
