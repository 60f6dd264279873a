/**
 * `fedseq plan`: write the analysis plan every center approves before a real federation runs
 * (`federation/plan.ts`): the centers, the design with its factors' levels and references, the
 * contrast and test, the fit's options, the minimum cell size, whether the run is under secure
 * aggregation, and (from `--data` or `--cell-sizes`) each center's cell sizes. The same flags as `run` choose
 * the analysis; the levels come from `--levels` or, for a trial on a dataset folder, `--data`.
 */
import { existsSync, readFileSync } from "node:fs";
import { Command } from "commander";
import { localLevels, sortLevels } from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import {
  cellsOpenToEquations,
  checkPlanCells,
  equationsWarning,
  localCellSizes,
  unverifiedWarning,
} from "../federation/cellRule.js";
import { centerDataFromDataset } from "../federation/centerData.js";
import {
  type AnalysisPlan,
  type CellSizes,
  checkCellSizes,
  DEFAULT_MIN_CELL,
  planFromJson,
  planHash,
  planText,
  planToJson,
} from "../federation/plan.js";
import { writeFileAtomic } from "../io/atomic.js";
import { type Dataset, readDataset } from "../io/dataset.js";
import { InputError, quote, unreadableFile, unwritableFile } from "../io/errors.js";
import { checkPlanAnalysis, planFromRunJob } from "../pipeline/analysisPlan.js";
import { covariateCellsWarning } from "../pipeline/run.js";
import { checkFolder, checkLogFile, checkReadableFile, forOption } from "../pipeline/runOptions.js";
import { centerList, integerOption } from "./options.js";
import { type AnalysisFlags, runJobFromFlags, withAnalysisFlags } from "./runCommand.js";
import { warn } from "./warnings.js";

interface PlanFlags extends AnalysisFlags {
  out: string;
  centers?: string[];
  levels?: Record<string, string[]>;
  data?: string;
  minCell: number;
  secureAggregation: boolean;
  cellSizes?: string[];
  omitSparseGenes?: boolean;
  verifyRequests?: boolean;
}

/** `factor=level1,level2,…`, collected into a record (repeatable; a factor at most once). */
function levelsOption(
  text: string,
  previous: Record<string, string[]> = {},
): Record<string, string[]> {
  const match = /^\s*([^=\s]+)\s*=\s*(.+?)\s*$/.exec(text);
  if (match === null)
    throw new InputError(`--levels: expected factor=level1,level2,…, got "${text}"`);
  const [, factor, list] = match;
  if (Object.hasOwn(previous, factor))
    throw new InputError(`--levels: ${factor} is given twice; list all its levels once`);
  const levels = list.split(",").map((s) => s.trim());
  if (levels.some((l) => l === "") || new Set(levels).size !== levels.length)
    throw new InputError(
      `--levels ${factor}: expected distinct levels separated by commas, got "${list}"`,
    );
  return { ...previous, [factor]: sortLevels(levels) };
}

/**
 * Read the `--cell-sizes` files (one, or one per center or group of centers: `fedseq cells`
 * writes a center's row) and check their rows together as a plan's `cell_sizes`
 * ({@link checkCellSizes}).
 * @throws InputError (one line naming `--cell-sizes`, the file and what is wrong)
 */
function readCellSizesFiles(
  files: readonly string[],
  centers: readonly string[],
  cells: Pick<AnalysisPlan, "design" | "levels">,
): CellSizes {
  // A Map, not an object: a row named `__proto__` is a row (refused as no center's), where
  // assigning it to an object's property would set the object's prototype.
  const rows = new Map<string, unknown>();
  /** The file each center's row came from, to name in errors about it. */
  const fileOf = new Map<string, string>();
  for (const file of files) {
    const where = `--cell-sizes ${file}`;
    checkReadableFile("--cell-sizes", file);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new InputError(`--cell-sizes: ${unreadableFile(file, error).message}`, {
        cause: error,
      });
    }
    let value: unknown;
    try {
      // An editor's byte-order mark is not part of the JSON.
      value = JSON.parse(text.replace(/^\uFEFF/, ""));
    } catch (error) {
      throw new InputError(`${where}: not JSON (${(error as Error).message})`, { cause: error });
    }
    // Not an object of rows: the whole check says what it expected, naming this file.
    if (value === null || typeof value !== "object" || Array.isArray(value))
      checkNamed(value, () => where, centers, cells);
    for (const [center, row] of Object.entries(value as Record<string, unknown>)) {
      const first = fileOf.get(center);
      if (first !== undefined)
        throw new InputError(
          `${where}: ${center}: also in --cell-sizes ${first} (one row a center)`,
        );
      fileOf.set(center, file);
      rows.set(center, row);
    }
  }
  // A row's own file; for a center in none, every file given.
  const named = (center: string | undefined) =>
    `--cell-sizes ${fileOf.get(center ?? "") ?? files.join(", ")}`;
  return checkNamed(Object.fromEntries(rows), named, centers, cells);
}

/** {@link checkCellSizes} of `value`, its errors naming the file of the row at fault (`where`). */
function checkNamed(
  value: unknown,
  where: (center: string | undefined) => string,
  centers: readonly string[],
  cells: Pick<AnalysisPlan, "design" | "levels">,
): CellSizes {
  return forOption("--cell-sizes", () =>
    checkCellSizes(value, centers, cells.design, cells.levels, (path, problem) => {
      throw new InputError([where(path[0]), ...path, problem].join(": "));
    }),
  );
}

/**
 * The plan the flags describe (the dataset, with `--data`, gives levels and centers), and with
 * `--data` where DESeq2's Cook's cells are not the run's ({@link covariateCellsWarning}).
 */
async function planFromFlags(
  flags: PlanFlags,
): Promise<{ readonly plan: AnalysisPlan; readonly cooksCells: string | null }> {
  const job = runJobFromFlags({ ...flags, out: "." });
  const formula = parseFormula(flags.design);
  let levels: Record<string, string[]> = {};
  let centers = flags.centers;
  let dataset: Dataset | undefined;
  if (flags.data !== undefined) {
    if (flags.cellSizes !== undefined)
      throw new InputError("--cell-sizes: not with --data (the dataset gives them)");
    if (flags.levels !== undefined)
      throw new InputError("--levels: not with --data (the dataset gives the levels)");
    checkFolder("--data", flags.data);
    dataset = await readDataset(flags.data, {
      onWarning: (message) => warn(message),
    });
    levels = localLevels(dataset.metadata, formula);
    if (centers === undefined) centers = dataset.centers;
    else {
      const missing = dataset.centers.filter((c) => !centers?.includes(c));
      if (missing.length > 0)
        throw new InputError(`--centers: the dataset also has center(s) ${missing.join(", ")}`);
    }
  } else {
    levels = flags.levels ?? {};
    for (const factor of Object.keys(levels)) {
      if (!formula.terms.includes(factor))
        throw new InputError(
          `--levels: ${quote(factor)} is not a variable of the design ${quote(flags.design)}`,
        );
    }
  }
  if (centers === undefined)
    throw new InputError("--centers: required (the centers taking part), unless --data gives them");
  let cellSizes: CellSizes | null = null;
  if (dataset !== undefined) {
    const cells = { design: flags.design, levels };
    cellSizes = Object.fromEntries(
      dataset.centers.map((c) => [c, localCellSizes(cells, centerDataFromDataset(dataset, c))]),
    );
  } else if (flags.cellSizes !== undefined) {
    cellSizes = readCellSizesFiles(flags.cellSizes, centers, {
      design: flags.design,
      levels,
    });
  }
  const drafted = planFromRunJob(job, levels, centers, {
    minCell: flags.minCell,
    secureAggregation: flags.secureAggregation,
    cellSizes,
    omitSparseGenes: flags.omitSparseGenes === true,
    verifyRequests: flags.verifyRequests !== false,
  });
  checkPlanAnalysis(drafted);
  // Then the file's own checks (field by field, e.g. `--cell-sizes`), as a center will read it.
  return {
    plan: planFromJson(planToJson(drafted), "the plan"),
    cooksCells: dataset === undefined ? null : covariateCellsWarning([dataset.metadata], formula),
  };
}

/** What k the plan's cell sizes do meet (a plan they break is refused with it). */
function largestMinCell(plan: AnalysisPlan): string {
  // No k above the federation's samples holds: the search stops there, however large --min-cell.
  let samples = 0;
  for (const sizes of Object.values(plan.cellSizes ?? {}))
    for (const n of Object.values(sizes)) samples += n;
  for (let k = Math.min(plan.minCell - 1, samples); k >= 2; k--) {
    try {
      checkPlanCells({ ...plan, minCell: k });
      return `these cell sizes meet --min-cell ${k} (the k-sample rule: README)`;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
    }
  }
  return "no k above 1 holds here (--min-cell 1 is the centers' consent to disclose single samples' sums)";
}

/** The `plan` command. */
export function planCommand(): Command {
  const cmd = new Command("plan")
    .description(
      "write the analysis plan each center approves before a real federation runs: centers, design and levels, contrast and test, fit options, minimum cell size",
    )
    .requiredOption("--out <file>", "the plan file to write (JSON), e.g. plan.json")
    .option("--centers <names>", "the centers taking part, comma-separated", centerList)
    .option(
      "--levels <factor=l1,l2,…>",
      "the levels of a factor of the design (repeatable); design variables without --levels are continuous covariates",
      levelsOption,
    )
    .option(
      "--data <dir>",
      "take the levels (and centers) from this dataset folder instead (trials)",
    )
    .option(
      "--min-cell <k>",
      "the fewest samples any value a center sends may come from",
      integerOption("--min-cell", 1),
      DEFAULT_MIN_CELL,
    )
    .option(
      "--omit-sparse-genes",
      "leave out every gene with 1 to k - 1 non-zero counts in a design cell (pooled cells with secure aggregation and >= 3 centers): their sums, and DESeq2's results for them, are those samples' values",
    )
    .option(
      "--cell-sizes <file>",
      'each center\'s samples per design cell, JSON {"center": {"tissue=heart": 4, …}} (repeatable: one file per center, as fedseq cells writes them): the centers then verify every request (needed for a k above 1) and, with secure aggregation and ≥ 3 centers, the k-sample rule counts pooled cells',
      (file: string, previous: string[] = []) => [...previous, file],
    )
    .option(
      "--no-secure-aggregation",
      "plan a run in clear (each center's own sums are then read one by one: k = 1 only, --min-cell 1)",
    )
    .option(
      "--no-verify-requests",
      "the centers answer the aggregator's iterative requests without replaying the plan to check them (they trust it to choose what their sums are evaluated at, and its requests could read single samples' counts: such a plan holds k = 1 only, --min-cell 1; docs/privacy.md)",
    );
  withAnalysisFlags(cmd);
  // The analysis flags' --json prints a run's summary; a plan command has the plan to print.
  const json = cmd.options.find((o) => o.long === "--json");
  if (json !== undefined) json.description = "print the plan written (its JSON) on stdout";
  cmd.addHelpText(
    "after",
    `
cells.json holds every center's row of cell sizes; or give one --cell-sizes file per center,
each written by fedseq cells on that center's data.

Example:
  fedseq plan --design "~ tissue" --levels tissue=adipose,heart,kidney --reference tissue=adipose \\
    --centers hospital_a,hospital_b,hospital_c --cell-sizes cells.json --out plan.json`,
  );
  cmd.action(async (flags: PlanFlags) => {
    forOption("--out", () => checkLogFile("--out", flags.out));
    if (existsSync(flags.out))
      throw new InputError(
        `--out ${flags.out}: already exists (a plan is never overwritten; remove it first)`,
      );
    const { plan, cooksCells } = await planFromFlags(flags);
    // A center refuses a plan whose cells break its k-sample rule before round 1
    // (cellRule.ts, checkCellRule): say so now, before anyone approves it.
    try {
      checkPlanCells(plan);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      throw new InputError(
        `--min-cell ${plan.minCell}: the centers would refuse this plan: ${error.message}; ${largestMinCell(plan)}`,
      );
    }
    try {
      writeFileAtomic(flags.out, planText(plan));
    } catch (error) {
      throw unwritableFile("--out", flags.out, error);
    }
    if (flags.json === true) process.stdout.write(planText(plan));
    process.stderr.write(
      `fedseq: wrote ${flags.out}: ${plan.design}, ${plan.centers.length} centers, k = ${plan.minCell}, secure aggregation ${plan.secureAggregation ? "on" : "off"}, requests ${plan.verifyRequests ? "verified by every center" : "not verified"}; sha256 ${planHash(plan)}\n`,
    );
    const unverified = unverifiedWarning(plan);
    if (unverified !== null) process.stderr.write(`fedseq: ${unverified}\n`);
    const open = cellsOpenToEquations(plan);
    if (open.length > 0) process.stderr.write(`fedseq: ${equationsWarning(plan, open)}\n`);
    if (cooksCells !== null) warn(cooksCells);
  });
  return cmd;
}
