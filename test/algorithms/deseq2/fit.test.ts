/**
 * The `deseq2` solver against DESeq2 1.38.3's own `fitNbinomGLMs` on the shared datasets, with
 * DESeq2's size factors and final dispersions: the same iterations per gene (`betaIter`), the
 * same convergence (`betaConv`) and the same coefficients.
 */
import { afterAll, describe, expect, it } from "vitest";
import { deseq2Table } from "../../helpers/deseq2.js";
import { fitShared } from "../../helpers/fits.js";

const table: string[] = [];
afterAll(() => console.info(`deseq2 solver vs DESeq2's fit.csv:\n  ${table.join("\n  ")}`));

/** Genes DESeq2 refitted on replaced counts (their fit.csv row is the refit's). */
function refitted(dataset: string): Set<string> {
  if (dataset !== "outliers_sim") return new Set();
  const cooks = deseq2Table(dataset, "cooks.csv");
  const flag = cooks.numbers("replace");
  return new Set(cooks.ids.filter((_, i) => flag[i] === 1));
}

describe.each(["bodymap", "li_lncap", "outliers_sim"])("%s", (dataset) => {
  it("iterates, converges and lands as DESeq2's IRLS", async () => {
    const { outcome } = await fitShared(dataset, "irls-pqn", "deseq2");
    const fit = deseq2Table(dataset, "fit.csv");
    const row = new Map(fit.ids.map((id, i) => [id, i]));
    const iter = fit.numbers("beta_iter");
    const conv = fit.numbers("beta_conv");
    const p = outcome.columns.length;
    const columns = fit.header.filter((h) => h.startsWith("beta_ln."));
    expect(columns.length).toBe(p);
    const beta = columns.map((c) => fit.numbers(c));
    const skip = refitted(dataset);
    const { result } = outcome;
    let compared = 0;
    let sameIter = 0;
    let sameConv = 0;
    let maxRel = 0;
    let within1e6 = 0;
    outcome.fitted.forEach((g, j) => {
      const id = outcome.genes[g];
      if (skip.has(id)) return;
      const i = row.get(id);
      if (i === undefined) throw new Error(`${id} missing from fit.csv`);
      compared++;
      if (result.iterations[j] === iter[i]) sameIter++;
      if (result.converged[j] === conv[i]) sameConv++;
      let worst = 0;
      for (let k = 0; k < p; k++) {
        const ours = result.beta[j * p + k];
        const theirs = beta[k][i];
        worst = Math.max(worst, Math.abs(ours - theirs) / (Math.abs(theirs) + 1e-8));
      }
      maxRel = Math.max(maxRel, worst);
      if (worst <= 1e-6) within1e6++;
    });
    table.push(
      `${dataset}: ${compared} genes, betaIter equal ${sameIter}, betaConv equal ${sameConv}, β within 1e-6 rel ${within1e6}, max rel ${maxRel.toExponential(2)}, rounds ${JSON.stringify(outcome.ledger.rounds)}`,
    );
    expect(sameConv).toBe(compared);
    expect(sameIter).toBe(compared);
    expect(within1e6).toBe(compared);
    // Normal equations (ours) against DESeq2's QR: the same iterates up to rounding.
    expect(maxRel).toBeLessThan(1e-8);
  });
});
