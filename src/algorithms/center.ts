/**
 * A center's data as the federated algorithms see it: the kernels' layout plus the
 * β-independent constants, computed once when the center is set up.
 */
import {
  type NbCenterData,
  type NbGeneConstants,
  nbGeneConstants,
} from "../math/negativeBinomial.js";

/** One dataset of a center, ready for the kernels. */
export interface CenterFitData {
  readonly data: NbCenterData;
  readonly constants: NbGeneConstants;
}

/** The dataset of the genes refitted after Cook's replacement (their outliers replaced). */
export interface RefitData extends CenterFitData {
  /** The refitted genes, ascending indices into the main dataset's genes. */
  readonly rows: Int32Array;
  /**
   * DESeq2's final `dispersions(dds)` over the main dataset's genes: the refit's for the refitted
   * genes, the main fit's for the others (what apeglm is given).
   */
  readonly finalDispersions: Float64Array;
}

/**
 * The refit dataset of `rows` (ascending, over `main`'s genes) with its final dispersions over
 * every gene.
 */
export function refitData(main: CenterFitData, refit: CenterFitData, rows: Int32Array): RefitData {
  const finalDispersions = main.data.dispersions.slice();
  rows.forEach((g, a) => {
    finalDispersions[g] = refit.data.dispersions[a];
  });
  return { ...refit, rows, finalDispersions };
}

/** A center: its main dataset and, in refit mode, its dataset with outliers replaced. */
export interface FitCenter {
  readonly main: CenterFitData;
  readonly refit?: RefitData;
}

/**
 * Compute the constants of a dataset (ln Γ terms' sums, Xᵀy) once. Each sample's ln Γ terms
 * are not kept (a value per gene and sample, as many bytes as the counts): the kernels that sum
 * them sample by sample get them from {@link withSampleTerms}.
 */
export function prepareCenterData(data: NbCenterData): CenterFitData {
  return { data, constants: nbGeneConstants(data, false) };
}

/** Datasets with their per-sample ln Γ terms, by the dataset prepared without them. */
const withTerms = new WeakMap<CenterFitData, CenterFitData>();

/**
 * The dataset with each sample's ln Γ terms (made once per dataset and kept while it lives): for
 * the kernels that sum each sample's NLL term as upstream does (its IRLS and PQN, the fast
 * solver's Newton steps). The same object on every call, so a worker pool holds it once.
 */
export function withSampleTerms<D extends CenterFitData>(dataset: D): D {
  if (dataset.constants.logBinomial !== null) return dataset;
  let full = withTerms.get(dataset);
  if (full === undefined) {
    full = { ...dataset, constants: nbGeneConstants(dataset.data, true) };
    withTerms.set(dataset, full);
  }
  return full as D;
}

/** The dataset a step runs on. */
export function datasetFor(center: FitCenter, refit: boolean): CenterFitData {
  if (!refit) return center.main;
  if (center.refit === undefined)
    throw new Error("refit mode requested but the center holds no refit dataset");
  return center.refit;
}
