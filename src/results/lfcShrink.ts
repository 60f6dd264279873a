/**
 * DESeq2's `lfcShrink(dds, coef = k, type = "normal")`, the parts that live at the aggregator:
 * which coefficient is shrunk, the normal prior's variance per coefficient (DESeq2 1.38's
 * `estimateBetaPriorVar`, weighted), and the prior precision the MAP fit then uses. The MAP fit
 * itself is DESeq2's IRLS with that precision as its ridge (pipeline/shrink.ts).
 *
 * With `coef`, DESeq2 fits the standard model matrix (the MLE fit's), not the expanded one a
 * `contrast` would use, so only a contrast that is one coefficient of that matrix is shrunk here.
 */
import { type Formula, hasIntercept } from "../design/formula.js";
import { InputError } from "../io/errors.js";
import { matchWeightedUpperQuantileForVariance } from "../math/weightedQuantile.js";
import type { Contrast } from "./contrast.js";

/** The shrinkage estimators `--lfc-shrink` names (DESeq2's `lfcShrink(type =)`). */
export const LFC_SHRINK_TYPES = ["normal", "apeglm"] as const;

/** A shrinkage estimator of `lfcShrink`. */
export type LfcShrinkType = (typeof LFC_SHRINK_TYPES)[number];

/** DESeq2's prior variance of the intercept (and of a column with no usable estimate). */
const WIDE_PRIOR = 1e6;

/**
 * The column `lfcShrink(coef = k, type)` shrinks: the one the results' contrast is (weight 1 on
 * it, 0 elsewhere).
 * @throws InputError when the contrast is not one coefficient, or DESeq2 refuses the design
 */
export function shrunkCoefficient(
  type: LfcShrinkType,
  formula: Formula,
  contrast: Contrast,
  columns: readonly string[],
): number {
  if (type === "normal" && (formula.interactions ?? []).length > 0) {
    throw new InputError(
      `--lfc-shrink normal: DESeq2 does not shrink with type "normal" in a design with interactions (${formula.text})`,
    );
  }
  if (type === "normal" && !hasIntercept(formula)) {
    throw new InputError(
      `--lfc-shrink normal: DESeq2's normal prior needs a design with an intercept (${formula.text})`,
    );
  }
  const ones: number[] = [];
  let other = false;
  contrast.weights.forEach((w, j) => {
    if (w === 1) ones.push(j);
    else if (w !== 0) other = true;
  });
  if (ones.length !== 1 || other || columns[ones[0]] === "Intercept") {
    throw new InputError(
      `--lfc-shrink ${type}: DESeq2 shrinks one coefficient (lfcShrink coef =), and the contrast ${contrast.description} is not one of ${columns.filter((c) => c !== "Intercept").join(", ")}: give --name COEFFICIENT or a contrast against the reference level`,
    );
  }
  return ones[0];
}

/** What the prior is estimated from: the MLE fit of the genes that are not all zero. */
export interface PriorInput {
  /** MLE coefficients, G×p, log2 scale (DESeq2's `MLE_*` columns). */
  readonly betaLog2: Float64Array;
  /** DESeq2's baseMean per gene. */
  readonly baseMean: Float64Array;
  /** The fitted dispersion trend per gene (`dispFit`). */
  readonly dispersionTrend: Float64Array;
  readonly p: number;
  /** The intercept's column (its prior variance is 1e6). */
  readonly intercept: number;
}

/**
 * DESeq2's `estimateBetaPriorVar(betaPriorMethod = "weighted", upperQuantile = 0.05)`: per column,
 * the variance of the zero-mean normal whose 97.5% quantile is the 95% quantile of |β| over the
 * genes with |β| < 10, each weighted by 1/(1/baseMean + dispFit); 1e6 for the intercept and for a
 * column without such a gene; β² with a single gene.
 * @returns σ² per column (log2 scale)
 */
export function normalPriorVariance(input: PriorInput): Float64Array {
  const { betaLog2, p } = input;
  const genes = input.baseMean.length;
  const variance = new Float64Array(p);
  const weights = Float64Array.from(
    input.baseMean,
    (m, g) => 1 / (1 / m + input.dispersionTrend[g]),
  );
  for (let j = 0; j < p; j++) {
    if (genes === 1) {
      variance[j] = betaLog2[j] * betaLog2[j];
      continue;
    }
    const x: number[] = [];
    const w: number[] = [];
    for (let g = 0; g < genes; g++) {
      const b = betaLog2[g * p + j];
      if (Math.abs(b) < 10) {
        x.push(b);
        w.push(weights[g]);
      }
    }
    variance[j] = x.length === 0 ? WIDE_PRIOR : matchWeightedUpperQuantileForVariance(x, w);
  }
  variance[input.intercept] = WIDE_PRIOR;
  return variance;
}

/** The MAP fit's prior precision per column: DESeq2's `lambda = 1/betaPriorVar` (log2 scale). */
export function priorPrecision(variance: Float64Array): Float64Array {
  return Float64Array.from(variance, (v) => 1 / v);
}
