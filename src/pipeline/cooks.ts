/**
 * DESeq2's Cook's distances over a federation (see src/algorithms/cooks): the design cells, the
 * robust dispersion by exact federated trimmed means, then one round in which each center
 * computes its samples' Cook's distances with the aggregator's (XᵀWX + Λ)⁻¹, shares per-gene
 * maxima and flags, and replaces its outlier counts locally for the refit.
 */
import {
  aggregateCells,
  aggregateCooks,
  type CooksOutcome,
  type CooksPlan,
  cooksPlan,
  cooksRequest,
  type RobustMoments,
  robustMoments,
  startRobustPass1,
  startRobustPass2,
  type TrimSearch,
  trimAggregateStep,
  trimRequest,
} from "../algorithms/cooks/index.js";
import type { FederationRunner } from "../federation/runner.js";

/** What the Cook's steps need from the fit. */
export interface CooksInput {
  /** Final coefficients of the fitted genes (natural log), F×p. */
  readonly beta: Float64Array;
  /** Their final dispersions, F. */
  readonly dispersions: Float64Array;
  /** (XᵀWX + Λ)⁻¹ per fitted gene, F×p×p (the Wald step's). */
  readonly hatInverse: Float64Array;
  /** The design is a single factor of two levels (results()' extra rule). */
  readonly twoLevelFactor: boolean;
}

/** The Cook's steps' results. */
export interface CooksResult {
  readonly plan: CooksPlan;
  readonly moments: RobustMoments;
  readonly outcome: CooksOutcome;
}

/** Run a trimmed-mean search to its end; its rounds count under `phase`. */
async function runTrimSearch(
  runner: FederationRunner,
  phase: string,
  search: TrimSearch,
): Promise<void> {
  for (;;) {
    const shares = await runner.round(phase, "cooksTrim", trimRequest(search));
    if (trimAggregateStep(search, shares)) return;
  }
}

/** Cook's distances, outlier flags and (with ≥ 7 replicates) replacement, federated. */
export async function federatedCooks(
  runner: FederationRunner,
  input: CooksInput,
): Promise<CooksResult> {
  const genes = input.dispersions.length;
  const cells = await runner.round("cooks", "cooksCells", { kind: "cooks-cells-request" });
  const plan = cooksPlan(aggregateCells(cells));
  const pass1 = startRobustPass1(plan, genes, { thirdLargestCount: input.twoLevelFactor });
  await runTrimSearch(runner, "cooks-trimmed-means", pass1);
  const pass2 = startRobustPass2(plan, pass1);
  await runTrimSearch(runner, "cooks-trimmed-means", pass2);
  const moments = robustMoments(plan, pass1, pass2);
  const request = cooksRequest(plan, {
    beta: input.beta,
    dispersions: input.dispersions,
    robustDispersions: moments.dispersion,
    hatInverse: input.hatInverse,
    trimmedBaseMean: moments.trimmedBaseMean,
    thirdLargestCount: moments.thirdLargestCount,
  });
  const shares = await runner.round("cooks", "cooks", request);
  const outcome = aggregateCooks(
    plan,
    shares.map((s) => ({ ...s, kind: "cooks-share" as const })),
    shares.map((s) => ({
      kind: "cooks-replace-share" as const,
      replacedEntries: s.replacedEntries,
      replacedNormalizedSum: s.replacedNormalizedSum,
    })),
  );
  return { plan, moments, outcome };
}
