/**
 * The steps the log-fold-change fit drives, with what the aggregator sends and what each center
 * answers: the part of the runtime's whitelist (`federation/steps.ts`) the solvers need.
 */
import type {
  Deseq2IrlsRequest,
  Deseq2IrlsShare,
  NllAtPointsRequest,
  NllAtPointsShare,
} from "../deseq2/state.js";
import type { InitLocalShare, InitRequest } from "../init/state.js";
import type { IrlsReply, IrlsRequest } from "../irls/state.js";
import type { NewtonReply, NewtonRequest } from "../newton/state.js";
import type { IterativePhase, PhaseRunner } from "../phase.js";
import type { PqnReply, PqnRequest } from "../pqn/state.js";

/** Input and output types of the fit's steps. */
export interface LfcStepTypes {
  init: { input: InitRequest; output: InitLocalShare };
  irls: { input: IrlsRequest; output: IrlsReply };
  pqn: { input: PqnRequest; output: PqnReply };
  newton: { input: NewtonRequest; output: NewtonReply };
  deseq2Irls: { input: Deseq2IrlsRequest; output: Deseq2IrlsShare };
  nllAtPoints: { input: NllAtPointsRequest; output: NllAtPointsShare };
}

/** An iterative phase of the fit over step K. */
export type LfcPhase<
  K extends keyof LfcStepTypes,
  Out,
  S = LfcStepTypes[K]["input"],
> = IterativePhase<LfcStepTypes, K, Out, S>;

/** What drives the fit's rounds (the runtime's `FederationRunner`). */
export type LfcRunner = PhaseRunner<LfcStepTypes>;
