/**
 * The federated size factors of a run: two rounds (log sums, then each center's own median of
 * ratios against the pooled pseudo-reference), and with DESeq2's poscounts a third, which has
 * each center divide its size factors by their geometric mean over all samples. Each center keeps
 * its size factors: the aggregator never learns them, and every later step has the center use
 * its own.
 */
import type { GeneMask } from "../algorithms/masks.js";
import {
  logGeometricMeans,
  meanLogSizeFactor,
  positiveLogGeometricMeans,
} from "../algorithms/sizeFactors/aggregate.js";
import type { SizeFactorsType } from "../algorithms/sizeFactors/state.js";
import type { FederationRunner } from "../federation/runner.js";

/**
 * Have every center estimate its samples' size factors (DESeq2's median of ratios on the pooled
 * counts, or its poscounts), which it keeps.
 * @param genes - every gene of the federation, in its order
 * @param type - "ratio" (DESeq2's default) or "poscounts"
 * @param present - per gene, whether some center has a non-zero count (needed by poscounts)
 */
export async function federatedSizeFactors(
  runner: FederationRunner,
  genes: readonly string[],
  type: SizeFactorsType = "ratio",
  present?: GeneMask,
): Promise<void> {
  const poscounts = type === "poscounts";
  const sums = await runner.round("size-factors", "logSums", {
    kind: "log-sums-request",
    genes,
    genesWithZeros: poscounts,
  });
  if (poscounts && present === undefined)
    throw new Error("poscounts size factors need the presence mask");
  const logGeoMeans = poscounts
    ? positiveLogGeometricMeans(sums, present as GeneMask)
    : logGeometricMeans(sums);
  const shares = await runner.round("size-factors", "sizeFactors", {
    kind: "size-factors-request",
    logGeoMeans,
    stabilize: poscounts,
  });
  if (!poscounts) return;
  await runner.round("size-factors", "sizeFactorScale", {
    kind: "size-factor-scale-request",
    logMean: meanLogSizeFactor(shares),
  });
}
