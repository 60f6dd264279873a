/**
 * Five small jobs on outliers_sim whose every request and reply is recorded in process, for the
 * suites that replay each step over every transport (the registry test, the secure-aggregation
 * layer test): a run with Cook's replacement and refit, a run whose dispersion μ comes from a GLM
 * fit (fast solver), and fits with the upstream solver, PQN on every gene, and the deseq2 solver
 * stopped after 3 IRLS iterations (L-BFGS-B takes the rest).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcMode, LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { AnalysisPlan } from "../../src/federation/plan.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import type { Transport } from "../../src/federation/transport.js";
import { planFromRunJob } from "../../src/pipeline/analysisPlan.js";
import { fitOverFederation, simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { type RunJob, runOverFederation } from "../../src/pipeline/run.js";
import { cachedRun } from "./runCache.js";
import { deseq2Job } from "./runs.js";
import { sharedPath } from "./shared.js";
import type { TempFolder } from "./tempFiles.js";

/** Genes of outliers_sim kept: enough for every step (Cook's replacement, refits, L-BFGS-B). */
export const RECORDED_GENES = 400;

/** One request of a recorded job: a step, its tag, what each center was sent and answered. */
export interface Exchange {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly inputs: readonly unknown[];
  readonly replies: readonly unknown[];
}

/** A recorded job: its run id and its exchanges, in order. */
export interface Recording {
  readonly runId: string;
  readonly exchanges: Exchange[];
}

/** A transport to replay recordings over, and what to do once it is closed. */
export interface ReplayTransport {
  readonly transport: Transport;
  readonly done?: () => Promise<void>;
}

/**
 * Send every recording's exchanges, in order, over transports `start` makes, handing `each` an
 * exchange and the replies to it. With `acrossRuns`, one transport serves every recording (a
 * transport that agrees its secure-aggregation keys per run id, as the worker-threads one: its
 * threads start once, not once per recording, some 0.8 s of CPU each); otherwise one per
 * recording (a gRPC aggregator serves the run id it listens for).
 */
export async function replayRecordings(
  recordings: readonly Recording[],
  start: (runId: string) => Promise<ReplayTransport>,
  acrossRuns: boolean,
  each: (exchange: Exchange, replies: readonly unknown[]) => void,
): Promise<void> {
  const send = async ({ transport }: ReplayTransport, exchanges: readonly Exchange[]) => {
    for (const exchange of exchanges) {
      const { tag, step, inputs } = exchange;
      each(exchange, await transport.request(tag, step, inputs as never));
    }
  };
  const close = async (made: ReplayTransport) => {
    await made.transport.close();
    await made.done?.();
  };
  if (acrossRuns) {
    if (recordings.length === 0) return;
    const made = await start(recordings[0].runId);
    try {
      for (const { exchanges } of recordings) await send(made, exchanges);
    } finally {
      await close(made);
    }
    return;
  }
  for (const { runId, exchanges } of recordings) {
    const made = await start(runId);
    try {
      await send(made, exchanges);
    } finally {
      await close(made);
    }
  }
}

/** outliers_sim restricted to its first {@link RECORDED_GENES} genes, written under `tmp`. */
export function smallOutliersSim(tmp: TempFolder): string {
  const source = sharedPath("data", "outliers_sim");
  const dir = join(tmp.dir, "outliers_small");
  const lines = readFileSync(join(source, "counts.csv"), "utf8").trimEnd().split("\n");
  tmp.write("outliers_small/counts.csv", `${lines.slice(0, RECORDED_GENES + 1).join("\n")}\n`);
  writeFileSync(join(dir, "metadata.csv"), readFileSync(join(source, "metadata.csv")));
  return dir;
}

/**
 * A deep copy of a request's inputs or replies whose typed arrays hold their own elements only.
 * structuredClone copies the whole buffer a view is of: the pooled replies secure aggregation
 * opens (every center's but the first) are views of one store of zeros as long as the longest
 * reply yet (23 MB once a bodymap run has been), so cloning each copied it all: cooks.private's
 * recorded run took 35 s of a full `vitest run`, 2 s alone.
 */
function copied<T>(value: T): T {
  if (value instanceof DataView)
    return new DataView(
      value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength),
    ) as T;
  if (ArrayBuffer.isView(value)) return (value as unknown as Float64Array).slice() as T;
  if (Array.isArray(value)) return value.map(copied) as T;
  if (value === null || typeof value !== "object") return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copied(v)])) as T;
}

/** A transport that records a copy of every request and reply (later rounds mutate nothing). */
export function recording(inner: Transport, log: Exchange[]): Transport {
  return {
    get centers() {
      return inner.centers;
    },
    async request<K extends StepName>(
      tag: RequestTag,
      step: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const sent = copied(inputs);
      const replies = await inner.request(tag, step, inputs);
      log.push({ tag, step, inputs: sent, replies: copied(replies) });
      return replies;
    },
    close: (reason) => inner.close(reason),
  };
}

const fitJob = (solver: LfcSolver, mode: LfcMode = "irls-pqn", maxit?: number) => ({
  design: "~ condition",
  solver,
  sizeFactorsFile: sharedPath("data", "outliers_sim", "deseq2", "size_factors.csv"),
  dispersionsFile: sharedPath("data", "outliers_sim", "deseq2", "fit.csv"),
  mode,
  maxit,
  references: {},
  fixedRounds: false,
  hp: DEFAULT_HYPERPARAMETERS,
  outDir: "unused",
});

const CENTERS = ["lab_1", "lab_2", "lab_3"];
/**
 * With DESeq2's default contrast given as levels, so that its contrastAllZero step is recorded,
 * DESeq2's vst (its step) and apeglm's shrinkage (its step).
 */
const RUN_CONDITION: RunJob = {
  ...deseq2Job("outliers_sim", "~ condition"),
  contrast: { kind: "levels", factor: "condition", level: "B", reference: "A" },
  vst: true,
  lfcShrink: "apeglm",
};
/** Also DESeq2's poscounts size factors, so that the recorded jobs exercise their rescale step. */
const RUN_CENTER_CONDITION: RunJob = {
  ...deseq2Job("outliers_sim", "~ center + condition", "fast"),
  sizeFactorsType: "poscounts",
};
/**
 * A local trend's vst (its bisection for the largest normalised count), the PCA and DESeq2's
 * iterative size factors, whose steps a plan allows only under verified requests (recorded here
 * without a plan, in clear).
 */
const RUN_LOCAL_VST: RunJob = {
  ...deseq2Job("outliers_sim", "~ condition"),
  sizeFactorsType: "iterate",
  fitType: "local",
  vst: true,
  vstMaxCount: true,
  pcaCoordinates: true,
};

/** The plan of a run job on outliers_sim (levels from its metadata.csv). */
function planOf(job: RunJob): AnalysisPlan {
  const levels: Record<string, string[]> = { condition: ["A", "B"] };
  if (job.design.includes("center")) levels.center = CENTERS;
  // In clear, and about the registry (not the k-sample rule, test/federation/cellRule.test.ts):
  // min_cell 1, the consent a plan in clear needs. The poscounts job's plan also leaves sparse
  // genes out, so that the jobs exercise that step (with k = 1 no gene is left out).
  return planFromRunJob(job, levels, CENTERS, {
    minCell: 1,
    omitSparseGenes: job.sizeFactorsType === "poscounts",
  });
}

/** Whether a job runs under a plan (its centers then enforce it while it is recorded). */
function plannedJob(name: string): AnalysisPlan | undefined {
  if (name === "run ~ condition") return planOf(RUN_CONDITION);
  if (name === "run ~ center + condition (fast, poscounts)") return planOf(RUN_CENTER_CONDITION);
  return undefined;
}

/** The jobs whose requests are replayed (the runs under a plan, as the CLI runs them). */
const JOBS: Record<string, (transport: Transport, runId: string) => Promise<unknown>> = {
  "run ~ condition": (t, runId) =>
    runOverFederation(t, RUN_CONDITION, { runId, plan: planOf(RUN_CONDITION) }),
  "run ~ center + condition (fast, poscounts)": (t, runId) =>
    runOverFederation(t, RUN_CENTER_CONDITION, { runId, plan: planOf(RUN_CENTER_CONDITION) }),
  "run ~ condition, iterative size factors, local trend, vst and PCA (no plan)": (t, runId) =>
    runOverFederation(t, RUN_LOCAL_VST, { runId }),
  "fit (upstream)": (t, runId) => fitOverFederation(t, fitJob("upstream"), { runId }),
  "fit (upstream, PQN on every gene)": (t, runId) =>
    fitOverFederation(t, fitJob("upstream", "pqn"), { runId }),
  "fit (deseq2, maxit 3)": (t, runId) =>
    fitOverFederation(t, fitJob("deseq2", "irls-pqn", 3), { runId }),
};

/**
 * {@link recordJobs} on `dir`, a {@link smallOutliersSim} folder, recorded once per `vitest run`
 * (test/helpers/runCache.ts): the registry suite and the secure-aggregation layer suite replay the
 * same exchanges, each over its own transports on its own copy of the folder. Callers must not
 * modify what they get.
 */
export function sharedRecordings(dir: string): Promise<Recording[]> {
  return cachedRun("recorded-jobs", () => recordJobs(dir, "recorded"));
}

/** Every job's exchanges, recorded in clear over the in-process transport on `dir`. */
export async function recordJobs(dir: string, runIdPrefix: string): Promise<Recording[]> {
  const out: Recording[] = [];
  for (const [i, [name, job]] of Object.entries(JOBS).entries()) {
    const runId = `${runIdPrefix}-${i}`;
    const exchanges: Exchange[] = [];
    const plan = plannedJob(name);
    const centers = await simulatedCenters(dir, {}, plan === undefined ? {} : { plan: () => plan });
    const transport = recording(new InProcessTransport(centers), exchanges);
    try {
      await job(transport, runId);
    } finally {
      await transport.close();
    }
    // The iterative size factors' intercept-only dispersion estimations ("size-factors-…"
    // phases, up to 10) are the dispersion steps the run records anyway: left out, so that
    // every transport replays them once, not once per iteration. (Nothing after them reads
    // what they build: the run's own dispersionMoments replaces it.)
    out.push({
      runId,
      exchanges: exchanges.filter((e) => !e.tag.phase.startsWith("size-factors-")),
    });
  }
  return out;
}
