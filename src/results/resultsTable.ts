/**
 * DESeq2's results table at the aggregator: the contrast's log2 fold change and standard error,
 * the Wald statistic and p-value, Cook's filtering, and adjusted p-values with independent
 * filtering on the mean of normalised counts. Every input is a per-gene aggregate.
 */
import type { GeneMask } from "../algorithms/masks.js";
import { contrastEstimate } from "../algorithms/wald/aggregate.js";
import { chiSquaredUpperTail } from "../stats/chiSquared.js";
import { independentFiltering } from "../stats/independentFiltering.js";
import { pAdjustBH } from "../stats/padjust.js";
import { type WaldOptions, waldTest } from "../stats/wald.js";
import type { Contrast } from "./contrast.js";

/** What {@link resultsTable} reads. */
export interface ResultsInput {
  /** Number of genes in the input (all-zero ones included). */
  readonly genes: number;
  /** Indices of the fitted genes; row j of `beta` and `sigma` is gene fitted[j]. */
  readonly fitted: Int32Array;
  /** Mean of normalised counts of every gene (0 for all-zero genes). */
  readonly baseMean: Float64Array;
  /** Fitted genes' coefficients (natural log), F×p. */
  readonly beta: Float64Array;
  /** Fitted genes' covariances (natural log), F×p×p. */
  readonly sigma: Float64Array;
  readonly contrast: Contrast;
  readonly wald: WaldOptions;
  /** Significance level of the independent filtering (DESeq2's alpha, default 0.1). */
  readonly alpha: number;
  /** Independent filtering on baseMean (DESeq2's default: on). */
  readonly independentFiltering: boolean;
  /** Fitted genes whose p-value DESeq2's Cook's filter sets to NA. */
  readonly cooksOutlier?: GeneMask;
  /**
   * Fitted genes left with no count after outlier replacement: DESeq2 reports a log fold change,
   * standard error and statistic of 0 and a p-value of 1, under the Wald test and the
   * likelihood-ratio test alike (their baseMean, recomputed from the replaced counts, is 0).
   */
  readonly nowZero?: GeneMask;
  /**
   * Fitted genes whose counts are all zero in the samples of the contrast's two levels
   * (DESeq2's `contrastAllZero`): their log fold change is 0, and so (without a threshold) are
   * their statistic and p-value 1; the standard error stays.
   */
  readonly contrastAllZero?: GeneMask;
  /**
   * A likelihood-ratio test (DESeq2's `nbinomLRT`): its statistic per fitted gene and degrees
   * of freedom give `stat` and `pvalue` (χ² upper tail); the fold change and its standard error
   * stay the contrast's, as in DESeq2's `results()` after `test = "LRT"`.
   */
  readonly lrt?: { readonly stat: Float64Array; readonly df: number };
}

/** DESeq2's results columns, one entry per input gene (NaN where DESeq2 has NA). */
export interface ResultsTable {
  readonly baseMean: Float64Array;
  readonly log2FoldChange: Float64Array;
  readonly lfcSE: Float64Array;
  readonly stat: Float64Array;
  readonly pvalue: Float64Array;
  readonly padj: Float64Array;
  /** The baseMean threshold of the independent filtering (NaN without filtering). */
  readonly filterThreshold: number;
}

/** Build DESeq2's results table. */
export function resultsTable(input: ResultsInput): ResultsTable {
  const { genes, fitted } = input;
  const { log2FoldChange: lfcFitted, lfcSE: seFitted } = contrastEstimate(
    input.beta,
    input.sigma,
    input.contrast.weights,
  );
  // DESeq2 zeroes such a gene's fold change before the test (a threshold test then runs on 0).
  input.contrastAllZero?.forEach((zero, j) => {
    if (zero) lfcFitted[j] = 0;
  });
  const { stat: statFitted, pvalue: pFitted } = waldTest(lfcFitted, seFitted, input.wald);
  const nan = () => new Float64Array(genes).fill(Number.NaN);
  const log2FoldChange = nan();
  const lfcSE = nan();
  const stat = nan();
  const pvalue = nan();
  const { lrt } = input;
  fitted.forEach((g, j) => {
    log2FoldChange[g] = lfcFitted[j];
    lfcSE[g] = seFitted[j];
    stat[g] = lrt === undefined ? statFitted[j] : lrt.stat[j];
    const p = lrt === undefined ? pFitted[j] : chiSquaredUpperTail(lrt.stat[j], lrt.df);
    pvalue[g] = input.cooksOutlier?.[j] ? Number.NaN : p;
    // results() fills these in last, whatever the test (its refit had set them to NA).
    if (input.nowZero?.[j]) {
      log2FoldChange[g] = 0;
      lfcSE[g] = 0;
      stat[g] = 0;
      pvalue[g] = 1;
    }
  });
  let padj: Float64Array;
  let filterThreshold = Number.NaN;
  if (input.independentFiltering) {
    const filtered = independentFiltering(input.baseMean, pvalue, { alpha: input.alpha });
    padj = filtered.padj;
    filterThreshold = filtered.filterThreshold;
  } else {
    padj = pAdjustBH(pvalue);
  }
  return {
    baseMean: input.baseMean,
    log2FoldChange,
    lfcSE,
    stat,
    pvalue,
    padj,
    filterThreshold,
  };
}

/** A results table over the kept genes, over all genes: NA (NaN) in every column elsewhere. */
export function resultsOverAllGenes(
  table: ResultsTable,
  genes: number,
  kept: Int32Array,
): ResultsTable {
  const spread = (values: Float64Array) => {
    const out = new Float64Array(genes).fill(Number.NaN);
    kept.forEach((g, j) => {
      out[g] = values[j];
    });
    return out;
  };
  return {
    baseMean: spread(table.baseMean),
    log2FoldChange: spread(table.log2FoldChange),
    lfcSE: spread(table.lfcSE),
    stat: spread(table.stat),
    pvalue: spread(table.pvalue),
    padj: spread(table.padj),
    filterThreshold: table.filterThreshold,
  };
}
