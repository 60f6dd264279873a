/**
 * The check of a results table against DESeq2's for a contrast: every column within 1% for
 * ≥ 99.9% of genes, and DESeq2's contrastAllZero genes (a fold change and statistic of 0, a
 * p-value of 1) exactly, as many as expected.
 */
import { expect } from "vitest";
import { type Deseq2Table, type ResultColumns, resultsAgreementWithPvalues } from "./deseq2.js";

/** Check `ours` (genes `ids`) against DESeq2's `expected`, with `zeroed` contrastAllZero genes. */
export function expectDeseq2Contrast(
  label: string,
  ours: ResultColumns,
  ids: readonly string[],
  expected: Deseq2Table,
  zeroed: number,
): void {
  expect(ids).toEqual(expected.ids);
  const shares = resultsAgreementWithPvalues(label, ours, expected);
  for (const share of Object.values(shares)) expect(share).toBeGreaterThanOrEqual(0.999);
  const lfc = expected.numbers("log2FoldChange");
  const stat = expected.numbers("stat");
  const genes = expected.ids.filter((_, g) => lfc[g] === 0 && stat[g] === 0);
  expect(genes.length).toBe(zeroed);
  for (const gene of genes) {
    const g = ids.indexOf(gene);
    expect([ours.log2FoldChange[g], ours.stat[g], ours.pvalue[g]], gene).toEqual([0, 0, 1]);
  }
}
