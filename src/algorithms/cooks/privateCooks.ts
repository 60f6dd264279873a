/**
 * Cook's outlier flags, replacement and `results()`' Cook's filtering from pooled COUNTS only
 * (issue [11]'s k-sample rule; every reply field is a per-gene sum over the center's samples,
 * so that under secure aggregation (issue [12]) the aggregator sees pooled sums only).
 *
 * The exact protocol of `cooks.ts` shares per-gene MAXIMA of Cook's distances (a maximum is
 * one sample's value), the pooled third-largest count (one sample's count) and a flag about
 * the sample with the largest distance. None of these is needed to reproduce DESeq2's
 * decisions, which only compare maxima with the cutoff c = qf(0.99, p, m − p):
 *
 *   max_{i∈S} D_i > c  ⇔  #{i ∈ S : D_i > c} ≥ 1   (and no D_i of S is NaN, R's max → NA),
 *
 * so each center returns, per gene, counts of its samples with D above the cutoff over the
 * three sample sets DESeq2 takes maxima over, and of NaN distances:
 *
 * - S_elig: samples of cells with ≥ 3 pooled samples (`recordMaxCooks`, `nbinomWaldTest`);
 * - S_kept: S_elig without the replaceable samples (maxCooks recomputed after a refit, with
 *   the replaceable samples' distances set to 0);
 * - S_all: every sample (the `replace` flag of `replaceOutliers`: any D above the cutoff).
 *
 * These decisions are EXACT (same flags, same replaced genes and counts as the maxima,
 * given the same robust dispersion and replacement value).
 *
 * `results()`' two-level-factor rule ("do not filter when ≥ 3 counts exceed the count of the
 * sample with the largest D") needs y_{j*} < y₍ₘ₋₂₎, the third-largest count. Without
 * revealing j* or y₍ₘ₋₂₎, the aggregator sends the public-grid bucket (a, u] holding
 * y₍ₘ₋₂₎ (found by the counts-only search of `privateTrimmedMean.ts`, for the flagged genes
 * only); each center counts its samples with D > c by whether their count is ≤ a (then
 * certainly < y₍ₘ₋₂₎), > u (certainly ≥ y₍ₘ₋₂₎), or in (a, u] (undecided). Since j* has
 * D > c, if every sample above the cutoff is "low" the rule holds for j*; if every one is
 * "high" it does not; otherwise (mixed or undecided) the decision is not determined by the
 * counts and {@link privateCooksFilterMask} falls back to filtering (DESeq2's behaviour
 * without the rule), reported in {@link PrivateCooksOutcome.twoLevelUndecided}.
 *
 * What the aggregator learns (pooled, per gene): how many samples of S_elig, S_kept, S_all
 * have D above the cutoff (and are NaN), how many counts were replaced and the sum of the
 * replaced normalised counts over all samples; for the genes of the two-level rule, how many
 * of the samples above the cutoff have a count below / in / above the bucket of the
 * third-largest count. Each set is a union of design cells of ≥ 3 pooled samples (or all
 * samples), so no count is over fewer than 3 samples; with `minCell` k > 3 a set smaller
 * than k is never requested (`privateCooksRequest` zeroes it; see {@link PrivateCooksRequest.sets}).
 * Without secure aggregation a center's own counts are over its own samples in the set,
 * which may be fewer than k (e.g. one sample of a cell): counts, never values.
 */

import type { CooksPlan } from "./cells.js";
import type { CooksCenter } from "./center.js";
import type { CooksFit, CooksRequest, CooksResidualLink, ReplaceShare } from "./cooks.js";
import {
  geneCooksDistances,
  type LocalReplacement,
  type PooledReplacement,
  pooledReplacement,
  replaceOutliersLocal,
  requestCells,
  residualMeans,
} from "./cooks.js";
import { ROBUST_MIN_DISPERSION } from "./robustDispersion.js";

/** What the aggregator sends for the private Cook's round. */
export interface PrivateCooksRequest {
  readonly kind: "cooks-private-request";
  /** Design columns. */
  readonly p: number;
  /** The federation's cells, cells×p. */
  readonly cellRows: Float64Array;
  /** Cells whose samples count for maxCooks (≥ 3 pooled samples), 0/1 per cell. */
  readonly forMaxCooks: Uint8Array;
  /** Cells whose samples' counts may be replaced (≥ minReplicatesForReplace), 0/1 per cell. */
  readonly replaceable: Uint8Array;
  /**
   * Which sample sets are counted, 0/1: [S_elig, S_kept, S_all]. A set with fewer than k
   * pooled samples (possible only when k > 3) is 0: its counts stay 0.
   */
  readonly sets: Uint8Array;
  /** Final coefficients (natural log), genes×p. */
  readonly beta: Float64Array;
  /** Final dispersions α (for the hat weights), length genes. */
  readonly dispersions: Float64Array;
  /** Robust dispersions α_rob, length genes (NaN: all-zero gene). */
  readonly robustDispersions: Float64Array;
  /** (XᵀWX + Λ)⁻¹ per gene, genes×p×p. */
  readonly hatInverse: Float64Array;
  /** Which μ the residuals take ({@link CooksResidualLink}: the LRT's is the dispersion step's). */
  readonly residualLink: CooksResidualLink;
  /** That μ's coefficients, genes×p (empty with "fit"). */
  readonly residualBeta: Float64Array;
  /** Cook's cutoff qf(0.99, p, m − p) (NaN: no outlier), for the replacement. */
  readonly cutoff: number;
  /**
   * `results()`' cutoff for the p-value filter (its `cooksCutoff`; DESeq2's default: the same
   * `cutoff`). The counts of the filter and of the two-level rule are taken against it.
   */
  readonly filterCutoff: number;
  /** Replacement value / size factor per gene (the 0.2-trimmed mean of y/s, approximated). */
  readonly trimmedBaseMean: Float64Array;
  /**
   * Public-grid bucket (lower, upper] of the third-largest raw count per gene, 2×genes
   * (lower at 2g, upper at 2g+1); NaN where the two-level rule is not evaluated.
   */
  readonly thirdBucket: Float64Array;
}

/** A request's residual μ fields from a fit's (absent: the fit's own μ, no coefficients). */
function residualOf(fit: CooksFit): {
  residualLink: CooksResidualLink;
  residualBeta: Float64Array;
} {
  return {
    residualLink: fit.residualLink ?? "fit",
    residualBeta: fit.residualBeta ?? new Float64Array(0),
  };
}

/** Build the private Cook's request (`minCell`: k, default 3). */
export function privateCooksRequest(
  plan: CooksPlan,
  inputs: {
    readonly beta: Float64Array;
    readonly dispersions: Float64Array;
    readonly robustDispersions: Float64Array;
    readonly hatInverse: Float64Array;
    /** The residuals' μ (default: the fit's). */
    readonly residualLink?: CooksResidualLink;
    readonly residualBeta?: Float64Array;
    readonly trimmedBaseMean: Float64Array;
    /** 2×genes bucket bounds of the third-largest count (NaN: not evaluated). */
    readonly thirdBucket?: Float64Array;
    /** `results()`' cooksCutoff (default: the plan's cutoff). */
    readonly filterCutoff?: number;
  },
  minCell = 3,
): PrivateCooksRequest {
  const genes = inputs.dispersions.length;
  const sizes = plan.table.sizes;
  let elig = 0;
  let kept = 0;
  for (let c = 0; c < plan.table.cells; c++) {
    if (plan.forMaxCooks[c] === 1) {
      elig += sizes[c];
      if (plan.replaceable[c] !== 1) kept += sizes[c];
    }
  }
  return {
    kind: "cooks-private-request",
    p: plan.p,
    cellRows: plan.table.rows,
    forMaxCooks: plan.forMaxCooks,
    replaceable: plan.replaceable,
    sets: Uint8Array.from([
      elig >= minCell ? 1 : 0,
      kept >= minCell ? 1 : 0,
      plan.m >= minCell ? 1 : 0,
    ]),
    beta: inputs.beta,
    dispersions: inputs.dispersions,
    robustDispersions: inputs.robustDispersions,
    hatInverse: inputs.hatInverse,
    ...residualOf(inputs),
    cutoff: plan.cutoff,
    filterCutoff: inputs.filterCutoff ?? plan.cutoff,
    trimmedBaseMean: inputs.trimmedBaseMean,
    thirdBucket: inputs.thirdBucket ?? new Float64Array(2 * genes).fill(Number.NaN),
  };
}

/**
 * What a center shares after the private Cook's round: per gene (length genes) COUNTS of its
 * samples, reduction = sum over centers. Nothing else.
 */
export interface PrivateCooksShare {
  readonly kind: "cooks-private-share";
  /** #{i ∈ S_elig : D_i > filterCutoff}. */
  readonly aboveEligible: Float64Array;
  /** #{i ∈ S_elig : D_i is NaN} (R's max is then NA). */
  readonly nanEligible: Float64Array;
  /** #{i ∈ S_kept : D_i > filterCutoff}. */
  readonly aboveKept: Float64Array;
  /** #{i ∈ S_kept : D_i is NaN}. */
  readonly nanKept: Float64Array;
  /** #{i : D_i > cutoff} over all samples (the replacement's flag). */
  readonly aboveAll: Float64Array;
  /** #{i : D_i > filterCutoff} over all samples (the two-level rule's). */
  readonly aboveAllFilter: Float64Array;
  /** #{i : D_i > filterCutoff, y_i ≤ lower of the third-largest bucket} (two-level rule). */
  readonly aboveLowCount: Float64Array;
  /** #{i : D_i > filterCutoff, y_i > upper of the third-largest bucket}. */
  readonly aboveHighCount: Float64Array;
}

/** Local step: per-gene counts of samples above the cutoff (see {@link PrivateCooksShare}). */
export function privateCooksLocalStep(
  center: CooksCenter,
  request: PrivateCooksRequest,
): PrivateCooksShare {
  const { n, genes, counts } = center;
  const cellOf = requestCells(center, request);
  const { forMaxCooks, replaceable, cutoff, filterCutoff, thirdBucket, sets } = request;
  const aboveEligible = new Float64Array(genes);
  const nanEligible = new Float64Array(genes);
  const aboveKept = new Float64Array(genes);
  const nanKept = new Float64Array(genes);
  const aboveAll = new Float64Array(genes);
  const aboveAllFilter = new Float64Array(genes);
  const aboveLowCount = new Float64Array(genes);
  const aboveHighCount = new Float64Array(genes);
  const d = new Float64Array(n);
  const means = residualMeans(request);
  for (let g = 0; g < genes; g++) {
    geneCooksDistances(center, request, request.robustDispersions[g], g, d, means);
    const lower = thirdBucket[2 * g];
    const upper = thirdBucket[2 * g + 1];
    const rule = !Number.isNaN(lower) && !Number.isNaN(upper);
    for (let i = 0; i < n; i++) {
      const x = d[i];
      const cell = cellOf[i];
      const above = x > filterCutoff ? 1 : 0;
      const nan = Number.isNaN(x) ? 1 : 0;
      if (forMaxCooks[cell] === 1 && sets[0] === 1) {
        aboveEligible[g] += above;
        nanEligible[g] += nan;
      }
      if (forMaxCooks[cell] === 1 && replaceable[cell] !== 1 && sets[1] === 1) {
        aboveKept[g] += above;
        nanKept[g] += nan;
      }
      if (sets[2] === 1) {
        aboveAll[g] += x > cutoff ? 1 : 0;
        aboveAllFilter[g] += above;
        if (rule && above === 1) {
          const y = counts[g * n + i];
          if (y <= lower) aboveLowCount[g] += 1;
          else if (y > upper) aboveHighCount[g] += 1;
        }
      }
    }
  }
  return {
    kind: "cooks-private-share",
    aboveEligible,
    nanEligible,
    aboveKept,
    nanKept,
    aboveAll,
    aboveAllFilter,
    aboveLowCount,
    aboveHighCount,
  };
}

/**
 * The screening round (before the robust dispersion's searches). DESeq2 floors the robust
 * dispersion at 0.04 (`robustMethodOfMomentsDisp`'s `minDisp`), and each Cook's distance is
 * non-increasing in it ({@link geneCooksDistances}): D_i(α_rob) ≤ D_i(0.04) for every α_rob a
 * search could find (for h_i < 0 every D_i is ≤ 0, below any cutoff ≥ 0). A gene none of whose
 * samples, at any center, has D_i(0.04) above the smallest cutoff the outcome compares with,
 * nor NaN, has DESeq2's outcome of a gene without outliers whatever its α_rob (no flag, no
 * replacement, no filter: each of {@link aggregatePrivateCooks}' decisions needs a sample above
 * a cutoff, and a NaN only ever withholds a flag). A NaN at the floor makes the gene a
 * candidate: it may be NaN or a number at a larger α_rob. Such genes need no
 * trimmed means: only the others, the candidates, are searched, and the Cook's round sends the
 * floor as their α_rob. The outcome is the same gene for gene; the aggregator learns, per gene,
 * how many samples of the federation are above the cutoff at the floor (a count over all samples,
 * pooled), and nothing of the screened-out genes' values (no histogram, no range sum).
 */
export interface CooksScreenRequest extends CooksFit {
  readonly kind: "cooks-screen-request";
  /** Which μ the residuals take ({@link CooksResidualLink}). */
  readonly residualLink: CooksResidualLink;
  /** That μ's coefficients, genes×p (empty with "fit"). */
  readonly residualBeta: Float64Array;
  /** Design columns. */
  readonly p: number;
  /** The smallest of the Cook's round's cutoffs (≥ 0). */
  readonly cutoff: number;
}

/** A center's screening reply: a count per gene, summed over the centers. */
export interface CooksScreenShare {
  readonly kind: "cooks-screen-share";
  /** #{i : D_i at α_rob = 0.04 is above the cutoff, or NaN}, per gene. */
  readonly aboveAtFloor: Float64Array;
}

/**
 * The screening request, or null where screening cannot decide anything: no cutoff ≥ 0 (with a
 * negative `results()` cutoff a distance below it could grow with α_rob; with both cutoffs NaN
 * nothing is ever flagged and the Cook's round's counts are zero anyway).
 */
export function cooksScreenRequest(
  plan: CooksPlan,
  fit: CooksFit & { readonly filterCutoff?: number },
): CooksScreenRequest | null {
  const cutoffs = [plan.cutoff, fit.filterCutoff ?? plan.cutoff].filter((c) => !Number.isNaN(c));
  if (cutoffs.length === 0) return null;
  const cutoff = Math.min(...cutoffs);
  if (!(cutoff >= 0)) return null;
  return {
    kind: "cooks-screen-request",
    p: plan.p,
    beta: fit.beta,
    dispersions: fit.dispersions,
    hatInverse: fit.hatInverse,
    ...residualOf(fit),
    cutoff,
  };
}

/** Local step of the screening round (see {@link CooksScreenRequest}). */
export function cooksScreenLocalStep(
  center: CooksCenter,
  request: CooksScreenRequest,
): CooksScreenShare {
  const { n, genes, p } = center;
  if (request.p !== p) throw new Error(`cooks screen for ${request.p} columns, design has ${p}`);
  if (
    request.beta.length !== genes * p ||
    request.dispersions.length !== genes ||
    request.hatInverse.length !== genes * p * p
  ) {
    throw new Error(`cooks screen: β, α or (XᵀWX + Λ)⁻¹ not sized for ${genes} genes`);
  }
  const { cutoff } = request;
  const aboveAtFloor = new Float64Array(genes);
  const d = new Float64Array(n);
  const means = residualMeans(request);
  for (let g = 0; g < genes; g++) {
    geneCooksDistances(center, request, ROBUST_MIN_DISPERSION, g, d, means);
    let count = 0;
    for (let i = 0; i < n; i++) if (!(d[i] <= cutoff)) count++;
    aboveAtFloor[g] = count;
  }
  return { kind: "cooks-screen-share", aboveAtFloor };
}

/** The candidates (1: some sample above the cutoff at the floor, somewhere) from the replies. */
export function cooksScreenCandidates(shares: readonly CooksScreenShare[]): Uint8Array {
  const genes = shares[0].aboveAtFloor.length;
  const pooled = new Float64Array(genes);
  for (const share of shares) for (let g = 0; g < genes; g++) pooled[g] += share.aboveAtFloor[g];
  const candidates = new Uint8Array(genes);
  for (let g = 0; g < genes; g++) if (pooled[g] > 0) candidates[g] = 1;
  return candidates;
}

/**
 * Local replacement with the private request: `replaceOutliersLocal` of `cooks.ts` (every
 * count of a replaceable sample with D above the cutoff becomes ⌊trimmedBaseMean × s_i⌋).
 * Its share is two per-gene sums over ALL the center's samples (counts replaced, Σ replaced
 * y/s); the replaced rows stay at the center.
 */
export function privateReplaceLocal(
  center: CooksCenter,
  request: PrivateCooksRequest,
): LocalReplacement {
  const genes = request.dispersions.length;
  const exact: CooksRequest = {
    kind: "cooks-request",
    p: request.p,
    cellRows: request.cellRows,
    forMaxCooks: request.forMaxCooks,
    replaceable: request.replaceable,
    beta: request.beta,
    dispersions: request.dispersions,
    robustDispersions: request.robustDispersions,
    hatInverse: request.hatInverse,
    residualLink: request.residualLink,
    residualBeta: request.residualBeta,
    cutoff: request.sets[2] === 1 ? request.cutoff : Number.NaN,
    trimmedBaseMean: request.trimmedBaseMean,
    thirdLargestCount: new Float64Array(genes).fill(Number.NaN),
  };
  return replaceOutliersLocal(center, exact);
}

/** The aggregator's conclusions from pooled counts. */
export interface PrivateCooksOutcome extends PooledReplacement {
  /** maxCooks > cutoff at the Wald step (DESeq2's `nbinomWaldTest` maxCooks; 0 where NA). */
  readonly waldOutlier: Uint8Array;
  /** DESeq2's `replace` flag. */
  readonly replace: Uint8Array;
  /** maxCooks > cutoff for `results()` (after the refit's recomputation), 0/1. */
  readonly outlier: Uint8Array;
  /** Two-level rule: 1 when every sample above the cutoff has a count below the third-largest. */
  readonly twoLevelKeep: Uint8Array;
  /** Two-level rule: 1 when the pooled counts do not decide it (the gene is then filtered). */
  readonly twoLevelUndecided: Uint8Array;
}

/**
 * Aggregate the private Cook's round. `shares` are summed (with secure aggregation the sum is
 * all the aggregator receives); `replaceShares` are needed when DESeq2 replaces.
 */
export function aggregatePrivateCooks(
  plan: CooksPlan,
  shares: readonly PrivateCooksShare[],
  replaceShares?: readonly ReplaceShare[],
): PrivateCooksOutcome {
  const genes = shares[0].aboveAll.length;
  const sum = (field: keyof Omit<PrivateCooksShare, "kind">): Float64Array => {
    const out = new Float64Array(genes);
    for (const share of shares) for (let g = 0; g < genes; g++) out[g] += share[field][g];
    return out;
  };
  const aboveEligible = sum("aboveEligible");
  const nanEligible = sum("nanEligible");
  const aboveKept = sum("aboveKept");
  const nanKept = sum("nanKept");
  const aboveAll = sum("aboveAll");
  const aboveAllFilter = sum("aboveAllFilter");
  const low = sum("aboveLowCount");
  const high = sum("aboveHighCount");
  const waldOutlier = new Uint8Array(genes);
  const replace = new Uint8Array(genes);
  const twoLevelKeep = new Uint8Array(genes);
  const twoLevelUndecided = new Uint8Array(genes);
  const replacing = plan.sufficientReplicates && plan.m > plan.p;
  for (let g = 0; g < genes; g++) {
    if (plan.recordsMaxCooks && nanEligible[g] === 0 && aboveEligible[g] >= 1) waldOutlier[g] = 1;
    if (replacing && aboveAll[g] >= 1) replace[g] = 1;
    if (aboveAllFilter[g] >= 1 && low[g] === aboveAllFilter[g]) twoLevelKeep[g] = 1;
    else if (aboveAllFilter[g] >= 1 && high[g] !== aboveAllFilter[g]) twoLevelUndecided[g] = 1;
  }
  const replaced = pooledReplacement(plan, replace, replaceShares);
  let outlier = waldOutlier;
  if (replaced.refitted) {
    outlier = new Uint8Array(genes);
    if (!plan.allReplaceable && plan.recordsMaxCooks) {
      // The replaceable samples' distances count as 0 (never above a positive cutoff).
      for (let g = 0; g < genes; g++) outlier[g] = nanKept[g] === 0 && aboveKept[g] >= 1 ? 1 : 0;
    }
  }
  return { waldOutlier, replace, ...replaced, outlier, twoLevelKeep, twoLevelUndecided };
}

/**
 * The outcome when the plan alone decides it, else null: when DESeq2 records no maxCooks (no
 * cell of ≥ 3 pooled samples, or m ≤ p) and replaces nothing (no cell of ≥
 * `minReplicatesForReplace`, or m ≤ p), no gene is flagged, replaced or filtered whatever the
 * Cook's distances, so no Cook's round is needed (nothing is sent). This is every design with a
 * continuous covariate of distinct values (`singleSampleCells` of cells.ts).
 */
export function decidedPrivateCooks(plan: CooksPlan, genes: number): PrivateCooksOutcome | null {
  const replacing = plan.sufficientReplicates && plan.m > plan.p;
  if (plan.recordsMaxCooks || replacing) return null;
  return noOutlierPrivateCooks(plan, genes);
}

/**
 * The outcome of a Cook's round in which no sample is above a cutoff (every count 0): no gene
 * flagged, replaced or filtered. Also the outcome when the screening round finds no candidate.
 */
export function noOutlierPrivateCooks(plan: CooksPlan, genes: number): PrivateCooksOutcome {
  const zeros = new Float64Array(genes);
  return aggregatePrivateCooks(plan, [
    {
      kind: "cooks-private-share",
      aboveEligible: zeros,
      nanEligible: zeros,
      aboveKept: zeros,
      nanKept: zeros,
      aboveAll: zeros,
      aboveAllFilter: zeros,
      aboveLowCount: zeros,
      aboveHighCount: zeros,
    },
  ]);
}

/**
 * `results()`' Cook's filtering from the private outcome: 1 where the p-value becomes NA.
 * With a single two-level factor, genes whose samples above the cutoff all have counts below
 * the third-largest are kept (exactly DESeq2's rule); undecided genes are filtered.
 */
export function privateCooksFilterMask(
  outcome: PrivateCooksOutcome,
  options: { readonly twoLevelFactor: boolean },
): Uint8Array {
  const genes = outcome.outlier.length;
  const mask = new Uint8Array(genes);
  for (let g = 0; g < genes; g++) {
    if (outcome.outlier[g] !== 1) continue;
    if (options.twoLevelFactor && outcome.twoLevelKeep[g] === 1) continue;
    mask[g] = 1;
  }
  return mask;
}

/** Genes the two-level rule needs the third-largest count of (outliers for `results()`). */
export function twoLevelGenes(outcome: PrivateCooksOutcome): Uint8Array {
  return Uint8Array.from(outcome.outlier);
}
