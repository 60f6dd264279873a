/**
 * Aggregation of the `fast` solver: sum the centers' shares, add the ridge, take the longest
 * step that lowers the Newton merit FᵀJ₀⁻¹F without raising the objective, and compute the next
 * Newton step J⁻¹F there.
 * A gene converges when its merit (the squared Newton step in J's metric, ≈ twice the remaining
 * objective decrease) is below `tolerance`·max(1, |objective|).
 */
import { invertBatch } from "../../math/linalg.js";
import type { FitHyperparameters } from "../hyperparameters.js";
import { RIDGE } from "../hyperparameters.js";
import { gatherRows, maskIndices } from "../masks.js";
import { sumOverCenters } from "../shares.js";
import { newtonPoints } from "./local.js";
import type { NewtonFinalState, NewtonLocalShare, NewtonRoundState } from "./state.js";

/** Largest relative rise of the objective a step may cause (see the step choice). */
export const OBJECTIVE_SLACK = 1e-2;

/** Convergence threshold on the merit, relative to max(1, |objective|). */
export const NEWTON_TOLERANCE = 1e-14;

/** Step sizes tried along each Newton step (largest first). */
export const NEWTON_STEP_SIZES = Float64Array.of(
  1,
  0.5,
  0.25,
  0.125,
  0.0625,
  1 / 64,
  1 / 256,
  1 / 1024,
);

/** xᵀ M x for a p×p matrix M at `offset`. */
function quadratic(
  m: Float64Array,
  offset: number,
  x: Float64Array,
  xOffset: number,
  p: number,
): number {
  let total = 0;
  for (let i = 0; i < p; i++) {
    let row = 0;
    for (let j = 0; j < p; j++) row += m[offset + i * p + j] * x[xOffset + j];
    total += x[xOffset + i] * row;
  }
  return total;
}

/**
 * Aggregate one round.
 * @param maxRounds - last round index; genes still active after it stop unconverged
 */
export function newtonAggregate(
  state: NewtonRoundState,
  shares: readonly NewtonLocalShare[],
  hp: FitHyperparameters,
  maxRounds: number,
): NewtonRoundState | NewtonFinalState {
  const nGenes = state.mask.length;
  const p = state.beta.length / nGenes;
  const pp = p * p;
  const active = maskIndices(state.mask);
  const nActive = active.length;
  const count = state.step === null ? 1 : state.stepSizes.length;
  for (const [c, s] of shares.entries()) {
    if (s.round !== state.round || s.points !== count || s.nll.length !== count * nActive) {
      throw new Error(`newton share ${c} does not answer round ${state.round}`);
    }
  }
  const nll = sumOverCenters(shares, "nll");
  const residual = sumOverCenters(shares, "residual");
  const information = sumOverCenters(shares, "information");
  const points = newtonPoints(
    gatherRows(state.beta, p, active),
    state.step,
    state.stepSizes,
    nActive,
    p,
    hp.maxBeta,
  );
  // Ridge ½λ‖β‖²: F − λβ, J + λI, NLL + ½λ‖β‖².
  for (let sa = 0; sa < count * nActive; sa++) {
    let squares = 0;
    for (let k = 0; k < p; k++) {
      const b = points[sa * p + k];
      residual[sa * p + k] -= RIDGE * b;
      information[sa * pp + k * p + k] += RIDGE;
      squares += b * b;
    }
    nll[sa] += 0.5 * RIDGE * squares;
  }

  const beta = state.beta.slice();
  const mask = state.mask.slice();
  const regNll = state.regNll.slice();
  const finishedRound = state.finishedRound.slice();
  const unconverged = state.unconverged.slice();

  // Choose each gene's point: β itself at round 0, else the candidate of smallest merit under J₀⁻¹.
  const chosen = new Int32Array(nActive);
  if (state.step !== null && state.merit !== null && state.metric !== null) {
    for (let a = 0; a < nActive; a++) {
      // The candidate of smallest merit, among those that do not raise the objective by more
      // than OBJECTIVE_SLACK (relative): moving to IRLS's fixed point may raise it a little where
      // μ sits on its floor (that point is not the objective's minimum), but a far overshoot
      // into a region where F is merely small raises it a lot.
      const objective = state.regNll[active[a]];
      const slack = OBJECTIVE_SLACK * Math.max(1, Math.abs(objective));
      let best = -1;
      let bestMerit = state.merit[a];
      for (let s = 0; s < count; s++) {
        if (nll[s * nActive + a] - objective > slack) continue;
        const m = quadratic(state.metric, a * pp, residual, (s * nActive + a) * p, p);
        if (m < bestMerit) {
          bestMerit = m;
          best = s;
        }
      }
      chosen[a] = best;
    }
  }

  // The new points' Newton steps.
  const nextInformation = new Float64Array(nActive * pp);
  const nextResidual = new Float64Array(nActive * p);
  for (let a = 0; a < nActive; a++) {
    const g = active[a];
    const s = chosen[a];
    if (s < 0) continue;
    const sa = s * nActive + a;
    for (let k = 0; k < p; k++) beta[g * p + k] = points[sa * p + k];
    regNll[g] = nll[sa];
    nextInformation.set(information.subarray(sa * pp, sa * pp + pp), a * pp);
    nextResidual.set(residual.subarray(sa * p, sa * p + p), a * p);
  }
  const metric = new Float64Array(nActive * pp);
  // Genes with no better candidate keep their point (and its J₀⁻¹) and stop.
  const stalled = new Uint8Array(nActive);
  for (let a = 0; a < nActive; a++) {
    if (chosen[a] >= 0) continue;
    stalled[a] = 1;
    for (let k = 0; k < p; k++) nextInformation[a * pp + k * p + k] = 1; // placeholder, not used
  }
  invertBatch(nextInformation, p, nActive, metric);

  const step = new Float64Array(nActive * p);
  const merit = new Float64Array(nActive);
  const keep: number[] = [];
  for (let a = 0; a < nActive; a++) {
    const g = active[a];
    if (stalled[a]) {
      mask[g] = 0;
      finishedRound[g] = state.round;
      // No candidate improved: converged if already at rounding level, else stuck.
      const m = state.merit?.[a] ?? Number.POSITIVE_INFINITY;
      if (!(m <= 1e-10 * Math.max(1, Math.abs(regNll[g])))) unconverged[g] = 1;
      continue;
    }
    let m = 0;
    for (let i = 0; i < p; i++) {
      let d = 0;
      for (let j = 0; j < p; j++) d += metric[a * pp + i * p + j] * nextResidual[a * p + j];
      step[a * p + i] = d;
      m += nextResidual[a * p + i] * d;
    }
    merit[a] = m;
    if (m <= NEWTON_TOLERANCE * Math.max(1, Math.abs(regNll[g]))) {
      mask[g] = 0;
      finishedRound[g] = state.round;
      continue;
    }
    keep.push(a);
  }
  if (state.round >= maxRounds || keep.length === 0) {
    for (const a of keep) {
      const g = active[a];
      mask[g] = 0;
      unconverged[g] = 1;
      finishedRound[g] = state.round;
    }
    return { kind: "newton-final", beta, finishedRound, unconverged, rounds: state.round + 1 };
  }
  const nKeep = keep.length;
  const nextStep = new Float64Array(nKeep * p);
  const nextMerit = new Float64Array(nKeep);
  const nextMetric = new Float64Array(nKeep * pp);
  keep.forEach((a, j) => {
    nextStep.set(step.subarray(a * p, a * p + p), j * p);
    nextMerit[j] = merit[a];
    nextMetric.set(metric.subarray(a * pp, a * pp + pp), j * pp);
  });
  return {
    kind: "newton-round",
    round: state.round + 1,
    refit: state.refit,
    beta,
    mask,
    step: nextStep,
    stepSizes: state.stepSizes,
    merit: nextMerit,
    metric: nextMetric,
    regNll,
    finishedRound,
    unconverged,
  };
}

/** The first state of the `fast` solver: every gene of `mask` from `beta`. */
export function newtonStart(beta: Float64Array, mask: Uint8Array, refit = false): NewtonRoundState {
  const nGenes = mask.length;
  return {
    kind: "newton-round",
    round: 0,
    refit,
    beta: beta.slice(),
    mask: mask.slice(),
    step: null,
    stepSizes: NEWTON_STEP_SIZES,
    merit: null,
    metric: null,
    regNll: new Float64Array(nGenes).fill(Number.NaN),
    finishedRound: new Int32Array(nGenes).fill(-1),
    unconverged: new Uint8Array(nGenes),
  };
}
