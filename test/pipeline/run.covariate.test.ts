/**
 * Continuous covariates as users give them, against DESeq2 1.38.3 (fixtures/covariate.R: two
 * simulated datasets of 60 samples over 3 centers, 100 genes each; fixtures/covariateCells.R:
 * ages in whole years that samples share, 150 samples, 300 genes).
 *
 * - `~ age + condition`, age 20–80 uncentred: IRLS converges slowly on such a design and the
 *   `deseq2` solver refits some rows with R's L-BFGS-B, whose trial points make μ overflow at
 *   some samples: a center's likelihood there is +∞, as R's is. Under secure aggregation (the
 *   default) that +∞ travels as a count beside the masked sum; it was once refused as beyond the
 *   field's bound, and every such run ended with exit 3.
 * - `~ age_days + condition`, the age in days (7,000–30,000), gene means up to 1e5: the fit's
 *   information sums and the dispersion search's Cox–Reid slopes (x²·W, x²·W²) reach 1e19–1e20,
 *   beyond the public bound of 1e18 they once had (exit 3 again).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { deseq2TableAt, shareWithin } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-covariate-");

// Largest relative differences measured: 2.1e-9 (covariate), 4.2e-11 (covariate_days).
it.each([
  ["covariate", "~ age + condition"],
  ["covariate_days", "~ age_days + condition"],
] as const)(
  "run --data %s --design '%s' with its defaults (secure aggregation on): exit 0, DESeq2's results within 1e-7",
  async (fixture, design) => {
    const out = join(tmp.dir, fixture);
    const run = await runFedseqAsync([
      "run",
      ...["--data", join(fixtures, fixture), "--design", design, "--out", out, "--quiet"],
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    // The first dataset reaches L-BFGS-B (the +∞ likelihoods).
    if (fixture === "covariate") expect(report.rounds.optim).toBeGreaterThan(0);
    const ours = deseq2TableAt(join(out, "results.csv"));
    const theirs = deseq2TableAt(join(fixtures, `${fixture}_results.csv.gz`));
    expect(ours.ids).toEqual(theirs.ids);
    for (const column of ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]) {
      expect(shareWithin(ours.numbers(column), theirs.numbers(column), 1e-7), column).toBe(1);
    }
  },
);

// fixtures/covariateCells.R: ages in whole years, 150 samples, 300 genes, some outlier counts.
it("run --data with ages in whole years: DESeq2's results but for its Cook's cells of repeated ages, which fedseq does not form and warns of", async () => {
  const dir = join(fixtures, "covariate_cells");
  const out = join(tmp.dir, "covariate_cells");
  const run = await runFedseqAsync([
    "run",
    ...["--data", dir, "--design", "~ age + condition", "--out", out, "--quiet"],
  ]);
  expect(run.code, run.stderr).toBe(0);
  // DESeq2's cells: samples with equal (age, condition), 3 or more (counted from the metadata).
  const rows = readFileSync(join(dir, "metadata.csv"), "utf8").trimEnd().split("\n").slice(1);
  const sizes = new Map<string, number>();
  for (const line of rows) {
    const [, , age, condition] = line.split(",");
    sizes.set(`${age},${condition}`, (sizes.get(`${age},${condition}`) ?? 0) + 1);
  }
  const cells = [...sizes.values()].filter((n) => n >= 3);
  const inCells = cells.reduce((a, b) => a + b, 0);
  expect(run.stderr).toContain(
    `fedseq: warning: ${inCells} of ${rows.length} samples share their design row with 2 or more others (${cells.length} such rows, e.g. age = `,
  );
  const ours = deseq2TableAt(join(out, "results.csv"));
  const theirs = deseq2TableAt(join(fixtures, "covariate_cells_results.csv.gz"));
  expect(ours.ids).toEqual(theirs.ids);
  const kept: number[] = [];
  const removed: number[] = [];
  const theirP = theirs.numbers("pvalue");
  for (let g = 0; g < theirP.length; g++) (Number.isNaN(theirP[g]) ? removed : kept).push(g);
  // The gap, held to its size: the genes DESeq2's maxCooks (over its cells) flags keep their
  // p-values here.
  expect(removed.length).toBe(13);
  const maxCooks = theirs.numbers("maxCooks");
  const ourP = ours.numbers("pvalue");
  for (const g of removed) {
    expect(maxCooks[g]).toBeGreaterThan(0);
    expect(Number.isFinite(ourP[g])).toBe(true);
  }
  // Elsewhere DESeq2's numbers (padj is not compared: its Benjamini–Hochberg set and
  // independent filtering include the 13 p-values).
  const at = (values: Float64Array) => Float64Array.from(kept, (g) => values[g]);
  for (const column of ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue"]) {
    expect(shareWithin(at(ours.numbers(column)), at(theirs.numbers(column)), 1e-7), column).toBe(1);
  }
});
