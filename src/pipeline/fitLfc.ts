/**
 * The `fit-lfc` job, on any transport: set-up steps (presence, levels, prepare), the federated
 * LFC fit, and the outputs `lfc.csv` and `run.json`. The aggregator side reads only what the
 * user gives it (size factors, dispersions, gene list); the counts stay with the centers.
 */
import { join } from "node:path";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import type { LocalKernels } from "../algorithms/kernels.js";
import {
  computeLfc,
  type LfcMode,
  type LfcResult,
  type LfcSolver,
} from "../algorithms/lfc/computeLfc.js";
import { maskCount } from "../algorithms/masks.js";
import { mergePresence } from "../algorithms/setup/presence.js";
import { levelsOf, prepareRequest } from "../algorithms/setup/state.js";
import { defaultThreads, GenePool } from "../compute/genePool.js";
import {
  checkFullRank,
  type DesignLevels,
  designColumns,
  mergeLevels,
  type References,
} from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import { type CenterData, centerDataByCenter } from "../federation/centerData.js";
import { CenterSession } from "../federation/centerSession.js";
import { InProcessTransport } from "../federation/inProcess.js";
import type { AnalysisPlan } from "../federation/plan.js";
import { FederationRunner, type RoundEvent, type RunLedger } from "../federation/runner.js";
import type { Transport } from "../federation/transport.js";
import type { ReplayedPipeline } from "../federation/verifiedRequests.js";
import { writeFileAtomic } from "../io/atomic.js";
import { formatNumber, writeCsvAtomic } from "../io/csv.js";
import { type ReadDatasetOptions, readDatasetByCenter } from "../io/dataset.js";
import { InputError, listForMessage } from "../io/errors.js";
import { makeFolders } from "../io/folders.js";
import { versionSuffixHint } from "../io/geneIds.js";
import { readDispersions, readGeneList, readSizeFactors } from "../io/sidecars.js";
import type { FitMethod, ReportInput } from "../reports/html.js";
import { type ReportReference, readReferenceLfc } from "../reports/reference.js";
import { ReportThread } from "../reports/reportThread.js";
import type { FitCheckpoint } from "./checkpoint.js";

/** What the aggregator of a `fit-lfc` run is given (the data itself stays at the centers). */
export interface FitLfcJob {
  readonly design: string;
  readonly sizeFactorsFile: string;
  readonly dispersionsFile: string;
  readonly mode: LfcMode;
  /** The solver (default `deseq2`; `fast`, or `upstream` for fedpydeseq2's IRLS + PQN at parity). */
  readonly solver?: LfcSolver;
  /** DESeq2's `maxit`: IRLS iterations of the `deseq2` path before L-BFGS-B (default 100). */
  readonly maxit?: number;
  readonly genesFile?: string;
  readonly references: References;
  readonly fixedRounds: boolean;
  readonly hp: FitHyperparameters;
  readonly outDir: string;
  /** A reference fit to compare with in the report (`--compare`). */
  readonly compareFile?: string;
}

/** A simulated run: the whole dataset folder, split into centers in this process. */
export interface SimulatedFitLfcJob extends FitLfcJob {
  readonly dataDir: string;
  /** How the centers read their data (rounding of non-integer counts, `.h5ad` layer). */
  readonly read?: ReadDatasetOptions;
  /**
   * Threads each center's heavy local steps split their genes over (default: the cores this
   * process may use; 1 = no worker threads). The simulated centers share one pool.
   */
  readonly threads?: number;
  /** Secure aggregation of the summed fields (default false here; `fedseq fit-lfc` turns it on). */
  readonly secureAggregation?: boolean;
}

/** Everything a finished fit produced. */
export interface FitOutcome {
  /** Every gene of the input, in input order (the first center's order). */
  readonly genes: readonly string[];
  /** Indices (into `genes`) of the fitted genes; row j of the result is gene fitted[j]. */
  readonly fitted: Int32Array;
  readonly columns: readonly string[];
  readonly allZero: number;
  readonly notSelected: number;
  readonly result: LfcResult;
  readonly ledger: RunLedger;
  readonly centers: readonly string[];
  /** Mean normalised count (DESeq2's baseMean) of each fitted gene, pooled over all samples. */
  readonly baseMean: Float64Array;
  /** Genes still active after each round, in the order the rounds ran. */
  readonly history: readonly RoundEvent[];
}

/** Options of {@link fitOverFederation}. */
export interface FitOptions {
  /** Run id (default: random; a resumed run keeps its checkpoint's). */
  readonly runId?: string;
  readonly onRound?: (event: RoundEvent) => void;
  /** Identifies the job for checkpoints (see `jobFingerprint`). */
  readonly fingerprint?: string;
  /** Resume from this checkpoint. */
  readonly resume?: FitCheckpoint;
  /** Called with a checkpoint after every aggregation. */
  readonly onCheckpoint?: (checkpoint: FitCheckpoint) => void;
}

/** What a run reports (also written as `run.json`). */
export interface RunReport {
  rounds: {
    init: number;
    irls: number;
    pqn: number;
    newton: number;
    /** L-BFGS-B rounds of the `deseq2` path (DESeq2's `optim` refit). */
    optim: number;
    total: number;
    setup: number;
  };
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
    /** DESeq2's `betaConv`: genes whose coefficients converged. */
    beta_converged: number;
    /** Genes whose coefficients did not converge (DESeq2 reports them too, flagged). */
    beta_unconverged: number;
    /** Genes refitted by L-BFGS-B (DESeq2's `optim` rows). */
    optim_refitted: number;
    /** Genes `fast` did not converge and handed to the `deseq2` path. */
    handed_over: number;
  };
  mode: LfcMode;
  solver: LfcSolver;
  fixed_rounds: boolean;
  /** Rounds upstream's static schedule runs (1 + irls_num_iter + 1 + PQN_num_iters + 1). */
  rounds_fixed_schedule: number;
  centers: string[];
  design_columns: string[];
}

/** Check that every center holds the same genes and no sample twice; return the gene order. */
export function federationGenes(transport: Transport): readonly string[] {
  const centers = transport.centers;
  if (centers.length === 0) throw new InputError("no centers");
  const genes = centers[0].genes;
  const set = new Set(genes);
  for (const c of centers.slice(1)) {
    const theirs = new Set(c.genes);
    const missing = genes.filter((g) => !theirs.has(g));
    const extra = c.genes.filter((g) => !set.has(g));
    if (missing.length > 0) {
      throw new InputError(
        `center ${c.name} lacks ${missing.length} gene(s) that ${centers[0].name} has: ${listForMessage(missing)}${versionSuffixHint(missing, c.genes)}`,
      );
    }
    if (extra.length > 0) {
      throw new InputError(
        `center ${c.name} has ${extra.length} gene(s) that ${centers[0].name} lacks: ${listForMessage(extra)}`,
      );
    }
  }
  const owner = new Map<string, string>();
  for (const c of centers) {
    for (const s of c.samples) {
      const other = owner.get(s);
      if (other !== undefined)
        throw new InputError(`sample ${s} is held by both ${other} and ${c.name}`);
      owner.set(s, c.name);
    }
  }
  return genes;
}

/**
 * Run a whole fit over a transport: set-up steps, then the LFC fit.
 * @param transport - reaches the centers (their data never leaves them)
 * @param job - the aggregator's inputs
 * @param options - run id (kept by a resumed run) and a progress callback
 */
export async function fitOverFederation(
  transport: Transport,
  job: FitLfcJob,
  options: FitOptions = {},
): Promise<FitOutcome> {
  parseFormula(job.design); // a malformed design fails before any round
  const genes = federationGenes(transport);
  const nGenes = genes.length;
  const allSamples = transport.centers.flatMap((c) => c.samples);
  const sizeFactors = readSizeFactors(job.sizeFactorsFile, allSamples);

  const selected = new Uint8Array(nGenes).fill(1);
  if (job.genesFile !== undefined) {
    const wanted = readGeneList(job.genesFile);
    const index = new Map(genes.map((g, i) => [g, i]));
    const unknown = wanted.filter((g) => !index.has(g));
    if (unknown.length > 0) {
      throw new InputError(
        `${job.genesFile}: ${unknown.length} gene(s) not in the centers' data: ${listForMessage(unknown)}`,
      );
    }
    selected.fill(0);
    for (const g of wanted) selected[index.get(g) as number] = 1;
  }

  const resume = options.resume;
  const history: RoundEvent[] = [];
  const runner = new FederationRunner(transport, {
    runId: resume?.runId ?? options.runId,
    fixedRounds: job.fixedRounds,
    onRound: (event) => {
      history.push(event);
      options.onRound?.(event);
    },
    ledger:
      resume === undefined ? undefined : { ...resume.ledger, rounds: { ...resume.ledger.rounds } },
  });

  // Set-up: which genes have counts anywhere, the factor levels, then each center's data.
  const presence = await runner.round("setup", "presence", { kind: "presence-request", genes });
  const present = mergePresence(presence.map((s) => s.present));
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
  const allDispersions = readDispersions(job.dispersionsFile, genes, (g) => fittedSet[g] === 1);
  const dispersions = Float64Array.from(fitted, (g) => allDispersions[g]);

  return fitGenes(runner, transport, {
    genes,
    fitted,
    allZero,
    notSelected,
    sizeFactors,
    dispersions,
    design: job.design,
    references: job.references,
    hp: job.hp,
    mode: job.mode,
    solver: job.solver ?? "deseq2",
    maxit: job.maxit,
    fingerprint: options.fingerprint ?? "",
    resume,
    onCheckpoint: options.onCheckpoint,
    history,
  });
}

/** What {@link fitGenes} needs: the genes to fit, their dispersions, the samples' size factors. */
export interface FitGenesInput {
  /** Every gene of the federation, in its order. */
  readonly genes: readonly string[];
  /** Indices (into `genes`) of the genes to fit. */
  readonly fitted: Int32Array;
  readonly allZero: number;
  readonly notSelected: number;
  /**
   * Every sample's size factor, centers in federation order (`fit-lfc`: an input); null when each
   * center uses the ones it computed in this run (`run`: they never leave the centers).
   */
  readonly sizeFactors: Float64Array | null;
  /** The design's levels when known (a run: its plan's or its levels round's); else asked. */
  readonly levels?: DesignLevels;
  /** Dispersion of each fitted gene. */
  readonly dispersions: Float64Array;
  readonly design: string;
  readonly references: References;
  readonly hp: FitHyperparameters;
  readonly mode: LfcMode;
  readonly solver: LfcSolver;
  /** DESeq2's `maxit` (default 100). */
  readonly maxit?: number;
  readonly fingerprint: string;
  readonly resume?: FitCheckpoint;
  readonly onCheckpoint?: (checkpoint: FitCheckpoint) => void;
  /** Where the runner's round events are collected (see {@link FitOutcome.history}). */
  readonly history: RoundEvent[];
}

/**
 * The fit itself, once genes, size factors and dispersions are known: the design's levels,
 * each center's set-up (`prepare`), then the federated LFC fit.
 */
export async function fitGenes(
  runner: FederationRunner,
  transport: Transport,
  input: FitGenesInput,
): Promise<FitOutcome> {
  const { genes, fitted, sizeFactors, dispersions, resume } = input;
  const formula = parseFormula(input.design);
  const allSamples = transport.centers.flatMap((c) => c.samples);
  const levels =
    input.levels ??
    mergeLevels(
      (
        await runner.round("setup", "levels", { kind: "levels-request", formula: input.design })
      ).map(levelsOf),
    );
  const columns = designColumns(formula, levels, input.references);
  const fittedGenes = Array.from(fitted, (g) => genes[g]);
  let offset = 0;
  const prepareInputs = transport.centers.map((c) => {
    const own =
      sizeFactors === null
        ? new Float64Array(0)
        : sizeFactors.slice(offset, offset + c.samples.length);
    offset += c.samples.length;
    return prepareRequest({
      formula: input.design,
      levels,
      references: input.references,
      genes: fittedGenes,
      dispersions,
      sizeFactors: own,
      hyperparameters: input.hp,
    });
  });
  const prepared = await runner.scatter("setup", "prepare", prepareInputs);
  const p = columns.length;
  const gram = new Float64Array(p * p);
  for (const share of prepared) for (let i = 0; i < gram.length; i++) gram[i] += share.gram[i];
  checkFullRank(gram, p, columns);
  const baseMean = new Float64Array(fitted.length);
  for (const share of prepared)
    for (let j = 0; j < fitted.length; j++) baseMean[j] += share.normalizedSums[j];
  for (let j = 0; j < fitted.length; j++) baseMean[j] /= allSamples.length;

  const fingerprint = input.fingerprint;
  if (resume !== undefined && resume.fingerprint !== fingerprint) {
    throw new InputError(
      "--resume: the checkpoint was written for a different job (inputs, settings or centers changed)",
    );
  }
  const save = input.onCheckpoint;
  const result = await computeLfc(runner, input.hp, input.mode, {
    solver: input.solver,
    maxIterations: input.maxit,
    resume: resume?.lfc,
    onCheckpoint:
      save === undefined
        ? undefined
        : (lfc) =>
            save({ version: 1, runId: runner.runId, fingerprint, ledger: runner.ledger, lfc }),
  });
  return {
    genes,
    fitted,
    columns,
    allZero: input.allZero,
    notSelected: input.notSelected,
    result,
    ledger: runner.ledger,
    centers: transport.centers.map((c) => c.name),
    baseMean,
    history: input.history,
  };
}

/** The report of a finished fit. */
export function runReport(
  outcome: FitOutcome,
  job: Pick<FitLfcJob, "mode" | "solver" | "fixedRounds" | "hp">,
  seconds: number,
): RunReport {
  const { ledger, result } = outcome;
  const rounds = {
    init: ledger.rounds.init ?? 0,
    irls: ledger.rounds.irls ?? 0,
    pqn: ledger.rounds.pqn ?? 0,
    newton: ledger.rounds.newton ?? 0,
    optim: ledger.rounds.optim ?? 0,
    total: 0,
    setup: ledger.rounds.setup ?? 0,
  };
  rounds.total = rounds.init + rounds.irls + rounds.pqn + rounds.newton + rounds.optim;
  return {
    rounds,
    bytes: { to_aggregator: ledger.bytesToAggregator, from_aggregator: ledger.bytesFromAggregator },
    seconds,
    genes: {
      total: outcome.genes.length,
      all_zero: outcome.allZero,
      not_selected: outcome.notSelected,
      fitted: outcome.fitted.length,
      irls_converged: maskCount(result.irlsConverged),
      pqn_caught: maskCount(result.pqnCaught),
      pqn_diverged: maskCount(result.pqnDiverged),
      beta_converged: maskCount(result.converged),
      beta_unconverged: result.converged.length - maskCount(result.converged),
      optim_refitted: job.solver === "upstream" ? 0 : maskCount(result.pqnCaught),
      handed_over: maskCount(result.handedOver),
    },
    mode: job.mode,
    solver: job.solver ?? "deseq2",
    fixed_rounds: job.fixedRounds,
    rounds_fixed_schedule:
      1 + (job.mode === "irls-pqn" ? job.hp.irlsNumIter + 1 : 0) + job.hp.pqnNumIters + 1,
    centers: [...outcome.centers],
    design_columns: [...outcome.columns],
  };
}

/** The HTML report's data: the last design coefficient (DESeq2's default contrast). */
export function reportInput(
  outcome: FitOutcome,
  report: RunReport,
  reference?: ReportReference,
): ReportInput {
  const p = outcome.columns.length;
  const k = p - 1;
  const n = outcome.genes.length;
  const baseMean = new Float64Array(n).fill(Number.NaN);
  const lfc = new Float64Array(n).fill(Number.NaN);
  const fitted: (FitMethod | null)[] = new Array(n).fill(null);
  const { result } = outcome;
  outcome.fitted.forEach((g, j) => {
    baseMean[g] = outcome.baseMean[j];
    lfc[g] = result.beta[j * p + k] / Math.LN2;
    fitted[g] = result.pqnDiverged[j] ? "pqn-flagged" : result.pqnCaught[j] ? "pqn" : "irls";
  });
  return {
    title: `fedseq: ${report.genes.fitted} genes fitted across ${outcome.centers.length} centers`,
    rounds: outcome.history.map((e) => ({
      phase: e.phase,
      round: e.round,
      activeGenes: e.activeGenes,
    })),
    genes: outcome.genes,
    baseMean,
    lfc,
    fitted,
    coefficient: outcome.columns[k],
    reference: reference?.lfc,
    referenceLabel: reference?.label,
    summary: {
      "design columns": outcome.columns.join(", "),
      "genes in the input": report.genes.total,
      "all-zero genes (not fitted)": report.genes.all_zero,
      "genes fitted": report.genes.fitted,
      "not converged (betaConv false)": report.genes.beta_unconverged,
    },
    federation: {
      centers: outcome.centers.join(", "),
      mode: report.mode,
      solver: report.solver,
      "rounds (init + IRLS + PQN + Newton + L-BFGS-B)": `${report.rounds.total} (${report.rounds.init} + ${report.rounds.irls} + ${report.rounds.pqn} + ${report.rounds.newton} + ${report.rounds.optim}); upstream's fixed schedule ${report.rounds_fixed_schedule}`,
      "set-up rounds": report.rounds.setup,
      "bytes to the aggregator": report.bytes.to_aggregator,
      "bytes from the aggregator": report.bytes.from_aggregator,
      seconds: Number(report.seconds.toFixed(2)),
      "converged in IRLS": report.genes.irls_converged,
      "caught by PQN": report.genes.pqn_caught,
      "flagged by PQN": report.genes.pqn_diverged,
    },
  };
}

/** Write `lfc.csv` (log2 coefficients), `run.json` and `report.html` into `outDir`, atomically. */
export async function writeFitOutputs(
  outDir: string,
  outcome: FitOutcome,
  report: RunReport,
  reference?: ReportReference,
): Promise<void> {
  makeFolders(outDir);
  // The report renders on its own thread while this one writes the tables.
  await ReportThread.start().writeAlongside(
    join(outDir, "report.html"),
    reportInput(outcome, report, reference),
    () => {
      writeLfcCsv(join(outDir, "lfc.csv"), outcome);
      writeFileAtomic(join(outDir, "run.json"), `${JSON.stringify(report, null, 2)}\n`);
    },
  );
}

/**
 * Write `lfc.csv`: every input gene in input order, its log2 coefficients and how it was fitted
 * (empty cells for genes not fitted), atomically.
 */
export function writeLfcCsv(file: string, outcome: FitOutcome): void {
  const p = outcome.columns.length;
  const { result } = outcome;
  const rowOf = new Int32Array(outcome.genes.length).fill(-1);
  for (let j = 0; j < outcome.fitted.length; j++) rowOf[outcome.fitted[j]] = j;
  const flag = (m: Uint8Array, j: number) => (m[j] ? "true" : "false");
  function* rows(): Generator<string[]> {
    for (let g = 0; g < outcome.genes.length; g++) {
      const j = rowOf[g];
      if (j < 0) {
        yield [outcome.genes[g], ...new Array<string>(p + 6).fill("")];
        continue;
      }
      const row = new Array<string>(p + 7);
      row[0] = outcome.genes[g];
      for (let k = 0; k < p; k++) row[k + 1] = formatNumber(result.beta[j * p + k] / Math.LN2);
      row[p + 1] = flag(result.irlsConverged, j);
      row[p + 2] = flag(result.pqnCaught, j);
      row[p + 3] = flag(result.pqnDiverged, j);
      row[p + 4] = String(result.finishedRound[j]);
      row[p + 5] = flag(result.converged, j);
      row[p + 6] = String(result.iterations[j]);
      yield row;
    }
  }
  const header = [
    "gene",
    ...outcome.columns,
    "irls_converged",
    "pqn_caught",
    "pqn_diverged",
    "rounds",
    "betaConv",
    "betaIter",
  ];
  writeCsvAtomic(file, header, rows());
}

/** The centers of a pooled dataset folder (its `center` column), each holding only its samples. */
export async function simulatedCenters(
  dataDir: string,
  options: ReadDatasetOptions = {},
  session: {
    readonly kernels?: LocalKernels;
    /** The analysis plan every center accepts, made from the centers' data (a simulated run). */
    readonly plan?: (centers: readonly CenterData[]) => AnalysisPlan;
    /** Where a cell that breaks the plan's k-sample rule is reported instead of refused. */
    readonly cellRuleWaiver?: (problem: string) => void;
    /**
     * The aggregator's pipeline for a plan, which centers that verify requests replay (null: a
     * simulation's centers do not; absent: the plan must not ask them to).
     */
    readonly replay?: ((plan: AnalysisPlan) => ReplayedPipeline) | null;
  } = {},
): Promise<CenterSession[]> {
  // Each center's counts read into its own array: the pooled table is never held.
  const dataset = await readDatasetByCenter(dataDir, options);
  const data = dataset.centers.map((name) => centerDataByCenter(dataset, name));
  const plan = session.plan?.(data);
  return data.map(
    (d) =>
      new CenterSession(d, {
        kernels: session.kernels,
        plan,
        cellRuleWaiver: session.cellRuleWaiver,
        replay:
          plan === undefined || session.replay === undefined
            ? undefined
            : session.replay === null
              ? null
              : session.replay(plan),
      }),
  );
}

/** Run a whole `fit-lfc` job as an in-process simulation; returns the report written to run.json. */
export async function fitLfc(
  job: SimulatedFitLfcJob,
  onRound?: (event: RoundEvent) => void,
): Promise<RunReport> {
  const started = performance.now();
  const pool = new GenePool({ threads: job.threads ?? defaultThreads() });
  const transport = new InProcessTransport(
    await simulatedCenters(job.dataDir, job.read, { kernels: pool }),
    { secureAggregation: job.secureAggregation === true, maskThread: pool.threads >= 2 },
  );
  try {
    const outcome = await fitOverFederation(transport, job, { onRound });
    const report = runReport(outcome, job, (performance.now() - started) / 1000);
    const reference =
      job.compareFile === undefined ? undefined : readReferenceLfc(job.compareFile, outcome);
    await writeFitOutputs(job.outDir, outcome, report, reference);
    return report;
  } finally {
    await transport.close();
    await pool.close();
  }
}
