/**
 * DESeq2's Cook's-distance machinery, federated: design cells, the robust dispersion by
 * federated trimmed means, hat diagonals, Cook's distances, outlier replacement and
 * `results()`' Cook's filtering. Every step is a pure function: a local step
 * `(center, request) => share` run by each center on its own samples, or an aggregate step
 * on the shares. Two protocols:
 *
 * The private (k-sample, issue [11]) one, which `fedseq run` uses (src/pipeline/cooks.ts):
 * every reply is a per-gene count or sum, pooled over ≥ k values where it is a sum.
 *
 * 1. cells: {@link cellCountsLocalStep} on the aggregator's candidate rows, summed →
 *    {@link cellTableFromCounts} (or {@link singleSampleCells}) → {@link cooksPlan};
 *    {@link decidedPrivateCooks} ends here when the plan alone decides;
 * 1b. screening: {@link cooksScreenRequest} → {@link cooksScreenLocalStep} →
 *    {@link cooksScreenCandidates}: the genes with a sample above the cutoff at the robust
 *    dispersion's floor; the others have no outlier whatever their α_rob and are not searched
 *    ({@link noOutlierPrivateCooks} when none is left);
 * 2. robust pass 1: {@link startPrivatePass1}, counts rounds {@link privateTrimRequest} →
 *    {@link privateTrimLocalStep} → {@link privateTrimAggregateStep} until it returns true,
 *    one sums round {@link privateSumRequest} → {@link privateSumLocalStep}, then
 *    {@link privateTrimEstimates};
 * 3. robust pass 2: {@link startPrivatePass2}, the same; {@link privateRobustMoments};
 * 4. Cook's: {@link privateCooksRequest} → {@link privateCooksLocalStep} and
 *    {@link privateReplaceLocal} (one round, {@link privateCooksRoundLocal}; the replaced counts
 *    stay at the center) → {@link aggregatePrivateCooks}; for one two-level factor with genes
 *    flagged, {@link startThirdLargestSearch} (counts rounds only), {@link thirdLargestBuckets}
 *    and the Cook's round again with them; {@link privateCooksFilterMask}.
 *
 * The exact one (the reference of the tests; its replies hold per-center maxima and bracket
 * sums that can be one sample's value):
 *
 * 1. cells: {@link cellsLocalStep} → {@link aggregateCells} → {@link cooksPlan};
 * 2. robust pass 1, R₁ rounds: {@link startRobustPass1}, then per round {@link trimRequest}
 *    → {@link trimLocalStep} → {@link trimAggregateStep} until it returns true;
 * 3. robust pass 2, R₂ rounds: {@link startRobustPass2}, same loop; {@link robustMoments};
 * 4. hat (may run alongside 2–3): the Wald step's XᵀWX (`weightedGram` in ../wald/local.ts),
 *    whose summed, ridge-regularised inverse (`waldCovariance(...).inverse`) gives the hat
 *    diagonals;
 * 5. Cook's: {@link cooksRequest} → {@link cooksLocalStep} and {@link replaceOutliersLocal}
 *    (same request, same round; the replaced counts stay at the center) →
 *    {@link aggregateCooks}; after the refit of `refit` genes, {@link cooksFilterMask}.
 */

export type { CellsShare, CooksPlan, CooksPlanOptions, RobustGroup } from "./cells.js";
export {
  aggregateCells,
  cellCountsLocalStep,
  cellsLocalStep,
  cellsWithAtLeast,
  cellTableFromCounts,
  cooksPlan,
  singleSampleCells,
} from "./cells.js";
export type { CellTable, CooksCenter } from "./center.js";
export { sampleCells } from "./center.js";
export type {
  CooksOutcome,
  CooksRequest,
  CooksShare,
  LocalReplacement,
  ReplacedRows,
  ReplaceShare,
} from "./cooks.js";
export {
  aggregateCooks,
  cooksFilterMask,
  cooksLocalStep,
  cooksRequest,
  countsWithReplacements,
  replaceOutliersLocal,
} from "./cooks.js";
export { fQuantile } from "./fQuantile.js";
// Private (k-sample) variants, issue [11]: pooled counts and sums over ≥ k values only.
export type {
  CooksScreenRequest,
  CooksScreenShare,
  PrivateCooksOutcome,
  PrivateCooksRequest,
  PrivateCooksShare,
} from "./privateCooks.js";
export {
  aggregatePrivateCooks,
  cooksScreenCandidates,
  cooksScreenLocalStep,
  cooksScreenRequest,
  decidedPrivateCooks,
  noOutlierPrivateCooks,
  privateCooksFilterMask,
  privateCooksLocalStep,
  privateCooksRequest,
  privateReplaceLocal,
  twoLevelGenes,
} from "./privateCooks.js";
export type { PrivateRobustMoments, PrivateRobustOptions } from "./privateRobust.js";
export {
  privateRobustMoments,
  startPrivatePass1,
  startPrivatePass2,
  startThirdLargestSearch,
  thirdLargestBuckets,
} from "./privateRobust.js";
export type {
  PrivateGrid,
  PrivateSumRequest,
  PrivateSumShare,
  PrivateTrimEstimates,
  PrivateTrimGroup,
  PrivateTrimRequest,
  PrivateTrimSearch,
  PrivateTrimShare,
  PrivateTrimSpec,
} from "./privateTrimmedMean.js";
export {
  atomSlots,
  DEFAULT_PRIVATE_GRID,
  gridBucket,
  gridBucketBounds,
  gridCuts,
  gridThreshold,
  gridThresholdCount,
  groupBlocks,
  privateGroupsSafe,
  privateSumLocalStep,
  privateSumRequest,
  privateTrimAggregateStep,
  privateTrimEstimates,
  privateTrimLocalStep,
  privateTrimRequest,
  privateTrimSettled,
  SUM_SLOTS,
  startPrivateTrimSearch,
} from "./privateTrimmedMean.js";
export type { PrivateCooksRoundShare, PrivateSumWire, PrivateTrimWire } from "./privateWire.js";
export {
  gridOf,
  privateCooksRoundLocal,
  privateSumFromWire,
  privateSumToWire,
  privateTrimFromWire,
  privateTrimToWire,
  privateTrimWireLocalStep,
  privateTrimWireRequest,
  splitPrivateCooksShares,
} from "./privateWire.js";
export type { RobustMoments, RobustPass1Options } from "./robustDispersion.js";
export {
  ROBUST_MIN_DISPERSION,
  robustMoments,
  startRobustPass1,
  startRobustPass2,
} from "./robustDispersion.js";
export type {
  TrimGroup,
  TrimRequest,
  TrimSearch,
  TrimSearchSpec,
  TrimShare,
  TrimValues,
} from "./trimmedMean.js";
export {
  bracketThresholds,
  DEFAULT_THRESHOLDS,
  startTrimSearch,
  trimAggregateStep,
  trimLocalStep,
  trimRanks,
  trimRequest,
} from "./trimmedMean.js";
