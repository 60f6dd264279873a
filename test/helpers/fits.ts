/**
 * Fits of the shared datasets with DESeq2's size factors and dispersions, in process; each
 * computed once per `vitest run` (test/helpers/runCache.ts): the end-to-end parity and the
 * agreement suites check the same fits.
 */
import type { FitCenter } from "../../src/algorithms/center.js";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcMode, LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { type FitOutcome, fitOverFederation, simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { cachedRun } from "./runCache.js";
import { sharedPath } from "./shared.js";

/** Design formula of each shared dataset. */
export const DESIGNS: Record<string, string> = {
  bodymap: "~ tissue",
  li_lncap: "~ treatment",
  outliers_sim: "~ condition",
};

/**
 * Fit a shared dataset; also returns the centers' prepared data (for objective checks). Computed
 * once per `vitest run`: callers must not modify what they get.
 */
export function fitShared(
  dataset: string,
  mode: LfcMode,
  solver: LfcSolver = "upstream",
): Promise<{ outcome: FitOutcome; centers: FitCenter[] }> {
  return cachedRun(`fit-${dataset}-${mode}-${solver}`, () => computeFit(dataset, mode, solver));
}

async function computeFit(
  dataset: string,
  mode: LfcMode,
  solver: LfcSolver,
): Promise<{ outcome: FitOutcome; centers: FitCenter[] }> {
  const sessions = await simulatedCenters(sharedPath("data", dataset));
  const outcome = await fitOverFederation(new InProcessTransport(sessions), {
    design: DESIGNS[dataset],
    sizeFactorsFile: sharedPath("data", dataset, "deseq2", "size_factors.csv"),
    dispersionsFile: sharedPath("data", dataset, "deseq2", "fit.csv"),
    mode,
    solver,
    references: {},
    fixedRounds: false,
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: "unused",
  });
  const centers = sessions.map((s) => {
    const fit = s.preparedFit;
    if (fit === null) throw new Error("center not prepared");
    return fit;
  });
  return { outcome, centers };
}
