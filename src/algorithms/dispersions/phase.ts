/**
 * The dispersion searches as iterative phases, in the shape of the runner's `IterativePhase`
 * (src/federation/runner.ts) once step "dispersionGrid" is registered with input
 * {@link DispersionSearchState} and output {@link DispersionEvalShare}.
 */
import { maskCount } from "../masks.js";
import { dispersionSearchAggregate, finishDispersionSearch } from "./search.js";
import type {
  DispersionEvalShare,
  DispersionSearchResult,
  DispersionSearchState,
} from "./state.js";

/** An iterative phase over step "dispersionGrid" (same members as `IterativePhase`). */
export interface DispersionPhase {
  /** Phase name in the ledger. */
  readonly name: string;
  /** The step every center runs each round. */
  readonly step: "dispersionGrid";
  /** Aggregate the shares of one round. */
  aggregate(
    state: DispersionSearchState,
    shares: DispersionEvalShare[],
  ): DispersionSearchState | DispersionSearchResult;
  /** True when the aggregation returned the phase's result. */
  isResult(value: DispersionSearchState | DispersionSearchResult): value is DispersionSearchResult;
  /** Genes evaluated in a state's round. */
  activeGenes(state: DispersionSearchState): number;
  /** The result of a state without genes to evaluate. */
  finish(state: DispersionSearchState): DispersionSearchResult;
}

function searchPhase(name: string): DispersionPhase {
  return {
    name,
    step: "dispersionGrid",
    aggregate: (state, shares) => dispersionSearchAggregate(state, shares),
    isResult: (value): value is DispersionSearchResult => value.kind === "dispersion-search-result",
    activeGenes: (state) => maskCount(state.mask),
    finish: (state) => finishDispersionSearch(state),
  };
}

/** The gene-wise search (start: {@link genewiseSearchStart}), ledger name "genewiseDispersions". */
export function genewiseDispersionPhase(): DispersionPhase {
  return searchPhase("genewiseDispersions");
}

/** The MAP search (start: {@link mapSearchStart}), ledger name "mapDispersions". */
export function mapDispersionPhase(): DispersionPhase {
  return searchPhase("mapDispersions");
}
