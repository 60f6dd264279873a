import { it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../src/algorithms/hyperparameters.js";
import { InProcessTransport } from "../src/federation/inProcess.js";
import { readCsv } from "../src/io/csv.js";
import { fitOverFederation, simulatedCenters } from "../src/pipeline/fitLfc.js";
import { agreement } from "../src/reports/agreement.js";
import { DESIGNS } from "./helpers/fits.js";
import { sharedPath } from "./helpers/shared.js";

it("fast", async () => {
  for (const dataset of ["bodymap", "li_lncap", "outliers_sim"]) {
    const t0 = performance.now();
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
    const p = o.columns.length;
    const genes = Array.from(o.fitted, (g) => o.genes[g]);
    const table = readCsv(sharedPath("data", dataset, "deseq2", "fit.csv"));
    const cols = table.header.flatMap((h, i) => (h.startsWith("beta_ln.") ? [i] : []));
    const by = new Map(table.rows.map((r) => [r.fields[0], r.fields]));
    const ref = new Float64Array(genes.length * p);
    genes.forEach((g, j) =>
      cols.forEach((c, k) => {
        ref[j * p + k] = Number(by.get(g)![c]);
      }),
    );
    let refit = new Uint8Array(genes.length);
    if (dataset === "outliers_sim") {
      const ct = readCsv(sharedPath("data", dataset, "deseq2", "cooks.csv"));
      const rep = new Set(ct.rows.filter((r) => r.fields[1] === "TRUE").map((r) => r.fields[0]));
      refit = Uint8Array.from(genes, (g) => (rep.has(g) ? 1 : 0));
    }
    const centers = sessions.map((s) => s.preparedFit!);
    const a = agreement(
      centers,
      o.result.beta,
      ref,
      0.5,
      refit.map((v) => 1 - v),
    );
    const unconv = o.result.pqnDiverged.reduce((x, y) => x + y, 0);
    const hist: Record<number, number> = {};
    for (const r of o.result.finishedRound) hist[r] = (hist[r] ?? 0) + 1;
    console.log(
      dataset,
      JSON.stringify(o.ledger.rounds),
      "unconverged",
      unconv,
      JSON.stringify(a),
      ((performance.now() - t0) / 1000).toFixed(1),
      "s",
      JSON.stringify(hist),
    );
  }
});
