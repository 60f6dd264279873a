/**
 * A center's side of a run: its data (which never leaves it), its prepared fit, and the steps
 * it may run. Requests are identified by their tag; a repeated request is answered from cache
 * (never computed or applied twice).
 */
import type { FitCenter } from "../algorithms/center.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import { initLocalStep } from "../algorithms/init/local.js";
import { irlsLocalStep } from "../algorithms/irls/local.js";
import { irlsReply } from "../algorithms/irls/state.js";
import { directKernels, type LocalKernels } from "../algorithms/kernels.js";
import { newtonLocalStep } from "../algorithms/newton/local.js";
import { newtonReply } from "../algorithms/newton/state.js";
import { pqnLocalStep } from "../algorithms/pqn/local.js";
import { pqnReply } from "../algorithms/pqn/state.js";
import {
  contrastPresenceLocalStep,
  levelPresenceLocalStep,
} from "../algorithms/setup/contrastPresence.js";
import { levelsLocalStep, prepareLocalStep, presenceLocalStep } from "../algorithms/setup/local.js";
import { requestHyperparameters } from "../algorithms/setup/state.js";
import { nonZeroCellsLocalStep } from "../algorithms/sparseGenes.js";
import { InputError } from "../core/errors.js";
import { checkCellRule } from "./cellRule.js";
import type { CenterData } from "./centerData.js";
import {
  type CenterRunState,
  type CenterRunStep,
  type PreparedFitAccess,
  runRecordStep,
} from "./centerRun.js";
import type { AnalysisPlan } from "./plan.js";
import { checkRequest, isStep, STEPS } from "./registry.js";
import { requestDigest } from "./requestDigest.js";
import {
  checkDataAgainstPlan,
  PlanRefusal,
  RequestPolicy,
  UNPLANNED_STEPS,
} from "./requestPolicy.js";
import type { RelayedEvidence, SecureCenter } from "./secureAggregation/layer.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import type { CenterInfo } from "./transport.js";
import { type ReplayedPipeline, RequestVerifier } from "./verifiedRequests.js";

/** Identity of a center as the aggregator learns it when the center joins. */
/** The public identity of a center's data. */
export function centerInfo(data: CenterData): CenterInfo {
  return { name: data.name, samples: data.samples, genes: data.genes };
}

function tagKey(tag: RequestTag, step: StepName): string {
  return `${tag.runId}\u0000${tag.phase}\u0000${tag.round}\u0000${step}`;
}

/** A center answering step requests on its own data. */
export class CenterSession {
  readonly data: CenterData;
  #prepared: { runId: string; center: FitCenter; hp: FitHyperparameters } | null = null;
  #run: CenterRunState | null = null;
  #lastKey = "";
  #lastOutput: unknown = null;
  /**
   * The request {@link run} admitted last under the plan and its digest (per-center fields
   * included): {@link sharedRequestDigest} reuses it for that very request object.
   */
  #admitted: { tag: RequestTag; step: StepName; input: unknown; digest: string } | null = null;

  readonly #kernels: LocalKernels;
  /** The plan this center accepted (null: none). */
  readonly #policy: RequestPolicy | null;
  /** Without a plan, serve only an aggregate fit ({@link UNPLANNED_STEPS}). */
  readonly #fitOnly: boolean;
  /** Under a plan that has the centers verify requests: this center's replay (null: none). */
  readonly #verifier: RequestVerifier | null;

  /**
   * @param data - the center's data
   * @param options - `kernels`: where the heavy local steps (IRLS, PQN, `fast`) run, e.g. a
   *   `GenePool` (genePool.ts) splitting genes over threads (default: this thread); `plan`: the
   *   analysis plan this center accepted, whose requests alone it answers (requestPolicy.ts);
   *   `fitOnlyWithoutPlan`: without a plan, answer only the steps of an aggregate fit
   *   ({@link UNPLANNED_STEPS}; what `fedseq center` does). A session with neither answers every
   *   step: for simulations and tests whose aggregator is trusted by construction;
   *   `cellRuleWaiver`: a simulation whose one user holds every center's data, so that nobody
   *   learns anything from a small cell: a cell that breaks the plan's k-sample rule
   *   (cellRule.ts) is reported to it instead of refused (a real center never has one);
   *   `replay`: the aggregator's pipeline for the plan, which the center replays to verify
   *   every request when the plan says so (`verifyRequests`; verifiedRequests.ts), or null for
   *   a simulation, whose one user is the aggregator and every center (nothing to verify).
   * @throws InputError when the center's data does not meet the plan (naming the variable and value)
   */
  constructor(
    data: CenterData,
    options: {
      readonly kernels?: LocalKernels;
      readonly plan?: AnalysisPlan;
      readonly fitOnlyWithoutPlan?: boolean;
      readonly cellRuleWaiver?: (problem: string) => void;
      readonly replay?: ReplayedPipeline | null;
    } = {},
  ) {
    this.data = data;
    this.#kernels = options.kernels ?? directKernels;
    this.#fitOnly = options.fitOnlyWithoutPlan === true;
    if (options.plan !== undefined) {
      checkDataAgainstPlan(options.plan, data);
      try {
        checkCellRule(options.plan, data);
      } catch (error) {
        if (!(error instanceof InputError) || options.cellRuleWaiver === undefined) throw error;
        options.cellRuleWaiver(error.message);
      }
    }
    this.#policy = options.plan === undefined ? null : new RequestPolicy(options.plan, data.name);
    if (options.plan?.verifyRequests === true && options.replay !== null) {
      if (options.replay === undefined) {
        throw new Error(
          `center ${data.name}: the plan has the centers verify every request, and this session was given no pipeline to replay`,
        );
      }
      this.#verifier = new RequestVerifier({
        plan: options.plan,
        center: data.name,
        genes: data.genes,
        pipeline: options.replay,
      });
    } else this.#verifier = null;
    // Last, once the data passed the plan's checks: a pool's workers start while the rounds
    // before the fit run (a worker takes ~0.1 s to load), where the fit's first step waited for them.
    this.#kernels.expectCenter?.(data.genes.length, data.samples.length);
  }

  /**
   * Under a plan that has the centers verify requests: admit the request only if it is the one
   * this center's replay of the plan makes next, given `evidence` (the other centers' replies
   * to the previous request, as the aggregator relays them; verifiedRequests.ts). Call before {@link run}.
   * @param secure - this center's side of secure aggregation (null: replies travel in clear)
   * @throws PlanRefusal saying why a request is refused
   */
  async admit<K extends StepName>(
    tag: RequestTag,
    step: K,
    input: StepInput<K>,
    evidence: RelayedEvidence | null,
    secure: SecureCenter | null,
  ): Promise<void> {
    const policy = this.#policy;
    policy?.checkPlan(tag, step);
    if (policy !== null && secure !== null) {
      // Masks and authenticators among fewer (or other) centers than the plan's would let the
      // aggregator read sums over a subset of them.
      const agreed = secure.agreedCenters(tag.runId);
      const planned = [...policy.plan.centers].sort();
      if (agreed === null || agreed.join("\u0000") !== planned.join("\u0000")) {
        throw new PlanRefusal(
          this.data.name,
          step,
          `the run's secure aggregation was agreed among ${agreed === null ? "no centers" : agreed.join(", ")}, the plan's centers are ${planned.join(", ")}`,
        );
      }
    }
    if (this.#verifier === null) return;
    checkRequest(step, input);
    await this.#verifier.admit(tag, step, input, evidence, secure);
  }

  /**
   * Whether the aggregator needs this center's sample ids: for an aggregate fit without a plan
   * (it reads each sample's size factor from its file) and under a plan that lets the PCA
   * coordinates leave (its report labels them). Under any other plan nothing the aggregator
   * computes or writes names a sample, and the center says only how many it holds
   * ({@link helloSamples}).
   */
  get sharesSampleIds(): boolean {
    return this.#policy === null || this.#policy.plan.pcaCoordinates;
  }

  /**
   * The sample ids this center announces when it joins: its own where the aggregator needs them
   * ({@link sharesSampleIds}), else `center:1` … `center:n` (their number, which every run's
   * sums need, and nothing else).
   */
  get helloSamples(): string[] {
    if (this.sharesSampleIds) return [...this.data.samples];
    return this.data.samples.map((_, i) => `${this.data.name}:${i + 1}`);
  }

  /** Whether this center verifies every request against its replay of the plan. */
  get verifiesRequests(): boolean {
    return this.#verifier !== null;
  }

  /** The hash of the plan this center accepted (null: none). */
  get planHash(): string | null {
    return this.#policy?.hash ?? null;
  }

  /** Center name. */
  get name(): string {
    return this.data.name;
  }

  /**
   * Use an already prepared fit for run `runId` (simulations and tests that build the kernels'
   * data directly, e.g. from recorded fixtures).
   */
  adoptPrepared(runId: string, center: FitCenter, hp: FitHyperparameters): void {
    this.#prepared = { runId, center, hp };
  }

  /** The prepared kernels' data (null before `prepare`): for in-process inspection only. */
  get preparedFit(): FitCenter | null {
    return this.#prepared?.center ?? null;
  }

  /** The run this center is prepared for (null before `prepare`). */
  get preparedRun(): string | null {
    return this.#prepared?.runId ?? null;
  }

  /**
   * The run whose private state this center holds (its prepared fit or the state the run's
   * record steps built; null when it holds none, e.g. just after a restart).
   */
  get heldRun(): string | null {
    return this.#prepared?.runId ?? this.#run?.runId ?? null;
  }

  /**
   * Run (or, for a repeated request, replay) the named step. The request is checked against the
   * step's declaration first (registry.ts), whatever the transport that brought it.
   * @throws RecordShapeError when the request does not fit its declaration
   */
  run<K extends StepName>(tag: RequestTag, step: K, input: StepInput<K>): StepOutput<K> {
    if (!isStep(step)) throw new Error(`center ${this.data.name}: unknown step ${String(step)}`);
    checkRequest(step, input);
    this.#admitted = null;
    if (this.#policy !== null) {
      const digest = this.#policy.admit(tag, step, input);
      this.#admitted = { tag, step, input, digest };
    } else if (this.#fitOnly && (!UNPLANNED_STEPS.has(step) || tag.plan !== undefined)) {
      throw new PlanRefusal(
        this.data.name,
        step,
        tag.plan === undefined
          ? "this center has no analysis plan: it serves only an aggregate fit (fedseq center --plan FILE for the whole analysis)"
          : "the request is made under an analysis plan this center was not given (fedseq center --plan FILE)",
      );
    }
    const key = tagKey(tag, step);
    if (key === this.#lastKey) return this.#lastOutput as StepOutput<K>;
    const output = this.#compute(tag, step, input);
    this.#lastKey = key;
    this.#lastOutput = output;
    return output;
  }

  /**
   * The digest of a request without its per-center fields (requestDigest.ts), as secure
   * aggregation's mask labels take it: for the request {@link run} just admitted under the plan
   * (the same objects) and a step without per-center fields, the digest the plan's check
   * computed, which is then the same; otherwise computed here.
   */
  sharedRequestDigest<K extends StepName>(tag: RequestTag, step: K, input: StepInput<K>): string {
    const admitted = this.#admitted;
    if (
      admitted !== null &&
      admitted.tag === tag &&
      admitted.step === step &&
      admitted.input === input &&
      (STEPS[step].perCenterRequest ?? []).length === 0
    ) {
      return admitted.digest;
    }
    return requestDigest(tag, step, input, { perCenterFields: false });
  }

  /** The center's private state for the tag's run (a new run starts afresh). */
  #runState(tag: RequestTag): CenterRunState {
    if (this.#run === null || this.#run.runId !== tag.runId) this.#run = { runId: tag.runId };
    return this.#run;
  }

  /**
   * This center's own size factors of run `runId` (its sample order), or null when it has not
   * computed them: for the center's own outputs and simulations, never sent.
   */
  ownSizeFactors(runId: string): Float64Array | null {
    return this.#run?.runId === runId ? (this.#run.sizeFactors ?? null) : null;
  }

  /**
   * The center's own variance-stabilised counts of run `runId` (every gene of its data,
   * gene-major), null when the run asked for none: for `--vst-out` and simulations, never sent.
   */
  ownVst(runId: string): Float64Array | null {
    return this.#run?.runId === runId ? (this.#run.vst ?? null) : null;
  }

  /**
   * The center's own samples' coordinates on the PCA's two axes of run `runId` (sample-major
   * n×2), null when the run made no PCA: for `--pca-out` and simulations.
   */
  ownPcaCoordinates(runId: string): Float64Array | null {
    return this.#run?.runId === runId ? (this.#run.pcaCoordinates ?? null) : null;
  }

  /** The center's private state of the current run (null before its first run step). */
  get runState(): CenterRunState | null {
    return this.#run;
  }

  #fit(step: StepName, tag: RequestTag): { center: FitCenter; hp: FitHyperparameters } {
    if (this.#prepared === null || this.#prepared.runId !== tag.runId) {
      throw new Error(
        `center ${this.data.name}: step ${step} of run ${tag.runId} before its prepare step`,
      );
    }
    return this.#prepared;
  }

  /**
   * The size factors `prepare` fits with. A center that computed its own in this run (`run`)
   * uses those and no others, and takes none from the aggregator: an aggregator choosing them
   * could make the center weigh its samples as it likes (1 for one sample and 1e300 for the rest
   * turns the center's sums into that one sample's counts). Only an aggregate fit (`fit-lfc`,
   * whose size factors are an input, served without a plan) sends them: under a plan a center
   * takes none, also before it computed its own (an aggregator skipping the size-factor steps).
   */
  #prepareSizeFactors(tag: RequestTag, given: Float64Array): Float64Array {
    const own = this.#run?.runId === tag.runId ? this.#run.sizeFactors : undefined;
    if (this.#policy !== null && own === undefined && given.length > 0) {
      throw new Error(
        `center ${this.data.name}: refusing prepare: it brings size factors, and under a plan a center fits only with the ones it computes itself (the size-factor steps come first)`,
      );
    }
    if (own === undefined) {
      if (given.length === 0) {
        throw new Error(
          `center ${this.data.name}: prepare without size factors, but this center has not computed its own in run ${tag.runId}`,
        );
      }
      return given;
    }
    if (given.length > 0) {
      throw new Error(
        `center ${this.data.name}: refusing prepare: it brings size factors, but this center uses the ones it computed for the run`,
      );
    }
    return own;
  }

  #compute<K extends StepName>(tag: RequestTag, step: K, input: StepInput<K>): StepOutput<K> {
    type Out = StepOutput<K>;
    switch (step) {
      case "presence":
        return presenceLocalStep(this.data, input as StepInput<"presence">) as Out;
      case "nonZeroCells":
        return nonZeroCellsLocalStep(this.data, input as StepInput<"nonZeroCells">) as Out;
      case "contrastPresence": {
        const request = input as StepInput<"contrastPresence">;
        // A numeric contrast selects samples by their design rows: the prepared fit's.
        const design =
          request.columns.length === 0
            ? undefined
            : (() => {
                const { data } = this.#fit(step, tag).center.main;
                return { matrix: data.design, p: data.p };
              })();
        return contrastPresenceLocalStep(this.data, request, design) as Out;
      }
      case "levelPresence":
        return levelPresenceLocalStep(this.data, input as StepInput<"levelPresence">) as Out;
      case "levels":
        return levelsLocalStep(this.data, input as StepInput<"levels">) as Out;
      case "prepare": {
        const request = input as StepInput<"prepare">;
        const sizeFactors = this.#prepareSizeFactors(tag, request.sizeFactors);
        const { center, share } = prepareLocalStep(this.data, { ...request, sizeFactors });
        const adopted = this.#kernels.adopt?.(center) ?? center;
        this.#prepared = { runId: tag.runId, center: adopted, hp: requestHyperparameters(request) };
        return share as Out;
      }
      case "init": {
        const { center } = this.#fit(step, tag);
        return initLocalStep(center, input as StepInput<"init">) as Out;
      }
      case "irls": {
        const { center, hp } = this.#fit(step, tag);
        const share = irlsLocalStep(center, input as StepInput<"irls">, hp, this.#kernels);
        return irlsReply(share, center.main.data.p) as Out;
      }
      case "pqn": {
        const { center, hp } = this.#fit(step, tag);
        const share = pqnLocalStep(center, input as StepInput<"pqn">, hp, this.#kernels);
        return pqnReply(share) as Out;
      }
      case "newton": {
        const { center, hp } = this.#fit(step, tag);
        const share = newtonLocalStep(center, input as StepInput<"newton">, hp, this.#kernels);
        return newtonReply(share, center.main.data.p) as Out;
      }
      default: {
        const prepared: PreparedFitAccess = {
          kernels: this.#kernels,
          get: () => this.#fit(step, tag).center,
          setRefit: (refit) => {
            const { center, hp } = this.#fit(step, tag);
            this.#prepared = { runId: tag.runId, hp, center: { main: center.main, refit } };
          },
        };
        return runRecordStep(
          this.data,
          this.#runState(tag),
          step as CenterRunStep,
          input as never,
          prepared,
        ) as Out;
      }
    }
  }
}
