/**
 * Cook's refit of genes whose gene-wise dispersions all fall below 100·minDisp, against DESeq2
 * 1.38.3 (fixtures/refitPrior.R: near-Poisson counts and one gene, sparse1, whose only large
 * count DESeq2 replaces, in cells of 12). The refit passes the first estimation's prior variance
 * to DESeq2's MAP step, which then searches as for any gene: "every dispersion is 10·minDisp" is
 * for a prior estimated from the genes at hand, and the refit's genes are too few to estimate
 * one. fedseq used to apply it to the refit (sparse1's dispersion 1e-7, its lfcSE 0.83 against
 * DESeq2's 1.95, found by a sweep of new data shapes).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { deseq2TableAt } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-refit-prior-");

it("a refit whose genes are all below 100·minDisp takes the MAP dispersion with the first prior, as DESeq2", async () => {
  const out = join(tmp.dir, "run");
  const run = await runFedseqAsync([
    "run",
    ...["--data", join(fixtures, "refitPrior"), "--design", "~ condition", "--out", out],
    "--quiet",
  ]);
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  expect(report.cooks).toMatchObject({ refitted: 1, replaced_counts: 1 });
  // sparse1's dispersions: gene-wise minDisp, and DESeq2's MAP (not 10·minDisp).
  const [header, row] = readFileSync(join(fixtures, "refitPrior_dispersions.csv"), "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(","));
  const theirs = Object.fromEntries(header.map((h, i) => [h, row[i]]));
  const dispersions = deseq2TableAt(join(out, "dispersions.csv"));
  const g = dispersions.ids.indexOf("sparse1");
  const ours = (column: string) => dispersions.numbers(column)[g];
  expect(ours("dispersion_genewise")).toBe(Number(theirs.dispGeneEst));
  const final = Number(theirs.dispersion);
  expect(final).toBeGreaterThan(1);
  expect(Math.abs(ours("dispersion") - final) / final).toBeLessThan(1e-8);
  // Every gene's results as DESeq2's, NA where its are.
  const results = deseq2TableAt(join(out, "results.csv"));
  const expected = deseq2TableAt(join(fixtures, "refitPrior_results.csv.gz"));
  expect(results.ids).toEqual(expected.ids);
  for (const column of ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]) {
    const a = results.numbers(column);
    const b = expected.numbers(column);
    let worst = 0;
    for (let i = 0; i < a.length; i++) {
      expect(Number.isNaN(a[i]), `${column} ${expected.ids[i]}`).toBe(Number.isNaN(b[i]));
      if (!Number.isNaN(b[i]))
        worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-300));
    }
    expect(worst, column).toBeLessThan(1e-8);
  }
});
