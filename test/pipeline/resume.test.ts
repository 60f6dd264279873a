/**
 * Resuming a fit from any of its checkpoints gives the result of the uninterrupted run, bit for
 * bit, for every solver (the process-level test kills a real aggregator; this one checks every
 * checkpoint of a run).
 */
import { deserialize, serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { FitCheckpoint } from "../../src/pipeline/checkpoint.js";
import { type FitLfcJob, fitOverFederation, simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { sharedPath } from "../helpers/shared.js";

function job(solver: LfcSolver): FitLfcJob {
  return {
    design: "~ condition",
    sizeFactorsFile: sharedPath("data", "outliers_sim", "deseq2", "size_factors.csv"),
    dispersionsFile: sharedPath("data", "outliers_sim", "deseq2", "fit.csv"),
    mode: "irls-pqn",
    solver,
    references: {},
    fixedRounds: false,
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: "unused",
  };
}

describe("resume from checkpoints", () => {
  for (const solver of ["deseq2", "upstream", "fast"] as LfcSolver[]) {
    it(`${solver}: every checkpoint resumes to the uninterrupted result`, async () => {
      const checkpoints: FitCheckpoint[] = [];
      const dir = sharedPath("data", "outliers_sim");
      const full = await fitOverFederation(
        new InProcessTransport(await simulatedCenters(dir)),
        job(solver),
        {
          fingerprint: "job",
          // Serialised as the checkpoint file is (the runner's ledger object keeps changing).
          onCheckpoint: (c) => checkpoints.push(deserialize(serialize(c)) as FitCheckpoint),
        },
      );
      expect(checkpoints.length).toBeGreaterThan(3);
      for (const c of [
        checkpoints[1],
        checkpoints[Math.floor(checkpoints.length / 2)],
        checkpoints.at(-1) as FitCheckpoint,
      ]) {
        const resumed = await fitOverFederation(
          new InProcessTransport(await simulatedCenters(dir)),
          job(solver),
          {
            fingerprint: "job",
            resume: c,
          },
        );
        expect(
          Buffer.from(resumed.result.beta.buffer).equals(Buffer.from(full.result.beta.buffer)),
        ).toBe(true);
        expect(Array.from(resumed.result.pqnDiverged)).toEqual(Array.from(full.result.pqnDiverged));
        expect(Array.from(resumed.result.finishedRound)).toEqual(
          Array.from(full.result.finishedRound),
        );
        const fitRounds = (l: typeof full.ledger) =>
          Object.entries(l.rounds)
            .filter(([k]) => k !== "setup")
            .reduce((a, [, v]) => a + v, 0);
        expect(fitRounds(resumed.ledger)).toBe(fitRounds(full.ledger));
      }
    });
  }

  it("refuses a checkpoint of another job", async () => {
    const checkpoints: FitCheckpoint[] = [];
    const dir = sharedPath("data", "outliers_sim");
    await fitOverFederation(new InProcessTransport(await simulatedCenters(dir)), job("fast"), {
      fingerprint: "job",
      onCheckpoint: (c) => checkpoints.push(c),
    });
    const error = await fitOverFederation(
      new InProcessTransport(await simulatedCenters(dir)),
      job("fast"),
      {
        fingerprint: "another job",
        resume: checkpoints[0],
      },
    ).catch((e) => e);
    expect(String(error)).toMatch(/checkpoint was written for a different job/);
  });
});
