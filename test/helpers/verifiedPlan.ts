/**
 * outliers_sim under a plan of secure aggregation with the centers' cell sizes, which they verify
 * by default: the set-up of the verified-requests tests and of the attacks on plans with and
 * without verification.
 */
import type { CenterData } from "../../src/algorithms/centerData.js";
import type { SizeFactorsType } from "../../src/algorithms/sizeFactors/state.js";
import { localLevels, mergeLevels } from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import { localCellSizes } from "../../src/federation/cellRule.js";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import type { AnalysisPlan } from "../../src/federation/plan.js";
import { readDataset } from "../../src/io/dataset.js";
import { planFromRunJob } from "../../src/pipeline/analysisPlan.js";
import { deseq2Job } from "./runs.js";
import { sharedPath } from "./shared.js";
import { cachedSubset } from "./subsets.js";

/**
 * The plan of outliers_sim's README design over these centers (their levels and cell sizes),
 * under secure aggregation; the centers verify requests unless `verifyRequests` is false.
 */
export function outliersSimPlan(
  data: readonly CenterData[],
  options: {
    readonly sizeFactorsType?: SizeFactorsType;
    readonly minCell?: number;
    readonly verifyRequests?: boolean;
  } = {},
): AnalysisPlan {
  const job = { ...deseq2Job("outliers_sim"), sizeFactorsType: options.sizeFactorsType ?? "ratio" };
  const formula = parseFormula(job.design);
  const levels = mergeLevels(data.map((d) => localLevels(d.metadata, formula)));
  const cells = { design: job.design, levels };
  return planFromRunJob(
    job,
    levels,
    data.map((d) => d.name),
    {
      secureAggregation: true,
      cellSizes: Object.fromEntries(data.map((d) => [d.name, localCellSizes(cells, d)])),
      ...(options.minCell === undefined ? {} : { minCell: options.minCell }),
      ...(options.verifyRequests === undefined ? {} : { verifyRequests: options.verifyRequests }),
    },
  );
}

/**
 * outliers_sim's centers (its first `first` genes; all without) and the verified plan of its
 * README design with these size factors.
 */
export async function verifiedOutliersSim(
  sizeFactorsType: SizeFactorsType = "ratio",
  first?: number,
): Promise<{ data: CenterData[]; plan: AnalysisPlan }> {
  const dataset = await readDataset(
    first === undefined
      ? sharedPath("data", "outliers_sim")
      : await cachedSubset("outliers_sim", first),
  );
  const data = dataset.centers.map((name) => centerDataFromDataset(dataset, name));
  return { data, plan: outliersSimPlan(data, { sizeFactorsType }) };
}
