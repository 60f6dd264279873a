/**
 * `run` jobs on the shared datasets, with DESeq2's defaults.
 */
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import type { Transport } from "../../src/federation/transport.js";
import { type RunJob, type RunOutcome, runOverFederation } from "../../src/pipeline/run.js";
import { DESIGNS } from "./fits.js";

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
