/**
 * Replay of upstream's recorded β initialisation and IRLS rounds (`rounds/*_lfc.json`).
 */
import { describe, expect, it } from "vitest";
import { initAggregate } from "../../src/algorithms/init/aggregate.js";
import { initLocalStep } from "../../src/algorithms/init/local.js";
import { irlsAggregate } from "../../src/algorithms/irls/aggregate.js";
import { irlsLocalStep } from "../../src/algorithms/irls/local.js";
import {
  type IrlsEndState,
  type IrlsRoundState,
  irlsRequest,
} from "../../src/algorithms/irls/state.js";
import { expectClose, type Tolerance } from "../helpers/compare.js";
import { bool } from "../helpers/ndarray.js";
import {
  centersOf,
  hyperparameters,
  type RecordedState,
  recordedF64,
  recordedMask,
  roundsFile,
} from "../helpers/roundsFixture.js";
import { termScales } from "../helpers/scales.js";

const TOL: Tolerance = { rel: 1e-9, abs: 1e-9 };

function recordedIrlsState(s: RecordedState): IrlsRoundState {
  return {
    kind: "irls-round",
    round: s.round_number_irls as number,
    refit: false,
    beta: recordedF64(s, "beta"),
    mask: recordedMask(s, "irls_mask"),
    divergedMask: recordedMask(s, "irls_diverged_mask"),
    nll: recordedF64(s, "global_nll"),
  };
}

for (const name of ["bodymap_lfc", "li_lncap_lfc", "synthetic_lfc"]) {
  describe(name, () => {
    const file = roundsFile(name);
    const hp = hyperparameters(file);
    const centers = centersOf(file);
    const init = file.steps.find((s) => s.phase === "init");
    if (init === undefined) throw new Error("no init step");

    it("init: local log features and β0", () => {
      const shares = centers.map((c) => initLocalStep(c, { kind: "init-request", refit: false }));
      file.center_order.forEach((cn, c) => {
        const rec = init.local_shares[cn];
        expectClose(
          shares[c].logFeatures,
          recordedF64(rec, "local_log_features"),
          TOL,
          `${cn} features`,
        );
      });
      const gram = shares.map((s) => s.gram).reduce((a, b) => a.map((v, i) => v + b[i]));
      expectClose(
        gram,
        recordedF64(file as unknown as RecordedState, "global_gram_matrix"),
        TOL,
        "gram",
      );
      const state = initAggregate(shares);
      expectClose(state.beta, recordedF64(init.aggregated, "beta"), TOL, "beta init");
      expect(Array.from(state.mask).every((v) => v === 1)).toBe(true);
    });

    for (const step of file.steps.filter((s) => s.phase === "irls")) {
      it(`IRLS round ${step.phase_round}: local shares and aggregation`, () => {
        if (step.input_shared_state === null) throw new Error("no input");
        const state = recordedIrlsState(step.input_shared_state);
        const shares = file.center_order.map((cn, c) => {
          const ours = irlsLocalStep(centers[c], irlsRequest(state), hp);
          const rec = step.local_shares[cn];
          const genes = Int32Array.from(
            Array.from(state.mask.entries())
              .filter(([, v]) => v)
              .map(([g]) => g),
          );
          const beta = new Float64Array(genes.length * centers[c].main.data.p);
          genes.forEach((g, a) => {
            const p = centers[c].main.data.p;
            beta.set(state.beta.subarray(g * p, g * p + p), a * p);
          });
          const scale = termScales(centers[c].main.data, genes, beta, hp.minMu);
          expectClose(
            ours.nll,
            recordedF64(rec, "local_nll"),
            { ...TOL, scale: scale.nll },
            `${cn} nll`,
          );
          expectClose(ours.hatMatrix, recordedF64(rec, "local_hat_matrix"), TOL, `${cn} XᵀWX`);
          expectClose(ours.features, recordedF64(rec, "local_features"), TOL, `${cn} XᵀWz`);
          return {
            kind: "irls-share" as const,
            round: state.round,
            nll: recordedF64(rec, "local_nll"),
            hatMatrix: recordedF64(rec, "local_hat_matrix"),
            features: recordedF64(rec, "local_features"),
          };
        });
        const out = irlsAggregate(state, shares, hp);
        const agg = step.aggregated;
        expectClose(out.beta, recordedF64(agg, "beta"), TOL, "beta");
        expectClose(out.nll, recordedF64(agg, "global_nll"), TOL, "global_nll");
        expect(Array.from(out.mask)).toEqual(Array.from(recordedMask(agg, "irls_mask")));
        expect(Array.from(out.divergedMask)).toEqual(
          Array.from(recordedMask(agg, "irls_diverged_mask")),
        );
        expect(out.round).toBe(agg.round_number_irls);
      });
    }

    it("full run from the init reproduces the IRLS end state", () => {
      const shares = centers.map((c) => initLocalStep(c, { kind: "init-request", refit: false }));
      let state: IrlsRoundState | IrlsEndState = initAggregate(shares);
      while (state.kind === "irls-round") {
        const s: IrlsRoundState = state;
        state = irlsAggregate(
          s,
          centers.map((c) => irlsLocalStep(c, irlsRequest(s), hp)),
          hp,
        );
      }
      const end = file.irls_end_state;
      if (end === null) throw new Error("no IRLS end state");
      // Genes whose upstream path flips under a one-ulp change of the inputs are listed, not compared.
      const flips = bool(file.ulp_sensitivity.outcome_changed);
      const beta = recordedF64(end, "beta");
      const mask = recordedMask(end, "irls_mask");
      const diverged = recordedMask(end, "irls_diverged_mask");
      const p = centers[0].main.data.p;
      let compared = 0;
      for (let g = 0; g < flips.length; g++) {
        if (flips[g]) continue;
        compared++;
        const gene = file.non_zero_genes[g];
        for (let k = 0; k < p; k++) {
          expect(
            Math.abs(state.beta[g * p + k] - beta[g * p + k]),
            `${gene} beta`,
          ).toBeLessThanOrEqual(1e-8);
        }
        expect(state.mask[g], `${gene} irls_mask`).toBe(mask[g]);
        expect(state.divergedMask[g], `${gene} irls_diverged`).toBe(diverged[g]);
      }
      expect(compared).toBeGreaterThan(flips.length - 3);
    });
  });
}
