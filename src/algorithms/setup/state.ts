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
  /** `DesignLevels` (design/designMatrix.ts) as JSON: factor → its levels at the center. */
  readonly levels: string;
}

/**
 * Everything a center needs to set up its part of a fit: the design (levels merged over all
 * centers and reference levels, as JSON), the genes and their dispersions, the center's own size
 * factors, and the fit's hyper-parameters (one field each).
 */
export interface PrepareRequest extends FitHyperparameters {
  readonly kind: "prepare-request";
  readonly formula: string;
  /** Levels merged over all centers: `DesignLevels` as JSON. */
  readonly levels: string;
  /** Reference levels: `References` as JSON. */
  readonly references: string;
  /** Ids of the genes to fit, in the fit's order. */
  readonly genes: readonly string[];
  /** Dispersion of each gene to fit. */
  readonly dispersions: Float64Array;
  /** Size factor of each of the center's samples, in its sample order. */
  readonly sizeFactors: Float64Array;
}

/** The parts of a {@link PrepareRequest}, structured. */
export interface PrepareParts {
  readonly formula: string;
  readonly levels: DesignLevels;
  readonly references: References;
  readonly genes: readonly string[];
  readonly dispersions: Float64Array;
  readonly sizeFactors: Float64Array;
  readonly hyperparameters: FitHyperparameters;
}

/** The request of step "prepare" for its parts. */
export function prepareRequest(parts: PrepareParts): PrepareRequest {
  const hp = parts.hyperparameters;
  return {
    kind: "prepare-request",
    formula: parts.formula,
    levels: JSON.stringify(parts.levels),
    references: JSON.stringify(parts.references),
    genes: parts.genes,
    dispersions: parts.dispersions,
    sizeFactors: parts.sizeFactors,
    minMu: hp.minMu,
    betaTol: hp.betaTol,
    maxBeta: hp.maxBeta,
    irlsNumIter: hp.irlsNumIter,
    pqnC1: hp.pqnC1,
    pqnFtol: hp.pqnFtol,
    pqnNumItersLs: hp.pqnNumItersLs,
    pqnNumIters: hp.pqnNumIters,
    pqnMinMu: hp.pqnMinMu,
  };
}

/** The hyper-parameters a {@link PrepareRequest} carries. */
export function requestHyperparameters(request: PrepareRequest): FitHyperparameters {
  return {
    minMu: request.minMu,
    betaTol: request.betaTol,
    maxBeta: request.maxBeta,
    irlsNumIter: request.irlsNumIter,
    pqnC1: request.pqnC1,
    pqnFtol: request.pqnFtol,
    pqnNumItersLs: request.pqnNumItersLs,
    pqnNumIters: request.pqnNumIters,
    pqnMinMu: request.pqnMinMu,
  };
}

/** Parse a JSON object of strings (or string lists, with `lists`), as the aggregator sent it. */
function jsonRecord(text: string, what: string, lists: boolean): Record<string, never> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what}: not JSON`);
  }
  const ok =
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.values(value).every((v) =>
      lists ? Array.isArray(v) && v.every((x) => typeof x === "string") : typeof v === "string",
    );
  if (!ok) throw new Error(`${what}: not an object of ${lists ? "string lists" : "strings"}`);
  return value as Record<string, never>;
}

/** `DesignLevels` from their JSON (a message field). @throws Error naming `what` */
export function parseLevels(text: string, what: string): DesignLevels {
  return jsonRecord(text, what, true);
}

/** `References` from their JSON (a message field). @throws Error naming `what` */
export function parseReferences(text: string, what: string): References {
  return jsonRecord(text, what, false);
}

/** A center's level sets, as its share carries them. */
export function levelsOf(share: LevelsShare): DesignLevels {
  return parseLevels(share.levels, "levels.levels");
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
