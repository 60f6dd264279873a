/**
 * The whitelist of computations a center runs on its data: each named step maps a typed input
 * (what the aggregator sends) to a typed output (what the center shares back). A center runs
 * nothing else, and no output carries a per-sample value.
 */
import type { InitLocalShare, InitRequest } from "../algorithms/init/state.js";
import type { IrlsLocalShare, IrlsRoundState } from "../algorithms/irls/state.js";
import type { NewtonLocalShare, NewtonRoundState } from "../algorithms/newton/state.js";
import type { PqnLocalShare, PqnRoundState } from "../algorithms/pqn/state.js";
import type {
  LevelsRequest,
  LevelsShare,
  PrepareRequest,
  PrepareShare,
  PresenceRequest,
  PresenceShare,
} from "../algorithms/setup/state.js";
import { RECORD_STEPS, type RecordStepName, type RecordStepTypes } from "./recordSteps.js";

/** Input and output types of every step a center can run (the record steps included). */
export interface StepTypes extends RecordStepTypes {
  presence: { input: PresenceRequest; output: PresenceShare };
  levels: { input: LevelsRequest; output: LevelsShare };
  prepare: { input: PrepareRequest; output: PrepareShare };
  init: { input: InitRequest; output: InitLocalShare };
  irls: { input: IrlsRoundState; output: IrlsLocalShare };
  pqn: { input: PqnRoundState; output: PqnLocalShare };
  newton: { input: NewtonRoundState; output: NewtonLocalShare };
}

/** Name of a step. */
export type StepName = keyof StepTypes;
/** What the aggregator sends for step K. */
export type StepInput<K extends StepName> = StepTypes[K]["input"];
/** What a center answers for step K. */
export type StepOutput<K extends StepName> = StepTypes[K]["output"];

/** The steps, in a fixed order (e.g. for wire formats). */
export const STEP_NAMES: readonly StepName[] = [
  "presence",
  "levels",
  "prepare",
  "init",
  "irls",
  "pqn",
  "newton",
  ...(Object.keys(RECORD_STEPS) as RecordStepName[]),
];

/**
 * The steps that build or change a center's private state for a run (its prepared fit, the rows
 * and counts of the run's genes, its size factors, its dispersion data and μ, its replaced
 * counts, its refit dataset). Every other step only reads that state. A center that restarts
 * loses it; replaying these steps' requests in their original order rebuilds it exactly (each is
 * a deterministic function of the center's data and the request).
 */
export const STATE_STEPS: ReadonlySet<StepName> = new Set<StepName>([
  "prepare",
  "logSums",
  "sizeFactors",
  "dispersionMoments",
  // Sets the linear model's μ for group designs (`setLinearMu`).
  "dispersionResiduals",
  "dispersionMu",
  "cooks",
  "prepareRefit",
]);

/** Identifies one request of a run: repeated or stale requests are recognised by it. */
export interface RequestTag {
  /** Run id, fixed for a whole job (and kept across an aggregator resume). */
  readonly runId: string;
  /** Phase of the job ("setup", "init", "irls", "pqn"). */
  readonly phase: string;
  /** Round within the phase. */
  readonly round: number;
}
