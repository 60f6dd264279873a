/**
 * The federation runner: drives rounds of local steps and aggregations over a transport,
 * stops a phase as soon as no gene is active, and keeps the ledger of rounds and bytes.
 */
import { randomUUID } from "node:crypto";
import type { IterativePhase as Phase, PhaseRunner } from "../algorithms/phase.js";
import { replyBytes, requestBytes } from "./grpc/wireBytes.js";
import { poolSums } from "./pooledSums.js";
import type { RequestTag, StepInput, StepName, StepOutput, StepTypes } from "./steps.js";
import type { Transport } from "./transport.js";

/**
 * An iterative phase over one of the runtime's steps (the algorithms' {@link Phase}, with the
 * whitelist of `steps.ts` as its step map).
 */
export type IterativePhase<K extends StepName, Out, S = StepInput<K>> = Phase<StepTypes, K, Out, S>;

/** Progress report after each round. */
export interface RoundEvent {
  phase: string;
  round: number;
  activeGenes: number;
}

/** Rounds and bytes of a run. */
export interface RunLedger {
  /** Round trips per phase. */
  rounds: Record<string, number>;
  /** Bytes of the shares the centers sent (their protobuf encoding, as on the wire). */
  bytesToAggregator: number;
  /** Bytes of the requests the aggregator sent (each center's counted; protobuf encoding). */
  bytesFromAggregator: number;
  /** The same two counts per phase (absent in checkpoints written before they were kept). */
  phaseBytes?: Record<string, { toAggregator: number; fromAggregator: number }>;
}

/** Options of a {@link FederationRunner}. */
export interface RunnerOptions {
  /** Run id carried by every request (default: random). */
  readonly runId?: string;
  /** Hash of the analysis plan every request carries (plan.ts; absent: a fit without a plan). */
  readonly plan?: string;
  /** Run every round of upstream's static schedule instead of stopping when a mask empties. */
  readonly fixedRounds?: boolean;
  /** Called after every aggregation. */
  readonly onRound?: (event: RoundEvent) => void;
  /** Called when a round of another phase than the last round's starts (progress lines). */
  readonly onPhase?: (phase: string) => void;
  /** Ledger to continue (a resumed run). */
  readonly ledger?: RunLedger;
}

/**
 * Drives the rounds of a federated computation over a transport: the {@link PhaseRunner} the
 * algorithms are given.
 */
export class FederationRunner implements PhaseRunner<StepTypes> {
  readonly ledger: RunLedger;
  /** The run id every request carries. */
  readonly runId: string;
  readonly #transport: Transport;
  readonly #options: RunnerOptions;
  #lastPhase = "";
  /** Bytes the centers sent for the last request (relayed with the next one when asked). */
  #lastUp = 0;

  constructor(transport: Transport, options: RunnerOptions = {}) {
    this.#transport = transport;
    this.#options = options;
    this.runId = options.runId ?? randomUUID();
    this.ledger = options.ledger ?? { rounds: {}, bytesToAggregator: 0, bytesFromAggregator: 0 };
  }

  /** The transport the runner drives. */
  get transport(): Transport {
    return this.#transport;
  }

  /** One round trip: `input` to every center, their shares back; counted under `phase`. */
  async round<K extends StepName>(
    phase: string,
    step: K,
    input: StepInput<K>,
  ): Promise<StepOutput<K>[]> {
    return this.scatter(
      phase,
      step,
      this.#transport.centers.map(() => input),
    );
  }

  /** One round trip with a different input per center (in federation order). */
  async scatter<K extends StepName>(
    phase: string,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    const round = this.ledger.rounds[phase] ?? 0;
    if (phase !== this.#lastPhase) {
      this.#lastPhase = phase;
      this.#options.onPhase?.(phase);
    }
    const plan = this.#options.plan;
    const tag: RequestTag =
      plan === undefined
        ? { runId: this.runId, phase, round }
        : { runId: this.runId, phase, round, plan };
    const shares = await this.#transport.request(tag, step, inputs);
    // One macrotask per round: an in-process federation answers through promises only, so a
    // whole run would otherwise hold the event loop (timers, signals, progress, a test runner's
    // messages) from its first round to its last.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.ledger.rounds[phase] = tag.round + 1;
    const sizes = new Map<unknown, number>();
    let down = 0;
    for (const input of inputs) {
      let size = sizes.get(input);
      if (size === undefined) {
        size = requestBytes(tag, step, input);
        sizes.set(input, size);
      }
      down += size;
    }
    // Under secure aggregation the centers sent masked vectors: the layer metered those.
    let up = this.#transport.secure?.replyBytes(tag, step) ?? -1;
    if (up < 0) {
      up = 0;
      for (const share of shares) up += replyBytes(tag, step, share);
    }
    // Centers that verify requests are sent every other center's replies to the previous
    // request: each reply goes to every center but its sender.
    if (this.#transport.relaysReplies === true) down += this.#lastUp * (inputs.length - 1);
    this.#lastUp = up;
    this.ledger.bytesFromAggregator += down;
    this.ledger.bytesToAggregator += up;
    this.ledger.phaseBytes ??= {};
    const byPhase = this.ledger.phaseBytes[phase] ?? { toAggregator: 0, fromAggregator: 0 };
    byPhase.toAggregator += up;
    byPhase.fromAggregator += down;
    this.ledger.phaseBytes[phase] = byPhase;
    // Masked replies come back pooled by the secure-aggregation layer; clear ones are pooled
    // here by the same rule, so both runs see the same doubles.
    return this.#transport.secure ? shares : poolSums(step, shares);
  }

  /**
   * Run an iterative phase from `start` to its result.
   * @param onState - called with every state the phase reaches (for checkpoints)
   */
  async runPhase<K extends StepName, Out, S = StepInput<K>>(
    phase: IterativePhase<K, Out, S>,
    start: S,
    onState?: (state: S) => void,
  ): Promise<Out> {
    let state = start;
    for (;;) {
      if (!this.#options.fixedRounds && phase.activeGenes(state) === 0) return phase.finish(state);
      const round = this.ledger.rounds[phase.name] ?? 0;
      const request =
        phase.request === undefined ? (state as unknown as StepInput<K>) : phase.request(state);
      const shares = await this.round(phase.name, phase.step, request);
      const next = phase.aggregate(state, shares);
      const active = phase.isResult(next) ? 0 : phase.activeGenes(next);
      this.#options.onRound?.({ phase: phase.name, round, activeGenes: active });
      if (phase.isResult(next)) return next;
      state = next;
      onState?.(state);
    }
  }
}
