/**
 * Local step of the β initialisation: X_cᵀX_c and X_cᵀ ln(y/s + 0.1) for every gene.
 */
import { crossProduct } from "../../math/linalg.js";
import { datasetFor, type FitCenter } from "../center.js";
import type { InitLocalShare, InitRequest } from "./state.js";

/**
 * Compute one center's share of the β initialisation.
 * @param center - the center's data
 * @param request - main or refit dataset
 */
export function initLocalStep(center: FitCenter, request: InitRequest): InitLocalShare {
  const { n, p, genes, design, sizeFactors, counts } = datasetFor(center, request.refit).data;
  const gram = crossProduct(design, n, p);
  const logFeatures = new Float64Array(genes * p);
  const logNormed = new Float64Array(n);
  for (let g = 0; g < genes; g++) {
    for (let i = 0; i < n; i++) logNormed[i] = Math.log(counts[g * n + i] / sizeFactors[i] + 0.1);
    for (let k = 0; k < p; k++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += design[i * p + k] * logNormed[i];
      logFeatures[g * p + k] = acc;
    }
  }
  return { kind: "init-share", gram, logFeatures };
}
