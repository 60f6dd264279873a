/**
 * Verified requests (issue [11]): a center answers only the requests its own replay of the
 * aggregator's pipeline makes.
 *
 * The aggregator's pipeline is deterministic: every request is a function of the plan and the
 * pooled replies so far. A center holding the plan can therefore run the same pipeline itself (a
 * "replay") if it is given the pooled replies. It is: the aggregator relays, with each request,
 * every other center's reply to the previous request as it received them (masked, each carrying
 * its sender's authenticator for this center, authentication.ts; the center's own reply is not
 * relayed back, it holds the one it sent). The center checks every authenticator, adds the
 * masked vectors itself, its own reply's included (the masks cancel), hands the sums to its
 * replay, and admits the aggregator's next request only if it is, byte for byte, the request its
 * replay makes next. A malicious aggregator can then no
 * longer choose the points at which the iterative steps evaluate their sums (each such point,
 * freely chosen, is one more equation in the samples of a cell), nor make up the sums that would
 * steer the replay to them: it can only stop the run.
 *
 * What it costs: each center learns the pooled sums (the aggregator's view), so the k-sample rule
 * also counts, per cell, the other centers' samples (cellRule.ts); the aggregator sends each
 * center every other center's reply (down traffic × (centers − 1)); each center does the
 * aggregator's computations too. A center restarted mid-run holds no replay of the rounds it
 * missed and cannot verify the next request: it refuses, and the run must start again.
 */

import type { AnalysisPlan } from "./plan.js";
import { requestDigest } from "./requestDigest.js";
import { PlanRefusal } from "./requestPolicy.js";
import { SecureAggregationError } from "./secureAggregation/errors.js";
import {
  type RelayedEvidence,
  type RoundEvidence,
  SecureAggregator,
  type SecureCenter,
} from "./secureAggregation/layer.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import { type CenterInfo, receivedReply, type Transport } from "./transport.js";

/**
 * The aggregator's pipeline for a plan, run over the transport given (the replay's): what a
 * center replays. `runId` is the run's id, which every request's tag carries.
 */
export type ReplayedPipeline = (transport: Transport, runId: string) => Promise<unknown>;

/** How long a center waits for its replay to make its next request (default 30 minutes). */
export const DEFAULT_REPLAY_DEADLINE_MS = 30 * 60 * 1000;

function requestKey(tag: RequestTag, step: StepName): string {
  return `${tag.phase}\u0000${tag.round}\u0000${step}`;
}

function describe(tag: RequestTag, step: StepName): string {
  return `${step} (${tag.phase} round ${tag.round})`;
}

/** The replay's request waiting for the pooled replies. */
interface Outstanding {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly inputs: readonly StepInput<StepName>[];
  /** Its digest without per-center fields (what authenticators and masks are labelled with). */
  readonly shared: string;
  readonly resolve: (outputs: StepOutput<StepName>[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The replay's side of the federation: it never reaches a center. Each request it is asked to
 * make is recorded as the next one this center may answer, and completes with the sums the
 * aggregator relays (once checked).
 */
class ReplayTransport implements Transport {
  readonly centers: readonly CenterInfo[];
  readonly secure: SecureAggregator;
  readonly #self: number;
  readonly #onRequest: (outstanding: Outstanding, own: string) => void;

  constructor(
    centers: readonly CenterInfo[],
    self: number,
    onRequest: (outstanding: Outstanding, own: string) => void,
  ) {
    this.centers = centers;
    this.#self = self;
    this.secure = new SecureAggregator(centers.map((c) => c.name));
    this.#onRequest = onRequest;
  }

  request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    const own = inputs[this.#self];
    return new Promise<StepOutput<K>[]>((resolve, reject) => {
      this.#onRequest(
        {
          tag,
          step,
          inputs: inputs as readonly StepInput<StepName>[],
          shared: requestDigest(tag, step, own, { perCenterFields: false }),
          resolve: resolve as (outputs: StepOutput<StepName>[]) => void,
          reject,
        },
        requestDigest(tag, step, own, { perCenterFields: true }),
      );
    });
  }

  async close(): Promise<void> {}
}

/** One run's replay at a center. */
class ReplayRun {
  readonly runId: string;
  /** Every request the replay made, by tag and step: its digest (per-center fields included). */
  readonly #made = new Map<string, string>();
  /** The same requests' keys, in the order the replay made them. */
  readonly #order: string[] = [];
  /** Where in {@link #order} the request this center last admitted is (−1: none yet). */
  #position = -1;
  #outstanding: Outstanding | null = null;
  /** Set when the replay ended: its error, or "finished". */
  #ended: Error | "finished" | null = null;
  #progress: () => void = () => {};
  readonly #transport: ReplayTransport;

  constructor(
    runId: string,
    centers: readonly CenterInfo[],
    self: number,
    pipeline: ReplayedPipeline,
  ) {
    this.runId = runId;
    const transport = new ReplayTransport(centers, self, (outstanding, own) => {
      const key = requestKey(outstanding.tag, outstanding.step);
      if (!this.#made.has(key)) this.#order.push(key);
      this.#made.set(key, own);
      this.#outstanding = outstanding;
      this.#progress();
    });
    this.#transport = transport;
    pipeline(transport, runId).then(
      () => this.#end("finished"),
      (error: unknown) => this.#end(error instanceof Error ? error : new Error(String(error))),
    );
  }

  #end(outcome: Error | "finished"): void {
    this.#ended = outcome;
    this.#outstanding = null;
    this.#progress();
  }

  /** The request the replay waits on the pooled replies of (null: none). */
  get outstanding(): Outstanding | null {
    return this.#outstanding;
  }

  /** How the replay ended (null: still running). */
  get ended(): Error | "finished" | null {
    return this.#ended;
  }

  /** The digest of the request the replay made under this tag and step (undefined: none). */
  made(tag: RequestTag, step: StepName): string | undefined {
    return this.#made.get(requestKey(tag, step));
  }

  /**
   * Whether the request made under this tag and step may be answered now, and if so take it as
   * the one last admitted. Requests are answered in the order the replay made them: the next new
   * one only once every earlier one was (again) admitted; one already answered only as the last
   * one again (a retry, a reconnect), the one after it (a replay going on), or the first (a replay
   * from the start, as a resumed aggregator makes). Answered out of that order, a step that
   * builds a center's state (e.g. its size factors before poscounts' scaling) would leave it in a
   * state the replay never had, and its later sums, pooled, would differ from the honest ones by
   * its own: a red team read a center's own Σ y/s per gene so, to 4e-14.
   */
  admitInOrder(tag: RequestTag, step: StepName): boolean {
    const index = this.#order.indexOf(requestKey(tag, step));
    const p = this.#position;
    // A new request is the last one made: admitted as the one after the last admitted.
    if (!(index === p || index === p + 1 || index === 0)) return false;
    this.#position = index;
    return true;
  }

  /**
   * What the aggregator got from `evidence` (already authenticated): the centers' replies to
   * `outstanding` pooled as the aggregator pools them, and checked as it checks them.
   * @throws Error when a reply does not fit the request
   */
  replayAggregator(outstanding: Outstanding, evidence: RoundEvidence): StepOutput<StepName>[] {
    const { tag, step, inputs } = outstanding;
    const centers = this.#transport.centers;
    const outputs = this.#transport.secure.open(tag, step, inputs, evidence.replies);
    return outputs.map((output, c) => receivedReply(centers[c].name, step, inputs[c], output));
  }

  /** Hand the pooled replies of the outstanding request to the replay. */
  deliver(outputs: StepOutput<StepName>[]): void {
    const outstanding = this.#outstanding;
    if (outstanding === null) return;
    this.#outstanding = null;
    outstanding.resolve(outputs);
  }

  /** Resolve once the replay makes a request with this tag and step, or ends, or times out. */
  async until(tag: RequestTag, step: StepName, deadlineMs: number): Promise<void> {
    const key = requestKey(tag, step);
    if (this.#made.has(key) || this.#ended !== null) return;
    await new Promise<void>((resolve) => {
      // Any new request settles the wait: the one asked for or another (then refused).
      const done = (): void => {
        clearTimeout(timer);
        this.#progress = () => {};
        resolve();
      };
      const timer = setTimeout(done, deadlineMs);
      timer.unref?.();
      this.#progress = done;
    });
  }
}

/** What {@link RequestVerifier} needs of its center. */
export interface VerifierOptions {
  readonly plan: AnalysisPlan;
  /** This center's name (one of the plan's centers). */
  readonly center: string;
  /** This center's gene ids (the replay takes their order from the run's first request). */
  readonly genes: readonly string[];
  /** The aggregator's pipeline for the plan. */
  readonly pipeline: ReplayedPipeline;
  /** How long to wait for the replay's next request (default {@link DEFAULT_REPLAY_DEADLINE_MS}). */
  readonly deadlineMs?: number;
}

/**
 * A center's check of every request against its replay of the plan (see the module's comment).
 * One per center session, for one run: the first request of a run starts the replay, and a
 * request of any other run id is refused.
 */
export class RequestVerifier {
  readonly #options: VerifierOptions;
  readonly #centers: readonly string[];
  readonly #self: number;
  #run: ReplayRun | null = null;

  constructor(options: VerifierOptions) {
    this.#options = options;
    this.#centers = [...options.plan.centers].sort();
    this.#self = this.#centers.indexOf(options.center);
    if (this.#self < 0) {
      throw new Error(`center ${options.center} is not one of the plan's centers`);
    }
    if (options.plan.cellSizes === null) {
      throw new Error(
        "verified requests need the plan's cell sizes (each center's sample count is part of the replay)",
      );
    }
  }

  /**
   * Admit `step` with `input` under `tag` only if it is the request this center's replay makes
   * (after handing it `evidence`, the previous request's replies as the aggregator relays them).
   * @throws PlanRefusal saying why the request is refused
   */
  async admit<K extends StepName>(
    tag: RequestTag,
    step: K,
    input: StepInput<K>,
    evidence: RelayedEvidence | null,
    secure: SecureCenter | null,
  ): Promise<void> {
    const refuse = (reason: string): never => {
      throw new PlanRefusal(this.#options.center, step, reason);
    };
    if (secure === null) {
      refuse("the plan has the centers verify every request, which needs secure aggregation");
    }
    let run = this.#run;
    if (run !== null && run.runId !== tag.runId) {
      // One run per start: a second run (another gene order, keys, a restart of the same run id)
      // would evaluate the same sums at other points, or the same points under other masks.
      refuse(
        `this center answers one run per start (run ${run.runId}); a request of run ${tag.runId} is refused (start the center again for another run)`,
      );
    }
    if (run === null) {
      run = this.#start(tag, step, input, refuse);
      this.#run = run;
    }
    const own = requestDigest(tag, step, input, { perCenterFields: true });
    const outOfOrder = (): never =>
      refuse(
        `${describe(tag, step)} out of the order this center answered its replay's requests in (only the last one again, the one after it, or a replay from the first): answered out of order, a step that builds its state would leave it in a state the replay never had`,
      );
    const made = run.made(tag, step);
    if (made !== undefined) {
      if (made === own) {
        if (!run.admitInOrder(tag, step)) outOfOrder();
        return;
      }
      refuse(
        `${describe(tag, step)} with inputs other than those of this center's replay of the plan`,
      );
    }
    const outstanding = run.outstanding;
    if (evidence !== null && outstanding !== null) {
      if (
        evidence.step !== outstanding.step ||
        requestKey(evidence.tag, evidence.step) !== requestKey(outstanding.tag, outstanding.step) ||
        evidence.tag.runId !== run.runId
      ) {
        refuse(
          `the replies relayed are those of ${describe(evidence.tag, evidence.step)}, this center's replay waits for those of ${describe(outstanding.tag, outstanding.step)}`,
        );
      }
      let outputs: StepOutput<StepName>[];
      try {
        const replies = (secure as SecureCenter).checkEvidence(evidence, outstanding.shared);
        outputs = run.replayAggregator(outstanding, replies);
      } catch (error) {
        if (error instanceof SecureAggregationError || error instanceof Error) {
          refuse(
            `the relayed replies of ${describe(outstanding.tag, outstanding.step)}: ${error.message}`,
          );
        }
        throw error;
      }
      run.deliver(outputs);
      await run.until(tag, step, this.#options.deadlineMs ?? DEFAULT_REPLAY_DEADLINE_MS);
    } else if (outstanding === null && run.ended === null) {
      await run.until(tag, step, this.#options.deadlineMs ?? DEFAULT_REPLAY_DEADLINE_MS);
    }
    const after = run.made(tag, step);
    if (after === own) {
      if (!run.admitInOrder(tag, step)) outOfOrder();
      return;
    }
    const ended = run.ended;
    if (ended === "finished") refuse("this center's replay of the plan has made all its requests");
    if (ended instanceof Error)
      refuse(`this center's replay of the plan stopped: ${ended.message}`);
    const next = run.outstanding;
    refuse(
      after !== undefined
        ? `${describe(tag, step)} with inputs other than those of this center's replay of the plan`
        : next === null
          ? `not a request of this center's replay of the plan`
          : evidence === null
            ? `not the request this center's replay makes next (${describe(next.tag, next.step)}), and no replies relayed to move it on`
            : `not the request this center's replay makes next (${describe(next.tag, next.step)})`,
    );
  }

  #start<K extends StepName>(
    tag: RequestTag,
    step: K,
    input: StepInput<K>,
    refuse: (reason: string) => never,
  ): ReplayRun {
    const { plan, genes: own } = this.#options;
    if (tag.round !== 0 || step !== "presence") {
      refuse(
        `${describe(tag, step)} is not the first request of a run, and this center has no replay of run ${tag.runId} (a center restarted mid-run cannot check the rounds it missed: start the run again)`,
      );
    }
    // The gene order is the aggregator's (its first center's); the genes must be this center's.
    const requested = (input as StepInput<"presence">).genes;
    const ownSet = new Set(own);
    if (
      requested.length !== own.length ||
      new Set(requested).size !== requested.length ||
      requested.some((g) => !ownSet.has(g))
    ) {
      refuse("the run's genes are not this center's genes");
    }
    const sizes = plan.cellSizes ?? {};
    const centers: CenterInfo[] = this.#centers.map((name) => {
      const n = Object.values(sizes[name] ?? {}).reduce((a, b) => a + b, 0);
      return {
        name,
        genes: requested,
        samples: Array.from({ length: n }, (_, i) => `${name}\u0000${i}`),
      };
    });
    return new ReplayRun(tag.runId, centers, this.#self, this.#options.pipeline);
  }
}
