/**
 * Agreement of a fit with a reference fit (DESeq2's pooled coefficients): which genes agree to
 * 2 % relative + 1e-3 absolute on every coefficient, and, for the others, which of the two β
 * reaches the lower regularised NLL on DESeq2's objective (μ floored at min_mu, ridge
 * ½·λ·‖β‖² in natural-log scale, pooled over the centers).
 */
import { type FitCenter, withSampleTerms } from "../algorithms/center.js";
import { RIDGE } from "../algorithms/hyperparameters.js";
import { nbFisherGradientNllAtSteps } from "../math/negativeBinomial.js";

/** Counts of one comparison. */
export interface Agreement {
  /** Genes compared. */
  genes: number;
  /** Genes whose every coefficient is within 2 % relative + 1e-3 absolute of the reference. */
  within: number;
  /** Genes outside, where our regularised NLL is lower than at the reference β. */
  outsideLower: number;
  /** Genes outside, where our regularised NLL is higher. */
  outsideHigher: number;
  /** Largest |ours − reference| over genes outside (natural log), 0 if none. */
  maxDifferenceOutside: number;
}

/** Relative and absolute tolerance of "agreeing" coefficients. */
export const AGREEMENT_TOLERANCE = { rel: 0.02, abs: 1e-3 } as const;

/**
 * Regularised pooled NLL per gene at β (G×p, natural log) with μ floored at `minMu`.
 * @param centers - the federation's centers (summed in order)
 */
export function pooledRegularisedNll(
  centers: readonly FitCenter[],
  beta: Float64Array,
  minMu: number,
): Float64Array {
  const { p, genes } = centers[0].main.data;
  const all = Int32Array.from({ length: genes }, (_, g) => g);
  const total = new Float64Array(genes);
  const box = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };
  for (const c of centers) {
    const main = withSampleTerms(c.main);
    const out = nbFisherGradientNllAtSteps(
      main.data,
      main.constants,
      all,
      beta,
      null,
      null,
      box,
      minMu,
    );
    for (let g = 0; g < genes; g++) total[g] += out.nll[g];
  }
  for (let g = 0; g < genes; g++) {
    let squares = 0;
    for (let k = 0; k < p; k++) squares += beta[g * p + k] * beta[g * p + k];
    total[g] += 0.5 * RIDGE * squares;
  }
  return total;
}

/** Two fits of the same genes and their regularised pooled NLL per gene, to compare on subsets. */
export interface FitComparison {
  /** Design columns p and genes G. */
  readonly p: number;
  readonly genes: number;
  /** Our coefficients and the reference's, G×p, natural log. */
  readonly ours: Float64Array;
  readonly reference: Float64Array;
  /** {@link pooledRegularisedNll} at each. */
  readonly ourNll: Float64Array;
  readonly referenceNll: Float64Array;
}

/**
 * Our β and a reference β with their regularised pooled NLLs (the costly part: every gene's
 * NLL over every center's samples, computed once for any number of {@link agreement}s).
 * @param centers - centers holding the genes (their NLL decides the genes that disagree)
 * @param ours - our coefficients, G×p, natural log
 * @param reference - reference coefficients, G×p, natural log
 * @param minMu - μ floor of the reference's objective (DESeq2: 0.5)
 */
export function compareFits(
  centers: readonly FitCenter[],
  ours: Float64Array,
  reference: Float64Array,
  minMu: number,
): FitComparison {
  const { p, genes } = centers[0].main.data;
  return {
    p,
    genes,
    ours,
    reference,
    ourNll: pooledRegularisedNll(centers, ours, minMu),
    referenceNll: pooledRegularisedNll(centers, reference, minMu),
  };
}

/**
 * Compare our β with a reference β on the genes of `subset` (all when omitted).
 * @param fits - the two fits and their NLLs ({@link compareFits})
 * @param subset - genes to compare (1 = compare)
 */
export function agreement(fits: FitComparison, subset?: Uint8Array): Agreement {
  const { p, genes, ours, reference, ourNll, referenceNll } = fits;
  const result: Agreement = {
    genes: 0,
    within: 0,
    outsideLower: 0,
    outsideHigher: 0,
    maxDifferenceOutside: 0,
  };
  for (let g = 0; g < genes; g++) {
    if (subset !== undefined && !subset[g]) continue;
    result.genes++;
    let inside = true;
    let worst = 0;
    for (let k = 0; k < p; k++) {
      const d = Math.abs(ours[g * p + k] - reference[g * p + k]);
      worst = Math.max(worst, d);
      if (
        !(d <= AGREEMENT_TOLERANCE.rel * Math.abs(reference[g * p + k]) + AGREEMENT_TOLERANCE.abs)
      )
        inside = false;
    }
    if (inside) {
      result.within++;
      continue;
    }
    result.maxDifferenceOutside = Math.max(result.maxDifferenceOutside, worst);
    if (ourNll[g] <= referenceNll[g]) result.outsideLower++;
    else result.outsideHigher++;
  }
  return result;
}
