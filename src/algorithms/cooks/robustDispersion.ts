/**
 * DESeq2's robust method-of-moments dispersion (`robustMethodOfMomentsDisp`), the dispersion
 * of Cook's distances, federated as two trimmed-mean searches ({@link TrimSearch}):
 *
 * 1. over the normalised counts y/s: the trimmed mean of each cell of ≥ 3 pooled samples
 *    (trim 1/3, 1/4 or 1/8 by cell size: `trimmedCellVariance`; all samples trimmed by 1/8
 *    when no cell has 3: `trimmedVariance`), the 0.2-trimmed mean over all samples (the
 *    replacement value of `replaceOutliers`; its first round also gives Σ y/s, hence the
 *    row mean), and optionally the third-largest raw count over all samples (for the
 *    two-level-factor rule of `results()`' Cook's filtering, see `cooks.ts`);
 * 2. over the squared errors (y/s − cell mean)²: the same groups' trimmed means, times the
 *    scale 2.04, 1.86 or 1.51.
 *
 * Then v = max over groups of scale × trimmed mean, m = mean of y/s over all samples, and
 * α_rob = max((v − m)/m², 0.04).
 */
import type { CooksPlan } from "./cells.js";
import { startTrimSearch, type TrimGroup, type TrimSearch, trimRanks } from "./trimmedMean.js";

/** Options of {@link startRobustPass1}. */
export interface RobustPass1Options {
  /**
   * Also search the third-largest raw count of each gene (needed by `results()`' Cook's
   * filtering when the design is a single factor of two levels).
   */
  readonly thirdLargestCount?: boolean;
  /** Thresholds per target and round. */
  readonly thresholds?: number;
}

/** DESeq2's floor on the robust dispersion (`minDisp`). */
export const ROBUST_MIN_DISPERSION = 0.04;

/**
 * The first search: normalised counts' trimmed means (robust groups, then the replacement
 * group over all samples, then optionally the third-largest count).
 */
export function startRobustPass1(
  plan: CooksPlan,
  genes: number,
  options: RobustPass1Options = {},
): TrimSearch {
  const all = new Uint8Array(plan.table.cells).fill(1);
  const groups: TrimGroup[] = plan.robustGroups.map((group) => ({
    cellMask: group.cellMask,
    values: "normalized",
    size: group.size,
    ...trimRanks(group.size, group.trim),
  }));
  groups.push({
    cellMask: all,
    values: "normalized",
    size: plan.m,
    ...trimRanks(plan.m, plan.replaceTrim),
  });
  if (options.thirdLargestCount === true && plan.m >= 3) {
    groups.push({ cellMask: all, values: "counts", size: plan.m, lo: plan.m - 2, hi: plan.m - 2 });
  }
  return startTrimSearch({ table: plan.table, genes, groups, thresholds: options.thresholds });
}

/**
 * The second search: trimmed means of the squared errors around the first search's cell
 * means (one group per robust group).
 */
export function startRobustPass2(plan: CooksPlan, pass1: TrimSearch): TrimSearch {
  const { genes } = pass1;
  const cells = plan.table.cells;
  const g1 = pass1.groupCount;
  const centres = new Float64Array(genes * cells).fill(Number.NaN);
  plan.robustGroups.forEach((group, q) => {
    for (let c = 0; c < cells; c++) {
      if (group.cellMask[c] !== 1) continue;
      for (let g = 0; g < genes; g++) centres[g * cells + c] = pass1.means[g * g1 + q];
    }
  });
  const groups: TrimGroup[] = plan.robustGroups.map((group) => ({
    cellMask: group.cellMask,
    values: "squared-error",
    size: group.size,
    ...trimRanks(group.size, group.trim),
  }));
  return startTrimSearch({
    table: plan.table,
    genes,
    groups,
    centres,
    thresholds: pass1.thresholds,
  });
}

/** What the two searches give per gene. */
export interface RobustMoments {
  /** Mean of the normalised counts over all samples (DESeq2's baseMean), length genes. */
  readonly baseMean: Float64Array;
  /** 0.2-trimmed mean of the normalised counts over all samples (replacement value / s). */
  readonly trimmedBaseMean: Float64Array;
  /** Third-largest raw count over all samples (NaN unless searched). */
  readonly thirdLargestCount: Float64Array;
  /** v: max over robust groups of scale × trimmed mean of squared errors. */
  readonly variance: Float64Array;
  /** α_rob = max((v − m)/m², 0.04) (NaN for an all-zero gene, which DESeq2 leaves out). */
  readonly dispersion: Float64Array;
}

/** Combine the finished searches into the robust dispersions. */
export function robustMoments(
  plan: CooksPlan,
  pass1: TrimSearch,
  pass2: TrimSearch,
): RobustMoments {
  const { genes } = pass1;
  const g1 = pass1.groupCount;
  const r = plan.robustGroups.length;
  const baseMean = new Float64Array(genes);
  const trimmedBaseMean = new Float64Array(genes);
  const thirdLargestCount = new Float64Array(genes).fill(Number.NaN);
  const variance = new Float64Array(genes);
  const dispersion = new Float64Array(genes);
  for (let g = 0; g < genes; g++) {
    baseMean[g] = pass1.totals[g * g1 + r] / plan.m;
    trimmedBaseMean[g] = pass1.means[g * g1 + r];
    if (g1 > r + 1) thirdLargestCount[g] = pass1.means[g * g1 + r + 1];
    robustGeneDispersion(plan, pass2.means, g, baseMean[g], variance, dispersion);
  }
  return { baseMean, trimmedBaseMean, thirdLargestCount, variance, dispersion };
}

/**
 * DESeq2's robust dispersion of gene g (`robustMethodOfMoments`): the largest of its cells'
 * scaled trimmed variances v (NaN over any number, as R's `max`), and max((v − m)/m², 0.04)
 * with m its mean; written to `variance[g]` and `dispersion[g]`.
 * @param cellMeans - the second pass's trimmed means, gene-major (one per robust group)
 */
export function robustGeneDispersion(
  plan: Pick<CooksPlan, "robustGroups">,
  cellMeans: Float64Array,
  g: number,
  mean: number,
  variance: Float64Array,
  dispersion: Float64Array,
): void {
  const groups = plan.robustGroups.length;
  let v = Number.NEGATIVE_INFINITY;
  for (let q = 0; q < groups; q++) {
    const x = plan.robustGroups[q].scale * cellMeans[g * groups + q];
    if (x > v || Number.isNaN(x)) v = x;
  }
  variance[g] = v;
  const alpha = (v - mean) / (mean * mean);
  dispersion[g] = Number.isNaN(alpha) ? Number.NaN : Math.max(alpha, ROBUST_MIN_DISPERSION);
}
