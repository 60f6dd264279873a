/**
 * Local steps of the median-of-ratios size factors, run by a center on its own counts.
 */
import { medianInPlace } from "../../stats/median.js";
import type { LogSumsShare } from "./state.js";

/**
 * Per gene: Σ ln y over the samples with y > 0 (0 for a gene with a zero count unless
 * `genesWithZeros`), and whether any sample has y = 0.
 * @param counts - gene-major counts (gene g's n counts at g·n)
 * @param n - the center's samples
 * @param genesWithZeros - send the sum for genes with a zero count too (poscounts)
 */
export function localLogSums(
  counts: Float64Array,
  n: number,
  genesWithZeros: boolean,
): LogSumsShare {
  const genes = n === 0 ? 0 : counts.length / n;
  const logSums = new Float64Array(genes);
  const hasZero = new Uint8Array(genes);
  for (let g = 0; g < genes; g++) {
    let sum = 0;
    let zero = 0;
    for (let i = g * n, end = i + n; i < end; i++) {
      const y = counts[i];
      if (y > 0) sum += Math.log(y);
      else zero = 1;
    }
    logSums[g] = zero && !genesWithZeros ? 0 : sum;
    hasZero[g] = zero;
  }
  return { kind: "log-sums-share", logSums, hasZero, samples: n };
}

/**
 * Each sample's size factor: exp of the median over reference genes (finite log geometric
 * mean; such genes have no zero count) of ln y − log geometric mean. They stay at the center.
 * @param counts - gene-major counts, genes in the order of `logGeoMeans`
 * @param n - the center's samples
 * @param logGeoMeans - per gene, NaN for genes outside the reference
 */
export function localSizeFactors(
  counts: Float64Array,
  n: number,
  logGeoMeans: Float64Array,
): Float64Array {
  const genes = logGeoMeans.length;
  const reference: number[] = [];
  for (let g = 0; g < genes; g++) if (Number.isFinite(logGeoMeans[g])) reference.push(g);
  const ratios = new Float64Array(reference.length);
  const sizeFactors = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (const g of reference) {
      const y = counts[g * n + i];
      if (y > 0) ratios[m++] = Math.log(y) - logGeoMeans[g];
    }
    sizeFactors[i] = Math.exp(medianInPlace(ratios.subarray(0, m)));
  }
  return sizeFactors;
}
