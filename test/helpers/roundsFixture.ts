/**
 * Loading of `../shared/fixtures/rounds/*.json`: the centers' data in our layout, and the
 * recorded shared states converted to our typed states.
 */
import { type FitCenter, prepareCenterData } from "../../src/algorithms/center.js";
import {
  DEFAULT_HYPERPARAMETERS,
  type FitHyperparameters,
} from "../../src/algorithms/hyperparameters.js";
import type { PqnRoundState } from "../../src/algorithms/pqn/state.js";
import { bool, f64, type JsonArray, str } from "./ndarray.js";
import { sharedJson } from "./shared.js";

/** A recorded shared state or share: field name → fixture array, number or null. */
export type RecordedState = Record<string, JsonArray | number | boolean | null | string[]>;

/** One recorded round. */
export interface RecordedStep {
  phase: "init" | "irls" | "pqn";
  phase_round: number;
  local_method_parameters: Record<string, unknown>;
  input_shared_state: RecordedState | null;
  local_shares: Record<string, RecordedState>;
  aggregated: RecordedState;
}

/** The parts of a rounds file the tests read. */
export interface RoundsFile {
  mode: "lfc" | "pqn_all";
  hyperparameters: Record<string, number>;
  design_columns: string[];
  center_order: string[];
  genes: string[];
  non_zero: JsonArray;
  non_zero_genes: string[];
  dispersions: JsonArray;
  centers: {
    name: string;
    samples: string[];
    counts: JsonArray;
    size_factors: JsonArray;
    design_matrix: JsonArray;
  }[];
  global_gram_matrix: JsonArray;
  n_rounds: Record<string, number>;
  pqn_start_state: RecordedState | null;
  steps: RecordedStep[];
  round_summaries: Record<string, number | string>[];
  irls_end_state: RecordedState | null;
  final: RecordedState;
  irls_exit_round?: JsonArray;
  pqn_exit_round: JsonArray;
  ulp_sensitivity: { outcome_changed: JsonArray; max_abs_beta_change: JsonArray };
}

/** Names of the rounds files. */
export const ROUNDS_FILES = [
  "bodymap_lfc",
  "li_lncap_lfc",
  "bodymap_pqn_all",
  "li_lncap_pqn_all",
  "synthetic_lfc",
  "synthetic_pqn_all",
  "synthetic_pqn_all_num_iters_12",
  "synthetic_pqn_all_c1_2",
] as const;

/** Read a rounds file. */
export function roundsFile(name: string): RoundsFile {
  return sharedJson<RoundsFile>("fixtures", "rounds", `${name}.json`);
}

/** The file's hyper-parameters in our naming. */
export function hyperparameters(file: RoundsFile): FitHyperparameters {
  const h = file.hyperparameters;
  return {
    ...DEFAULT_HYPERPARAMETERS,
    minMu: h.min_mu,
    betaTol: h.beta_tol,
    maxBeta: h.max_beta,
    irlsNumIter: h.irls_num_iter,
    pqnC1: h.PQN_c1,
    pqnFtol: h.PQN_ftol,
    pqnNumItersLs: h.PQN_num_iters_ls,
    pqnNumIters: h.PQN_num_iters,
    pqnMinMu: h.PQN_min_mu,
  };
}

/** The centers of a file (non-zero genes only, in `center_order`). */
export function centersOf(file: RoundsFile): FitCenter[] {
  const nonZero = bool(file.non_zero);
  const all = f64(file.dispersions);
  const kept: number[] = [];
  nonZero.forEach((v, i) => {
    if (v) kept.push(i);
  });
  const dispersions = Float64Array.from(kept, (i) => all[i]);
  return file.centers.map((c) => {
    const [n, nAll] = c.counts.shape;
    const counts = f64(c.counts);
    const design = f64(c.design_matrix);
    const p = c.design_matrix.shape[1];
    const geneMajor = new Float64Array(kept.length * n);
    kept.forEach((g, j) => {
      for (let i = 0; i < n; i++) geneMajor[j * n + i] = counts[i * nAll + g];
    });
    return {
      main: prepareCenterData({
        n,
        p,
        genes: kept.length,
        design,
        sizeFactors: f64(c.size_factors),
        counts: geneMajor,
        dispersions,
      }),
    };
  });
}

function arr(state: RecordedState, key: string): JsonArray {
  const v = state[key];
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`no array ${key}`);
  return v;
}

/** Float field of a recorded state. */
export function recordedF64(state: RecordedState, key: string): Float64Array {
  return f64(arr(state, key));
}

/** Boolean field of a recorded state. */
export function recordedMask(state: RecordedState, key: string): Uint8Array {
  return bool(arr(state, key));
}

/** A recorded PQN input state (round > 0, or a pqn_all round 0) as our typed state. */
export function recordedPqnState(state: RecordedState): PqnRoundState {
  const direction = state.ascent_direction_on_mask;
  const decrement = state.newton_decrement_on_mask;
  return {
    kind: "pqn-round",
    round: state.round_number_PQN as number,
    refit: false,
    beta: recordedF64(state, "beta"),
    mask: recordedMask(state, "PQN_mask"),
    divergedMask: recordedMask(state, "PQN_diverged_mask"),
    irlsDivergedMask: recordedMask(state, "irls_diverged_mask"),
    regNll: recordedF64(state, "global_reg_nll"),
    direction: direction === null ? null : f64(direction as JsonArray),
    decrement: decrement === null ? null : f64(decrement as JsonArray),
  };
}

/** Gene names of a str array field. */
export function recordedNames(state: RecordedState, key: string): string[] {
  return str(arr(state, key));
}

/**
 * Genes upstream itself cannot reproduce to `tolerance` under a one-ulp change of its inputs:
 * a discrete outcome flips, or its final β moves by more than `tolerance` (1 = fragile).
 */
export function ulpFragile(
  file: Pick<RoundsFile, "ulp_sensitivity">,
  tolerance: number,
): Uint8Array {
  const flips = bool(file.ulp_sensitivity.outcome_changed);
  const change = f64(file.ulp_sensitivity.max_abs_beta_change);
  return flips.map((v, g) => (v || change[g] > tolerance ? 1 : 0));
}
