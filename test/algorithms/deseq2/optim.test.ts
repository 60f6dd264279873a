/**
 * The `deseq2` solver's refit of unconverged rows (DESeq2's `fitNbinomGLMsWithOptim`, R's
 * L-BFGS-B) against DESeq2 1.38.3 itself: `nbinomWaldTest(dds, maxit = 3 or 4)` on real data
 * sends most rows to optim (fixtures/optim.R); with the same `maxit` ours must send the same rows,
 * report the same `betaConv`/`betaIter`, and land on DESeq2's coefficients.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../../src/algorithms/hyperparameters.js";
import { InProcessTransport } from "../../../src/federation/inProcess.js";
import { readCsv } from "../../../src/io/csv.js";
import { fitOverFederation, simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { DESIGNS } from "../../helpers/fits.js";
import { sharedPath } from "../../helpers/shared.js";
import { useTempFolder } from "../../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const temp = useTempFolder();
const measured: string[] = [];
afterAll(() => console.info(`deseq2 solver's optim refit vs DESeq2:\n  ${measured.join("\n  ")}`));

describe.each([
  ["li_lncap", 3],
  ["bodymap", 4],
])("%s with maxit = %i", (dataset, maxit) => {
  it("refits DESeq2's rows with L-BFGS-B and lands on DESeq2's coefficients", async () => {
    const file = join(fixtures, `optim_${dataset}_maxit${maxit}.csv`);
    const table = readCsv(file);
    const genes = table.rows.map((r) => r.fields[0]);
    const column = (name: string) => {
      const k = table.header.indexOf(name);
      return table.rows.map((r) => r.fields[k]);
    };
    const outcome = await fitOverFederation(
      new InProcessTransport(await simulatedCenters(sharedPath("data", dataset))),
      {
        design: DESIGNS[dataset],
        sizeFactorsFile: sharedPath("data", dataset, "deseq2", "size_factors.csv"),
        dispersionsFile: sharedPath("data", dataset, "deseq2", "fit.csv"),
        genesFile: temp.write(`${dataset}.genes`, `${genes.join("\n")}\n`),
        mode: "irls-pqn",
        solver: "deseq2",
        maxit,
        references: {},
        fixedRounds: false,
        hp: DEFAULT_HYPERPARAMETERS,
        outDir: "unused",
      },
    );
    const { result } = outcome;
    const p = outcome.columns.length;
    const row = new Map(Array.from(outcome.fitted, (g, j) => [outcome.genes[g], j]));
    const conv = column("beta_conv");
    const iter = column("beta_iter").map(Number);
    const coefficients = outcome.columns.map((c) => column(`beta_log2.${c}`).map(Number));
    let refitted = 0;
    let sameRows = 0;
    let sameConv = 0;
    let sameIter = 0;
    let within = 0;
    let worst = 0;
    let worstGene = "";
    genes.forEach((id, i) => {
      const j = row.get(id);
      if (j === undefined) throw new Error(`${id} not fitted`);
      const theirsRefit = iter[i] >= maxit;
      if (theirsRefit) refitted++;
      if ((result.pqnCaught[j] === 1) === theirsRefit) sameRows++;
      if ((result.converged[j] === 1) === (conv[i] === "TRUE")) sameConv++;
      if (result.iterations[j] === iter[i]) sameIter++;
      let error = 0;
      for (let k = 0; k < p; k++) {
        const ours = result.beta[j * p + k] / Math.LN2;
        const theirs = coefficients[k][i];
        error = Math.max(error, Math.abs(ours - theirs) / (Math.abs(theirs) + 1e-8));
      }
      if (error <= 1e-6) within++;
      // FEDSEQ_DEBUG_OPTIM=1 lists the genes that differ from DESeq2.
      if (
        process.env.FEDSEQ_DEBUG_OPTIM &&
        (error > 1e-6 || (result.converged[j] === 1) !== (conv[i] === "TRUE"))
      ) {
        const ours = Array.from({ length: p }, (_, k) => result.beta[j * p + k] / Math.LN2);
        console.info(
          id,
          `betaConv R ${conv[i]} ours ${result.converged[j]}`,
          `rel ${error.toExponential(2)}`,
          coefficients.map((c) => c[i]).join(" "),
          ours.join(" "),
        );
      }
      if (error > worst) {
        worst = error;
        worstGene = id;
      }
    });
    measured.push(
      `${dataset} maxit ${maxit}: ${genes.length} genes, ${refitted} refitted by DESeq2's optim, same rows ${sameRows}, betaConv equal ${sameConv}, betaIter equal ${sameIter}, coefficients within 1e-6 rel ${within}, worst ${worst.toExponential(2)} (${worstGene}), rounds ${JSON.stringify(outcome.ledger.rounds)}`,
    );
    expect(refitted).toBeGreaterThan(200);
    // IRLS is replayed exactly: the same rows leave it after the same iterations.
    expect(sameRows).toBe(genes.length);
    expect(sameIter).toBe(genes.length);
    // The centers evaluate R's own dnbinom, 2^x and long-double sum bit for bit; what still
    // differs is where L-BFGS-B starts (IRLS by normal equations, DESeq2's by QR: last bits) and
    // each center rounding its partial sum. Near the optimum L-BFGS-B's last line search compares
    // objective values in their last bits, so "converged" and "abnormal termination" (betaConv)
    // swap on a few rows, and on flat objectives (an all-zero tissue) the stopping point moves.
    expect(sameConv / genes.length).toBeGreaterThanOrEqual(0.99);
    expect(within / genes.length).toBeGreaterThanOrEqual(0.99);
    expect(worst).toBeLessThan(0.01);
  });
});

it("the fixtures name their generator", () => {
  expect(readFileSync(join(fixtures, "optim.R"), "utf8")).toContain("nbinomWaldTest(dds, maxit");
});
