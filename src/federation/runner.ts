/**
 * The federation runner: drives rounds of local steps and aggregations over a transport,
 * stops a phase as soon as no gene is active, and keeps the ledger of rounds and bytes.
 */
import { serialize } from "node:v8";
import type { StepInput, StepName, StepOutput } from "./steps.js";
import type { Transport } from "./transport.js";

/** An iterative phase (IRLS, PQN): a step, its aggregation, and how to finish. */
export interface IterativePhase<K extends StepName, Out> {
  /** Phase name in the ledger ("irls", "pqn"). */
  readonly name: string;
  /** The step every center runs each round. */
  readonly step: K;
  /** Aggregate the shares of one round. */
  aggregate(state: StepInput<K>, shares: StepOutput<K>[]): StepInput<K> | Out;
  /** True when the aggregation returned the phase's result. */
  isResult(value: StepInput<K> | Out): value is Out;
  /** Genes still active in a state. */
  activeGenes(state: StepInput<K>): number;
  /** The result a state leads to when no gene is active (every further round is a no-op). */
  finish(state: StepInput<K>): Out;
}

/** Progress report after each round. */
export interface RoundEvent {
  phase: string;
  round: number;
  activeGenes: number;
}

/** Rounds and bytes of a run. */
export interface RunLedger {
  /** Aggregations per phase. */
  rounds: Record<string, number>;
  /** Bytes of the shares the centers sent. */
  bytesToAggregator: number;
  /** Bytes of the states the aggregator sent (once per center). */
  bytesFromAggregator: number;
}

/** Options of a {@link FederationRunner}. */
export interface RunnerOptions {
  /** Run every round of upstream's static schedule instead of stopping when a mask empties. */
  readonly fixedRounds?: boolean;
  /** Called after every aggregation. */
  readonly onRound?: (event: RoundEvent) => void;
}

/** Size of a message as serialised for another process (node's structured serialisation). */
export function messageBytes(value: unknown): number {
  return serialize(value).byteLength;
}

/** Drives the rounds of a federated computation over a transport. */
export class FederationRunner {
  readonly ledger: RunLedger = { rounds: {}, bytesToAggregator: 0, bytesFromAggregator: 0 };
  readonly #transport: Transport;
  readonly #options: RunnerOptions;

  constructor(transport: Transport, options: RunnerOptions = {}) {
    this.#transport = transport;
    this.#options = options;
  }

  /** Center names in federation order. */
  get centers(): readonly string[] {
    return this.#transport.centers;
  }

  /** One round trip: `input` to every center, their shares back; counted under `phase`. */
  async round<K extends StepName>(
    phase: string,
    step: K,
    input: StepInput<K>,
  ): Promise<StepOutput<K>[]> {
    const shares = await this.#transport.broadcast(step, input);
    this.ledger.rounds[phase] = (this.ledger.rounds[phase] ?? 0) + 1;
    this.ledger.bytesFromAggregator += messageBytes(input) * this.#transport.centers.length;
    for (const share of shares) this.ledger.bytesToAggregator += messageBytes(share);
    return shares;
  }

  /** Run an iterative phase from `start` to its result. */
  async runPhase<K extends StepName, Out>(
    phase: IterativePhase<K, Out>,
    start: StepInput<K>,
  ): Promise<Out> {
    let state = start;
    let round = 0;
    for (;;) {
      if (!this.#options.fixedRounds && phase.activeGenes(state) === 0) return phase.finish(state);
      const shares = await this.round(phase.name, phase.step, state);
      const next = phase.aggregate(state, shares);
      const active = phase.isResult(next) ? 0 : phase.activeGenes(next);
      this.#options.onRound?.({ phase: phase.name, round, activeGenes: active });
      round++;
      if (phase.isResult(next)) return next;
      state = next;
    }
  }
}
