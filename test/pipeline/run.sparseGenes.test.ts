/**
 * A plan that leaves sparse genes out (`omit_sparse_genes`, issue [11]): under secure
 * aggregation over three centers (pooled cells), a gene with 1 or 2 non-zero counts in some
 * pooled cell is left out before anything else is computed of it, and gets a row of NA; every
 * other gene is analysed as usual. Checked on outliers_sim (three labs, ~ condition) against the
 * data itself (which genes are sparse) and against DESeq2's results for the genes kept.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localCellSizes } from "../../src/federation/cellRule.js";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { readDataset } from "../../src/io/dataset.js";
import { planFromRunJob } from "../../src/pipeline/analysisPlan.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { planPipeline, runOverFederation } from "../../src/pipeline/run.js";
import { deseq2Table, shareWithin } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { sparseInSomeCell } from "../helpers/sparseGenes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const DATA = sharedPath("data", "outliers_sim");
const tmp = useTempFolder("fedseq-sparse-");

/** Whether each gene of a dataset has 1 or 2 non-zero counts in some level of `factor`. */
async function sparseByData(factor: string): Promise<boolean[]> {
  const dataset = await readDataset(DATA);
  const level = dataset.metadata.values.get(factor) as string[];
  return dataset.genes.map((_, g) =>
    sparseInSomeCell(dataset.counts, g, dataset.samples.length, level),
  );
}

describe("run under a plan that leaves sparse genes out (outliers_sim, ~ condition, secure)", () => {
  it("leaves out exactly the genes with 1 or 2 non-zero counts in a condition; the others agree with DESeq2", async () => {
    const dataset = await readDataset(DATA);
    const job = deseq2Job("outliers_sim");
    const centers = dataset.centers.map((c) => centerDataFromDataset(dataset, c));
    const levels = { condition: ["A", "B"] };
    const plan = planFromRunJob(job, levels, dataset.centers, {
      minCell: 3,
      secureAggregation: true,
      cellSizes: Object.fromEntries(
        centers.map((c) => [c.name, localCellSizes({ design: job.design, levels }, c)]),
      ),
      omitSparseGenes: true,
    });
    // Each center verifies every request against its replay of the plan (as a real one does).
    const sessions = await simulatedCenters(DATA, {}, { plan: () => plan, replay: planPipeline });
    const transport = new InProcessTransport(sessions, { secureAggregation: true });
    let outcome: Awaited<ReturnType<typeof runOverFederation>>;
    try {
      outcome = await runOverFederation(transport, job, { runId: "sparse", plan });
    } finally {
      await transport.close();
    }

    // Which genes are sparse, from the pooled data: a condition with 1 or 2 non-zero counts.
    const sparse = await sparseByData("condition");
    const expectedOmitted = sparse.filter(Boolean).length;
    expect(expectedOmitted).toBeGreaterThan(0);
    expect(outcome.sparseGenes).toBe(expectedOmitted);
    expect(outcome.fit.genes).toEqual(dataset.genes);
    const r = outcome.results;
    sparse.forEach((isSparse, g) => {
      const row = [r.baseMean[g], r.log2FoldChange[g], r.pvalue[g], r.padj[g]];
      if (isSparse) expect(row.every(Number.isNaN), dataset.genes[g]).toBe(true);
      else expect(Number.isFinite(r.baseMean[g]), dataset.genes[g]).toBe(true);
    });

    // The kept genes against DESeq2 on all genes: leaving genes out moves the dispersion trend
    // a little; measured and held here.
    const theirs = deseq2Table("outliers_sim", "results.csv");
    const keptRows = dataset.genes.map((_, g) => g).filter((g) => !sparse[g]);
    const pick = (values: Float64Array) => Float64Array.from(keptRows, (g) => values[g]);
    const shares = {
      baseMean: shareWithin(pick(r.baseMean), pick(theirs.numbers("baseMean")), 1e-10),
      log2FoldChange: shareWithin(
        pick(r.log2FoldChange),
        pick(theirs.numbers("log2FoldChange")),
        0.01,
        1e-8,
      ),
      stat: shareWithin(pick(r.stat), pick(theirs.numbers("stat")), 0.01, 1e-8),
    };
    console.info(
      `outliers_sim, sparse genes left out: ${expectedOmitted} of ${dataset.genes.length}; kept genes within 1% of DESeq2: ${JSON.stringify(shares)}`,
    );
    // baseMean: exact but for the Cook's-replaced genes (approximate trimmed means, README).
    expect(shares.baseMean).toBeGreaterThanOrEqual(0.999);
    expect(shares.log2FoldChange).toBeGreaterThanOrEqual(0.99);
    expect(shares.stat).toBeGreaterThanOrEqual(0.99);
  });

  it("fedseq run --omit-sparse-genes: run.json counts them, results.csv gives them empty rows", async () => {
    const out = join(tmp.dir, "run");
    const run = await runFedseqAsync([
      "run",
      "--data",
      DATA,
      "--design",
      "~ condition",
      "--omit-sparse-genes",
      "--out",
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const sparse = await sparseByData("condition");
    const omitted = sparse.filter(Boolean).length;
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(report.sparse_genes).toEqual({ omitted });
    const rows = readFileSync(join(out, "results.csv"), "utf8").trim().split("\n").slice(1);
    const empty = rows.filter((row) => /^[^,]+,,,,,,$/.test(row)).map((row) => row.split(",")[0]);
    const dataset = await readDataset(DATA);
    expect(empty).toEqual(dataset.genes.filter((_, g) => sparse[g]));
  });

  it.each([
    ["bodymap", "tissue", 2701, 37653],
    ["li_lncap", "treatment", 10341, 22743],
  ] as const)(
    "%s: the genes the rule leaves out, as the README counts them (%s cells)",
    async (name, factor, sparse, genes) => {
      const dataset = await readDataset(sharedPath("data", name));
      const level = dataset.metadata.values.get(factor) as string[];
      const n = dataset.samples.length;
      const count = dataset.genes.filter((_, g) =>
        sparseInSomeCell(dataset.counts, g, n, level),
      ).length;
      expect({ count, genes: dataset.genes.length }).toEqual({ count: sparse, genes });
    },
  );
});
