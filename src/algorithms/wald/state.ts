/**
 * Shares of the Wald tests: each center's XᵀWX at the final coefficients, summed by the
 * aggregator into the information matrix whose ridge-sandwiched inverse is β's covariance.
 */

/** Ask for XᵀWX at the final coefficients of the fitted genes. */
export interface InformationRequest {
  readonly kind: "information-request";
  /** Final β of each fitted gene (natural log), G×p. */
  readonly beta: Float64Array;
  /** Coefficients per gene (p). */
  readonly coefficients: number;
  /** True to evaluate on the dataset with outliers replaced (refitted genes). */
  readonly refit: boolean;
}

/**
 * Per gene, the center's XᵀWX with W = μ/(1 + αμ), μ floored at DESeq2's minmu (0.5): the p(p+1)/2
 * distinct entries of each symmetric matrix, row by row (G × p(p+1)/2).
 */
export interface InformationShare {
  readonly kind: "information-share";
  readonly xtwx: Float64Array;
}
