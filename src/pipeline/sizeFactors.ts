/**
 * The federated size factors of a run: two rounds (log sums, then each center's own median of
 * ratios against the pooled pseudo-reference). Each center keeps its size factors: the
 * aggregator never learns them, and every later step has the center use its own.
 */
import { logGeometricMeans } from "../algorithms/sizeFactors/aggregate.js";
import type { FederationRunner } from "../federation/runner.js";

/**
 * Have every center estimate its samples' size factors (DESeq2's median of ratios on the pooled
 * counts), which it keeps.
 * @param genes - every gene of the federation, in its order
 */
export async function federatedSizeFactors(
  runner: FederationRunner,
  genes: readonly string[],
): Promise<void> {
  const sums = await runner.round("size-factors", "logSums", { kind: "log-sums-request", genes });
  const logGeoMeans = logGeometricMeans(sums);
  await runner.round("size-factors", "sizeFactors", {
    kind: "size-factors-request",
    logGeoMeans,
  });
}
