/**
 * The dispersion searches as iterative phases ({@link IterativePhase}) over step
 * "dispersionGrid" with input {@link DispersionSearchState} and output {@link DispersionEvalShare}
 * (the runtime sends the state's request part: see `pipeline/dispersions.ts`).
 */
import { maskCount } from "../masks.js";
import type { IterativePhase } from "../phase.js";
import { dispersionSearchAggregate, finishDispersionSearch } from "./search.js";
import type {
  DispersionEvalShare,
  DispersionSearchResult,
  DispersionSearchState,
} from "./state.js";

/** Step "dispersionGrid" as the searches see it: their state in, an evaluation share out. */
export interface DispersionSearchSteps {
  dispersionGrid: { input: DispersionSearchState; output: DispersionEvalShare };
}

/** An iterative phase over step "dispersionGrid". */
export type DispersionPhase = IterativePhase<
  DispersionSearchSteps,
  "dispersionGrid",
  DispersionSearchResult
>;

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
