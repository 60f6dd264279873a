/**
 * Step "dispersionMu": the center sets its μ from coefficients the aggregator sends.
 *
 * DESeq2 (`estimateDispersionsGeneEst`) uses the linear-model μ when the design's distinct rows
 * number p (group designs; {@link dispersionResidualsLocalStep} sets it in the same round), and
 * otherwise the μ of an NB GLM fitted with alpha_init: μ = s·exp(xβ), floored at minmu = 0.5.
 */
import { maskIndices } from "../masks.js";
import { checkDispersionCenter, type DispersionCenter, emptyMu } from "./center.js";
import { DESEQ2_DISPERSION_OPTIONS } from "./options.js";
import type { DispersionMuRequest, DispersionMuShare } from "./state.js";

/**
 * μ of an NB GLM fit: max(s_i·exp(x_iβ_g), minMu) for every gene and sample (pure).
 * @param center - the center's data
 * @param beta - G×p coefficients, natural-log scale, gene-major (NaN rows give NaN μ)
 * @param minMu - floor (DESeq2's minmu, 0.5)
 * @returns G×n, gene-major
 */
export function muFromBeta(
  center: DispersionCenter,
  beta: Float64Array,
  minMu: number = DESEQ2_DISPERSION_OPTIONS.minMu,
): Float64Array {
  const { genes, p } = center;
  if (beta.length !== genes * p)
    throw new Error(`beta has ${beta.length} entries, expected ${genes}×${p}`);
  const all = new Int32Array(genes);
  for (let g = 0; g < genes; g++) all[g] = g;
  const mu = new Float64Array(genes * center.n);
  fillMu(center, all, beta, "log", minMu, mu);
  return mu;
}

/** μ rows of `genes` from their coefficients (`beta` row a belongs to genes[a]). */
function fillMu(
  center: DispersionCenter,
  genes: Int32Array,
  beta: Float64Array,
  link: "log" | "identity",
  minMu: number,
  mu: Float64Array,
): void {
  const { n, p, design, sizeFactors } = center;
  for (let a = 0; a < genes.length; a++) {
    const base = genes[a] * n;
    for (let i = 0; i < n; i++) {
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[i * p + k] * beta[a * p + k];
      const m = link === "log" ? sizeFactors[i] * Math.exp(xb) : xb * sizeFactors[i];
      // As R's `fitMu[fitMu < minmu] <- minmu` (NaN stays NaN).
      mu[base + i] = Math.max(m, minMu);
    }
  }
}

/**
 * Local step "dispersionMu": set the center's μ for the genes on mask (NaN elsewhere).
 * @param center - the center's data; its `mu` is replaced
 * @param request - coefficients on mask and their link
 * @returns an acknowledgement (no data)
 */
export function dispersionMuLocalStep(
  center: DispersionCenter,
  request: DispersionMuRequest,
): DispersionMuShare {
  checkDispersionCenter(center);
  if (request.mask.length !== center.genes)
    throw new Error(
      `request covers ${request.mask.length} genes, the center holds ${center.genes}`,
    );
  const genes = maskIndices(request.mask);
  if (request.beta.length !== genes.length * center.p)
    throw new Error(
      `beta has ${request.beta.length} entries, expected ${genes.length}×${center.p}`,
    );
  const mu = emptyMu(center);
  fillMu(center, genes, request.beta, request.link, request.minMu, mu);
  center.mu = mu;
  return { kind: "dispersion-mu-share", genes: genes.length };
}
