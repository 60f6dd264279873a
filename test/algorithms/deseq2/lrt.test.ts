/**
 * The likelihood-ratio statistic (src/algorithms/deseq2/lrt.ts) against DESeq2 1.38.3's
 * `nbinomLRT` on the same inputs (fixtures/lrt.R): li_lncap's first 1,500 genes with counts,
 * `~ center + treatment` against `~ center`, DESeq2's size factors and dispersions; at the
 * default maxit, and at maxit = 3, where most rows of both fits go to L-BFGS-B (whose
 * log-likelihood DESeq2 takes at μ floored at 0.5).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { lrtStatistic, reducedColumnIndices } from "../../../src/algorithms/deseq2/lrt.js";
import { DEFAULT_HYPERPARAMETERS } from "../../../src/algorithms/hyperparameters.js";
import { maskCount } from "../../../src/algorithms/masks.js";
import { InProcessTransport } from "../../../src/federation/inProcess.js";
import { FederationRunner } from "../../../src/federation/runner.js";
import { readCsv } from "../../../src/io/csv.js";
import { fitOverFederation, simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { sharedPath } from "../../helpers/shared.js";
import { useTempFolder } from "../../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const temp = useTempFolder();
const measured: string[] = [];
afterAll(() => console.info(`LRT statistic vs DESeq2's nbinomLRT:\n  ${measured.join("\n  ")}`));

const table = readCsv(join(fixtures, "lrt_li_lncap.csv"));
const column = (name: string) => {
  const k = table.header.indexOf(name);
  return table.rows.map((r) => r.fields[k]);
};
const genes = column("gene");

describe.each([
  [100, "stat"],
  [3, "stat_maxit3"],
])("li_lncap ~ center + treatment against ~ center, maxit %i", (maxit, statColumn) => {
  it("gives DESeq2's statistic, given DESeq2's size factors and dispersions", async () => {
    const transport = new InProcessTransport(
      await simulatedCenters(sharedPath("data", "li_lncap")),
    );
    const runId = `lrt-maxit${maxit}`;
    try {
      const fit = await fitOverFederation(
        transport,
        {
          design: "~ center + treatment",
          sizeFactorsFile: sharedPath("data", "li_lncap", "deseq2", "size_factors.csv"),
          dispersionsFile: temp.write(
            "dispersions.csv",
            `gene,dispersion\n${genes.map((g, i) => `${g},${column("dispersion")[i]}`).join("\n")}\n`,
          ),
          genesFile: temp.write("genes.txt", `${genes.join("\n")}\n`),
          mode: "irls-pqn",
          solver: "deseq2",
          maxit,
          references: {},
          fixedRounds: false,
          hp: DEFAULT_HYPERPARAMETERS,
          outDir: "unused",
        },
        { runId },
      );
      const p = fit.columns.length;
      const keep = reducedColumnIndices(
        fit.columns,
        fit.columns.filter((c) => !c.startsWith("treatment_")),
      );
      const lrt = await lrtStatistic(new FederationRunner(transport, { runId }), {
        beta: fit.result.beta,
        optimised: fit.result.pqnCaught,
        p,
        keep,
        baseMean: fit.baseMean,
        refit: false,
        maxIterations: maxit,
        phase: "lrt",
      });
      expect(lrt.df).toBe(1);
      const expected = column(statColumn).map(Number);
      const row = new Map(Array.from(fit.fitted, (g, j) => [fit.genes[g], j]));
      let worst = 0;
      let within = 0;
      genes.forEach((id, i) => {
        const j = row.get(id) as number;
        const error = Math.abs(lrt.stat[j] - expected[i]);
        worst = Math.max(worst, error);
        if (error <= 1e-8 * Math.abs(expected[i]) + 1e-8) within++;
      });
      measured.push(
        `maxit ${maxit}: ${maskCount(fit.result.pqnCaught)} of ${genes.length} full fits by L-BFGS-B; |stat − DESeq2's| ≤ 1e-8·|stat| + 1e-8 for ${within}, largest ${worst.toExponential(2)}`,
      );
      expect(within).toBe(genes.length);
    } finally {
      await transport.close();
    }
  });
});
