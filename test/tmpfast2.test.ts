import { it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../src/algorithms/hyperparameters.js";
import { InProcessTransport } from "../src/federation/inProcess.js";
import { readCsv } from "../src/io/csv.js";
import { fitOverFederation, simulatedCenters } from "../src/pipeline/fitLfc.js";
import { DESIGNS } from "./helpers/fits.js";
import { sharedPath } from "./helpers/shared.js";

it("fast", async () => {
  const dataset = "li_lncap";
  const sessions = await simulatedCenters(sharedPath("data", dataset));
  const o = await fitOverFederation(new InProcessTransport(sessions), {
    design: DESIGNS[dataset],
    sizeFactorsFile: sharedPath("data", dataset, "deseq2", "size_factors.csv"),
    dispersionsFile: sharedPath("data", dataset, "deseq2", "fit.csv"),
    mode: "irls-pqn",
    solver: "fast",
    references: {},
    fixedRounds: false,
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: "x",
  });
  const table = readCsv(sharedPath("data", dataset, "deseq2", "fit.csv"));
  const by = new Map(table.rows.map((r) => [r.fields[0], r.fields]));
  const counts = readCsv(sharedPath("data", dataset, "counts.csv"));
  const cb = new Map(counts.rows.map((r) => [r.fields[0], r.fields.slice(1)]));
  o.fitted.forEach((g, j) => {
    if (!o.result.pqnDiverged[j]) return;
    const gene = o.genes[g];
    console.log(
      gene,
      Array.from(o.result.beta.subarray(j * 2, j * 2 + 2)),
      "deseq2",
      by.get(gene)!.slice(2, 12).join(" "),
      "counts",
      cb.get(gene)!.join(" "),
      "round",
      o.result.finishedRound[j],
    );
  });
});
