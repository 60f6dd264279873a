/**
 * DESeq2's dispersion-estimation constants (DESeq2 1.38, `estimateDispersions` defaults).
 */

/** Every constant of DESeq2's dispersion estimation that a caller may want to change. */
export interface DispersionOptions {
  /** Lower bound of every dispersion (`minDisp`). */
  readonly minDisp: number;
  /** Initial and largest step size of the line search (`kappa_0`). */
  readonly kappa0: number;
  /** The line search stops once an accepted step raises the log posterior by less (`dispTol`). */
  readonly dispTol: number;
  /** Line-search proposals per gene (`maxit`). */
  readonly maxit: number;
  /** Floor on μ (`minmu`). */
  readonly minMu: number;
  /** Outlier threshold in standard deviations of the log residuals (`outlierSD`). */
  readonly outlierSD: number;
}

/** DESeq2 1.38's defaults. */
export const DESEQ2_DISPERSION_OPTIONS: DispersionOptions = Object.freeze({
  minDisp: 1e-8,
  kappa0: 1,
  dispTol: 1e-6,
  maxit: 100,
  minMu: 0.5,
  outlierSD: 2,
});

/** Armijo constant of DESeq2's line search (`epsilon` in its C++ `fitDisp`). */
export const ARMIJO_EPSILON = 1e-4;

/** DESeq2's hard bounds on log α during the line search (lgamma is unstable beyond). */
export const LOG_ALPHA_FLOOR = -30;
/** Upper hard bound on log α during the line search. */
export const LOG_ALPHA_CEILING = 10;

/** Points of each of the two grids of DESeq2's `fitDispGrid`. */
export const GRID_POINTS = 20;

/** DESeq2's `maxDisp`: max(10, number of samples). */
export function maxDispersion(samples: number): number {
  return Math.max(10, samples);
}
