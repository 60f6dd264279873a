/**
 * The whitelist of computations a center runs on its data: each named step maps a typed input
 * (what the aggregator sends) to a typed output (what the center shares back).
 */
import type { FitCenter } from "../algorithms/center.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import { initLocalStep } from "../algorithms/init/local.js";
import type { InitLocalShare, InitRequest } from "../algorithms/init/state.js";
import { irlsLocalStep } from "../algorithms/irls/local.js";
import type { IrlsLocalShare, IrlsRoundState } from "../algorithms/irls/state.js";
import { pqnLocalStep } from "../algorithms/pqn/local.js";
import type { PqnLocalShare, PqnRoundState } from "../algorithms/pqn/state.js";

/** Input and output types of every step a center can run. */
export interface StepTypes {
  init: { input: InitRequest; output: InitLocalShare };
  irls: { input: IrlsRoundState; output: IrlsLocalShare };
  pqn: { input: PqnRoundState; output: PqnLocalShare };
}

/** Name of a step. */
export type StepName = keyof StepTypes;
/** What the aggregator sends for step K. */
export type StepInput<K extends StepName> = StepTypes[K]["input"];
/** What a center answers for step K. */
export type StepOutput<K extends StepName> = StepTypes[K]["output"];

type Handlers = {
  [K in StepName]: (
    center: FitCenter,
    input: StepInput<K>,
    hp: FitHyperparameters,
  ) => StepOutput<K>;
};

const HANDLERS: Handlers = {
  init: (center, input) => initLocalStep(center, input),
  irls: irlsLocalStep,
  pqn: pqnLocalStep,
};

/** One center's side of a fit: its data (which never leaves it) and the steps it may run. */
export class FitCenterNode {
  /** Center name. */
  readonly name: string;
  readonly #center: FitCenter;
  readonly #hp: FitHyperparameters;

  constructor(name: string, center: FitCenter, hp: FitHyperparameters) {
    this.name = name;
    this.#center = center;
    this.#hp = hp;
  }

  /** Run the named step on this center's data. */
  run<K extends StepName>(step: K, input: StepInput<K>): StepOutput<K> {
    const handler = HANDLERS[step] as (
      c: FitCenter,
      i: StepInput<K>,
      hp: FitHyperparameters,
    ) => StepOutput<K>;
    if (handler === undefined) throw new Error(`center ${this.name}: unknown step ${String(step)}`);
    return handler(this.#center, input, this.#hp);
  }
}
