/**
 * The whole of DESeq2's `estimateDispersions` over centers held in this process: every local
 * step called on every center, shares summed, aggregated. The reference driver of the
 * federated steps (tests, benchmarks); the federation runtime runs the same steps remotely.
 *
 * Rounds (group designs): dispersionMoments, dispersionResiduals (also sets μ), then the
 * gene-wise search and the MAP search (step dispersionGrid, see {@link dispersionSearchAggregate}).
 * Other designs need an NB GLM fit with alpha_init for μ (step dispersionMu), supplied by the
 * caller.
 */
import { maskIndices } from "../masks.js";
import type { DispersionCenter } from "./center.js";
import { dispersionEvalLocalStep } from "./logPosterior.js";
import {
  dispersionMomentsAggregate,
  dispersionMomentsLocalStep,
  dispersionResidualsAggregate,
  dispersionResidualsLocalStep,
  pooledDistinctRows,
} from "./moments.js";
import { dispersionMuLocalStep } from "./mu.js";
import { DESEQ2_DISPERSION_OPTIONS, type DispersionOptions } from "./options.js";
import {
  type DispersionPrior,
  dispersionPriorVariance,
  type FinalDispersions,
  finalDispersions,
} from "./prior.js";
import {
  dispersionSearchAggregate,
  finishDispersionSearch,
  genewiseSearchStart,
  mapSearchAfter,
} from "./search.js";
import type { DispersionSearchResult, DispersionSearchState, InitialDispersions } from "./state.js";
import { type DispersionTrend, dispersionTrend } from "./trend.js";

/** Round trips and payload bytes (typed-array contents, no encoding overhead) of one phase. */
export interface PhaseTraffic {
  rounds: number;
  /** Bytes of all shares (every center's). */
  bytesToAggregator: number;
  /** Bytes of the requests, counted once per center. */
  bytesFromAggregator: number;
  /** Σ over rounds of the genes evaluated. */
  geneRounds: number;
}

/** Traffic per phase name. */
export type DispersionTraffic = Record<string, PhaseTraffic>;

function record(
  traffic: DispersionTraffic,
  phase: string,
  up: number,
  down: number,
  genes: number,
): void {
  const t = traffic[phase] ?? {
    rounds: 0,
    bytesToAggregator: 0,
    bytesFromAggregator: 0,
    geneRounds: 0,
  };
  t.rounds++;
  t.bytesToAggregator += up;
  t.bytesFromAggregator += down;
  t.geneRounds += genes;
  traffic[phase] = t;
}

/** Bytes of the typed arrays among an object's own fields. */
export function typedBytes(value: object, fields?: readonly string[]): number {
  let total = 0;
  for (const [key, field] of Object.entries(value)) {
    if (fields !== undefined && !fields.includes(key)) continue;
    if (ArrayBuffer.isView(field)) total += field.byteLength;
  }
  return total;
}

/**
 * Run a dispersion search to its end over in-process centers.
 * @param traffic - receives the rounds and bytes under `phase`
 */
export function runDispersionSearch(
  centers: readonly DispersionCenter[],
  start: DispersionSearchState,
  phase: string,
  traffic: DispersionTraffic = {},
): DispersionSearchResult {
  let state = start;
  for (;;) {
    const genes = maskIndices(state.mask).length;
    if (genes === 0) return finishDispersionSearch(state);
    const shares = centers.map((c) => dispersionEvalLocalStep(c, state));
    const up = shares.reduce((s, share) => s + typedBytes(share), 0);
    const down = typedBytes(state, ["mask", "points", "designRows"]);
    record(traffic, phase, up, centers.length * down, genes);
    const next = dispersionSearchAggregate(state, shares);
    if (next.kind === "dispersion-search-result") return next;
    state = next;
  }
}

/** Everything {@link estimateDispersionsInProcess} computes. */
export interface DispersionEstimates {
  readonly initial: InitialDispersions;
  readonly genewise: DispersionSearchResult;
  readonly trend: DispersionTrend;
  readonly prior: DispersionPrior;
  readonly map: DispersionSearchResult;
  readonly final: FinalDispersions;
  readonly traffic: DispersionTraffic;
}

/**
 * DESeq2's `estimateDispersions(dds)` (fitType "parametric") over in-process centers.
 * @param centers - the centers, in federation order (their `mu` is set)
 * @param glmBeta - for designs whose distinct rows outnumber p: NB GLM coefficients fitted with
 *   alpha_init, on the non-zero genes (A×p, natural log); not called for group designs
 */
export function estimateDispersionsInProcess(
  centers: readonly DispersionCenter[],
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
  glmBeta?: (initial: InitialDispersions) => Float64Array,
): DispersionEstimates {
  const traffic: DispersionTraffic = {};
  // In process the driver may read every center's design: the candidates are their rows.
  const momentsRequest = {
    kind: "dispersion-moments-request" as const,
    candidateRows: pooledDistinctRows(centers),
  };
  const momentsShares = centers.map((c) => dispersionMomentsLocalStep(c, momentsRequest));
  record(
    traffic,
    "dispersionMoments",
    momentsShares.reduce((s, x) => s + typedBytes(x), 0),
    0,
    0,
  );
  const residualsRequest = dispersionMomentsAggregate(momentsShares, momentsRequest, options);
  const residualShares = centers.map((c) => dispersionResidualsLocalStep(c, residualsRequest));
  record(
    traffic,
    "dispersionResiduals",
    residualShares.reduce((s, x) => s + typedBytes(x), 0),
    centers.length * typedBytes(residualsRequest),
    0,
  );
  const initial = dispersionResidualsAggregate(residualsRequest, residualShares, options);
  if (!initial.linearMu) {
    if (glmBeta === undefined) {
      throw new Error(
        "the design's distinct rows outnumber its columns: DESeq2 takes μ from an NB GLM fit with alpha_init; pass glmBeta",
      );
    }
    const request = {
      kind: "dispersion-mu-request" as const,
      mask: initial.mask,
      beta: glmBeta(initial),
      link: "log" as const,
      minMu: options.minMu,
    };
    for (const c of centers) dispersionMuLocalStep(c, request);
    record(traffic, "dispersionMu", 0, centers.length * typedBytes(request), 0);
  }
  const genewise = runDispersionSearch(
    centers,
    genewiseSearchStart(initial, options),
    "genewiseDispersions",
    traffic,
  );
  const trend = dispersionTrend(initial.mask, initial.baseMean, genewise.dispersion, options);
  const prior = dispersionPriorVariance(
    initial.mask,
    genewise.dispersion,
    trend.dispFit,
    initial.samples,
    initial.p,
    options,
  );
  const map = runDispersionSearch(
    centers,
    mapSearchAfter(initial, genewise.dispersion, trend.dispFit, prior.priorVariance, options),
    "mapDispersions",
    traffic,
  );
  const final = finalDispersions(
    initial.mask,
    genewise.dispersion,
    trend.dispFit,
    map.dispersion,
    prior.varLogDispEsts,
    options,
  );
  return { initial, genewise, trend, prior, map, final, traffic };
}
