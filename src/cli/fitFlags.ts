/**
 * The flags of a fit job, shared by `fit-lfc` (simulated federation) and `aggregate` (real one).
 */
import { type Command, Option } from "commander";
import { DEFAULT_HYPERPARAMETERS, type FitHyperparameters } from "../algorithms/hyperparameters.js";
import { LFC_SOLVERS, type LfcMode, type LfcSolver } from "../algorithms/lfc/computeLfc.js";
import type { FitLfcJob } from "../pipeline/fitLfc.js";
import { checkFitLfcJob } from "../pipeline/runOptions.js";
import { integerOption, numberOption, referenceOption } from "./options.js";

/** Parsed fit flags. */
export interface FitFlags {
  design: string;
  sizeFactors: string;
  dispersions: string;
  mode: LfcMode;
  solver: LfcSolver;
  maxit: number;
  genes?: string;
  reference?: Record<string, string>;
  fixedRounds?: boolean;
  out: string;
  compare?: string;
  json?: boolean;
  maxBeta: number;
  irlsIters: number;
  pqnIters: number;
  pqnLsIters: number;
  pqnC1: number;
  pqnFtol: number;
  pqnMinMu: number;
  minMu: number;
  betaTol: number;
}

/** Add the job flags and the hyper-parameter flags (upstream's defaults). */
export function withFitFlags(cmd: Command): Command {
  cmd
    .requiredOption("--design <formula>", 'design formula, e.g. "~ tissue"')
    .requiredOption("--size-factors <file>", "CSV with columns sample,size_factor")
    .requiredOption("--dispersions <file>", "CSV with columns gene,dispersion");
  withModelFlags(cmd);
  return cmd
    .option("--genes <file>", "fit only these genes (one id per line)")
    .option("--fixed-rounds", "run upstream's full schedule of rounds (for comparison)", false)
    .requiredOption("--out <dir>", "output folder for lfc.csv, run.json and report.html")
    .option(
      "--compare <file>",
      "reference fit for the report: DESeq2 results (log2FoldChange) or fit (beta_log2.*) CSV",
    );
}

/**
 * Add the flags of the model and its fit shared by `fit-lfc` and `run`: solver choices,
 * reference levels, `--json`, and the hyper-parameters (upstream's defaults).
 */
export function withModelFlags(cmd: Command): Command {
  const d = DEFAULT_HYPERPARAMETERS;
  return cmd
    .addOption(
      new Option(
        "--mode <mode>",
        "with --solver upstream: fedpydeseq2's IRLS, then PQN on the genes IRLS does not converge (irls-pqn), or PQN alone (pqn)",
      )
        .choices(["irls-pqn", "pqn"])
        .default("irls-pqn"),
    )
    .addOption(
      new Option(
        "--solver <solver>",
        "deseq2: DESeq2's own fit replayed (IRLS, then L-BFGS-B on the rows IRLS leaves); fast: Newton on IRLS's fixed point in ≤ 30 rounds, unconverged genes refitted as deseq2; upstream: fedpydeseq2's IRLS + PQN, at parity",
      )
        .choices([...LFC_SOLVERS])
        .default("deseq2"),
    )
    .option(
      "--maxit <n>",
      "DESeq2's maxit: IRLS iterations before a gene is refitted by L-BFGS-B (deseq2 solver)",
      integerOption("--maxit", 1),
      100,
    )
    .option(
      "--reference <factor=level>",
      "reference level of a factor (repeatable)",
      referenceOption,
    )
    .option("--json", "print the run summary (run.json) on stdout", false)
    .option(
      "--max-beta <x>",
      "box bound on every coefficient (natural log)",
      numberOption("--max-beta", "positive"),
      d.maxBeta,
    )
    .option("--irls-iters <n>", "IRLS updates", integerOption("--irls-iters", 0), d.irlsNumIter)
    .option("--pqn-iters <n>", "PQN iterations", integerOption("--pqn-iters", 1), d.pqnNumIters)
    .option(
      "--pqn-ls-iters <n>",
      "PQN line-search step sizes (0.5^k)",
      integerOption("--pqn-ls-iters", 1),
      d.pqnNumItersLs,
    )
    .option(
      "--pqn-c1 <x>",
      "Armijo constant of the PQN line search",
      numberOption("--pqn-c1", "probability"),
      d.pqnC1,
    )
    .option(
      "--pqn-ftol <x>",
      "PQN relative-decrease convergence threshold",
      numberOption("--pqn-ftol", "positive"),
      d.pqnFtol,
    )
    .option(
      "--pqn-min-mu <x>",
      "floor on the mean in PQN (upstream: 0)",
      numberOption("--pqn-min-mu", "non-negative"),
      d.pqnMinMu,
    )
    .option(
      "--min-mu <x>",
      "floor on the mean in IRLS",
      numberOption("--min-mu", "non-negative"),
      d.minMu,
    )
    .option(
      "--beta-tol <x>",
      "IRLS deviance-ratio convergence threshold",
      numberOption("--beta-tol", "positive"),
      d.betaTol,
    );
}

/** The hyper-parameters given by the flags. */
export function hyperparametersFromFlags(
  f: Pick<
    FitFlags,
    | "maxBeta"
    | "irlsIters"
    | "pqnIters"
    | "pqnLsIters"
    | "pqnC1"
    | "pqnFtol"
    | "pqnMinMu"
    | "minMu"
    | "betaTol"
  >,
): FitHyperparameters {
  return {
    maxBeta: f.maxBeta,
    irlsNumIter: f.irlsIters,
    pqnNumIters: f.pqnIters,
    pqnNumItersLs: f.pqnLsIters,
    pqnC1: f.pqnC1,
    pqnFtol: f.pqnFtol,
    pqnMinMu: f.pqnMinMu,
    minMu: f.minMu,
    betaTol: f.betaTol,
  };
}

/**
 * The job the flags describe, checked before any round ({@link checkFitLfcJob}: the design and
 * reference factors, solver options, and the files the aggregator reads).
 * @throws InputError naming the flag at fault
 */
export function fitJobFromFlags(f: FitFlags): FitLfcJob {
  const job: FitLfcJob = {
    design: f.design,
    sizeFactorsFile: f.sizeFactors,
    dispersionsFile: f.dispersions,
    mode: f.mode,
    solver: f.solver,
    maxit: f.maxit,
    genesFile: f.genes,
    references: f.reference ?? {},
    fixedRounds: f.fixedRounds === true,
    hp: hyperparametersFromFlags(f),
    outDir: f.out,
    compareFile: f.compare,
  };
  checkFitLfcJob(job);
  return job;
}
