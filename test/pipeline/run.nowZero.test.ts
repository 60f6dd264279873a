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

/** The genes whose counts DESeq2 replaced (fixtures/nowZero.R). */
const replaced = new Set(
  readFileSync(join(fixtures, "nowZero_replaced.txt"), "utf8").trim().split("\n"),
);

/** `fedseq run` on the fixture, `~ condition`, with `extra` flags, into `out`. */
async function runFixture(out: string, ...extra: string[]): Promise<Deseq2Table> {
  const run = await runFedseqAsync([
    "run",
    ...["--data", data, "--design", "~ condition", ...extra, "--out", out, "--quiet"],
  ]);
  expect(run.code, run.stderr).toBe(0);
  return deseq2TableAt(join(out, "results.csv"));
}

/** The now-zero genes' `columns`: DESeq2's are `values`, and ours are DESeq2's. */
function expectNowZero(
  label: string,
  ours: Deseq2Table,
  theirs: Deseq2Table,
  columns: readonly string[],
  values: readonly number[],
): void {
  expect(ours.ids).toEqual(theirs.ids);
  for (const gene of NOW_ZERO) {
    const r = theirs.ids.indexOf(gene);
    const row = (t: Deseq2Table) => columns.map((c) => t.numbers(c)[r]);
    expect(row(theirs), `DESeq2's ${label} ${gene}`).toEqual(values);
    expect(row(ours), `${label}: ${gene}`).toEqual(values);
  }
}

/** Share of the genes DESeq2 did not replace counts of whose `column` is within rel/abs of its. */
function notReplacedWithin(
  ours: Deseq2Table,
  theirs: Deseq2Table,
  column: string,
  rel: number,
  abs: number,
): number {
  const rows = theirs.ids.flatMap((gene, r) => (replaced.has(gene) ? [] : [r]));
  expect(rows.length).toBe(theirs.ids.length - replaced.size);
  const pick = (t: Deseq2Table) => Float64Array.from(rows, (r) => t.numbers(column)[r]);
  return shareWithin(pick(ours), pick(theirs), rel, abs);
}

/**
 * The results table: the now-zero genes' rows exactly as DESeq2's; padj NA on the same genes;
 * every gene's fold change, standard error and padj call as DESeq2's (within 1% + 1e-8), and the
 * statistic and p-value of every gene whose counts were not replaced (those of the refitted genes
 * follow fedseq's private replacement values, which the README says are approximate).
 */
function expectDeseq2(label: string, ours: Deseq2Table, expected: Deseq2Table): void {
  const columns = ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"];
  expectNowZero(label, ours, expected, columns, [0, 0, 0, 0, 1, Number.NaN]);
  const missing = (t: Deseq2Table) =>
    t.ids.filter((_, r) => Number.isNaN(t.numbers("padj")[r])).sort();
  expect(missing(ours), `${label}: genes with padj NA`).toEqual(missing(expected));
  for (const column of ["log2FoldChange", "lfcSE"]) {
    const share = shareWithin(ours.numbers(column), expected.numbers(column), 0.01, 1e-8);
    expect(share, `${label}: ${column}`).toBe(1);
  }
  expect(callAgreement(ours.numbers("padj"), expected.numbers("padj")), `${label}: padj`).toBe(1);
  for (const column of ["stat", "pvalue"])
    expect(notReplacedWithin(ours, expected, column, 0.01, 1e-8), `${label}: ${column}`).toBe(1);
}

it("run: a gene left with no count has baseMean 0, DESeq2's 0/0/0/1 and padj NA (Wald), and so in results --from; lfcShrink normal gives it 0 and 0", async () => {
  const out = join(tmp.dir, "wald");
  const ours = await runFixture(out, "--lfc-shrink", "normal");
  const expected = deseq2TableAt(join(fixtures, "nowZero_wald.csv.gz"));
  expectDeseq2("Wald", ours, expected);
  // The saved fit gives the same table again.
  const again = join(tmp.dir, "again");
  const results = await runFedseqAsync(["results", "--from", out, "--out", again]);
  expect(results.code, results.stderr).toBe(0);
  expectDeseq2("results --from", deseq2TableAt(join(again, "results.csv")), expected);
  // lfcShrink(type = "normal"): the now-zero genes' fold change and standard error are 0; every
  // other gene's are DESeq2's, the refitted ones' fitted on their original counts as DESeq2's
  // (within 1%: their refit dispersions come from the private, approximate replacement).
  const shrunk = deseq2TableAt(join(out, "shrunk.csv"));
  const reference = deseq2TableAt(join(fixtures, "nowZero_shrink_normal.csv.gz"));
  const columns = ["baseMean", "log2FoldChange", "lfcSE", "pvalue", "padj"];
  expectNowZero("shrunk", shrunk, reference, columns, [0, 0, 0, 1, Number.NaN]);
  for (const column of ["log2FoldChange", "lfcSE"]) {
    expect(notReplacedWithin(shrunk, reference, column, 1e-6, 1e-12), `shrunk ${column}`).toBe(1);
    expect(
      shareWithin(shrunk.numbers(column), reference.numbers(column), 0.01),
      `shrunk ${column}, refitted genes included`,
    ).toBe(1);
  }
});

it("run --test LRT: the same genes get a statistic of 0 and a p-value of 1, not NA", async () => {
  const ours = await runFixture(join(tmp.dir, "lrt"), "--test", "LRT", "--reduced", "~ 1");
  expectDeseq2("LRT", ours, deseq2TableAt(join(fixtures, "nowZero_lrt.csv.gz")));
});
