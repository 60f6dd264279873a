/**
 * The runner over the in-process transport: a whole fit (init → IRLS → PQN) reproduces
 * upstream's final state on the recorded rounds files, with and without early stopping, and
 * the early stop saves rounds without changing a bit.
 */
import { describe, expect, it } from "vitest";
import { computeLfc, type LfcMode } from "../../src/algorithms/lfc/computeLfc.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { FederationRunner } from "../../src/federation/runner.js";
import {
  centersOf,
  hyperparameters,
  recordedF64,
  recordedMask,
  roundsFile,
  ulpFragile,
} from "../helpers/roundsFixture.js";

async function fitRounds(name: string, mode: LfcMode, fixedRounds: boolean) {
  const file = roundsFile(name);
  const hp = hyperparameters(file);
  const runId = "rounds-fixture";
  const sessions = centersOf(file).map((c, i) => {
    const session = new CenterSession({
      name: file.center_order[i],
      genes: file.non_zero_genes,
      samples: file.centers[i].samples,
      counts: new Float64Array(0),
      metadata: { columns: [], values: new Map() },
    });
    session.adoptPrepared(runId, c, hp);
    return session;
  });
  const runner = new FederationRunner(new InProcessTransport(sessions), { fixedRounds, runId });
  const result = await computeLfc(runner, hp, mode);
  return { file, result, ledger: runner.ledger };
}

const CASES: [string, LfcMode][] = [
  ["bodymap_lfc", "irls-pqn"],
  ["li_lncap_lfc", "irls-pqn"],
  ["synthetic_lfc", "irls-pqn"],
  ["bodymap_pqn_all", "pqn"],
  ["li_lncap_pqn_all", "pqn"],
  ["synthetic_pqn_all", "pqn"],
];

describe("computeLfc over the in-process federation", () => {
  for (const [name, mode] of CASES) {
    it(`${name}: fixed schedule equals upstream's rounds and final state; early stop is bit-identical`, async () => {
      const fixed = await fitRounds(name, mode, true);
      const early = await fitRounds(name, mode, false);
      const { file } = fixed;
      const expectedRounds = file.n_rounds;
      expect(fixed.ledger.rounds.init).toBe(1);
      expect(fixed.ledger.rounds.irls ?? 0).toBe(expectedRounds.irls ?? 0);
      expect(fixed.ledger.rounds.pqn).toBe(expectedRounds.pqn);
      expect(Array.from(early.result.beta)).toEqual(Array.from(fixed.result.beta));
      expect(Array.from(early.result.pqnDiverged)).toEqual(Array.from(fixed.result.pqnDiverged));
      expect(Array.from(early.result.pqnCaught)).toEqual(Array.from(fixed.result.pqnCaught));
      const total = (l: typeof fixed.ledger) => Object.values(l.rounds).reduce((a, b) => a + b, 0);
      expect(total(early.ledger)).toBeLessThan(total(fixed.ledger));

      const flips = ulpFragile(file, 1e-6);
      const beta = recordedF64(file.final, "beta");
      const diverged = recordedMask(file.final, "PQN_diverged_mask");
      const irlsDiverged = recordedMask(file.final, "irls_diverged_mask");
      const p = fixed.result.beta.length / flips.length;
      for (let g = 0; g < flips.length; g++) {
        if (flips[g]) continue;
        const gene = file.non_zero_genes[g];
        expect(fixed.result.pqnDiverged[g], `${gene} PQN_diverged`).toBe(diverged[g]);
        if (mode === "irls-pqn")
          expect(fixed.result.pqnCaught[g], `${gene} caught`).toBe(irlsDiverged[g]);
        for (let k = 0; k < p; k++) {
          const d = Math.abs(fixed.result.beta[g * p + k] - beta[g * p + k]);
          expect(d, `${gene} beta`).toBeLessThanOrEqual(1e-6);
        }
      }
    });
  }
});
