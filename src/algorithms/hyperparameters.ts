/**
 * Hyper-parameters of the LFC fit, with fedpydeseq2's defaults.
 */

/** Every knob of beta init → IRLS → PQN. */
export interface FitHyperparameters {
  /** Floor on μ in IRLS. */
  readonly minMu: number;
  /** IRLS convergence threshold on the deviance ratio. */
  readonly betaTol: number;
  /** Box bound: every coefficient in [−maxBeta, maxBeta] (natural-log scale). */
  readonly maxBeta: number;
  /** IRLS updates (IRLS runs irlsNumIter + 1 rounds). */
  readonly irlsNumIter: number;
  /** Armijo constant of the PQN line search. */
  readonly pqnC1: number;
  /** PQN convergence threshold on the relative decrease of the regularised NLL. */
  readonly pqnFtol: number;
  /** Step sizes of the PQN line search: 0.5^k, k = 0 … pqnNumItersLs − 1. */
  readonly pqnNumItersLs: number;
  /** PQN iterations (PQN runs pqnNumIters + 1 rounds). */
  readonly pqnNumIters: number;
  /** Floor on μ in PQN (upstream: 0, i.e. none). */
  readonly pqnMinMu: number;
}

/** fedpydeseq2's defaults. */
export const DEFAULT_HYPERPARAMETERS: FitHyperparameters = Object.freeze({
  minMu: 0.5,
  betaTol: 1e-8,
  maxBeta: 30,
  irlsNumIter: 20,
  pqnC1: 1e-4,
  pqnFtol: 1e-7,
  pqnNumItersLs: 20,
  pqnNumIters: 100,
  pqnMinMu: 0,
});

/** Ridge λ on every coefficient (½λ‖β‖² added to the NLL), as DESeq2 and upstream. */
export const RIDGE = 1e-6;

/** The PQN line-search step sizes 0.5^k. */
export function lineSearchSteps(count: number): Float64Array {
  const steps = new Float64Array(count);
  for (let k = 0; k < count; k++) steps[k] = 0.5 ** k;
  return steps;
}
