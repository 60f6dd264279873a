/**
 * The `fit-lfc` job: read a dataset, set up each center (only its own samples), run the
 * federated LFC fit over a transport, and write `lfc.csv` and `run.json`.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FitCenter, prepareCenterData } from "../algorithms/center.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import { computeLfc, type LfcMode, type LfcResult } from "../algorithms/lfc/computeLfc.js";
import { maskCount } from "../algorithms/masks.js";
import { localPresence, mergePresence } from "../algorithms/setup/presence.js";
import {
  checkFullRank,
  designMatrix,
  localGram,
  localLevels,
  mergeLevels,
  type References,
} from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import { InProcessTransport } from "../federation/inProcess.js";
import { FederationRunner, type RoundEvent } from "../federation/runner.js";
import { FitCenterNode } from "../federation/steps.js";
import { formatNumber, writeCsvAtomic } from "../io/csv.js";
import { centerSlice, type Dataset, readDataset } from "../io/dataset.js";
import { InputError, listForMessage } from "../io/errors.js";
import { readDispersions, readGeneList, readSizeFactors } from "../io/sidecars.js";

/** Everything a `fit-lfc` run needs. */
export interface FitLfcJob {
  readonly dataDir: string;
  readonly design: string;
  readonly sizeFactorsFile: string;
  readonly dispersionsFile: string;
  readonly mode: LfcMode;
  readonly genesFile?: string;
  readonly references: References;
  readonly fixedRounds: boolean;
  readonly hp: FitHyperparameters;
  readonly outDir: string;
}

/** What a run reports (also written as `run.json`). */
export interface RunReport {
  rounds: { init: number; irls: number; pqn: number; total: number };
  bytes: { to_aggregator: number; from_aggregator: number };
  seconds: number;
  genes: {
    total: number;
    all_zero: number;
    not_selected: number;
    fitted: number;
    irls_converged: number;
    pqn_caught: number;
    pqn_diverged: number;
  };
  mode: LfcMode;
  solver: "upstream";
  fixed_rounds: boolean;
  /** Rounds upstream's static schedule runs (1 + irls_num_iter + 1 + PQN_num_iters + 1). */
  rounds_fixed_schedule: number;
  centers: string[];
  design_columns: string[];
}

/** A center set up for the fit: the data it alone holds, in the kernels' layout. */
interface CenterSetup {
  name: string;
  center: FitCenter;
}

/** The prepared federation of a job. */
export interface PreparedFit {
  dataset: Dataset;
  columns: string[];
  /** Genes fitted (indices into dataset.genes), in input order. */
  fitted: Int32Array;
  allZero: number;
  notSelected: number;
  centers: CenterSetup[];
}

/** Read and validate the inputs, and set up each center with its own samples only. */
export async function prepareFit(job: FitLfcJob): Promise<PreparedFit> {
  const formula = parseFormula(job.design);
  const dataset = await readDataset(job.dataDir);
  const sizeFactors = readSizeFactors(job.sizeFactorsFile, dataset.samples);
  const nAll = dataset.samples.length;
  const nGenes = dataset.genes.length;

  const selected = new Uint8Array(nGenes).fill(1);
  if (job.genesFile !== undefined) {
    const wanted = readGeneList(job.genesFile);
    const index = new Map(dataset.genes.map((g, i) => [g, i]));
    const unknown = wanted.filter((g) => !index.has(g));
    if (unknown.length > 0) {
      throw new InputError(
        `${job.genesFile}: ${unknown.length} gene(s) not in counts.csv: ${listForMessage(unknown)}`,
      );
    }
    selected.fill(0);
    for (const g of wanted) selected[index.get(g) as number] = 1;
  }

  // What each center alone holds: its samples' counts, metadata and size factors.
  const slices = dataset.centers.map((name) => {
    const { sampleIndices, metadata } = centerSlice(dataset, name);
    const n = sampleIndices.length;
    const counts = new Float64Array(nGenes * n);
    for (let g = 0; g < nGenes; g++) {
      for (let j = 0; j < n; j++) counts[g * n + j] = dataset.counts[g * nAll + sampleIndices[j]];
    }
    return {
      name,
      n,
      counts,
      metadata,
      sizeFactors: Float64Array.from(sampleIndices, (i) => sizeFactors[i]),
    };
  });

  // Federated set-up: presence bits, factor levels, Gram matrix.
  const present = mergePresence(slices.map((s) => localPresence(s.counts, s.n, nGenes)));
  const levels = mergeLevels(slices.map((s) => localLevels(s.metadata, formula)));
  const designs = slices.map((s) => designMatrix(s.metadata, formula, levels, job.references));
  const columns = designs[0].columns;
  const p = columns.length;
  const gram = new Float64Array(p * p);
  for (const d of designs) {
    const local = localGram(d);
    for (let i = 0; i < gram.length; i++) gram[i] += local[i];
  }
  checkFullRank(gram, p, columns);

  const fittedList: number[] = [];
  let allZero = 0;
  let notSelected = 0;
  for (let g = 0; g < nGenes; g++) {
    if (!present[g]) allZero++;
    else if (!selected[g]) notSelected++;
    else fittedList.push(g);
  }
  const fitted = Int32Array.from(fittedList);
  const fittedSet = new Uint8Array(nGenes);
  for (const g of fitted) fittedSet[g] = 1;
  const allDispersions = readDispersions(
    job.dispersionsFile,
    dataset.genes,
    (g) => fittedSet[g] === 1,
  );
  const dispersions = Float64Array.from(fitted, (g) => allDispersions[g]);

  const centers = slices.map((s, c) => {
    const counts = new Float64Array(fitted.length * s.n);
    for (let j = 0; j < fitted.length; j++) {
      const g = fitted[j];
      counts.set(s.counts.subarray(g * s.n, (g + 1) * s.n), j * s.n);
    }
    const center: FitCenter = {
      main: prepareCenterData({
        n: s.n,
        p,
        genes: fitted.length,
        design: designs[c].matrix,
        sizeFactors: s.sizeFactors,
        counts,
        dispersions,
      }),
    };
    return { name: s.name, center };
  });
  return { dataset, columns, fitted, allZero, notSelected, centers };
}

/** Run the fit on a prepared federation, in process. */
export async function runPreparedFit(
  prepared: PreparedFit,
  job: Pick<FitLfcJob, "hp" | "mode" | "fixedRounds">,
  onRound?: (event: RoundEvent) => void,
): Promise<{ result: LfcResult; runner: FederationRunner }> {
  const nodes = prepared.centers.map((c) => new FitCenterNode(c.name, c.center, job.hp));
  const transport = new InProcessTransport(nodes);
  const runner = new FederationRunner(transport, { fixedRounds: job.fixedRounds, onRound });
  try {
    const result = await computeLfc(runner, job.hp, job.mode);
    return { result, runner };
  } finally {
    await transport.close();
  }
}

/** Write `lfc.csv` (log2 coefficients) and `run.json` into `outDir`, atomically. */
export function writeFitOutputs(
  outDir: string,
  prepared: PreparedFit,
  result: LfcResult,
  report: RunReport,
): void {
  mkdirSync(outDir, { recursive: true });
  const p = prepared.columns.length;
  const rowOf = new Int32Array(prepared.dataset.genes.length).fill(-1);
  prepared.fitted.forEach((g, j) => {
    rowOf[g] = j;
  });
  const flag = (m: Uint8Array, j: number) => (m[j] ? "true" : "false");
  function* rows(): Generator<string[]> {
    for (let g = 0; g < prepared.dataset.genes.length; g++) {
      const j = rowOf[g];
      if (j < 0) {
        yield [prepared.dataset.genes[g], ...new Array<string>(p + 3).fill("")];
        continue;
      }
      const coefficients: string[] = [];
      for (let k = 0; k < p; k++)
        coefficients.push(formatNumber(result.beta[j * p + k] / Math.LN2));
      yield [
        prepared.dataset.genes[g],
        ...coefficients,
        flag(result.irlsConverged, j),
        flag(result.pqnCaught, j),
        flag(result.pqnDiverged, j),
      ];
    }
  }
  writeCsvAtomic(
    join(outDir, "lfc.csv"),
    ["gene", ...prepared.columns, "irls_converged", "pqn_caught", "pqn_diverged"],
    rows(),
  );
  const temp = join(outDir, `.run.json.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temp, join(outDir, "run.json"));
}

/** Run a whole `fit-lfc` job; returns the report written to run.json. */
export async function fitLfc(
  job: FitLfcJob,
  onRound?: (event: RoundEvent) => void,
): Promise<RunReport> {
  const started = performance.now();
  const prepared = await prepareFit(job);
  const { result, runner } = await runPreparedFit(prepared, job, onRound);
  const ledger = runner.ledger;
  const rounds = {
    init: ledger.rounds.init ?? 0,
    irls: ledger.rounds.irls ?? 0,
    pqn: ledger.rounds.pqn ?? 0,
    total: 0,
  };
  rounds.total = rounds.init + rounds.irls + rounds.pqn;
  const report: RunReport = {
    rounds,
    bytes: { to_aggregator: ledger.bytesToAggregator, from_aggregator: ledger.bytesFromAggregator },
    seconds: (performance.now() - started) / 1000,
    genes: {
      total: prepared.dataset.genes.length,
      all_zero: prepared.allZero,
      not_selected: prepared.notSelected,
      fitted: prepared.fitted.length,
      irls_converged: maskCount(result.irlsConverged),
      pqn_caught: maskCount(result.pqnCaught),
      pqn_diverged: maskCount(result.pqnDiverged),
    },
    mode: job.mode,
    solver: "upstream",
    fixed_rounds: job.fixedRounds,
    rounds_fixed_schedule:
      1 + (job.mode === "irls-pqn" ? job.hp.irlsNumIter + 1 : 0) + job.hp.pqnNumIters + 1,
    centers: prepared.centers.map((c) => c.name),
    design_columns: prepared.columns,
  };
  writeFitOutputs(job.outDir, prepared, result, report);
  return report;
}
