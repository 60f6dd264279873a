/**
 * A `run` job and its analysis plan (`federation/plan.ts`) are two views of the same choices: the
 * plan is what the centers approve, the job is what the aggregator runs. These functions turn one
 * into the other, so that the aggregator runs exactly the plan the centers hold.
 */
import { type DesignLevels, designColumns } from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import { type AnalysisPlan, DEFAULT_MIN_CELL } from "../federation/plan.js";
import { InputError, listForMessage, quote } from "../io/errors.js";
import { type ContrastSpec, parseContrast, resolveContrast } from "../results/contrast.js";
import type { RunJob } from "./runJob.js";

/** The `--contrast` text of a contrast. */
function contrastText(spec: ContrastSpec | undefined): string | null {
  if (spec === undefined) return null;
  return spec.kind === "levels" ? `${spec.factor},${spec.level},${spec.reference}` : spec.name;
}

/**
 * The plan of a run job, over the given centers and the factors' levels.
 * @param levels - the design's factors and their levels (sorted)
 */
export function planFromRunJob(
  job: RunJob,
  levels: DesignLevels,
  centers: readonly string[],
  minCell: number = DEFAULT_MIN_CELL,
): AnalysisPlan {
  return {
    centers: [...centers].sort(),
    design: job.design,
    levels,
    references: { ...job.references },
    contrast: contrastText(job.contrast),
    lfcNull: job.wald.lfcThreshold ?? 0,
    altHypothesis: job.wald.altHypothesis ?? "greaterAbs",
    alpha: job.alpha,
    independentFiltering: job.independentFiltering,
    solver: job.solver,
    mode: job.mode,
    maxit: job.maxit ?? 100,
    hyperparameters: { ...job.hp },
    minCell,
  };
}

/** The run job a plan describes, writing into `outDir`. */
export function runJobFromPlan(plan: AnalysisPlan, outDir: string, compareFile?: string): RunJob {
  return {
    design: plan.design,
    references: plan.references,
    mode: plan.mode,
    solver: plan.solver,
    maxit: plan.maxit,
    hp: plan.hyperparameters,
    outDir,
    contrast: plan.contrast === null ? undefined : parseContrast(plan.contrast),
    wald: { lfcThreshold: plan.lfcNull, altHypothesis: plan.altHypothesis },
    alpha: plan.alpha,
    independentFiltering: plan.independentFiltering,
    compareFile,
  };
}

/**
 * The levels the centers hold (merged) must be the plan's: a center with a level outside the
 * plan refuses by itself; a level of the plan that no center holds would leave a coefficient
 * that cannot be estimated.
 * @throws InputError naming the factor and level
 */
export function checkLevelsAgainstPlan(plan: AnalysisPlan, merged: DesignLevels): void {
  for (const [factor, levels] of Object.entries(plan.levels)) {
    const held = merged[factor];
    if (held === undefined) {
      throw new InputError(
        `analysis plan: factor ${quote(factor)} is continuous (numbers) at the centers, not a factor`,
      );
    }
    const missing = levels.filter((l) => !held.includes(l));
    if (missing.length > 0) {
      throw new InputError(
        `analysis plan: level(s) ${listForMessage(missing)} of ${factor} are held by no center`,
      );
    }
    const extra = held.filter((l) => !levels.includes(l));
    if (extra.length > 0) {
      throw new InputError(
        `analysis plan: level(s) ${listForMessage(extra)} of ${factor} are not in the plan`,
      );
    }
  }
  for (const factor of Object.keys(merged)) {
    if (!Object.hasOwn(plan.levels, factor)) {
      throw new InputError(
        `analysis plan: design variable ${quote(factor)} is a factor at the centers but a continuous covariate in the plan`,
      );
    }
  }
}

/**
 * Check a plan's analysis the way the aggregator will run it: the reference levels and the
 * contrast against the plan's levels (so that a plan every center approved never fails on them).
 * @throws InputError naming what does not fit
 */
export function checkPlanAnalysis(plan: AnalysisPlan): void {
  const formula = parseFormula(plan.design);
  const job = runJobFromPlan(plan, ".");
  const columns = designColumns(formula, plan.levels, job.references);
  resolveContrast(job.contrast, formula, plan.levels, columns);
}
