/**
 * One suite, every transport (as TensorFlow.js's describeWithFlags runs one suite per backend):
 * the same fits give bit-identical results whether the centers live in this process, in worker
 * threads, or in separate processes reached over gRPC.
 *
 * Every test compares a transport with the in-process run on the same input, so they run on a few
 * hundred genes of a shared dataset ({@link input}) that keep each job's rounds: the same steps
 * travel, as many times as on the whole dataset (each fit's round count per phase is the whole
 * dataset's; the run's phases are, and it still replaces and refits outliers_sim's 60 genes).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcMode, LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { CenterError } from "../../src/federation/transport.js";
import {
  type FitLfcJob,
  type FitOutcome,
  fitOverFederation,
  simulatedCenters,
} from "../../src/pipeline/fitLfc.js";
import type { RunOutcome } from "../../src/pipeline/run.js";
import { DESIGNS } from "../helpers/fits.js";
import { runShared } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { replacedByDeseq2, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { TRANSPORTS } from "../helpers/transports.js";

const tmp = useTempFolder("fedseq-transports-");

/**
 * The input folder of `dataset`: its first few hundred genes and the genes its jobs take longest
 * over on the whole dataset. li_lncap: a gene of the 57 that the upstream solver's PQN fits for
 * 93 iterations (72 PQN rounds) and the two the fast solver takes 11 Newton rounds over;
 * outliers_sim: the 60 genes whose counts DESeq2 replaced (`deseq2/cooks.csv`: the run's Cook's
 * step replaces and refits them all) and gene1892, which PQN on every gene fits for 70 rounds.
 */
function input(dataset: string): string {
  let dir = inputs.get(dataset);
  if (dir === undefined) {
    dir =
      dataset === "li_lncap"
        ? sharedSubset(tmp, dataset, 300, ["ENSG00000214867", "ENSG00000204823", "ENSG00000110719"])
        : sharedSubset(tmp, dataset, 400, [...replacedByDeseq2(), "gene1892"]);
    inputs.set(dataset, dir);
  }
  return dir;
}
const inputs = new Map<string, string>();

function job(
  dataset: string,
  mode: LfcMode,
  design = DESIGNS[dataset],
  solver: LfcSolver = "upstream",
): FitLfcJob {
  return {
    design,
    solver,
    sizeFactorsFile: sharedPath("data", dataset, "deseq2", "size_factors.csv"),
    dispersionsFile: sharedPath("data", dataset, "deseq2", "fit.csv"),
    mode,
    references: {},
    fixedRounds: false,
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: "unused",
  };
}

async function fitWith(transportName: string, dataset: string, mode: LfcMode, solver: LfcSolver) {
  const transport = await TRANSPORTS[transportName](input(dataset));
  try {
    return await fitOverFederation(transport, job(dataset, mode, DESIGNS[dataset], solver), {
      runId: "transport-suite",
    });
  } finally {
    await transport.close();
  }
}

const references = new Map<string, Promise<FitOutcome>>();

/** The in-process fit every transport's is compared with, computed once per file. */
function inProcess(dataset: string, mode: LfcMode, solver: LfcSolver): Promise<FitOutcome> {
  const key = `${dataset} ${mode} ${solver}`;
  let fit = references.get(key);
  if (fit === undefined) {
    fit = (async () =>
      fitOverFederation(
        new InProcessTransport(await simulatedCenters(input(dataset))),
        job(dataset, mode, DESIGNS[dataset], solver),
        { runId: "transport-suite" },
      ))();
    references.set(key, fit);
  }
  return fit;
}

let runReference: RunOutcome | null = null;
async function inProcessRun(): Promise<RunOutcome> {
  if (runReference === null) {
    runReference = await runShared(
      new InProcessTransport(await simulatedCenters(input("outliers_sim"))),
      "outliers_sim",
      "transport-suite",
    );
  }
  return runReference;
}

for (const transportName of Object.keys(TRANSPORTS)) {
  describe(`transport: ${transportName}`, () => {
    for (const [dataset, mode, solver] of [
      ["li_lncap", "irls-pqn", "upstream"],
      ["outliers_sim", "pqn", "upstream"],
      ["outliers_sim", "irls-pqn", "upstream"],
      ["li_lncap", "irls-pqn", "fast"],
      // outliers_sim's unreplaced outliers send genes to L-BFGS-B: both deseq2 steps travel.
      ["outliers_sim", "irls-pqn", "deseq2"],
    ] as [string, LfcMode, LfcSolver][]) {
      it(`${dataset} ${mode} (${solver}): bit-identical to the in-process run`, async () => {
        const ours = await fitWith(transportName, dataset, mode, solver);
        const ref = await inProcess(dataset, mode, solver);
        expect(ours.centers).toEqual(ref.centers);
        expect(Array.from(ours.fitted)).toEqual(Array.from(ref.fitted));
        expect(
          Buffer.from(ours.result.beta.buffer).equals(Buffer.from(ref.result.beta.buffer)),
        ).toBe(true);
        expect(Array.from(ours.result.pqnDiverged)).toEqual(Array.from(ref.result.pqnDiverged));
        expect(Array.from(ours.result.pqnCaught)).toEqual(Array.from(ref.result.pqnCaught));
        expect(Array.from(ours.result.iterations)).toEqual(Array.from(ref.result.iterations));
        expect(ours.ledger.rounds).toEqual(ref.ledger.rounds);
      });
    }

    it("run (size factors, dispersions, fit, Wald, Cook's, refit) on outliers_sim: bit-identical to in-process", async () => {
      const ours = await runShared(
        await TRANSPORTS[transportName](input("outliers_sim")),
        "outliers_sim",
        "transport-suite",
      );
      const ref = await inProcessRun();
      const same = (a: Float64Array, b: Float64Array) =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
          Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        );
      expect(same(ours.dispersions.genewise, ref.dispersions.genewise)).toBe(true);
      expect(same(ours.dispersions.final, ref.dispersions.final)).toBe(true);
      expect(same(ours.results.lfcSE, ref.results.lfcSE)).toBe(true);
      expect(same(ours.results.padj, ref.results.padj)).toBe(true);
      expect(ours.cooks).toEqual(ref.cooks);
      expect(ours.cooks.refitted).toBe(60);
      expect(ours.fit.ledger).toEqual(ref.fit.ledger);
    });

    it("a center's input mistake surfaces as a user error naming the center", async () => {
      const transport = await TRANSPORTS[transportName](input("li_lncap"));
      try {
        const error = await fitOverFederation(
          transport,
          job("li_lncap", "irls-pqn", "~ tissue"),
        ).catch((e) => e);
        expect(error).toBeInstanceOf(CenterError);
        expect((error as CenterError).userError).toBe(true);
        expect((error as CenterError).message).toMatch(/^center \S+: .*tissue/);
      } finally {
        await transport.close();
      }
    });
  });
}
