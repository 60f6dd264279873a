/**
 * `run` against DESeq2 on the pooled data, on every shared dataset: size factors, dispersions,
 * fold changes, standard errors, Wald statistics, p-values and adjusted p-values, with the
 * acceptance thresholds of the issues (shares of genes within a tolerance).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { bundledBodymap } from "../../src/io/bundled.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import {
  deseq2Table,
  deseq2TableAt,
  type ResultColumns,
  resultColumns,
  resultsAgreement,
  shareWithin,
} from "../helpers/deseq2.js";
import { DESIGNS } from "../helpers/fits.js";
import { sharedDefaultRun, sharedDemoRun } from "../helpers/processes.js";
import { batchRunWithVst, runShared } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";

/** Mid-ranks (ties share their mean rank). */
function ranks(values: number[]): Float64Array {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const out = new Float64Array(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    for (let k = i; k <= j; k++) out[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/** Spearman's rank correlation of the pairs where both are defined. */
function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!Number.isNaN(a[i]) && !Number.isNaN(b[i])) {
      x.push(a[i]);
      y.push(b[i]);
    }
  }
  const rx = ranks(x);
  const ry = ranks(y);
  const mean = (x.length + 1) / 2;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let i = 0; i < x.length; i++) {
    cov += (rx[i] - mean) * (ry[i] - mean);
    vx += (rx[i] - mean) ** 2;
    vy += (ry[i] - mean) ** 2;
  }
  return cov / Math.sqrt(vx * vy);
}

/** What the default-design checks read of a run's files (results, dispersions, size factors). */
interface DefaultRun {
  readonly fit: { readonly genes: string[] };
  readonly results: ResultColumns;
  /** The genes of dispersions.csv, in its order. */
  readonly dispersionGenes: string[];
  /** dispersions.csv's gene-wise and final dispersions (NaN for all-zero genes). */
  readonly dispersions: { readonly genewise: Float64Array; readonly final: Float64Array };
  /** size_factors.csv's samples and their size factors. */
  readonly samples: string[];
  readonly sizeFactors: Float64Array;
}

/** The default analysis of a shared dataset, read from the files of its shared run. */
async function defaultRun(dataset: string): Promise<DefaultRun> {
  if (dataset === "bodymap") {
    // The demo's data is the shared copy, byte for byte: DESeq2's outputs for it apply.
    const bundled = bundledBodymap();
    expect(
      gunzipSync(readFileSync(join(bundled, "counts.csv.gz"))).equals(
        readFileSync(sharedPath("data", "bodymap", "counts.csv")),
      ),
    ).toBe(true);
    expect(
      readFileSync(join(bundled, "metadata.csv")).equals(
        readFileSync(sharedPath("data", "bodymap", "metadata.csv")),
      ),
    ).toBe(true);
  }
  const run = dataset === "bodymap" ? await sharedDemoRun() : await sharedDefaultRun(dataset);
  expect(run.code, run.stderr).toBe(0);
  const results = deseq2TableAt(join(run.out, "results.csv"));
  const dispersions = deseq2TableAt(join(run.out, "dispersions.csv"));
  const sizeFactors = deseq2TableAt(join(run.out, "size_factors.csv"));
  return {
    fit: { genes: results.ids },
    results: resultColumns(results),
    dispersionGenes: dispersions.ids,
    dispersions: {
      genewise: dispersions.numbers("dispersion_genewise"),
      final: dispersions.numbers("dispersion"),
    },
    samples: sizeFactors.ids,
    sizeFactors: sizeFactors.numbers("size_factor"),
  };
}

const measured: string[] = [];
afterAll(() => console.info(`run vs DESeq2 (deseq2 solver):\n  ${measured.join("\n  ")}`));

/** The design factor of each dataset (`~ center + <factor>` is DESeq2's batch run). */
const FACTORS: Record<string, string> = {
  bodymap: "tissue",
  li_lncap: "treatment",
  outliers_sim: "condition",
};

/**
 * [9]'s acceptance on one results table: log2FoldChange, lfcSE and stat within 1% (+1e-8) and
 * padj < 0.05 calls agreeing, each for ≥ 99.95% of genes.
 */
function expectDeseq2Results(
  label: string,
  outcome: {
    readonly results: Parameters<typeof resultsAgreement>[0];
    readonly fit: { readonly genes: readonly string[] };
  },
  results: ReturnType<typeof deseq2Table>,
  atLeast = 0.9995,
): void {
  expect(outcome.fit.genes).toEqual(results.ids);
  const shares = resultsAgreement(outcome.results, results);
  const genes = results.ids.length;
  measured.push(
    `${label}: ${Object.entries(shares)
      .map(([k, v]) => `${k} ${(100 * v).toFixed(3)}% (${Math.round((1 - v) * genes)} off)`)
      .join(", ")}`,
  );
  for (const value of Object.values(shares)) expect(value).toBeGreaterThanOrEqual(atLeast);
}

for (const dataset of ["bodymap", "li_lncap", "outliers_sim"]) {
  const batch = `~ center + ${FACTORS[dataset]}`;
  describe(`run ${batch} on ${dataset} against DESeq2`, () => {
    it("log2FoldChange, lfcSE, stat within 1% and padj calls for ≥ 99.95% of genes", async () => {
      // The run of run.vst.test.ts (the same analysis with its LRT, and vst at its end),
      // computed once: results(test = "Wald") after the LRT, the Wald run's results.
      const run = await batchRunWithVst(dataset, FACTORS[dataset]);
      expectDeseq2Results(
        `${dataset} ${batch}`,
        { results: run.results, fit: { genes: run.genes } },
        deseq2Table(dataset, "batch_results.csv.gz", "deseq2_more"),
      );
    });
  });

  // DESeq(~ center * factor), results(name = last of resultsNames): [13]'s acceptance, with
  // resultsNames equal to DESeq2's (interaction_names.txt).
  const interaction = `~ center * ${FACTORS[dataset]}`;
  describe(`run ${interaction} on ${dataset} against DESeq2`, () => {
    it("DESeq2's resultsNames; log2FoldChange, lfcSE, stat within 1% and padj calls for ≥ 99.9% of genes", async () => {
      const outcome = await runShared(
        new InProcessTransport(await simulatedCenters(sharedPath("data", dataset))),
        dataset,
        "run-interaction",
        interaction,
      );
      const names = readFileSync(
        sharedPath("data", dataset, "deseq2_more", "interaction_names.txt"),
        "utf8",
      )
        .split("\n")
        .filter((n) => n !== "");
      expect(outcome.fit.columns).toEqual(names);
      expect(outcome.contrast).toBe(names[names.length - 1]);
      expectDeseq2Results(
        `${dataset} ${interaction}`,
        outcome,
        deseq2Table(dataset, "interaction_results.csv.gz", "deseq2_more"),
        0.999,
      );
    });
  });

  // DESeq(~ center + factor, test = "LRT", reduced = ~ center), results(): the fold changes and
  // standard errors are the Wald fit's, stat and pvalue the likelihood-ratio test's ([13]'s
  // acceptance: ≥ 99.9% of genes within 1%, padj calls ≥ 99.9%). The run of the batch check
  // above (computed once).
  describe(`run ${batch} --test LRT --reduced "~ center" on ${dataset} against DESeq2`, () => {
    it("log2FoldChange, lfcSE, stat within 1% and padj calls for ≥ 99.9% of genes", async () => {
      const run = await batchRunWithVst(dataset, FACTORS[dataset]);
      const outcome = { results: run.lrtResults, fit: { genes: run.genes } };
      const expected = deseq2Table(dataset, "lrt_results.csv.gz", "deseq2_more");
      expectDeseq2Results(`${dataset} LRT vs ~ center`, outcome, expected, 0.999);
      const pvalues = shareWithin(run.lrtResults.pvalue, expected.numbers("pvalue"), 0.01, 1e-8);
      measured.push(`${dataset} LRT p-values within 1%: ${(100 * pvalues).toFixed(3)}%`);
      expect(pvalues).toBeGreaterThanOrEqual(0.999);
      // df: the factor's coefficients among DESeq2's resultsNames.
      const names = readFileSync(
        sharedPath("data", dataset, "deseq2_more", "batch_names.txt"),
        "utf8",
      ).split("\n");
      const df = names.filter((n) => n.startsWith(`${FACTORS[dataset]}_`)).length;
      expect(df).toBeGreaterThan(0);
      expect(run.lrt).toEqual({ reduced: "~ center", df });
    });
  });

  describe(`run on ${dataset} against DESeq2`, () => {
    // DESeq2's default analysis as a user runs it, read from its files: `fedseq run --data
    // <dataset> --design <design>` (secure aggregation on), shared with run.cli,
    // secureAggregation.cli and grpc.processes; for bodymap `fedseq demo`, shared with demo.cli
    // (the bundled data is the shared copy, checked below). Each made once per vitest run.
    let outcome: DefaultRun;
    beforeAll(async () => {
      outcome = await defaultRun(dataset);
    });
    const fit = deseq2Table(dataset, "fit.csv");
    const results = deseq2Table(dataset, "results.csv");

    it("log2FoldChange, lfcSE, stat within 1% and padj calls for ≥ 99.95% of genes", () => {
      expectDeseq2Results(`${dataset} ${DESIGNS[dataset]}`, outcome, results);
    });

    it("lists the genes in DESeq2's order", () => {
      expect(outcome.fit.genes).toEqual(fit.ids);
      expect(outcome.fit.genes).toEqual(results.ids);
      expect(outcome.dispersionGenes).toEqual(fit.ids);
    });

    it("size factors: DESeq2's to 1e-8 relative", () => {
      const sf = deseq2Table(dataset, "size_factors.csv");
      const expected = new Map(sf.ids.map((s, i) => [s, sf.numbers("size_factor")[i]]));
      expect([...outcome.samples].sort()).toEqual([...sf.ids].sort());
      const ordered = Float64Array.from(outcome.samples, (s) => expected.get(s) as number);
      let worst = 0;
      ordered.forEach((e, i) => {
        worst = Math.max(worst, Math.abs(outcome.sizeFactors[i] - e) / e);
      });
      measured.push(`${dataset}: size factors max relative error ${worst.toExponential(1)}`);
      expect(shareWithin(outcome.sizeFactors, ordered, 1e-8)).toBe(1);
    });

    it("dispersions: final within 2% for ≥ 99% of non-zero genes, gene-wise within 5% for ≥ 97%", () => {
      const nonZero = fit.numbers("all_zero").map((z) => (z === 0 ? 1 : 0));
      const pick = (x: Float64Array) => x.filter((_, g) => nonZero[g] === 1);
      // dispersions.csv: a row per gene in DESeq2's order (checked above), empty for all-zero genes.
      const d = outcome.dispersions;
      const final = shareWithin(pick(d.final), pick(fit.numbers("dispersion")), 0.02);
      const genewise = shareWithin(pick(d.genewise), pick(fit.numbers("disp_gene_est")), 0.05);
      measured.push(
        `${dataset}: gene-wise dispersion within 5% ${(100 * genewise).toFixed(3)}%, final within 2% ${(100 * final).toFixed(3)}%`,
      );
      expect(final).toBeGreaterThanOrEqual(0.99);
      expect(genewise).toBeGreaterThanOrEqual(0.97);
    });

    it("log2 fold changes within 2% + 1e-3 for ≥ 99% of genes; within 1% for ≥ 99.5%", () => {
      const lfc = outcome.results.log2FoldChange;
      const expected = results.numbers("log2FoldChange");
      expect(shareWithin(lfc, expected, 0.02, 1e-3)).toBeGreaterThanOrEqual(0.99);
      expect(shareWithin(lfc, expected, 0.01, 1e-12)).toBeGreaterThanOrEqual(0.995);
    });

    it("lfcSE and stat within 1% for ≥ 99.5% of genes", () => {
      expect(
        shareWithin(outcome.results.lfcSE, results.numbers("lfcSE"), 0.01),
      ).toBeGreaterThanOrEqual(0.995);
      expect(
        shareWithin(outcome.results.stat, results.numbers("stat"), 0.01, 1e-12),
      ).toBeGreaterThanOrEqual(0.995);
    });

    it("p-values rank as DESeq2's (Spearman ≥ 0.999); padj < 0.05 agrees on ≥ 99.5% of genes", () => {
      const rho = spearman(outcome.results.pvalue, results.numbers("pvalue"));
      measured.push(`${dataset}: Spearman of p-values ${rho.toPrecision(10)}`);
      expect(rho).toBeGreaterThanOrEqual(0.999);
      const ours = outcome.results.padj;
      const theirs = results.numbers("padj");
      let agree = 0;
      for (let g = 0; g < theirs.length; g++) if (ours[g] < 0.05 === theirs[g] < 0.05) agree++;
      expect(agree / theirs.length).toBeGreaterThanOrEqual(0.995);
    });
  });
}
