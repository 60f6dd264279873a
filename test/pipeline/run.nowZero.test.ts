/**
 * Genes left with no count after Cook's replacement, against DESeq2 1.38.3
 * (fixtures/nowZero.R: outliers_sim's first 400 genes and two genes whose only count is one
 * outlier, in cells of 9 replicates). DESeq2 replaces that count by the cell's trimmed mean, 0;
 * it then recomputes every baseMean from the replaced counts (0 for these two) and its
 * results() gives them a log2 fold change, standard error and statistic of 0 and a p-value of 1
 * under the Wald test and the likelihood-ratio test alike; the independent filtering on baseMean
 * sets their padj to NA, which changes the other genes' adjusted p-values too; lfcShrink's
 * normal MAP fit leaves them out and gives them 0 as well, and refits the other replaced genes
 * on their original counts (counts(dds), which DESeq() restores).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { callAgreement, type Deseq2Table, deseq2TableAt, shareWithin } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const data = join(fixtures, "nowZero");
const tmp = useTempFolder("fedseq-now-zero-");
const NOW_ZERO = ["now_zero_A", "now_zero_B"];
const COLUMNS = ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"];

/** The genes whose counts DESeq2 replaced (fixtures/nowZero.R). */
const replaced = new Set(
  readFileSync(join(fixtures, "nowZero_replaced.txt"), "utf8").trim().split("\n"),
);

/**
 * The two genes' rows exactly as DESeq2's; padj NA on the same genes; every gene's fold change,
 * standard error and padj call as DESeq2's (within 1% + 1e-8), and the statistic and p-value of
 * every gene whose counts were not replaced (those of the refitted genes follow fedseq's private
 * replacement values, which the README says are approximate).
 */
function expectDeseq2(label: string, folder: string, expected: Deseq2Table): void {
  const ours = deseq2TableAt(join(folder, "results.csv"));
  expect(ours.ids).toEqual(expected.ids);
  for (const gene of NOW_ZERO) {
    const r = expected.ids.indexOf(gene);
    const row = (t: Deseq2Table) => COLUMNS.map((c) => t.numbers(c)[r]);
    expect(row(expected), `DESeq2's ${gene}`).toEqual([0, 0, 0, 0, 1, Number.NaN]);
    expect(row(ours), `${label}: ${gene}`).toEqual(row(expected));
  }
  const missing = (t: Deseq2Table) =>
    t.ids.filter((_, r) => Number.isNaN(t.numbers("padj")[r])).sort();
  expect(missing(ours), `${label}: genes with padj NA`).toEqual(missing(expected));
  for (const column of ["log2FoldChange", "lfcSE"]) {
    const share = shareWithin(ours.numbers(column), expected.numbers(column), 0.01, 1e-8);
    expect(share, `${label}: ${column}`).toBe(1);
  }
  expect(callAgreement(ours.numbers("padj"), expected.numbers("padj")), `${label}: padj`).toBe(1);
  const kept = expected.ids.flatMap((gene, r) => (replaced.has(gene) ? [] : [r]));
  expect(kept.length).toBe(expected.ids.length - 9);
  for (const column of ["stat", "pvalue"]) {
    const pick = (t: Deseq2Table) => Float64Array.from(kept, (r) => t.numbers(column)[r]);
    expect(shareWithin(pick(ours), pick(expected), 0.01, 1e-8), `${label}: ${column}`).toBe(1);
  }
}

it("run: a gene left with no count has baseMean 0, DESeq2's 0/0/0/1 and padj NA (Wald), and so in results --from; lfcShrink normal gives it 0 and 0", async () => {
  const out = join(tmp.dir, "wald");
  const run = await runFedseqAsync([
    "run",
    "--data",
    data,
    "--design",
    "~ condition",
    "--lfc-shrink",
    "normal",
    "--out",
    out,
    "--quiet",
  ]);
  expect(run.code, run.stderr).toBe(0);
  const expected = deseq2TableAt(join(fixtures, "nowZero_wald.csv.gz"));
  expectDeseq2("Wald", out, expected);
  // The saved fit gives the same table again.
  const again = join(tmp.dir, "again");
  const results = await runFedseqAsync(["results", "--from", out, "--out", again]);
  expect(results.code, results.stderr).toBe(0);
  expectDeseq2("results --from", again, expected);
  // lfcShrink(type = "normal"): the now-zero genes' fold change and standard error are 0; every
  // other gene's are DESeq2's, the refitted ones' fitted on their original counts as DESeq2's
  // (within 1%: their refit dispersions come from the private, approximate replacement).
  const shrunk = deseq2TableAt(join(out, "shrunk.csv"));
  const reference = deseq2TableAt(join(fixtures, "nowZero_shrink_normal.csv.gz"));
  expect(shrunk.ids).toEqual(reference.ids);
  const SHRUNK = ["baseMean", "log2FoldChange", "lfcSE", "pvalue", "padj"];
  for (const gene of NOW_ZERO) {
    const r = reference.ids.indexOf(gene);
    const row = (t: Deseq2Table) => SHRUNK.map((c) => t.numbers(c)[r]);
    expect(row(reference), `DESeq2's shrunk ${gene}`).toEqual([0, 0, 0, 1, Number.NaN]);
    expect(row(shrunk), `shrunk ${gene}`).toEqual(row(reference));
  }
  const kept = reference.ids.flatMap((gene, r) => (replaced.has(gene) ? [] : [r]));
  for (const column of ["log2FoldChange", "lfcSE"]) {
    const pick = (t: Deseq2Table) => Float64Array.from(kept, (r) => t.numbers(column)[r]);
    expect(shareWithin(pick(shrunk), pick(reference), 1e-6, 1e-12), `shrunk ${column}`).toBe(1);
    expect(
      shareWithin(shrunk.numbers(column), reference.numbers(column), 0.01),
      `shrunk ${column}, refitted genes included`,
    ).toBe(1);
  }
});

it("run --test LRT: the same genes get a statistic of 0 and a p-value of 1, not NA", async () => {
  const out = join(tmp.dir, "lrt");
  const run = await runFedseqAsync([
    "run",
    "--data",
    data,
    "--design",
    "~ condition",
    "--test",
    "LRT",
    "--reduced",
    "~ 1",
    "--out",
    out,
    "--quiet",
  ]);
  expect(run.code, run.stderr).toBe(0);
  expectDeseq2("LRT", out, deseq2TableAt(join(fixtures, "nowZero_lrt.csv.gz")));
});
