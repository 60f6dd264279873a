/**
 * A runner for an algorithm's federated phases that asks centers held in this process directly
 * (no transport, no plan): each round calls `answer(step, request)` for the centers' shares, in
 * federation order. For tests of an algorithm's aggregation against an outside truth.
 */
import type { PhaseRunner, StepMap } from "../../src/algorithms/phase.js";

/** A {@link PhaseRunner} over `answer`, counting its rounds. */
export function localRunner<Steps extends StepMap<Steps>>(
  answer: (step: keyof Steps & string, request: unknown) => unknown[],
): PhaseRunner<Steps> & { rounds: number } {
  const rounds: Record<string, number> = {};
  const runner = {
    rounds: 0,
    ledger: { rounds },
    async round(phase: string, step: keyof Steps & string, request: unknown) {
      runner.rounds++;
      rounds[phase] = (rounds[phase] ?? 0) + 1;
      return answer(step, request);
    },
    // biome-ignore lint/suspicious/noExplicitAny: a phase's state type is its own
    async runPhase(phase: any, start: any) {
      let state = start;
      for (;;) {
        const request = phase.request === undefined ? state : phase.request(state);
        const next = phase.aggregate(state, await runner.round(phase.name, phase.step, request));
        if (phase.isResult(next)) return next;
        state = next;
      }
    },
  };
  return runner as unknown as PhaseRunner<Steps> & { rounds: number };
}
