/**
 * `fast` never reports a gene it did not converge: with a round budget too small for Newton, the
 * genes left over are refitted along the `deseq2` path, and end exactly as the `deseq2` solver
 * fits them (same coefficients, bit for bit; same betaConv and betaIter).
 */
import { expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../../src/algorithms/hyperparameters.js";
import { computeLfc } from "../../../src/algorithms/lfc/computeLfc.js";
import { InProcessTransport } from "../../../src/federation/inProcess.js";
import { FederationRunner } from "../../../src/federation/runner.js";
import { fitOverFederation, simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { sharedPath } from "../../helpers/shared.js";

it("fast hands its unconverged genes to the deseq2 path (li_lncap, 2 Newton rounds)", async () => {
  const transport = new InProcessTransport(await simulatedCenters(sharedPath("data", "li_lncap")));
  const runId = "handoff";
  // Prepares every center for the run (size factors, dispersions, design).
  const prepared = await fitOverFederation(
    transport,
    {
      design: "~ treatment",
      sizeFactorsFile: sharedPath("data", "li_lncap", "deseq2", "size_factors.csv"),
      dispersionsFile: sharedPath("data", "li_lncap", "deseq2", "fit.csv"),
      mode: "irls-pqn",
      solver: "deseq2",
      references: {},
      fixedRounds: false,
      hp: DEFAULT_HYPERPARAMETERS,
      outDir: "unused",
    },
    { runId },
  );
  const fast = await computeLfc(
    new FederationRunner(transport, { runId }),
    DEFAULT_HYPERPARAMETERS,
    "irls-pqn",
    { solver: "fast", fastMaxRounds: 2 },
  );
  const deseq2 = prepared.result;
  const handed = Array.from(fast.handedOver).reduce((a, b) => a + b, 0);
  expect(handed).toBeGreaterThan(1000);
  const p = 2;
  for (let g = 0; g < fast.handedOver.length; g++) {
    if (!fast.handedOver[g]) continue;
    expect(fast.beta.subarray(g * p, g * p + p)).toEqual(deseq2.beta.subarray(g * p, g * p + p));
    expect(fast.converged[g]).toBe(deseq2.converged[g]);
    expect(fast.iterations[g]).toBe(deseq2.iterations[g]);
  }
  // Nothing unconverged is left as an answer.
  expect(Array.from(fast.converged).every((c, g) => c === 1 || deseq2.converged[g] === 0)).toBe(
    true,
  );
  await transport.close();
});
