/**
 * Which genes have a non-zero count somewhere: each center shares one bit per gene, the
 * aggregator ORs them. Genes with zero counts in every sample of every center are reported,
 * not fitted (as DESeq2 and upstream).
 */
import type { GeneMask } from "../masks.js";

/**
 * One center's presence bits.
 * @param counts - gene-major counts (gene g's n counts at g·n)
 * @param n - the center's samples
 * @param genes - number of genes
 */
export function localPresence(counts: Float64Array, n: number, genes: number): GeneMask {
  const present = new Uint8Array(genes);
  for (let g = 0; g < genes; g++) {
    for (let i = 0; i < n; i++) {
      if (counts[g * n + i] !== 0) {
        present[g] = 1;
        break;
      }
    }
  }
  return present;
}

/** Union of the centers' presence bits. */
export function mergePresence(shares: readonly GeneMask[]): GeneMask {
  const merged = new Uint8Array(shares[0].length);
  for (const share of shares) for (let g = 0; g < merged.length; g++) merged[g] |= share[g];
  return merged;
}
