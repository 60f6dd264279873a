/**
 * The federated size factors of a run: two rounds (log sums, then each center's own median of
 * ratios against the pooled pseudo-reference).
 */
import { logGeometricMeans } from "../algorithms/sizeFactors/aggregate.js";
import type { FederationRunner } from "../federation/runner.js";

/** Size factors of every sample, and each center's share of them. */
export interface FederatedSizeFactors {
  /** Every sample's size factor: centers in federation order, each in its sample order. */
  readonly all: Float64Array;
  /** Each center's size factors (views into `all`). */
  readonly perCenter: readonly Float64Array[];
}

/**
 * Estimate the size factors of every sample (DESeq2's median of ratios on the pooled counts).
 * @param genes - every gene of the federation, in its order
 */
export async function federatedSizeFactors(
  runner: FederationRunner,
  genes: readonly string[],
): Promise<FederatedSizeFactors> {
  const sums = await runner.round("size-factors", "logSums", { kind: "log-sums-request", genes });
  const logGeoMeans = logGeometricMeans(sums);
  const shares = await runner.round("size-factors", "sizeFactors", {
    kind: "size-factors-request",
    logGeoMeans,
  });
  const centers = runner.transport.centers;
  const total = centers.reduce((n, c) => n + c.samples.length, 0);
  const all = new Float64Array(total);
  const perCenter: Float64Array[] = [];
  let offset = 0;
  shares.forEach((share, c) => {
    const n = centers[c].samples.length;
    if (share.sizeFactors.length !== n) {
      throw new Error(
        `center ${centers[c].name}: ${share.sizeFactors.length} size factors for ${n} samples`,
      );
    }
    all.set(share.sizeFactors, offset);
    perCenter.push(all.subarray(offset, offset + n));
    offset += n;
  });
  return { all, perCenter };
}
