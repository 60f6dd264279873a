/**
 * `run` jobs on the shared datasets, with DESeq2's defaults.
 */
import type { FitType } from "../../src/algorithms/dispersions/trend.js";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { Transport } from "../../src/federation/transport.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import {
  type PcaCoordinates,
  type RunJob,
  type RunOutcome,
  runOverFederation,
  simulatedPcaCoordinates,
  simulatedVst,
  type VstTable,
} from "../../src/pipeline/run.js";
import { resultsFromSavedFit } from "../../src/pipeline/savedFit.js";
import { DESIGNS } from "./fits.js";
import { cachedRun } from "./runCache.js";
import { sharedPath } from "./shared.js";

/** DESeq2's defaults for a shared dataset (its README design unless `design` is given). */
export function deseq2Job(
  dataset: string,
  design = DESIGNS[dataset],
  solver: LfcSolver = "deseq2",
  reduced?: string,
): RunJob {
  return {
    ...(reduced === undefined ? {} : { reduced }),
    design,
    references: {},
    mode: "irls-pqn",
    solver,
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: "unused",
    wald: { lfcThreshold: 0, altHypothesis: "greaterAbs" },
    alpha: 0.1,
    independentFiltering: true,
  };
}

/** Run DESeq2's analysis of a shared dataset over a transport (closed afterwards). */
export async function runShared(
  transport: Transport,
  dataset: string,
  runId = "run-suite",
  design = DESIGNS[dataset],
  solver: LfcSolver = "deseq2",
  reduced?: string,
): Promise<RunOutcome> {
  try {
    return await runOverFederation(transport, deseq2Job(dataset, design, solver, reduced), {
      runId,
    });
  } finally {
    await transport.close();
  }
}

/** What the files sharing a batch run read of it (plain data: it is cached across workers). */
export interface BatchRun {
  /** Gene ids, in input order. */
  readonly genes: readonly string[];
  /** DESeq2's `results(dds, test = "Wald")` after the LRT: the Wald run's results. */
  readonly results: RunOutcome["results"];
  /** The run's own results: the likelihood-ratio test against `~ center`. */
  readonly lrtResults: RunOutcome["results"];
  /** The run's test and its degrees of freedom. */
  readonly lrt: RunOutcome["lrt"];
  /** The trend the centers transformed with (or why none). */
  readonly vstTrend: RunOutcome["vst"];
  /** The centers' variance-stabilised counts, read where they are. */
  readonly vst: VstTable | null;
  /** lfcShrink(coef = the last coefficient, type = "normal"): shrunk.csv's table. */
  readonly shrunk: NonNullable<RunOutcome["shrunk"]>;
  /** plotPCA of the vst, and the samples' coordinates the centers kept. */
  readonly pca: RunOutcome["pca"];
  readonly pcaCoordinates: PcaCoordinates | null;
}

/**
 * DESeq2's analysis of a shared dataset with `~ center + <factor>`, its likelihood-ratio test
 * against `~ center`, vst and lfcShrink "normal", in this process, computed once per `vitest
 * run` for every file that needs it: the LRT and (as DESeq2's `results(dds, test = "Wald")`
 * gives them, the Wald run's results byte for byte: run.lrt.test.ts) the batch results of
 * run.deseq2.test.ts, the vst of run.vst.test.ts, the shrinkage of run.shrink.test.ts.
 */
export function batchRunWithVst(dataset: string, factor: string): Promise<BatchRun> {
  const job = deseq2Job(dataset, `~ center + ${factor}`, "deseq2", "~ center");
  return cachedRun(`batch-vst-${dataset}`, () =>
    simulatedRun(
      dataset,
      { ...job, vst: true, lfcShrink: "normal" },
      "batch-vst",
      (outcome, sessions, centers) => {
        const wald = resultsFromSavedFit(outcome.saved, {
          test: "Wald",
          wald: job.wald,
          alpha: job.alpha,
          independentFiltering: job.independentFiltering,
        });
        return {
          genes: outcome.fit.genes,
          results: wald.table,
          lrtResults: outcome.results,
          lrt: outcome.lrt,
          vstTrend: outcome.vst,
          vst: simulatedVst(sessions, "batch-vst", centers, outcome.fit.genes),
          shrunk: outcome.shrunk as NonNullable<RunOutcome["shrunk"]>,
          pca: outcome.pca,
          pcaCoordinates: simulatedPcaCoordinates(sessions, "batch-vst", centers),
        };
      },
    ),
  );
}

/**
 * Run `job` on a shared dataset in this process and read what a test needs of it while the
 * simulated centers (which keep their vst and PCA coordinates) are still at hand.
 */
async function simulatedRun<T>(
  dataset: string,
  job: RunJob,
  runId: string,
  read: (
    outcome: RunOutcome,
    sessions: Awaited<ReturnType<typeof simulatedCenters>>,
    centers: InProcessTransport["centers"],
  ) => T,
): Promise<T> {
  const sessions = await simulatedCenters(sharedPath("data", dataset));
  const transport = new InProcessTransport(sessions);
  try {
    const outcome = await runOverFederation(transport, job, { runId });
    return read(outcome, sessions, transport.centers);
  } finally {
    await transport.close();
  }
}

/** What the files sharing a run with another trend read of it (plain data, cached across workers). */
export interface TrendRun {
  /** Gene ids, in input order. */
  readonly genes: readonly string[];
  readonly results: RunOutcome["results"];
  /** The dispersion trend's type (dispersions.trendFit.type). */
  readonly trendType: FitType;
  /** The trend the centers transformed with (or why none). */
  readonly vstTrend: RunOutcome["vst"];
  /** The centers' variance-stabilised counts, read where they are. */
  readonly vst: VstTable | null;
  /** Round trips per phase. */
  readonly rounds: RunOutcome["fit"]["ledger"]["rounds"];
}

/**
 * DESeq2's analysis of outliers_sim `~ condition` with another dispersion trend (`fitType`) and
 * vst (`vstMaxCount`: the largest normalised count found, which a local trend's vst needs), in
 * this process, computed once per `vitest run` for every file that needs it: run.fitType's
 * results against DESeq2 (vst comes after the results and changes none of them) and run.vst's
 * transformed counts.
 */
export function outliersSimTrendRun(fitType: FitType, vstMaxCount = false): Promise<TrendRun> {
  const runId = `trend-${fitType}${vstMaxCount ? "-max-count" : ""}`;
  const job: RunJob = {
    ...deseq2Job("outliers_sim", "~ condition"),
    fitType,
    vst: true,
    ...(vstMaxCount ? { vstMaxCount: true } : {}),
  };
  return cachedRun(`${runId}-outliers_sim`, () =>
    simulatedRun("outliers_sim", job, runId, (outcome, sessions, centers) => ({
      genes: outcome.fit.genes,
      results: outcome.results,
      trendType: outcome.dispersions.trendFit.type,
      vstTrend: outcome.vst,
      vst: simulatedVst(sessions, runId, centers, outcome.fit.genes),
      rounds: outcome.fit.ledger.rounds,
    })),
  );
}
