/**
 * Cook's distances, outlier replacement and `results()`' Cook's filtering, as DESeq2 1.38
 * does them, federated.
 *
 * Per sample i of a gene (computed at the center holding it, never shared):
 *
 *   μ_i = s_i·exp(x_iβ) (not floored), h_ii = w_i x_iᵀ M x_i (w_i with μ floored at 0.5, as the Wald step's XᵀWX),
 *   D_i = (y_i − μ_i)² / (μ_i + α_rob μ_i²) / p · h_ii / (1 − h_ii)²
 *
 * (after a likelihood-ratio test μ_i is the gene-wise dispersion step's μ instead: see
 * {@link CooksResidualLink})
 *
 * (`calculateCooksDistance`). What leaves a center, per gene: maxima of D over three sample
 * sets, whether some D exceeds the cutoff, one bit for the two-level rule of `results()`,
 * and, from the replacement step, how many counts it replaced and the sum of its replaced
 * normalised counts.
 *
 * DESeq2's rules reproduced (`nbinomWaldTest`, `DESeq`, `refitWithoutOutliers`,
 * `replaceOutliers`, `recordMaxCooks`, `results`):
 *
 * - maxCooks = max of D over samples of cells with ≥ 3 pooled samples, recorded only when
 *   m > p and such a cell exists (NA otherwise, and for all-zero genes);
 * - replacement runs only when some cell has ≥ minReplicatesForReplace (7) samples and
 *   m > p; a gene is flagged `replace` when D > qf(0.99, p, m − p) for ANY sample (also
 *   samples that are not replaceable); the counts replaced are those of replaceable samples
 *   (cells ≥ 7) with D above the cutoff, by as.integer (truncation) of the 0.2-trimmed mean of
 *   the gene's normalised counts over ALL samples times the sample's size factor;
 * - the flagged genes not all-zero after replacement are refitted (dispersion and β); the
 *   cooks assay stays the one of the first fit; if something was refitted, maxCooks is
 *   recomputed for EVERY gene from that first-fit assay with the replaceable samples'
 *   distances set to 0, or set to NA for every gene when every sample is replaceable (the
 *   common case, in which `results()` then filters nothing);
 * - the baseMean DESeq2 reports after a replacement is that of the replaced counts;
 * - `results()` sets the p-value to NA where maxCooks > qf(0.99, p, m − p), except, for a
 *   design of one two-level factor, genes where at least 3 counts exceed the count of the
 *   sample with the largest D (over all samples).
 */

import { type DispersionMeans, geneMu } from "../dispersions/center.js";
import { DESEQ2_DISPERSION_OPTIONS } from "../dispersions/options.js";
import { WALD_MIN_MU } from "../wald/local.js";
import type { CooksPlan } from "./cells.js";
import { type CooksCenter, sampleCells } from "./center.js";

/** What the aggregator sends for the Cook's round (also read by {@link replaceOutliersLocal}). */
export interface CooksRequest {
  readonly kind: "cooks-request";
  /** Design columns. */
  readonly p: number;
  /** The federation's cells, cells×p. */
  readonly cellRows: Float64Array;
  /** Cells whose samples count for maxCooks (≥ 3 pooled samples), 0/1 per cell. */
  readonly forMaxCooks: Uint8Array;
  /** Cells whose samples' counts may be replaced (≥ minReplicatesForReplace), 0/1 per cell. */
  readonly replaceable: Uint8Array;
  /** Final coefficients (natural log), genes×p. */
  readonly beta: Float64Array;
  /** Final dispersions α (for the hat weights), length genes. */
  readonly dispersions: Float64Array;
  /** Robust method-of-moments dispersions α_rob, length genes (NaN: all-zero gene). */
  readonly robustDispersions: Float64Array;
  /** (XᵀWX + Λ)⁻¹ per gene, genes×p×p (the Wald step's `waldCovariance(...).inverse`). */
  readonly hatInverse: Float64Array;
  /** The residuals' μ ({@link CooksFit.residualLink}; absent: the fit's). */
  readonly residualLink?: CooksResidualLink;
  /** Its coefficients ({@link CooksFit.residualBeta}). */
  readonly residualBeta?: Float64Array;
  /** Cook's cutoff qf(0.99, p, m − p) (NaN: no replacement, no outlier). */
  readonly cutoff: number;
  /** 0.2-trimmed mean of the normalised counts over all samples, length genes. */
  readonly trimmedBaseMean: Float64Array;
  /** Third-largest raw count over all samples, length genes (NaN: not searched). */
  readonly thirdLargestCount: Float64Array;
}

/** Build the Cook's request from the plan and the aggregator's per-gene results. */
export function cooksRequest(
  plan: CooksPlan,
  inputs: {
    readonly beta: Float64Array;
    readonly dispersions: Float64Array;
    readonly robustDispersions: Float64Array;
    readonly hatInverse: Float64Array;
    readonly trimmedBaseMean: Float64Array;
    readonly thirdLargestCount?: Float64Array;
  },
): CooksRequest {
  const genes = inputs.dispersions.length;
  return {
    kind: "cooks-request",
    p: plan.p,
    cellRows: plan.table.rows,
    forMaxCooks: plan.forMaxCooks,
    replaceable: plan.replaceable,
    beta: inputs.beta,
    dispersions: inputs.dispersions,
    robustDispersions: inputs.robustDispersions,
    hatInverse: inputs.hatInverse,
    cutoff: plan.cutoff,
    trimmedBaseMean: inputs.trimmedBaseMean,
    thirdLargestCount: inputs.thirdLargestCount ?? new Float64Array(genes).fill(Number.NaN),
  };
}

/** What a center shares after the Cook's round, all per gene (length genes). */
export interface CooksShare {
  readonly kind: "cooks-share";
  /** Max D over the center's samples in cells of ≥ 3 (−∞ if it has none; NaN propagates). */
  readonly maxCooks: Float64Array;
  /** Same, with the replaceable samples' D counted as 0 (DESeq2's maxCooks after a refit). */
  readonly maxCooksKept: Float64Array;
  /** Max D over all the center's samples (−∞ if none). */
  readonly maxCooksAll: Float64Array;
  /** 1 when some sample's D exceeds the cutoff (DESeq2's `replace` flag, before the OR). */
  readonly outlier: Uint8Array;
  /**
   * 1 when the count of the center's sample with the largest D (first such sample) is below
   * the pooled third-largest count, i.e. ≥ 3 counts exceed it (the two-level rule).
   */
  readonly argmaxBelowThird: Uint8Array;
}

/**
 * Each of the center's samples' cell among the request's cell rows, once the per-gene request
 * data the kernels read (β, (XᵀWX + Λ)⁻¹) is checked against the center's shape.
 * @throws Error when the request's columns or arrays do not fit the center's design and genes
 */
export function requestCells(
  center: CooksCenter,
  request: Pick<CooksRequest, "p" | "cellRows" | "beta" | "hatInverse">,
): Int32Array {
  const { genes, p } = center;
  if (request.p !== p) throw new Error(`cooks request for ${request.p} columns, design has ${p}`);
  if (request.beta.length !== genes * p || request.hatInverse.length !== genes * p * p) {
    throw new Error(`cooks request: β or (XᵀWX + Λ)⁻¹ not sized for ${genes} genes`);
  }
  const cells = request.cellRows.length / p;
  return sampleCells(center, {
    p,
    cells,
    rows: request.cellRows,
    sizes: new Float64Array(cells),
    samples: 0,
  });
}

/**
 * Which μ the Pearson residuals of the Cook's distances take: DESeq2's `assays(dds)[["mu"]]` when
 * `calculateCooksDistance` reads it. `nbinomWaldTest` stores its fit's μ first ("fit":
 * s·exp(xβ) of the final coefficients, not floored). `nbinomLRT` computes the distances before
 * it stores its full model's μ, so they take the μ `estimateDispersionsGeneEst` left:
 * max(s·xβ′, minmu) ("identity": the linear-model μ of group designs) or max(s·exp(xβ′), minmu)
 * ("log": the NB GLM fitted with alpha_init), β′ the coefficients the centers' gene-wise
 * dispersions were computed at. The hat values are the final fit's in every case.
 */
export type CooksResidualLink = "fit" | DispersionMeans["link"];

/** What a gene's Cook's distances read from a request: the fit's coefficients and hat inputs. */
export interface CooksFit {
  /** Final coefficients (natural log), genes×p. */
  readonly beta: Float64Array;
  /** Final dispersions α (for the hat weights), length genes. */
  readonly dispersions: Float64Array;
  /** (XᵀWX + Λ)⁻¹ per gene, genes×p×p. */
  readonly hatInverse: Float64Array;
  /** The residuals' μ ({@link CooksResidualLink}; absent: "fit"). */
  readonly residualLink?: CooksResidualLink;
  /** With residualLink "identity" or "log": the coefficients β′ of that μ, genes×p. */
  readonly residualBeta?: Float64Array;
}

/**
 * The dispersion step's μ model of a fit whose residuals take it (null: the fit's own μ): once
 * per request, for {@link geneCooksDistances}' `means`.
 * @throws Error when the coefficients are not sized as β
 */
export function residualMeans(fit: CooksFit): DispersionMeans | null {
  const link = fit.residualLink ?? "fit";
  if (link === "fit") return null;
  if (fit.residualBeta === undefined || fit.residualBeta.length !== fit.beta.length)
    throw new Error("cooks request: the residuals' μ coefficients are not sized as β");
  return { link, beta: fit.residualBeta, minMu: DESEQ2_DISPERSION_OPTIONS.minMu };
}

/** Scratch for a gene's residual μ (grown to the largest center; the kernels run one gene at a time). */
let residualMuScratch = new Float64Array(0);

/**
 * Cook's distances of gene g for the center's samples at robust dispersion `robust`, into
 * `out` (length n). Local only. D_i = (y_i − μ_i)² / (μ_i + α_rob μ_i²) / p · h_i / (1 − h_i)²,
 * μ the fit's or the dispersion step's ({@link CooksResidualLink}):
 * for h_i ≥ 0 each distance is non-increasing in α_rob, in floating point too ((α_rob·μ)·μ,
 * the sum and the quotient are monotone under rounding), which the screening round
 * (`cooksScreenLocalStep`) relies on.
 * @param means - the residuals' μ model, {@link residualMeans} of `fit` (a loop over genes reads
 *   it once)
 */
export function geneCooksDistances(
  center: CooksCenter,
  fit: CooksFit,
  robust: number,
  g: number,
  out: Float64Array,
  means: DispersionMeans | null = residualMeans(fit),
): void {
  const { n, p, design, sizeFactors, counts } = center;
  const { beta, dispersions, hatInverse } = fit;
  const alpha = dispersions[g];
  const m = g * p * p;
  if (means !== null) {
    if (residualMuScratch.length < n) residualMuScratch = new Float64Array(n);
    geneMu(center, means, g, residualMuScratch);
  }
  for (let i = 0; i < n; i++) {
    const row = i * p;
    let eta = 0;
    for (let k = 0; k < p; k++) eta += design[row + k] * beta[g * p + k];
    const mu = sizeFactors[i] * Math.exp(eta);
    const floored = Math.max(mu, WALD_MIN_MU);
    const w = floored / (1 + alpha * floored);
    let q = 0;
    for (let k = 0; k < p; k++) {
      let acc = 0;
      for (let l = 0; l < p; l++) acc += hatInverse[m + k * p + l] * design[row + l];
      q += design[row + k] * acc;
    }
    const h = w * q;
    const muResidual = means === null ? mu : residualMuScratch[i];
    const r = counts[g * n + i] - muResidual;
    const pearson = (r * r) / (muResidual + robust * muResidual * muResidual);
    out[i] = ((pearson / p) * h) / ((1 - h) * (1 - h));
  }
}

/** Cook's distances of gene g at the request's robust dispersion (see {@link geneCooksDistances}). */
function geneCooks(
  center: CooksCenter,
  request: CooksRequest,
  g: number,
  out: Float64Array,
  means: DispersionMeans | null,
): void {
  geneCooksDistances(center, request, request.robustDispersions[g], g, out, means);
}

/** Local step of the Cook's round: per-gene maxima and flags (see {@link CooksShare}). */
export function cooksLocalStep(center: CooksCenter, request: CooksRequest): CooksShare {
  const { n, genes, counts } = center;
  const cellOf = requestCells(center, request);
  const { forMaxCooks, replaceable, cutoff, thirdLargestCount } = request;
  const maxCooks = new Float64Array(genes);
  const maxCooksKept = new Float64Array(genes);
  const maxCooksAll = new Float64Array(genes);
  const outlier = new Uint8Array(genes);
  const argmaxBelowThird = new Uint8Array(genes);
  const d = new Float64Array(n);
  const means = residualMeans(request);
  for (let g = 0; g < genes; g++) {
    geneCooks(center, request, g, d, means);
    let eligible = Number.NEGATIVE_INFINITY;
    let kept = Number.NEGATIVE_INFINITY;
    let all = Number.NEGATIVE_INFINITY;
    let argmax = -1;
    let above = 0;
    for (let i = 0; i < n; i++) {
      const x = d[i];
      const cell = cellOf[i];
      if (forMaxCooks[cell] === 1) {
        // Math.max propagates NaN, as R's max does (all-zero genes: NA).
        eligible = Math.max(eligible, x);
        kept = Math.max(kept, replaceable[cell] === 1 ? 0 : x);
      }
      if (x > all) {
        all = x;
        argmax = i;
      }
      if (x > cutoff) above = 1;
    }
    maxCooks[g] = eligible;
    maxCooksKept[g] = kept;
    maxCooksAll[g] = all;
    outlier[g] = above;
    if (argmax >= 0 && counts[g * n + argmax] < thirdLargestCount[g]) argmaxBelowThird[g] = 1;
  }
  return { kind: "cooks-share", maxCooks, maxCooksKept, maxCooksAll, outlier, argmaxBelowThird };
}

/** What a center shares after replacing its outlier counts, per gene (length genes). */
export interface ReplaceShare {
  readonly kind: "cooks-replace-share";
  /** Counts the center replaced. */
  readonly replacedEntries: Float64Array;
  /** Σ over the center's samples of replaced count / size factor (every gene). */
  readonly replacedNormalizedSum: Float64Array;
}

/**
 * The counts Cook's replacement changed, at a center: the rows (fitted genes) with a replaced
 * count, in increasing gene order, each row whole (its n counts, gene-major). Every other row is
 * the center's counts as they are, so the replaced matrix is never held in full.
 */
export interface ReplacedRows {
  readonly genes: Int32Array;
  readonly values: Float64Array;
}

/** The result of {@link replaceOutliersLocal}: the rows it changed and a share. */
export interface LocalReplacement {
  /** The rows with outliers replaced: STAY at the center (the refit's data). */
  readonly replaced: ReplacedRows;
  /** What the center shares. */
  readonly share: ReplaceShare;
}

/**
 * Local replacement (`replaceOutliers`): every count of a replaceable sample whose Cook's
 * distance exceeds the cutoff becomes as.integer(trimmedBaseMean × s_i) (truncation). Returns
 * the rows it changed (kept by the center for the refit) and the per-gene share. Runs on the
 * Cook's request, in the same round as {@link cooksLocalStep}.
 */
export function replaceOutliersLocal(center: CooksCenter, request: CooksRequest): LocalReplacement {
  const { n, genes, sizeFactors, counts } = center;
  const cellOf = requestCells(center, request);
  const { replaceable, cutoff, trimmedBaseMean } = request;
  const replacedEntries = new Float64Array(genes);
  const replacedNormalizedSum = new Float64Array(genes);
  const d = new Float64Array(n);
  const row = new Float64Array(n);
  const changed: number[] = [];
  const rows: Float64Array[] = [];
  const anyReplaceable = cellOf.some((cell) => replaceable[cell] === 1);
  const means = residualMeans(request);
  for (let g = 0; g < genes; g++) {
    row.set(counts.subarray(g * n, g * n + n));
    if (anyReplaceable && !Number.isNaN(cutoff)) {
      geneCooks(center, request, g, d, means);
      for (let i = 0; i < n; i++) {
        if (replaceable[cellOf[i]] === 1 && d[i] > cutoff) {
          row[i] = Math.trunc(trimmedBaseMean[g] * sizeFactors[i]);
          replacedEntries[g] += 1;
        }
      }
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += row[i] / sizeFactors[i];
    replacedNormalizedSum[g] = sum;
    if (replacedEntries[g] > 0) {
      changed.push(g);
      rows.push(row.slice());
    }
  }
  const values = new Float64Array(changed.length * n);
  rows.forEach((r, a) => {
    values.set(r, a * n);
  });
  return {
    replaced: { genes: Int32Array.from(changed), values },
    share: { kind: "cooks-replace-share", replacedEntries, replacedNormalizedSum },
  };
}

/**
 * The counts after replacement of the genes in `mask` (all genes when absent), gene-major:
 * each a replaced row where Cook's replacement changed it, else the center's own.
 * @param counts - the center's counts of the fitted genes, gene-major
 */
export function countsWithReplacements(
  counts: Float64Array,
  n: number,
  replaced: ReplacedRows,
  mask?: Uint8Array,
): Float64Array {
  const genes = counts.length / n;
  let count = 0;
  for (let g = 0; g < genes; g++) if (mask === undefined || mask[g]) count++;
  const out = new Float64Array(count * n);
  let next = 0;
  for (let g = 0, a = 0; g < genes; g++) {
    while (next < replaced.genes.length && replaced.genes[next] < g) next++;
    if (mask !== undefined && !mask[g]) continue;
    const source =
      next < replaced.genes.length && replaced.genes[next] === g
        ? replaced.values.subarray(next * n, next * n + n)
        : counts.subarray(g * n, g * n + n);
    out.set(source, a * n);
    a++;
  }
  return out;
}

/** The aggregator's conclusions from the Cook's round. */
export interface CooksOutcome extends PooledReplacement {
  /** maxCooks as `nbinomWaldTest` records it (NaN = NA), length genes. */
  readonly waldMaxCooks: Float64Array;
  /** DESeq2's `replace` flag (some D above the cutoff; 0 when no replacement step runs). */
  readonly replace: Uint8Array;
  /**
   * The maxCooks `results()` compares with the cutoff (NaN = NA; recomputed for every gene when
   * DESeq2 refits).
   */
  readonly maxCooks: Float64Array;
  /** The two-level rule holds (≥ 3 counts above the count of the sample with the largest D). */
  readonly threeCountsAboveArgmax: Uint8Array;
}

/**
 * Aggregate the Cook's round (and the replacement shares, needed when DESeq2 replaces:
 * `plan.sufficientReplicates` and m > p). Shares in federation order: where several centers
 * hold the largest D of a gene, the first one's sample is taken as `which.max`'s.
 * @throws when a replacement happens and `replaceShares` is missing
 */
export function aggregateCooks(
  plan: CooksPlan,
  shares: readonly CooksShare[],
  replaceShares?: readonly ReplaceShare[],
): CooksOutcome {
  const genes = shares[0].maxCooks.length;
  const waldMaxCooks = new Float64Array(genes).fill(Number.NaN);
  const keptMax = new Float64Array(genes);
  const replace = new Uint8Array(genes);
  const threeCountsAboveArgmax = new Uint8Array(genes);
  const replacing = plan.sufficientReplicates && plan.m > plan.p;
  for (let g = 0; g < genes; g++) {
    let eligible = Number.NEGATIVE_INFINITY;
    let kept = Number.NEGATIVE_INFINITY;
    let all = Number.NEGATIVE_INFINITY;
    let holder = -1;
    let flagged = 0;
    for (let c = 0; c < shares.length; c++) {
      const share = shares[c];
      // Math.max propagates NaN, as R's max does (all-zero genes: NA).
      eligible = Math.max(eligible, share.maxCooks[g]);
      kept = Math.max(kept, share.maxCooksKept[g]);
      if (share.maxCooksAll[g] > all) {
        all = share.maxCooksAll[g];
        holder = c;
      }
      flagged |= share.outlier[g];
    }
    if (plan.recordsMaxCooks) waldMaxCooks[g] = eligible;
    keptMax[g] = kept;
    if (holder >= 0) threeCountsAboveArgmax[g] = shares[holder].argmaxBelowThird[g];
    if (replacing) replace[g] = flagged;
  }
  const replaced = pooledReplacement(plan, replace, replaceShares);
  const { refitted } = replaced;
  let maxCooks = waldMaxCooks;
  if (refitted) {
    maxCooks = new Float64Array(genes).fill(Number.NaN);
    if (!plan.allReplaceable && plan.recordsMaxCooks) maxCooks.set(keptMax);
  }
  return { waldMaxCooks, replace, ...replaced, maxCooks, threeCountsAboveArgmax };
}

/** What DESeq2's replacement of outlier counts gives, from the pooled replace shares. */
export interface PooledReplacement {
  /** Flagged genes all-zero after replacement (DESeq2 sets their results to NA / 0). */
  readonly newAllZero: Uint8Array;
  /**
   * Genes DESeq2 refits on the replaced counts (re-estimating dispersion and β): flagged, and
   * not all-zero after.
   */
  readonly refit: Uint8Array;
  /** Whether DESeq2 refits anything. */
  readonly refitted: boolean;
  /**
   * Mean of the replaced normalised counts (DESeq2's reported baseMean after replacement; NaN
   * without).
   */
  readonly replacedBaseMean: Float64Array;
  /** Counts replaced per gene, over all centers. */
  readonly replacedEntries: Float64Array;
}

/**
 * DESeq2's replacement over the centers (`replaceOutliers`, then `DESeq`'s refit of the genes
 * it flagged): the pooled replaced counts and normalised sums, and which genes are refitted.
 * @param replace - DESeq2's `replace` flag per gene
 * @throws when a gene is flagged and `replaceShares` is missing
 */
export function pooledReplacement(
  plan: Pick<CooksPlan, "m">,
  replace: Uint8Array,
  replaceShares: readonly ReplaceShare[] | undefined,
): PooledReplacement {
  const genes = replace.length;
  const newAllZero = new Uint8Array(genes);
  const refit = new Uint8Array(genes);
  const replacedBaseMean = new Float64Array(genes).fill(Number.NaN);
  const replacedEntries = new Float64Array(genes);
  let nRefit = 0;
  let nNewAllZero = 0;
  for (let g = 0; g < genes; g++) nRefit += replace[g];
  if (nRefit > 0) {
    if (replaceShares === undefined)
      throw new Error("DESeq2 replaces outliers: replace shares needed");
    for (let g = 0; g < genes; g++) {
      let sum = 0;
      for (const share of replaceShares) {
        sum += share.replacedNormalizedSum[g];
        replacedEntries[g] += share.replacedEntries[g];
      }
      replacedBaseMean[g] = sum / plan.m;
      if (replace[g] === 1 && sum === 0) {
        newAllZero[g] = 1;
        nNewAllZero++;
      }
    }
  }
  const refitted = nRefit > nNewAllZero;
  if (refitted)
    for (let g = 0; g < genes; g++) refit[g] = replace[g] === 1 && newAllZero[g] === 0 ? 1 : 0;
  return { newAllZero, refit, refitted, replacedBaseMean, replacedEntries };
}

/**
 * `results()`' Cook's filtering: 1 where the p-value becomes NA (maxCooks above the cutoff),
 * except, when the design is one factor of two levels (`twoLevelFactor`), genes where ≥ 3
 * counts exceed the count of the sample with the largest Cook's distance.
 */
export function cooksFilterMask(
  plan: CooksPlan,
  outcome: CooksOutcome,
  options: { readonly twoLevelFactor: boolean },
): Uint8Array {
  const genes = outcome.maxCooks.length;
  const mask = new Uint8Array(genes);
  for (let g = 0; g < genes; g++) {
    if (!(outcome.maxCooks[g] > plan.cutoff)) continue;
    if (options.twoLevelFactor && outcome.threeCountsAboveArgmax[g] === 1) continue;
    mask[g] = 1;
  }
  return mask;
}
