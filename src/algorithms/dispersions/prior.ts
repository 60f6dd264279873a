/**
 * DESeq2's prior on log α and its final dispersions (aggregator only, gene-level quantities):
 * `varLogDispEsts` (the `dispersionFunction<-` setter), `estimateDispersionsPriorVar`, and the
 * outlier rule and choice of `estimateDispersionsMAP`.
 */
import cephes from "cephes";
import { DESEQ2_DISPERSION_OPTIONS, type DispersionOptions } from "./options.js";
import { rMean } from "./trend.js";

await cephes.compiled;

const hurwitzZeta = (cephes as unknown as { zeta: (s: number, q: number) => number }).zeta;

/** ψ′(x), the trigamma function: the Hurwitz zeta ζ(2, x) (Cephes `zeta`). */
export function trigamma(x: number): number {
  return hurwitzZeta(2, x);
}

/** R's `median` (NaN for no value; the mean of the two middle values for even counts). */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = values.slice().sort();
  const half = Math.floor((n + 1) / 2);
  if (n % 2 === 1) return sorted[half - 1];
  return rMean(sorted.subarray(half - 1, half + 1));
}

/** R's `mad`: 1.4826 · median(|x − median(x)|). */
export function mad(values: Float64Array): number {
  const center = median(values);
  const deviations = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs(values[i] - center);
  return 1.4826 * median(deviations);
}

/** DESeq2's prior on log α. */
export interface DispersionPrior {
  /** mad² of log(dispGeneEst) − log(dispFit) over genes with dispGeneEst ≥ 100·minDisp. */
  readonly varLogDispEsts: number;
  /** dispPriorVar = max(varLogDispEsts − ψ′((m − p)/2), 0.25). */
  readonly priorVariance: number;
  /**
   * "trigamma": DESeq2's formula. "small-df": m − p ≤ 3, where DESeq2 instead picks the prior
   * variance whose simulated log residuals (R's RNG with seed 2, a histogram and a loess fit)
   * best match the observed ones; that simulation is not reproduced and the trigamma formula is
   * used. "none": no gene reaches 100·minDisp (DESeq2 sets every dispersion to 10·minDisp and
   * records 0.25).
   */
  readonly method: "trigamma" | "small-df" | "none";
}

/**
 * DESeq2's `varLogDispEsts` and `estimateDispersionsPriorVar`.
 * @param mask - non-zero genes, G
 * @param dispGeneEst - gene-wise dispersions, G
 * @param dispFit - trend at baseMean, G
 * @param samples - m
 * @param p - design columns
 */
export function dispersionPriorVariance(
  mask: Uint8Array,
  dispGeneEst: Float64Array,
  dispFit: Float64Array,
  samples: number,
  p: number,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
): DispersionPrior {
  const residuals: number[] = [];
  for (let g = 0; g < mask.length; g++) {
    if (!mask[g] || !(dispGeneEst[g] >= options.minDisp * 100)) continue;
    const r = Math.log(dispGeneEst[g]) - Math.log(dispFit[g]);
    if (!Number.isNaN(r)) residuals.push(r);
  }
  if (residuals.length === 0)
    return { varLogDispEsts: Number.NaN, priorVariance: 0.25, method: "none" };
  const spread = mad(Float64Array.from(residuals));
  const varLogDispEsts = spread * spread;
  const df = samples - p;
  if (df <= 0) return { varLogDispEsts, priorVariance: varLogDispEsts, method: "trigamma" };
  const priorVariance = Math.max(varLogDispEsts - trigamma(df / 2), 0.25);
  return { varLogDispEsts, priorVariance, method: df <= 3 ? "small-df" : "trigamma" };
}

/** DESeq2's final dispersions. */
export interface FinalDispersions {
  /** Final dispersion, G (NaN on all-zero genes). */
  readonly dispersion: Float64Array;
  /** Genes whose gene-wise estimate is kept (dispOutlier), G. */
  readonly outlier: Uint8Array;
}

/**
 * DESeq2's final choice: dispOutlier = log(dispGeneEst) > log(dispFit) + outlierSD·√varLogDispEsts
 * keeps the gene-wise estimate, every other gene takes its MAP. When no gene-wise estimate
 * reaches 100·minDisp and the prior was estimated from these genes, every dispersion is
 * 10·minDisp (DESeq2's warning case); a refit, given the first estimation's prior
 * (`priorGiven`), takes the MAP as any other (DESeq2's `estimateDispersionsMAP` with
 * `dispPriorVar`).
 * @param mask - non-zero genes, G
 * @param dispMap - MAP dispersions (clamped), G
 */
export function finalDispersions(
  mask: Uint8Array,
  dispGeneEst: Float64Array,
  dispFit: Float64Array,
  dispMap: Float64Array,
  varLogDispEsts: number,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
  priorGiven = false,
): FinalDispersions {
  const nGenes = mask.length;
  const dispersion = new Float64Array(nGenes).fill(Number.NaN);
  const outlier = new Uint8Array(nGenes);
  let usable = 0;
  for (let g = 0; g < nGenes; g++) if (mask[g] && dispGeneEst[g] >= options.minDisp * 100) usable++;
  const threshold = options.outlierSD * Math.sqrt(varLogDispEsts);
  for (let g = 0; g < nGenes; g++) {
    if (!mask[g]) continue;
    if (usable === 0 && !priorGiven) {
      dispersion[g] = options.minDisp * 10;
      continue;
    }
    const isOutlier = Math.log(dispGeneEst[g]) > Math.log(dispFit[g]) + threshold;
    outlier[g] = isOutlier ? 1 : 0;
    dispersion[g] = isOutlier ? dispGeneEst[g] : dispMap[g];
  }
  return { dispersion, outlier };
}
