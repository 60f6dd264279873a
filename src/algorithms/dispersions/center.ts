/**
 * A center's data as the dispersion steps see it: its own samples only.
 *
 * The center keeps one extra thing across rounds: what its fitted means μ come from
 * ({@link DispersionMeans}: p coefficients per gene, which the aggregator sends in step
 * "dispersionResiduals" with `setLinearMu`, or step "dispersionMu"). μ itself, a value per gene
 * and sample, is never stored: each step computes a gene's n values when it reaches the gene
 * ({@link geneMu}), the same doubles a stored μ held (the same expression), so a center's memory
 * during the dispersion searches is its counts and little more. No step ever returns a
 * per-sample value.
 */
import type { CenterSamples } from "../../math/negativeBinomial.js";

/**
 * Where a center's μ comes from: μ_gi = max(s_i·x_iβ_g, minMu) (`"identity"`: DESeq2's
 * `linearModelMuNormalized` for group designs) or max(s_i·exp(x_iβ_g), minMu) (`"log"`: the NB
 * GLM fitted with alpha_init, for other designs), floored as in DESeq2's
 * `estimateDispersionsGeneEst` (`minmu` = 0.5).
 */
export interface DispersionMeans {
  readonly link: "identity" | "log";
  /** Coefficients, gene-major G×p (natural log for "log"); NaN rows for genes off the mask. */
  readonly beta: Float64Array;
  /** Floor on μ. */
  readonly minMu: number;
}

/** One center's data for dispersion estimation: its samples (the kernels' layout), then μ's model. */
export interface DispersionCenter extends CenterSamples {
  /** What μ comes from, set by the center itself from the aggregator's coefficients; undefined until then. */
  means?: DispersionMeans;
}

/**
 * Check a center's arrays against its declared shape.
 * @throws Error naming the first inconsistent field
 */
export function checkDispersionCenter(center: DispersionCenter): void {
  const { n, p, genes, design, sizeFactors, counts, means } = center;
  if (design.length !== n * p)
    throw new Error(`design has ${design.length} entries, expected ${n}×${p}`);
  if (sizeFactors.length !== n)
    throw new Error(`sizeFactors has ${sizeFactors.length} entries, expected ${n}`);
  if (counts.length !== genes * n)
    throw new Error(`counts has ${counts.length} entries, expected ${genes}×${n}`);
  if (means !== undefined && means.beta.length !== genes * p)
    throw new Error(`μ's coefficients have ${means.beta.length} entries, expected ${genes}×${p}`);
}

/**
 * μ's model with the coefficients `beta` (A×p, row a for the a-th gene set in `mask`) on the
 * genes of `mask`, NaN rows elsewhere.
 */
export function dispersionMeans(
  center: DispersionCenter,
  mask: Uint8Array,
  genes: Int32Array,
  beta: Float64Array,
  link: DispersionMeans["link"],
  minMu: number,
): DispersionMeans {
  const { p } = center;
  if (mask.length !== center.genes || beta.length !== genes.length * p)
    throw new Error(
      `coefficients for ${beta.length / p} genes of a mask over ${mask.length}, the center holds ${center.genes}`,
    );
  const full = new Float64Array(center.genes * p).fill(Number.NaN);
  for (let a = 0; a < genes.length; a++) full.set(beta.subarray(a * p, (a + 1) * p), genes[a] * p);
  return { link, beta: full, minMu };
}

/** The center's μ model, or an error saying which step sets it. */
export function requireMeans(center: DispersionCenter): DispersionMeans {
  if (center.means === undefined) {
    throw new Error(
      "this center has no μ yet: run step dispersionResiduals with setLinearMu, or dispersionMu, first",
    );
  }
  return center.means;
}

/**
 * Gene g's μ over the center's samples into `out` (n values): max(s·xβ, minMu) or
 * max(s·exp(xβ), minMu), xβ summed over the columns in order (NaN coefficients give NaN μ).
 */
export function geneMu(
  center: CenterSamples,
  means: DispersionMeans,
  g: number,
  out: Float64Array,
): void {
  const { n, p, design, sizeFactors } = center;
  const { beta, minMu } = means;
  const row = g * p;
  if (means.link === "log") {
    for (let i = 0; i < n; i++) {
      let xb = 0;
      for (let k = 0; k < p; k++) xb += design[i * p + k] * beta[row + k];
      // As R's `fitMu[fitMu < minmu] <- minmu` (NaN stays NaN).
      out[i] = Math.max(sizeFactors[i] * Math.exp(xb), minMu);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let xb = 0;
    for (let k = 0; k < p; k++) xb += design[i * p + k] * beta[row + k];
    out[i] = Math.max(xb * sizeFactors[i], minMu);
  }
}
