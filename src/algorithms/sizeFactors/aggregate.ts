/**
 * Aggregation of the size factors' log sums into the pseudo-reference sample.
 */
import { InputError } from "../../core/errors.js";
import type { LogSumsShare } from "./state.js";

/**
 * Log geometric means over all centers' samples: Σ ln y / N for genes with no zero count
 * anywhere, NaN for the others (DESeq2's −∞, which leaves them out of the reference).
 * @throws InputError when every gene has a zero somewhere (as DESeq2, no reference exists)
 */
export function logGeometricMeans(shares: readonly LogSumsShare[]): Float64Array {
  const genes = shares[0].logSums.length;
  let samples = 0;
  for (const share of shares) samples += share.samples;
  const out = new Float64Array(genes);
  let usable = 0;
  for (let g = 0; g < genes; g++) {
    let sum = 0;
    let zero = 0;
    for (const share of shares) {
      sum += share.logSums[g];
      zero |= share.hasZero[g];
    }
    out[g] = zero ? Number.NaN : sum / samples;
    if (!zero) usable++;
  }
  if (usable === 0) {
    throw new InputError(
      "every gene contains at least one zero count: median-of-ratios size factors cannot be computed",
    );
  }
  return out;
}
