/**
 * `fedseq plan`: write the analysis plan every center approves before a real federation runs
 * (`federation/plan.ts`): the centers, the design with its factors' levels and references, the
 * contrast and test, the fit's options and the minimum cell size. The same flags as `run` choose
 * the analysis; the levels come from `--levels` or, for a trial on a dataset folder, `--data`.
 */
import { existsSync } from "node:fs";
import { Command } from "commander";
import { localLevels } from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import { type AnalysisPlan, DEFAULT_MIN_CELL, planHash, planText } from "../federation/plan.js";
import { writeFileAtomic } from "../io/atomic.js";
import { readDataset } from "../io/dataset.js";
import { InputError, quote } from "../io/errors.js";
import { checkPlanAnalysis, planFromRunJob } from "../pipeline/analysisPlan.js";
import { checkFolder, checkLogFile, forOption } from "../pipeline/runOptions.js";
import { centerList, integerOption } from "./options.js";
import { type AnalysisFlags, runJobFromFlags, withAnalysisFlags } from "./runCommand.js";

interface PlanFlags extends AnalysisFlags {
  out: string;
  centers?: string[];
  levels?: Record<string, string[]>;
  data?: string;
  minCell: number;
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
  return { ...previous, [factor]: levels.sort() };
}

/** The plan the flags describe (the dataset, with `--data`, gives levels and centers). */
async function planFromFlags(flags: PlanFlags): Promise<AnalysisPlan> {
  const job = runJobFromFlags({ ...flags, out: "." });
  const formula = parseFormula(flags.design);
  let levels: Record<string, string[]> = {};
  let centers = flags.centers;
  if (flags.data !== undefined) {
    if (flags.levels !== undefined)
      throw new InputError("--levels: not with --data (the dataset gives the levels)");
    checkFolder("--data", flags.data);
    const dataset = await readDataset(flags.data);
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
  const plan = planFromRunJob(job, levels, centers, flags.minCell);
  checkPlanAnalysis(plan);
  return plan;
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
    );
  withAnalysisFlags(cmd);
  cmd.addHelpText(
    "after",
    `
Example:
  fedseq plan --design "~ tissue" --levels tissue=adipose,heart,kidney --reference tissue=adipose \\
    --centers hospital_a,hospital_b,hospital_c --out plan.json`,
  );
  cmd.action(async (flags: PlanFlags) => {
    forOption("--out", () => checkLogFile("--out", flags.out));
    if (existsSync(flags.out))
      throw new InputError(
        `--out ${flags.out}: already exists (a plan is never overwritten; remove it first)`,
      );
    const plan = await planFromFlags(flags);
    writeFileAtomic(flags.out, planText(plan));
    process.stderr.write(
      `fedseq: wrote ${flags.out}: ${plan.design}, ${plan.centers.length} centers, k = ${plan.minCell}; sha256 ${planHash(plan)}\n`,
    );
  });
  return cmd;
}
