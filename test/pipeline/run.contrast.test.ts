/**
 * `run --contrast factor,level,reference` for two levels other than the default's, against DESeq2
 * 1.38.3's `results(dds, contrast = c("tissue", "heart", "adipose"))` on bodymap's first 4,000
 * genes (fixtures/contrast.R): including DESeq2's contrastAllZero genes (no count in either
 * level's samples, some elsewhere), reported with a log2 fold change and statistic of 0 and a
 * p-value of 1. Run as a user runs it (secure aggregation and the plan's request policy on).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { deseq2TableAt, resultsAgreement, shareWithin } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-contrast-");

it("--contrast tissue,heart,adipose on bodymap: DESeq2's results, its contrastAllZero genes included", {
  timeout: 120_000,
}, async () => {
  const out = join(tmp.dir, "out");
  const run = await runFedseqAsync([
    "run",
    "--data",
    sharedSubset(tmp, "bodymap", 4000),
    "--design",
    "~ tissue",
    "--contrast",
    "tissue,heart,adipose",
    "--out",
    out,
    "--quiet",
  ]);
  expect(run.code, run.stderr).toBe(0);
  const expected = deseq2TableAt(join(fixtures, "bodymap4000_heart_vs_adipose.csv.gz"));
  const ours = deseq2TableAt(join(out, "results.csv"));
  expect(ours.ids).toEqual(expected.ids);
  const column = (name: string) => ours.numbers(name);
  const results = {
    log2FoldChange: column("log2FoldChange"),
    lfcSE: column("lfcSE"),
    stat: column("stat"),
    padj: column("padj"),
  };
  const shares = {
    ...resultsAgreement(results, expected),
    pvalue: shareWithin(column("pvalue"), expected.numbers("pvalue"), 0.01, 1e-8),
  };
  console.info(
    `bodymap (4,000 genes) tissue heart vs adipose: ${Object.entries(shares)
      .map(([k, v]) => `${k} ${(100 * v).toFixed(3)}%`)
      .join(", ")}`,
  );
  for (const share of Object.values(shares)) expect(share).toBeGreaterThanOrEqual(0.999);
  // DESeq2's contrastAllZero genes, exactly: fold change and statistic 0, p-value 1.
  const lfc = expected.numbers("log2FoldChange");
  const stat = expected.numbers("stat");
  const zeroed = expected.ids.filter((_, g) => lfc[g] === 0 && stat[g] === 0);
  expect(zeroed.length).toBe(64);
  for (const gene of zeroed) {
    const g = ours.ids.indexOf(gene);
    expect([results.log2FoldChange[g], results.stat[g], column("pvalue")[g]], gene).toEqual([
      0, 0, 1,
    ]);
  }
});
