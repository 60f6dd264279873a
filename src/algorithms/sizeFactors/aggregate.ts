/**
 * Aggregation of the size factors' log sums into the pseudo-reference sample.
 */
import { InputError } from "../../core/errors.js";
import type { GeneMask } from "../masks.js";
import type { LogSumsShare, SizeFactorsShare } from "./state.js";

/**
 * Per gene Σ (the centers' log sums) / N over all N samples for the genes `included`, NaN for
 * the others (DESeq2's −∞, which leaves them out of the reference).
 * @throws InputError with `none` when no gene is included
 */
function pooledLogMeans(
  shares: readonly LogSumsShare[],
  included: (g: number) => boolean,
  none: string,
): Float64Array {
  const genes = shares[0].logSums.length;
  let samples = 0;
  for (const share of shares) samples += share.samples;
  const out = new Float64Array(genes);
  let usable = 0;
  for (let g = 0; g < genes; g++) {
    if (!included(g)) {
      out[g] = Number.NaN;
      continue;
    }
    let sum = 0;
    for (const share of shares) sum += share.logSums[g];
    out[g] = sum / samples;
    usable++;
  }
  if (usable === 0) throw new InputError(none);
  return out;
}

/**
 * Log geometric means over all centers' samples: Σ ln y / N for genes with no zero count
 * anywhere, NaN for the others (DESeq2's −∞, which leaves them out of the reference).
 * @throws InputError when every gene has a zero somewhere (as DESeq2, no reference exists)
 */
export function logGeometricMeans(shares: readonly LogSumsShare[]): Float64Array {
  return pooledLogMeans(
    shares,
    (g) => shares.every((share) => share.hasZero[g] === 0),
    "every gene contains at least one zero count: median-of-ratios size factors cannot be computed",
  );
}

/**
 * DESeq2's poscounts pseudo-reference (`estimateSizeFactors(type = "poscounts")`): per gene,
 * Σ ln y over its positive counts divided by the number of all samples (zeros count in the
 * denominator), for genes with a positive count somewhere; NaN for all-zero genes.
 * @param present - per gene, whether some center has a non-zero count (the presence step)
 * @throws InputError when every gene is zero everywhere
 */
export function positiveLogGeometricMeans(
  shares: readonly LogSumsShare[],
  present: GeneMask,
): Float64Array {
  return pooledLogMeans(
    shares,
    (g) => present[g] !== 0,
    "every gene has only zero counts: poscounts size factors cannot be computed",
  );
}

/** The mean of ln s over every sample of the federation, from the centers' Σ ln s. */
export function meanLogSizeFactor(shares: readonly SizeFactorsShare[]): number {
  let samples = 0;
  let sum = 0;
  for (const share of shares) {
    samples += share.samples;
    sum += share.logSizeFactorSum;
  }
  return sum / samples;
}
