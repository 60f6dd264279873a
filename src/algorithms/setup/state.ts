/**
 * Requests and shares of the set-up steps that precede a fit: which genes have counts, the
 * design's factor levels, and preparing each center's data for the kernels.
 */
import type { DesignLevels, References } from "../../design/designMatrix.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import type { GeneMask } from "../masks.js";

/** Ask for presence bits of these genes (ids, in the federation's gene order). */
export interface PresenceRequest {
  readonly kind: "presence-request";
  readonly genes: readonly string[];
}

/** One bit per requested gene: 1 when the center has a non-zero count for it. */
export interface PresenceShare {
  readonly kind: "presence-share";
  readonly present: GeneMask;
}

/** Ask for the levels of the design's factors. */
export interface LevelsRequest {
  readonly kind: "levels-request";
  /** The design formula, e.g. "~ tissue". */
  readonly formula: string;
}

/** The center's own level sets (continuous variables have no entry). */
export interface LevelsShare {
  readonly kind: "levels-share";
  readonly levels: DesignLevels;
}

/** Everything a center needs to set up its part of a fit. */
export interface PrepareRequest {
  readonly kind: "prepare-request";
  readonly formula: string;
  /** Levels merged over all centers. */
  readonly levels: DesignLevels;
  readonly references: References;
  /** Ids of the genes to fit, in the fit's order. */
  readonly genes: readonly string[];
  /** Dispersion of each gene to fit. */
  readonly dispersions: Float64Array;
  /** Size factor of each of the center's samples, in its sample order. */
  readonly sizeFactors: Float64Array;
  readonly hyperparameters: FitHyperparameters;
}

/**
 * The center's Gram matrix XᵀX (for the rank check), its sample count, and per gene to fit the
 * sum of its normalised counts y/s (the pooled mean normalised count, DESeq2's baseMean, is
 * their total over the total sample count).
 */
export interface PrepareShare {
  readonly kind: "prepare-share";
  readonly gram: Float64Array;
  readonly samples: number;
  readonly normalizedSums: Float64Array;
}
