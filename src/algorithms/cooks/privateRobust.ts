/**
 * DESeq2's robust method-of-moments dispersion (`robustMethodOfMomentsDisp`), the replacement
 * value of `replaceOutliers` and the bucket of the third-largest count, from the private
 * searches of `privateTrimmedMean.ts` (pooled counts on a public grid, pooled sums over
 * ≥ k values). The plan's robust groups are those of `robustDispersion.ts`.
 *
 * Rounds: pass 1 (y/s: each robust cell, and all samples trimmed by 0.2 where a cell may have
 * its counts replaced): R₁ counts rounds and one sums round; pass 2 (squared errors around
 * pass 1's approximate cell means): R₂ counts rounds and one sums round. With the default grid
 * and K = 7, R₁ = R₂ = 4.
 *
 * Error propagation: the pass-1 cell means enter pass 2 as centres c; the squared errors are
 * computed by the centers exactly around that c (not DESeq2's), so the robust variance v is
 * the trimmed mean of (y/s − ĉ)², itself approximated. The returned bounds cover the second
 * approximation only; the tests measure the total against DESeq2.
 */
import type { CooksPlan } from "./cells.js";
import {
  gridBucketBounds,
  type PrivateGrid,
  type PrivateTrimEstimates,
  type PrivateTrimGroup,
  type PrivateTrimSearch,
  privateGroupsSafe,
  startPrivateTrimSearch,
} from "./privateTrimmedMean.js";
import { robustGeneDispersion } from "./robustDispersion.js";
import { trimRanks } from "./trimmedMean.js";

/** Options of the private passes. */
export interface PrivateRobustOptions {
  /** k (default 3). */
  readonly minCell?: number;
  /** Cuts per target and round (default 7). */
  readonly cuts?: number;
  /** Grid (default `DEFAULT_PRIVATE_GRID`). */
  readonly grid?: PrivateGrid;
  /** Genes searched, 0/1 (default all; pass 2 searches pass 1's): the screening's candidates. */
  readonly active?: Uint8Array;
}

/** Union of the robust groups' cells. */
function robustCells(plan: CooksPlan): Uint8Array {
  const mask = new Uint8Array(plan.table.cells);
  for (const group of plan.robustGroups)
    for (let c = 0; c < mask.length; c++) if (group.cellMask[c] === 1) mask[c] = 1;
  return mask;
}

/**
 * Pass 1: trimmed means of y/s per robust group, then, when some cell's counts may be replaced
 * (a cell of ≥ `minReplicatesForReplace` pooled samples), the replacement group (trim 0.2) over
 * all samples, or, when the samples outside the robust cells are 1..k−1 (their sums would
 * be isolated by differences), over the robust cells only (an approximation, documented).
 * Without a replaceable cell DESeq2 replaces nothing and the replacement value is never used:
 * the group is not searched (less work, and less for the aggregator to learn; bodymap's and
 * li_lncap's cells hold 3–4 samples).
 */
export function startPrivatePass1(
  plan: CooksPlan,
  genes: number,
  options: PrivateRobustOptions = {},
): PrivateTrimSearch {
  const minCell = options.minCell ?? 3;
  const groups: PrivateTrimGroup[] = plan.robustGroups.map((group) => ({
    cellMask: group.cellMask,
    values: "normalized",
    size: group.size,
    sums: true,
    ...trimRanks(group.size, group.trim),
  }));
  if (plan.sufficientReplicates) groups.push(replacementGroup(plan, minCell));
  return startPrivateTrimSearch({
    table: plan.table,
    genes,
    groups,
    cuts: options.cuts,
    grid: options.grid,
    minCell,
    ...(options.active === undefined ? {} : { active: options.active }),
  });
}

/**
 * The replacement group: y/s over all samples trimmed by `replaceTrim`, or over the robust
 * cells only when the samples outside them are 1..k−1.
 */
function replacementGroup(plan: CooksPlan, minCell: number): PrivateTrimGroup {
  const union = robustCells(plan);
  const safe = privateGroupsSafe(plan.table, union, minCell);
  const mask = safe ? new Uint8Array(plan.table.cells).fill(1) : union;
  let size = 0;
  for (let c = 0; c < mask.length; c++) if (mask[c] === 1) size += plan.table.sizes[c];
  return {
    cellMask: mask,
    values: "normalized",
    size,
    sums: true,
    ...trimRanks(size, plan.replaceTrim),
  };
}

/** Pass 2: squared errors around pass 1's approximate cell means, per robust group. */
export function startPrivatePass2(
  plan: CooksPlan,
  pass1: PrivateTrimSearch,
  estimates1: PrivateTrimEstimates,
): PrivateTrimSearch {
  const { genes } = pass1;
  const cells = plan.table.cells;
  const g1 = pass1.groupCount;
  const centres = new Float64Array(genes * cells).fill(Number.NaN);
  plan.robustGroups.forEach((group, q) => {
    for (let c = 0; c < cells; c++) {
      if (group.cellMask[c] !== 1) continue;
      for (let g = 0; g < genes; g++) centres[g * cells + c] = estimates1.means[g * g1 + q];
    }
  });
  // Cells outside the robust groups are never ranked in pass 2; give them a finite centre.
  for (let i = 0; i < centres.length; i++) if (Number.isNaN(centres[i])) centres[i] = 0;
  const groups: PrivateTrimGroup[] = plan.robustGroups.map((group) => ({
    cellMask: group.cellMask,
    values: "squared-error",
    size: group.size,
    sums: true,
    ...trimRanks(group.size, group.trim),
  }));
  return startPrivateTrimSearch({
    table: plan.table,
    genes,
    groups,
    centres,
    cuts: pass1.cuts,
    grid: pass1.grid,
    minCell: pass1.minCell,
    ...(pass1.spec.active === undefined ? {} : { active: pass1.spec.active }),
  });
}

/** What the private passes give per gene. */
export interface PrivateRobustMoments {
  /** Mean of y/s over all samples (exact: a released sum), length genes. */
  readonly baseMean: Float64Array;
  /** Approximate 0.2-trimmed mean of y/s (replacement value / s). */
  readonly trimmedBaseMean: Float64Array;
  /** Its error bound. */
  readonly trimmedBaseMeanBound: Float64Array;
  /** v: max over robust groups of scale × approximate trimmed mean of squared errors. */
  readonly variance: Float64Array;
  /** α_rob = max((v − m)/m², 0.04) (NaN for an all-zero gene). */
  readonly dispersion: Float64Array;
}

/**
 * Combine the passes. `baseMean` (Σ y/s / m, an output of the analysis anyway) is needed
 * when there is no replacement group (no replaceable cell: the trimmed base means are then
 * NaN, never used), when it could not cover every sample, or when its total was not released
 * (a gene with 1 or 2 non-zero values); without it such a gene's baseMean and α_rob are NaN.
 */
export function privateRobustMoments(
  plan: CooksPlan,
  pass1: PrivateTrimSearch,
  estimates1: PrivateTrimEstimates,
  estimates2: PrivateTrimEstimates,
  baseMeanInput?: Float64Array,
): PrivateRobustMoments {
  const { genes } = pass1;
  const g1 = pass1.groupCount;
  const r = plan.robustGroups.length;
  const replacement = pass1.spec.groups.length > r;
  const coversAll = replacement && pass1.spec.groups[r].size === plan.m;
  if (!coversAll && baseMeanInput === undefined)
    throw new Error(
      replacement
        ? "the replacement group omits samples: baseMean input needed"
        : "no replacement group: baseMean input needed",
    );
  const baseMean = new Float64Array(genes);
  const trimmedBaseMean = new Float64Array(genes);
  const trimmedBaseMeanBound = new Float64Array(genes);
  const variance = new Float64Array(genes);
  const dispersion = new Float64Array(genes);
  for (let g = 0; g < genes; g++) {
    // A group total is released only when no slot would hold 1 or 2 non-zero values (a gene
    // with 1 or 2 non-zero counts has none): the exact mean given then stands in.
    const total = coversAll ? estimates1.totals[g * g1 + r] : Number.NaN;
    baseMean[g] = Number.isNaN(total) ? (baseMeanInput?.[g] ?? Number.NaN) : total / plan.m;
    trimmedBaseMean[g] = replacement ? estimates1.means[g * g1 + r] : Number.NaN;
    trimmedBaseMeanBound[g] = replacement ? estimates1.bounds[g * g1 + r] : Number.NaN;
    robustGeneDispersion(plan, estimates2.means, g, baseMean[g], variance, dispersion);
  }
  return { baseMean, trimmedBaseMean, trimmedBaseMeanBound, variance, dispersion };
}

/**
 * A counts-only search for the bucket of the third-largest raw count over all samples
 * (results()' two-level rule), for the `active` genes only (those flagged as outliers).
 */
export function startThirdLargestSearch(
  plan: CooksPlan,
  genes: number,
  active: Uint8Array,
  options: PrivateRobustOptions = {},
): PrivateTrimSearch {
  const all = new Uint8Array(plan.table.cells).fill(1);
  const rank = Math.max(plan.m - 2, 1);
  return startPrivateTrimSearch({
    table: plan.table,
    genes,
    groups: [{ cellMask: all, values: "counts", size: plan.m, lo: rank, hi: rank, sums: false }],
    cuts: options.cuts,
    grid: options.grid,
    minCell: options.minCell ?? 3,
    active,
  });
}

/**
 * The third-largest count's bucket as `privateCooksRequest` reads it (2×genes: lower, upper;
 * NaN for inactive genes). Counts are integers: a bucket holding a single integer v is sent
 * as (v − 1, v − 1], so that every count is decided (≤ v − 1: below; else not below).
 */
export function thirdLargestBuckets(search: PrivateTrimSearch): Float64Array {
  const out = new Float64Array(2 * search.genes).fill(Number.NaN);
  for (let g = 0; g < search.genes; g++) {
    if (search.spec.active !== undefined && search.spec.active[g] !== 1) continue;
    const bucket = search.brackets[g * search.groupCount * search.targets * 2];
    let [lower, upper] = gridBucketBounds(search.grid, bucket);
    const first = Number.isFinite(lower) ? Math.floor(lower) + 1 : 0;
    const last = Math.floor(upper);
    if (first === last) lower = upper = first - 1;
    out[2 * g] = lower;
    out[2 * g + 1] = upper;
  }
  return out;
}
