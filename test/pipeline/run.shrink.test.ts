/**
 * `--lfc-shrink normal`: DESeq2 1.38.3's `lfcShrink(dds, coef = <last coefficient of
 * ~ center + <factor>>, type = "normal")` (the shared deseq2_more/shrink_normal.csv.gz): [14]'s
 * acceptance, log2FoldChange and lfcSE within 1% for ≥ 99.9% of genes, and pvalue and padj the
 * unshrunken results' (DESeq2 keeps them), on the cached `~ center + <factor>` run (whose test
 * is the LRT against `~ center`: the p-values are its).
 */
import { afterAll, describe, expect, it } from "vitest";
import { deseq2Table, shareWithin } from "../helpers/deseq2.js";
import { batchRunWithVst } from "../helpers/runs.js";

const FACTORS: Record<string, string> = {
  bodymap: "tissue",
  li_lncap: "treatment",
  outliers_sim: "condition",
};

const measured: string[] = [];
afterAll(() => console.info(`lfcShrink normal vs DESeq2:\n  ${measured.join("\n  ")}`));

for (const dataset of ["bodymap", "li_lncap", "outliers_sim"]) {
  describe(`run ~ center + ${FACTORS[dataset]} --lfc-shrink normal on ${dataset}`, () => {
    it("gives DESeq2's shrunk log2FoldChange and lfcSE (≥ 99.9% within 1%), the results' p-values", async () => {
      const run = await batchRunWithVst(dataset, FACTORS[dataset]);
      const theirs = deseq2Table(dataset, "shrink_normal.csv.gz", "deseq2_more");
      expect(run.genes).toEqual(theirs.ids);
      const { table, coefficient } = run.shrunk;
      expect(coefficient).toMatch(new RegExp(`^${FACTORS[dataset]}_\\w+_vs_\\w+$`));
      const lfc = shareWithin(table.log2FoldChange, theirs.numbers("log2FoldChange"), 0.01, 1e-8);
      const se = shareWithin(table.lfcSE, theirs.numbers("lfcSE"), 0.01, 1e-8);
      measured.push(
        `${dataset}: log2FoldChange ${(100 * lfc).toFixed(3)}%, lfcSE ${(100 * se).toFixed(3)}% within 1%`,
      );
      expect(lfc).toBeGreaterThanOrEqual(0.999);
      expect(se).toBeGreaterThanOrEqual(0.999);
      // Shrinkage changes the fold changes only: baseMean, pvalue and padj are the run's results'.
      expect(Array.from(table.pvalue)).toEqual(Array.from(run.lrtResults.pvalue));
      expect(Array.from(table.padj)).toEqual(Array.from(run.lrtResults.padj));
      expect(Array.from(table.baseMean)).toEqual(Array.from(run.lrtResults.baseMean));
    });
  });
}
