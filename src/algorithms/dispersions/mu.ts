/**
 * Step "dispersionMu": the center sets what its μ comes from, from coefficients the aggregator
 * sends.
 *
 * DESeq2 (`estimateDispersionsGeneEst`) uses the linear-model μ when the design's distinct rows
 * number p (group designs; {@link dispersionResidualsLocalStep} sets it in the same round), and
 * otherwise the μ of an NB GLM fitted with alpha_init: μ = s·exp(xβ), floored at minmu = 0.5.
 */
import { maskIndices } from "../masks.js";
import { checkDispersionCenter, type DispersionCenter, dispersionMeans, geneMu } from "./center.js";
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
  const { genes, n, p } = center;
  if (beta.length !== genes * p)
    throw new Error(`beta has ${beta.length} entries, expected ${genes}×${p}`);
  const mu = new Float64Array(genes * n);
  const means = { link: "log" as const, beta, minMu };
  for (let g = 0; g < genes; g++) geneMu(center, means, g, mu.subarray(g * n, (g + 1) * n));
  return mu;
}

/**
 * Local step "dispersionMu": set the center's μ model for the genes on mask (NaN elsewhere).
 * @param center - the center's data; its `means` are replaced
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
  center.means = dispersionMeans(
    center,
    request.mask,
    genes,
    request.beta,
    request.link,
    request.minMu,
  );
  return { kind: "dispersion-mu-share", genes: genes.length };
}
