/**
 * Shares of the β initialisation (plain, serialisable data).
 */

/** What one center shares to initialise β: its Gram matrix and log features. */
export interface InitLocalShare {
  readonly kind: "init-share";
  /** X_cᵀX_c, p×p. */
  readonly gram: Float64Array;
  /** X_cᵀ ln(y/s + 0.1) per gene, G×p. */
  readonly logFeatures: Float64Array;
}

/** The refit/main choice a center needs for the init step. */
export interface InitRequest {
  readonly kind: "init-request";
  readonly refit: boolean;
}
