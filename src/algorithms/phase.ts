/**
 * What the federated algorithms ask of the runtime that drives them: round trips to the centers
 * and iterative phases. The runtime (`federation/runner.ts`) implements {@link PhaseRunner}; the
 * algorithms never import it.
 *
 * Both are generic over a step map (step name → what the aggregator sends, what a center
 * answers), so that the algorithms name only the steps they use (e.g. `lfc/steps.ts`) and the
 * runtime's full map (`federation/steps.ts`) is checked against them where a runner is passed in.
 */

/** What the aggregator sends for a step, and what each center answers. */
export interface StepIO {
  readonly input: unknown;
  readonly output: unknown;
}

/** A map of steps: name → {@link StepIO}. */
export type StepMap<Steps> = { readonly [K in keyof Steps]: StepIO };

/**
 * An iterative phase (IRLS, PQN, a dispersion search): a step, its aggregation, and how to
 * finish. The aggregator's state S is the step's request itself, or holds it (see `request`).
 */
export interface IterativePhase<
  Steps extends StepMap<Steps>,
  K extends keyof Steps & string,
  Out,
  S = Steps[K]["input"],
> {
  /** Phase name in the ledger ("irls", "pqn"). */
  readonly name: string;
  /** The step every center runs each round. */
  readonly step: K;
  /**
   * What the centers are sent in a state (default: the state itself). States that carry the
   * aggregator's own bookkeeping send only their request part.
   */
  request?(state: S): Steps[K]["input"];
  /** Aggregate the shares of one round. */
  aggregate(state: S, shares: Steps[K]["output"][]): S | Out;
  /** True when the aggregation returned the phase's result. */
  isResult(value: S | Out): value is Out;
  /** Genes still active in a state. */
  activeGenes(state: S): number;
  /** The result a state leads to when no gene is active (every further round is a no-op). */
  finish(state: S): Out;
}

/** Drives rounds of the steps in `Steps` over the centers (the runtime's runner). */
export interface PhaseRunner<Steps extends StepMap<Steps>> {
  /** Round trips so far, per phase (ledger name). */
  readonly ledger: { readonly rounds: Readonly<Record<string, number>> };
  /** One round trip: `input` to every center, their shares back; counted under `phase`. */
  round<K extends keyof Steps & string>(
    phase: string,
    step: K,
    input: Steps[K]["input"],
  ): Promise<Steps[K]["output"][]>;
  /**
   * Run an iterative phase from `start` to its result.
   * @param onState - called with every state the phase reaches (for checkpoints)
   */
  runPhase<K extends keyof Steps & string, Out, S = Steps[K]["input"]>(
    phase: IterativePhase<Steps, K, Out, S>,
    start: S,
    onState?: (state: S) => void,
  ): Promise<Out>;
}
