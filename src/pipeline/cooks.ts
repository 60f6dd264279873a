/**
 * DESeq2's Cook's distances over a federation, by the private (k-sample, issue [11]) protocol
 * of src/algorithms/cooks/private*.ts: every reply of every round is a per-gene (or per-gene
 * and slot, per-cell) COUNT or SUM that the aggregator only uses pooled over the centers, so
 * that secure aggregation masks it, and no sum is ever asked over fewer than k = 3 pooled
 * values. Rounds:
 *
 * 1. cells (`cooksCellCounts`): the aggregator sends the candidate design rows (every
 *    combination of the factor levels); each center answers how many of its samples have each.
 *    With a continuous covariate every sample is its own cell (see {@link CooksInput}) and
 *    no round is needed;
 * 2. screening (`cooksScreen`): per gene, how many samples have a Cook's distance above the
 *    cutoff at the robust dispersion's floor 0.04, the largest it can be; a gene with none
 *    cannot have an outlier whatever its robust dispersion, and is not searched below (when no
 *    gene is left, rounds 3–5 are skipped);
 * 3. the robust dispersion's two passes of trimmed means over the candidate genes
 *    (`cooksPrivateTrim` counts rounds on a public grid, then one `cooksPrivateSums` round
 *    each), approximate within a bound;
 * 4. one Cook's round (`cooksPrivate`): per gene, how many samples of each set DESeq2 takes a
 *    maximum over have a distance above the cutoff (the screened-out genes' at the floor, where
 *    it is 0), and the replacement's counts and sums (the replaced counts stay at the center
 *    for the refit);
 * 5. for a single two-level factor with flagged genes, `results()`' rule: the third-largest
 *    count's grid bucket (counts rounds only) and the Cook's round again with it.
 *
 * When the plan alone decides (no cell of ≥ 3 samples and no replacement) rounds 2–5 are skipped:
 * DESeq2 then flags, replaces and filters nothing whatever the distances.
 */
import {
  aggregatePrivateCooks,
  type CooksPlan,
  cellTableFromCounts,
  cooksPlan,
  cooksScreenCandidates,
  cooksScreenRequest,
  decidedPrivateCooks,
  noOutlierPrivateCooks,
  type PrivateCooksOutcome,
  type PrivateRobustMoments,
  type PrivateTrimEstimates,
  type PrivateTrimSearch,
  privateCooksRequest,
  privateRobustMoments,
  privateSumRequest,
  privateSumToWire,
  privateTrimAggregateStep,
  privateTrimEstimates,
  privateTrimSettled,
  privateTrimWireRequest,
  ROBUST_MIN_DISPERSION,
  singleSampleCells,
  splitPrivateCooksShares,
  startPrivatePass1,
  startPrivatePass2,
  startThirdLargestSearch,
  thirdLargestBuckets,
  twoLevelGenes,
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
  /**
   * The μ of the distances' residuals when it is not the fit's: after a likelihood-ratio test,
   * the gene-wise dispersion step's (algorithms/cooks `CooksResidualLink`), as its link and
   * coefficients, F×p.
   */
  readonly residualMu?: { readonly link: "identity" | "log"; readonly beta: Float64Array };
  /** Their baseMean (Σ y/s / m, the fit's), F: the robust dispersion's mean when the private
   * trimmed-mean groups cannot cover every sample. */
  readonly baseMean: Float64Array;
  /** The design is a single factor of two levels (results()' extra rule). */
  readonly twoLevelFactor: boolean;
  /** Design columns p. */
  readonly designColumns: number;
  /** Pooled samples m (the aggregator knows how many samples each center has). */
  readonly samples: number;
  /**
   * The design rows the samples can have, D×p: every combination of the formula's factor
   * levels (`factorCellRows`, design/factorCells.ts). null when the formula has a continuous
   * covariate: every sample is then taken as its own cell, DESeq2's cells when no two samples
   * share a design row, so that no cell reaches 3 samples and nothing is flagged or replaced.
   * (Edge case: where samples repeat a covariate value and share the factors' levels, DESeq2
   * groups them into cells, may flag their genes and, for cells of ≥ 7, replace counts; fedseq
   * does not, since the covariate's values never leave the centers.)
   */
  readonly candidateRows: Float64Array | null;
  /** DESeq's `minReplicatesForReplace` (default 7; `Infinity`: no replacement, no refit). */
  readonly minReplicatesForReplace?: number;
  /** `results()`' `cooksCutoff` for the p-value filter (default: qf(0.99, p, m − p)). */
  readonly filterCutoff?: number;
}

/** The Cook's steps' results. */
export interface CooksResult {
  readonly plan: CooksPlan;
  /**
   * The robust dispersions and replacement values (null: the plan decided, or the screening
   * left no candidate; NaN for the genes it screened out, which were not searched).
   */
  readonly moments: PrivateRobustMoments | null;
  /** The screening's candidates, 0/1 per gene (null: no screening round, every gene searched). */
  readonly candidates: Uint8Array | null;
  readonly outcome: PrivateCooksOutcome;
}

/** Phase of the cells and Cook's rounds, as counted in run.json. */
const COOKS_PHASE = "cooks";
/** Phase of the trimmed-mean searches' rounds. */
const TRIM_PHASE = "cooks-trimmed-means";

/** Run a private search's counts rounds until every target is one grid bucket. */
async function searchCounts(runner: FederationRunner, search: PrivateTrimSearch): Promise<void> {
  while (!privateTrimSettled(search)) {
    const request = privateTrimWireRequest(search);
    const shares = await runner.round(TRIM_PHASE, "cooksPrivateTrim", request);
    privateTrimAggregateStep(search, shares);
  }
}

/** A private search to its end: the counts rounds, then its sums round. */
async function searchTrimmedMeans(
  runner: FederationRunner,
  search: PrivateTrimSearch,
): Promise<PrivateTrimEstimates> {
  await searchCounts(runner, search);
  const request = privateSumRequest(search);
  const shares = await runner.round(TRIM_PHASE, "cooksPrivateSums", privateSumToWire(request));
  return privateTrimEstimates(search, request, shares);
}

/** The plan from the cells round (or from the sample count alone, without candidate rows). */
async function federatedPlan(runner: FederationRunner, input: CooksInput): Promise<CooksPlan> {
  const p = input.designColumns;
  const options = { minReplicatesForReplace: input.minReplicatesForReplace };
  if (input.candidateRows === null) return cooksPlan(singleSampleCells(input.samples, p), options);
  const rows = input.candidateRows;
  const shares = await runner.round(COOKS_PHASE, "cooksCellCounts", {
    kind: "cooks-cell-counts-request",
    p,
    rows,
  });
  const pooled = new Float64Array(rows.length / p);
  for (const share of shares) for (let c = 0; c < pooled.length; c++) pooled[c] += share.counts[c];
  const table = cellTableFromCounts(p, rows, pooled);
  if (table.samples !== input.samples) {
    throw new Error(
      `Cook's cells: the centers' samples fall in cells of ${table.samples} samples in all, expected ${input.samples}`,
    );
  }
  return cooksPlan(table, options);
}

/** Cook's distances, outlier flags and (with ≥ 7 replicates) replacement, federated. */
export async function federatedCooks(
  runner: FederationRunner,
  input: CooksInput,
): Promise<CooksResult> {
  const genes = input.dispersions.length;
  const plan = await federatedPlan(runner, input);
  const decided = decidedPrivateCooks(plan, genes);
  if (decided !== null) return { plan, moments: null, candidates: null, outcome: decided };

  const fit = {
    beta: input.beta,
    dispersions: input.dispersions,
    hatInverse: input.hatInverse,
    ...(input.residualMu === undefined
      ? {}
      : { residualLink: input.residualMu.link, residualBeta: input.residualMu.beta }),
  };
  const screen = cooksScreenRequest(plan, { ...fit, filterCutoff: input.filterCutoff });
  let candidates: Uint8Array | null = null;
  if (screen !== null) {
    candidates = cooksScreenCandidates(await runner.round(COOKS_PHASE, "cooksScreen", screen));
    if (!candidates.includes(1))
      return { plan, moments: null, candidates, outcome: noOutlierPrivateCooks(plan, genes) };
  }

  const pass1 = startPrivatePass1(plan, genes, candidates === null ? {} : { active: candidates });
  const estimates1 = await searchTrimmedMeans(runner, pass1);
  const pass2 = startPrivatePass2(plan, pass1, estimates1);
  const estimates2 = await searchTrimmedMeans(runner, pass2);
  const moments = privateRobustMoments(plan, pass1, estimates1, estimates2, input.baseMean);
  // A screened-out gene's distances at the floor are at most the cutoff: its counts are 0.
  const robustDispersions = Float64Array.from(moments.dispersion, (alpha, g) =>
    candidates === null || candidates[g] === 1 ? alpha : ROBUST_MIN_DISPERSION,
  );

  const inputs = {
    ...fit,
    robustDispersions,
    trimmedBaseMean: moments.trimmedBaseMean,
    ...(input.filterCutoff === undefined ? {} : { filterCutoff: input.filterCutoff }),
  };
  const shares = await runner.round(COOKS_PHASE, "cooksPrivate", privateCooksRequest(plan, inputs));
  const { cooks, replace } = splitPrivateCooksShares(shares);
  let outcome = aggregatePrivateCooks(plan, cooks, replace);
  if (input.twoLevelFactor && outcome.outlier.some((x) => x === 1)) {
    // results()' two-level rule needs the third-largest count of the flagged genes: its grid
    // bucket (counts only), then the round again, counting the samples above the cutoff by
    // whether their count is below, in or above that bucket. The centers' replacements are
    // the same as the first round's (same request but for the buckets).
    const third = startThirdLargestSearch(plan, genes, twoLevelGenes(outcome));
    await searchCounts(runner, third);
    const request = privateCooksRequest(plan, {
      ...inputs,
      thirdBucket: thirdLargestBuckets(third),
    });
    const again = await runner.round(COOKS_PHASE, "cooksPrivate", request);
    outcome = aggregatePrivateCooks(plan, splitPrivateCooksShares(again).cooks, replace);
  }
  return { plan, moments, candidates, outcome };
}
