/**
 * Checking a job before its first round: everything about the options that can be judged without
 * the centers' data is checked here, once, so that a mistake stops the command with one line
 * naming the flag (an {@link InputError}: exit 2) before any center is contacted or any dataset
 * is read. That is:
 *
 * - the design formula (parsed once; the `Formula` is returned), and the `--reference` and
 *   `--contrast` variables against it (their levels need the centers: they are checked once the
 *   set-up round has gathered them);
 * - relations between options (`lessAbs` needs a positive `--lfc-null`, `--mode pqn` needs
 *   `--solver upstream`);
 * - the files the aggregator reads (`--size-factors`, `--dispersions`, `--genes`, `--compare`):
 *   readable, and with the columns they need.
 *
 * A single flag's own range (`--alpha` in (0, 1), `--maxit` ≥ 1, …) is its parser's
 * (`src/cli/options.ts`), the output folder's lock is `src/cli/outputFolder.ts`.
 */
import { accessSync, constants, existsSync, type Stats, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { References } from "../design/designMatrix.js";
import { type Formula, parseFormula, parseReducedFormula } from "../design/formula.js";
import { readCsv, requireColumn } from "../io/csv.js";
import { InputError, listForMessage, quote, unreadableFile } from "../io/errors.js";
import { readGeneList } from "../io/sidecars.js";
import type { ContrastSpec } from "../results/contrast.js";
import type { WaldOptions } from "../stats/wald.js";
import type { FitLfcJob } from "./fitLfc.js";
import type { RunJob } from "./runJob.js";

/**
 * Run `check`; an {@link InputError} it raises is raised again with `flag` in front of its
 * message (unless the message already starts with the flag).
 */
export function forOption<T>(flag: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputError && !error.message.startsWith(flag)) {
      throw new InputError(`${flag}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** `file` exists, is a file (not a folder) and this process may read it. */
export function checkReadableFile(flag: string, file: string): void {
  try {
    if (statSync(file).isDirectory()) throw Object.assign(new Error("EISDIR"), { code: "EISDIR" });
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw new InputError(`${flag}: ${unreadableFile(file, error).message}`, { cause: error });
  }
}

/** `file` can be created as a log (`--transcript`, `--audit`): its folder exists, it is no folder. */
export function checkLogFile(flag: string, file: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new InputError(`${flag} ${file}: the folder ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory())
    throw new InputError(`${flag} ${file}: is a folder, not a file`);
}

/** `dir` is an existing folder (e.g. `--data`). */
export function checkFolder(flag: string, dir: string): void {
  let stats: Stats;
  try {
    stats = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `${flag} ${dir}: ${code === "ENOENT" ? "no such folder" : `cannot read (${code ?? error})`}`,
      { cause: error },
    );
  }
  if (!stats.isDirectory()) throw new InputError(`${flag} ${dir}: not a folder`);
}

/** A readable table (CSV or TSV, maybe gzipped) with the columns `columns`; returns its header. */
export function checkTable(flag: string, file: string, columns: readonly string[]): string[] {
  checkReadableFile(flag, file);
  return forOption(flag, () => {
    const { header } = readCsv(file);
    for (const column of columns) requireColumn(file, header, column);
    return header;
  });
}

/** A reference results table for the report: `gene`, and `log2FoldChange` or `beta_log2.*`. */
export function checkReferenceTable(flag: string, file: string): void {
  const header = checkTable(flag, file, ["gene"]);
  if (!header.includes("log2FoldChange") && !header.some((h) => h.startsWith("beta_log2."))) {
    throw new InputError(
      `${flag}: ${file}: needs a log2FoldChange column (DESeq2's results) or beta_log2.* columns (a fit table), found ${listForMessage(
        header.map((h) => quote(h)),
        8,
      )}`,
    );
  }
}

/** What a model names: the design, the reference levels and (for tests) the contrast. */
export interface ModelOptions {
  readonly design: string;
  readonly references: References;
  readonly contrast?: ContrastSpec;
}

/**
 * Parse the design and check that every `--reference` factor and the `--contrast` variable is
 * one of its variables, and that a contrast's level and reference differ.
 * @returns the parsed design
 */
export function checkModel(model: ModelOptions): Formula {
  const formula = forOption("--design", () => parseFormula(model.design));
  const variables = `the design ${quote(model.design, 80)} (variables: ${listForMessage(formula.terms)})`;
  for (const [factor, level] of Object.entries(model.references)) {
    if (!formula.terms.includes(factor)) {
      throw new InputError(
        `--reference ${factor}=${level}: ${quote(factor)} is not a variable of ${variables}`,
      );
    }
  }
  const contrast = model.contrast;
  if (contrast?.kind === "levels") {
    if (!formula.terms.includes(contrast.factor)) {
      throw new InputError(
        `--contrast: ${quote(contrast.factor)} is not a variable of ${variables}`,
      );
    }
    if (contrast.level === contrast.reference) {
      throw new InputError(
        `--contrast: the level and the reference are the same (${quote(contrast.level)})`,
      );
    }
  } else if (contrast?.kind === "variable" && !formula.terms.includes(contrast.name)) {
    throw new InputError(
      `--contrast ${quote(contrast.name)}: not a variable of ${variables}; for a factor give factor,level,reference`,
    );
  }
  return formula;
}

/** The solver options agree: `--mode pqn` is a mode of the `upstream` solver only. */
export function checkSolver(job: Pick<RunJob, "mode" | "solver">): void {
  if (job.mode === "pqn" && job.solver !== "upstream") {
    throw new InputError(
      `--mode pqn: only with --solver upstream (the ${job.solver} solver has no PQN mode)`,
    );
  }
}

/** The test's options agree: DESeq2 refuses `lessAbs` without a positive threshold. */
export function checkTest(wald: WaldOptions): void {
  if (wald.altHypothesis === "lessAbs" && !((wald.lfcThreshold ?? 0) > 0)) {
    throw new InputError(
      "--alt-hypothesis lessAbs: needs --lfc-null > 0 (|log2 fold change| below which threshold?), as DESeq2's lfcThreshold",
    );
  }
}

/**
 * A likelihood-ratio test's options agree: a reduced design nested in the full one, DESeq2's own
 * fit (the test compares two fits of DESeq2's), and no threshold (DESeq2: "tests of log fold
 * change above or below a threshold must be Wald tests").
 */
export function checkLrt(job: RunJob, formula: Formula): void {
  forOption("--reduced", () => parseReducedFormula(job.reduced as string, formula));
  if (job.solver !== "deseq2")
    throw new InputError(
      `--test LRT: only with --solver deseq2 (both models are fitted as DESeq2 fits them), not ${job.solver}`,
    );
  if (
    (job.wald.lfcThreshold ?? 0) !== 0 ||
    (job.wald.altHypothesis ?? "greaterAbs") !== "greaterAbs"
  )
    throw new InputError(
      "--test LRT: --lfc-null and --alt-hypothesis are for Wald tests (DESeq2: tests of log fold change above or below a threshold must be Wald tests)",
    );
}

/**
 * Check a `run` job before its first round.
 * @returns the parsed design
 */
export function checkRunJob(job: RunJob): Formula {
  const formula = checkModel(job);
  checkSolver(job);
  checkTest(job.wald);
  if (job.reduced !== undefined) checkLrt(job, formula);
  if (job.compareFile !== undefined) checkReferenceTable("--compare", job.compareFile);
  return formula;
}

/**
 * Check a `fit-lfc` (or `aggregate`) job before its first round: the model and solver as for
 * `run`, and the files the aggregator reads.
 * @returns the parsed design
 */
export function checkFitLfcJob(job: FitLfcJob): Formula {
  const formula = checkModel(job);
  checkSolver({ mode: job.mode, solver: job.solver ?? "deseq2" });
  checkTable("--size-factors", job.sizeFactorsFile, ["sample", "size_factor"]);
  checkTable("--dispersions", job.dispersionsFile, ["gene", "dispersion"]);
  if (job.genesFile !== undefined) {
    const genes = job.genesFile;
    checkReadableFile("--genes", genes);
    forOption("--genes", () => readGeneList(genes));
  }
  if (job.compareFile !== undefined) checkReferenceTable("--compare", job.compareFile);
  return formula;
}
