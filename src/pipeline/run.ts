/**
 * The `run` job: counts and metadata in, DESeq2's whole analysis out. Size factors, dispersions,
 * the log-fold-change fit, Wald tests, Cook's outliers and their refit, and the results table,
 * each federated: the aggregator sees per-gene aggregates and the samples' size factors only.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import type { LfcMode, LfcSolver } from "../algorithms/lfc/computeLfc.js";
import { mergePresence } from "../algorithms/setup/presence.js";
import { waldCovariance } from "../algorithms/wald/aggregate.js";
import { designColumns, mergeLevels, type References } from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import { InProcessTransport } from "../federation/inProcess.js";
import { FederationRunner, type RoundEvent } from "../federation/runner.js";
import type { Transport } from "../federation/transport.js";
import { writeFileAtomic } from "../io/atomic.js";
import { formatNumber, writeCsvAtomic } from "../io/csv.js";
import type { ReadDatasetOptions } from "../io/dataset.js";
import { type ReportInput, writeReport } from "../reports/html.js";
import { readReferenceLfc } from "../reports/reference.js";
import { type ContrastSpec, resolveContrast } from "../results/contrast.js";
import { type ResultsTable, resultsTable } from "../results/resultsTable.js";
import type { WaldOptions } from "../stats/wald.js";
import { type DispersionEstimates, federatedDispersions } from "./dispersions.js";
import {
  type FitOutcome,
  federationGenes,
  fitGenes,
  type ReportReference,
  type RunReport,
  reportInput,
  runReport,
  simulatedCenters,
  writeLfcCsv,
} from "./fitLfc.js";
import { federatedSizeFactors } from "./sizeFactors.js";

/** What the aggregator of a `run` is given: the model and the test, no data. */
export interface RunJob {
  readonly design: string;
  readonly references: References;
  readonly mode: LfcMode;
  readonly solver: LfcSolver;
  readonly hp: FitHyperparameters;
  readonly outDir: string;
  /** The contrast tested (default: DESeq2's, the last coefficient). */
  readonly contrast?: ContrastSpec;
  readonly wald: WaldOptions;
  /** Significance level of the independent filtering. */
  readonly alpha: number;
  readonly independentFiltering: boolean;
  /** A reference results table to compare with in the report (`--compare`). */
  readonly compareFile?: string;
}

/** A simulated `run`: the whole dataset folder, split into centers in this process. */
export interface SimulatedRunJob extends RunJob {
  readonly dataDir: string;
  readonly read?: ReadDatasetOptions;
}

/** Everything a finished run produced. */
export interface RunOutcome {
  readonly fit: FitOutcome;
  /** Sample ids, centers in federation order, and their size factors. */
  readonly samples: readonly string[];
  readonly sizeFactors: Float64Array;
  /** Dispersion estimates of the fitted genes (rows in `fit.fitted` order). */
  readonly dispersions: DispersionEstimates;
  readonly results: ResultsTable;
  /** The tested contrast, DESeq2-style ("tissue heart vs adipose"). */
  readonly contrast: string;
}

/** Options of {@link runOverFederation}. */
export interface RunOptions {
  readonly runId?: string;
  readonly onRound?: (event: RoundEvent) => void;
}

/**
 * Run DESeq2's analysis over a transport.
 * @param transport - reaches the centers (their data never leaves them)
 */
export async function runOverFederation(
  transport: Transport,
  job: RunJob,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const formula = parseFormula(job.design);
  const genes = federationGenes(transport);
  const history: RoundEvent[] = [];
  const runner = new FederationRunner(transport, {
    runId: options.runId,
    onRound: (event) => {
      history.push(event);
      options.onRound?.(event);
    },
  });

  const presence = await runner.round("setup", "presence", { kind: "presence-request", genes });
  const present = mergePresence(presence.map((s) => s.present));
  const fittedList: number[] = [];
  for (let g = 0; g < genes.length; g++) if (present[g]) fittedList.push(g);
  const fitted = Int32Array.from(fittedList);

  const sizeFactors = await federatedSizeFactors(runner, genes);
  const levelShares = await runner.round("setup", "levels", {
    kind: "levels-request",
    formula: job.design,
  });
  const levels = mergeLevels(levelShares.map((s) => s.levels));
  const columns = designColumns(formula, levels, job.references);
  const contrast = resolveContrast(job.contrast, formula, levels, columns);

  const dispersions = await federatedDispersions(runner, {
    genes,
    fitted,
    sizeFactors: sizeFactors.all,
    design: job.design,
    levels,
    references: job.references,
    hp: job.hp,
    solver: job.solver,
  });

  const fit = await fitGenes(runner, transport, {
    genes,
    fitted,
    allZero: genes.length - fitted.length,
    notSelected: 0,
    sizeFactors: sizeFactors.all,
    dispersions: dispersions.final,
    design: job.design,
    references: job.references,
    hp: job.hp,
    mode: job.mode,
    solver: job.solver,
    fingerprint: "",
    history,
  });

  const p = columns.length;
  const information = await runner.round("wald", "information", {
    kind: "information-request",
    beta: fit.result.beta,
    coefficients: p,
    refit: false,
  });
  const xtwx = information[0].xtwx.slice();
  for (const share of information.slice(1))
    for (let i = 0; i < xtwx.length; i++) xtwx[i] += share.xtwx[i];
  const { sigma } = waldCovariance(xtwx, p);

  const baseMean = new Float64Array(genes.length);
  fitted.forEach((g, j) => {
    baseMean[g] = fit.baseMean[j];
  });
  const results = resultsTable({
    genes: genes.length,
    fitted,
    baseMean,
    beta: fit.result.beta,
    sigma,
    contrast,
    wald: job.wald,
    alpha: job.alpha,
    independentFiltering: job.independentFiltering,
  });
  return {
    fit,
    samples: transport.centers.flatMap((c) => c.samples),
    sizeFactors: sizeFactors.all,
    dispersions,
    results,
    contrast: contrast.description,
  };
}

/** What `run` reports in `run.json`. */
export interface RunJson extends Omit<RunReport, "rounds"> {
  /** Round trips per phase (setup, size-factors, dispersions, init, irls/newton/pqn, wald, …) and in all. */
  rounds: Record<string, number> & { total: number };
  contrast: string;
  alpha: number;
  /** Mean normalised count below which independent filtering set padj to NA. */
  filter_threshold: number | null;
  /** Genes with padj < alpha. */
  significant: number;
  dispersions: { outliers: number; genewise_below_min: number };
}

/** The report of a finished run. */
export function runJson(outcome: RunOutcome, job: RunJob, seconds: number): RunJson {
  const base = runReport(outcome.fit, { ...job, fixedRounds: false }, seconds);
  const ledger = outcome.fit.ledger;
  const rounds: Record<string, number> & { total: number } = { total: 0 };
  for (const [phase, count] of Object.entries(ledger.rounds)) {
    rounds[phase] = count;
    rounds.total += count;
  }
  let significant = 0;
  for (const q of outcome.results.padj) if (q < job.alpha) significant++;
  let outliers = 0;
  let belowMin = 0;
  const d = outcome.dispersions;
  for (let j = 0; j < d.final.length; j++) {
    if (d.outlier[j]) outliers++;
    if (d.genewise[j] <= d.minDispersion) belowMin++;
  }
  const threshold = outcome.results.filterThreshold;
  return {
    ...base,
    rounds,
    contrast: outcome.contrast,
    alpha: job.alpha,
    filter_threshold: Number.isFinite(threshold) ? threshold : null,
    significant,
    dispersions: { outliers, genewise_below_min: belowMin },
  };
}

/**
 * Write a run's outputs into `outDir`, each atomically: `size_factors.csv`, `dispersions.csv`,
 * `lfc.csv`, `results.csv`, `run.json` and `report.html`.
 */
export async function writeRunOutputs(
  outDir: string,
  outcome: RunOutcome,
  job: RunJob,
  seconds: number,
): Promise<RunJson> {
  const report = runJson(outcome, job, seconds);
  const fitReport = runReport(outcome.fit, { ...job, fixedRounds: false }, seconds);
  mkdirSync(outDir, { recursive: true });
  writeCsvAtomic(
    join(outDir, "size_factors.csv"),
    ["sample", "size_factor"],
    outcome.samples.map((s, i) => [s, formatNumber(outcome.sizeFactors[i])]),
  );
  const { genes, fitted } = outcome.fit;
  const rowOf = new Int32Array(genes.length).fill(-1);
  fitted.forEach((g, j) => {
    rowOf[g] = j;
  });
  const d = outcome.dispersions;
  writeCsvAtomic(
    join(outDir, "dispersions.csv"),
    [
      "gene",
      "dispersion_genewise",
      "dispersion_trend",
      "dispersion_map",
      "dispersion",
      "dispersion_outlier",
    ],
    genes.map((gene, g) => {
      const j = rowOf[g];
      if (j < 0) return [gene, "", "", "", "", ""];
      return [
        gene,
        formatNumber(d.genewise[j]),
        formatNumber(d.trend[j]),
        formatNumber(d.map[j]),
        formatNumber(d.final[j]),
        d.outlier[j] ? "true" : "false",
      ];
    }),
  );
  writeLfcCsv(join(outDir, "lfc.csv"), outcome.fit);
  const r = outcome.results;
  writeCsvAtomic(
    join(outDir, "results.csv"),
    ["gene", "baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"],
    genes.map((gene, g) => [
      gene,
      formatNumber(r.baseMean[g]),
      formatNumber(r.log2FoldChange[g]),
      formatNumber(r.lfcSE[g]),
      formatNumber(r.stat[g]),
      formatNumber(r.pvalue[g]),
      formatNumber(r.padj[g]),
    ]),
  );
  writeFileAtomic(join(outDir, "run.json"), `${JSON.stringify(report, null, 2)}\n`);
  const reference =
    job.compareFile === undefined ? undefined : readReferenceLfc(job.compareFile, outcome.fit);
  await writeReport(
    join(outDir, "report.html"),
    runReportInput(outcome, report, fitReport, reference),
  );
  return report;
}

/** The HTML report's data for a run: the fit's, plus dispersions and the tests. */
function runReportInput(
  outcome: RunOutcome,
  report: RunJson,
  fitReport: RunReport,
  reference?: ReportReference,
): ReportInput {
  const base = reportInput(outcome.fit, fitReport, reference);
  const n = outcome.fit.genes.length;
  const spread = (values: Float64Array) => {
    const out = new Float64Array(n).fill(Number.NaN);
    outcome.fit.fitted.forEach((g, j) => {
      out[g] = values[j];
    });
    return out;
  };
  const d = outcome.dispersions;
  return {
    ...base,
    title: `fedseq: ${outcome.contrast}, ${report.genes.fitted} genes across ${outcome.fit.centers.length} centers`,
    lfc: outcome.results.log2FoldChange,
    coefficient: outcome.contrast,
    dispersions: { genewise: spread(d.genewise), trend: spread(d.trend), final: spread(d.final) },
    tests: {
      contrast: outcome.contrast,
      alpha: report.alpha,
      log2FoldChange: outcome.results.log2FoldChange,
      pvalue: outcome.results.pvalue,
      padj: outcome.results.padj,
      baseMean: outcome.results.baseMean,
    },
    summary: {
      ...base.summary,
      contrast: outcome.contrast,
      "rounds in all (every phase)": report.rounds.total,
      [`genes with padj < ${report.alpha}`]: report.significant,
      "dispersion outliers (gene-wise kept)": report.dispersions.outliers,
    },
  };
}

/** Run a whole `run` job as an in-process simulation; returns what it wrote to run.json. */
export async function runSimulated(
  job: SimulatedRunJob,
  onRound?: (event: RoundEvent) => void,
): Promise<RunJson> {
  const started = performance.now();
  const transport = new InProcessTransport(await simulatedCenters(job.dataDir, job.read));
  try {
    const outcome = await runOverFederation(transport, job, { onRound });
    return await writeRunOutputs(job.outDir, outcome, job, (performance.now() - started) / 1000);
  } finally {
    await transport.close();
  }
}
