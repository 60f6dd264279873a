/**
 * A `run` job and its analysis plan (`federation/plan.ts`) are two views of the same choices: the
 * plan is what the centers approve, the job is what the aggregator runs. These functions turn one
 * into the other, so that the aggregator runs exactly the plan the centers hold.
 */
import { type DesignLevels, designColumns } from "../design/designMatrix.js";
import { cellLevels } from "../design/factorCells.js";
import { parseFormula } from "../design/formula.js";
import { planFactors } from "../federation/cellRule.js";
import {
  type AnalysisPlan,
  type CellSizes,
  DEFAULT_MIN_CELL,
  type PlanContrast,
} from "../federation/plan.js";
import { secureCentersProblem } from "../federation/registry.js";
import { InputError, listForMessage } from "../io/errors.js";
import { type ContrastSpec, parseContrast, resolveContrast } from "../results/contrast.js";
import { shrunkCoefficient } from "../results/lfcShrink.js";
import type { RunJob } from "./runJob.js";

/** A contrast as the plan file holds it. */
function planContrast(spec: ContrastSpec | undefined): PlanContrast {
  if (spec === undefined) return null;
  switch (spec.kind) {
    case "levels":
      return `${spec.factor},${spec.level},${spec.reference}`;
    case "variable":
      return spec.name;
    case "coefficient":
      return { name: spec.name };
    case "vector":
      return { vector: [...spec.weights] };
  }
}

/** A plan's contrast as the job's. */
function contrastSpec(contrast: PlanContrast): ContrastSpec | undefined {
  if (contrast === null) return undefined;
  if (typeof contrast === "string") return parseContrast(contrast);
  if ("name" in contrast) return { kind: "coefficient", name: contrast.name };
  return { kind: "vector", weights: [...contrast.vector] };
}

/**
 * The plan of a run job, over the given centers and the factors' levels.
 * @param levels - the design's factors and their levels (sorted)
 */
export function planFromRunJob(
  job: RunJob,
  levels: DesignLevels,
  centers: readonly string[],
  options: {
    /** k (default {@link DEFAULT_MIN_CELL}). */
    readonly minCell?: number;
    /** Whether the run is under secure aggregation (default false). */
    readonly secureAggregation?: boolean;
    /** Each center's cell sizes (default null: each center's own cells count). */
    readonly cellSizes?: CellSizes | null;
    /** Leave out sparse genes (default false; algorithms/sparseGenes.ts). */
    readonly omitSparseGenes?: boolean;
    /** The centers verify every request (default: under secure aggregation with cell sizes; plan.ts). */
    readonly verifyRequests?: boolean;
  } = {},
): AnalysisPlan {
  const tooMany = options.secureAggregation === true ? secureCentersProblem(centers.length) : null;
  if (tooMany !== null) throw new InputError(tooMany);
  const verifyRequests =
    (options.secureAggregation ?? false) &&
    (options.cellSizes ?? null) !== null &&
    (options.verifyRequests ?? true);
  for (const [asked, flag] of [
    [job.pcaCoordinates, "--pca-coordinates"],
    [job.vstMaxCount, "--vst-max-count"],
    [job.sizeFactorsType === "iterate", "--size-factors-type iterate"],
  ] as const) {
    if (asked === true && !verifyRequests)
      throw new InputError(
        `${flag} needs verified requests (secure aggregation, the plan's cell sizes, no --no-verify-requests): its steps run only under them`,
      );
  }
  return {
    centers: [...centers].sort(),
    design: job.design,
    levels,
    references: { ...job.references },
    contrast: planContrast(job.contrast),
    lfcNull: job.wald.lfcThreshold ?? 0,
    altHypothesis: job.wald.altHypothesis ?? "greaterAbs",
    alpha: job.alpha,
    independentFiltering: job.independentFiltering,
    solver: job.solver,
    mode: job.mode,
    maxit: job.maxit ?? 100,
    fitType: job.fitType ?? "parametric",
    sizeFactorsType: job.sizeFactorsType ?? "ratio",
    hyperparameters: { ...job.hp },
    minCell: options.minCell ?? DEFAULT_MIN_CELL,
    secureAggregation: options.secureAggregation ?? false,
    cellSizes: options.cellSizes ?? null,
    verifyRequests,
    omitSparseGenes: options.omitSparseGenes ?? false,
    reduced: job.reduced ?? null,
    minReplicatesForReplace:
      job.minReplicatesForReplace === Number.POSITIVE_INFINITY
        ? null
        : (job.minReplicatesForReplace ?? 7),
    cooksFilter: job.cooksFilter ?? true,
    cooksCutoff: job.cooksCutoff ?? null,
    vst: job.vst ?? false,
    pcaCoordinates: job.pcaCoordinates ?? false,
    vstMaxCount: job.vstMaxCount ?? false,
    levelPresence: job.levelPresence ?? true,
    lfcShrink: job.lfcShrink ?? null,
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
    fitType: plan.fitType,
    sizeFactorsType: plan.sizeFactorsType,
    hp: plan.hyperparameters,
    outDir,
    contrast: contrastSpec(plan.contrast),
    wald: { lfcThreshold: plan.lfcNull, altHypothesis: plan.altHypothesis },
    alpha: plan.alpha,
    independentFiltering: plan.independentFiltering,
    ...(plan.reduced === null ? {} : { reduced: plan.reduced }),
    minReplicatesForReplace: plan.minReplicatesForReplace ?? Number.POSITIVE_INFINITY,
    cooksFilter: plan.cooksFilter,
    ...(plan.cooksCutoff === null ? {} : { cooksCutoff: plan.cooksCutoff }),
    vst: plan.vst,
    pcaCoordinates: plan.pcaCoordinates,
    vstMaxCount: plan.vstMaxCount,
    levelPresence: plan.levelPresence,
    ...(plan.lfcShrink === null ? {} : { lfcShrink: plan.lfcShrink }),
    compareFile,
  };
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
  const contrast = resolveContrast(job.contrast, formula, plan.levels, columns);
  if (plan.lfcShrink !== null) shrunkCoefficient(plan.lfcShrink, formula, contrast, columns);
}

/**
 * The design's levels under a plan: the plan's, once its cell sizes (when it lists them) show a
 * sample of every level somewhere — a level no center holds would make a column of zeros.
 * @throws InputError naming the factor and the level no center holds
 */
export function plannedLevels(plan: AnalysisPlan): DesignLevels {
  if (plan.cellSizes !== null) {
    // A cell's key joins its `factor=level` parts with commas, and a level may hold a comma
    // ("day 1, treated"): the keys are matched whole against the design's cells, not split.
    const factors = planFactors(plan);
    const cells = cellLevels(factors, plan.levels);
    const held = new Set<string>();
    for (const sizes of Object.values(plan.cellSizes))
      for (const key of Object.keys(sizes))
        for (const [k, level] of (cells.get(key) ?? []).entries())
          held.add(JSON.stringify([factors[k], level]));
    for (const [factor, levels] of Object.entries(plan.levels)) {
      const missing = levels.filter((l) => !held.has(JSON.stringify([factor, l])));
      if (missing.length > 0) {
        throw new InputError(
          `analysis plan: level(s) ${listForMessage(missing)} of ${factor} are held by no center (cell_sizes)`,
        );
      }
    }
  }
  return plan.levels;
}
