/**
 * A center's data as the dispersion steps see it: its own samples only.
 *
 * The center keeps one extra array across rounds, μ, which it computes itself once the
 * aggregator has sent the coefficients it needs (step "dispersionResiduals" with
 * `setLinearMu`, or step "dispersionMu"). No step ever returns a per-sample value.
 */
import type { CenterSamples } from "../../math/negativeBinomial.js";

/** One center's data for dispersion estimation: its samples (the kernels' layout), then μ. */
export interface DispersionCenter extends CenterSamples {
  /**
   * Fitted means μ, gene-major genes×n (floored at DESeq2's `minmu` = 0.5), set by the center
   * itself from coefficients the aggregator sends; undefined until then. Entries of genes
   * outside the request's mask are NaN.
   */
  mu?: Float64Array;
}

/**
 * Check a center's arrays against its declared shape.
 * @throws Error naming the first inconsistent field
 */
export function checkDispersionCenter(center: DispersionCenter): void {
  const { n, p, genes, design, sizeFactors, counts, mu } = center;
  if (design.length !== n * p)
    throw new Error(`design has ${design.length} entries, expected ${n}×${p}`);
  if (sizeFactors.length !== n)
    throw new Error(`sizeFactors has ${sizeFactors.length} entries, expected ${n}`);
  if (counts.length !== genes * n)
    throw new Error(`counts has ${counts.length} entries, expected ${genes}×${n}`);
  if (mu !== undefined && mu.length !== genes * n)
    throw new Error(`mu has ${mu.length} entries, expected ${genes}×${n}`);
}

/**
 * A new μ for the center: genes×n NaN, in shared memory like the counts, so that a worker pool
 * reads it in place instead of holding a copy (SharedArrayBuffer is a JavaScript global, no
 * runtime).
 */
export function emptyMu(center: DispersionCenter): Float64Array {
  return new Float64Array(new SharedArrayBuffer(center.genes * center.n * 8)).fill(Number.NaN);
}

/** The center's μ, or an error saying which step sets it. */
export function requireMu(center: DispersionCenter): Float64Array {
  if (center.mu === undefined) {
    throw new Error(
      "this center has no μ yet: run step dispersionResiduals with setLinearMu, or dispersionMu, first",
    );
  }
  return center.mu;
}
