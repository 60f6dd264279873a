/**
 * The k-sample rule on cells (src/federation/cellRule.ts), checked by each center before it
 * computes anything: pooled cells with secure aggregation over ≥ 3 centers, each center's own
 * cells otherwise. The shared datasets' real cell sizes are the cases: bodymap (3 hospitals,
 * 1–2 samples per tissue each, 4 pooled), li_lncap (2 sites, 1–2 per treatment), outliers_sim
 * (3 labs, 3 per condition).
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { checkCellRule, localCellSizes, pooledCellRule } from "../../src/federation/cellRule.js";
import type { CenterData } from "../../src/federation/centerData.js";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import type { AnalysisPlan, CellSizes } from "../../src/federation/plan.js";
import { sharedRefusal } from "../../src/federation/requestPolicy.js";
import { readDataset } from "../../src/io/dataset.js";
import { planFromRunJob } from "../../src/pipeline/analysisPlan.js";
import { DESIGNS } from "../helpers/fits.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";

async function centers(dataset: string): Promise<CenterData[]> {
  const data = await readDataset(sharedPath("data", dataset));
  return data.centers.map((c) => centerDataFromDataset(data, c));
}

const LEVELS: Record<string, Record<string, string[]>> = {
  bodymap: { tissue: ["adipose", "blood", "heart", "skeletal_muscle"] },
  li_lncap: { treatment: ["control", "dht"] },
  outliers_sim: { condition: ["A", "B"] },
};

async function planOf(
  dataset: string,
  options: {
    secureAggregation: boolean;
    minCell?: number;
    withSizes?: boolean;
    verifyRequests?: boolean;
  },
): Promise<{ plan: AnalysisPlan; data: CenterData[] }> {
  const data = await centers(dataset);
  const levels = LEVELS[dataset];
  const cells = { design: DESIGNS[dataset], levels };
  const cellSizes: CellSizes | null =
    options.withSizes === false
      ? null
      : Object.fromEntries(data.map((d) => [d.name, localCellSizes(cells, d)]));
  const plan = planFromRunJob(
    deseq2Job(dataset),
    levels,
    data.map((d) => d.name),
    {
      secureAggregation: options.secureAggregation,
      minCell: options.minCell,
      cellSizes,
      verifyRequests: options.verifyRequests,
    },
  );
  return { plan, data };
}

function refusal(plan: AnalysisPlan, data: CenterData): string | null {
  return refusalOf(plan, data)?.message ?? null;
}

/** What the center's refusal tells the aggregator (`sharedRefusal`), or null. */
function sharedText(plan: AnalysisPlan, data: CenterData): string | null {
  const error = refusalOf(plan, data);
  return error === null ? null : sharedRefusal(error);
}

function refusalOf(plan: AnalysisPlan, data: CenterData): InputError | null {
  try {
    checkCellRule(plan, data);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
}

describe("the k-sample rule on cells", () => {
  it("counts each center's cells: bodymap's sizes as DESeq2's design sees them", async () => {
    const data = await centers("bodymap");
    const a = data.find((d) => d.name === "hospital_a") as CenterData;
    expect(localCellSizes({ design: "~ tissue", levels: LEVELS.bodymap }, a)).toEqual({
      "tissue=adipose": 2,
      "tissue=blood": 1,
      "tissue=heart": 1,
      "tissue=skeletal_muscle": 2,
    });
  });

  it("bodymap under secure aggregation without verified requests: every tissue holds 4 samples over 3 hospitals, accepted", async () => {
    const { plan, data } = await planOf("bodymap", {
      secureAggregation: true,
      verifyRequests: false,
    });
    expect(pooledCellRule(plan)).toBe(true);
    for (const d of data) expect(refusal(plan, d)).toBeNull();
  });

  it("bodymap with verified requests (the default): each hospital learns the pooled sums, and a tissue's other 2 samples are too few for k = 3; k = 2 is accepted", async () => {
    const { plan, data } = await planOf("bodymap", { secureAggregation: true });
    expect(plan.verifyRequests).toBe(true);
    // hospital_a holds 2 adipose samples of 4 (2, 1, 1 over the three hospitals).
    expect(refusal(plan, data[0])).toBe(
      `center hospital_a: cell tissue=adipose holds 2 samples at the other centers (2 here), fewer than the plan's min_cell 3: with verified requests each center learns the pooled sums, and the pooled sums minus this center's own are those samples' (a plan with "verify_requests": false trusts the aggregator to choose the iterative steps' points instead)`,
    );
    for (const d of data) expect(refusal(plan, d)).toMatch(/holds 2 samples at the other centers/);
    const two = await planOf("bodymap", { secureAggregation: true, minCell: 2 });
    for (const d of two.data) expect(refusal(two.plan, d)).toBeNull();
  });

  it("bodymap in clear: a hospital whose tissues hold 1–2 samples refuses, naming the first cell", async () => {
    const { plan, data } = await planOf("bodymap", { secureAggregation: false });
    const a = data.find((d) => d.name === "hospital_a") as CenterData;
    expect(refusal(plan, a)).toBe(
      "center hospital_a: cell tissue=adipose holds 2 samples here, fewer than the plan's min_cell 3 (without secure aggregation each center's own cells count): sums over it would disclose those samples",
    );
    // The aggregator, told of the refusal, is not told the hospital's own number.
    expect(sharedText(plan, a)).toBe(
      "center hospital_a: cell tissue=adipose holds fewer samples here than the plan's min_cell 3 (without secure aggregation each center's own cells count): sums over it would disclose those samples",
    );
  });

  it("bodymap with pooled sizes but k = 5: the pooled cells of 4 are too small", async () => {
    const { plan, data } = await planOf("bodymap", { secureAggregation: true, minCell: 5 });
    expect(refusal(plan, data[0])).toMatch(
      /^center hospital_a: cell tissue=adipose holds 4 samples over the federation \(2 here\), fewer than the plan's min_cell 5/,
    );
  });

  it("bodymap under secure aggregation but without cell sizes in the plan: own cells count", async () => {
    const { plan, data } = await planOf("bodymap", { secureAggregation: true, withSizes: false });
    expect(pooledCellRule(plan)).toBe(false);
    expect(refusal(plan, data[0])).toMatch(/the plan lists no cell sizes/);
  });

  it("li_lncap: two sites learn each other's sums, so secure aggregation does not pool", async () => {
    const { plan, data } = await planOf("li_lncap", { secureAggregation: true });
    expect(pooledCellRule(plan)).toBe(false);
    for (const d of data) expect(refusal(plan, d)).toMatch(/with two centers each learns/);
    const one = await planOf("li_lncap", { secureAggregation: true, minCell: 1 });
    for (const d of one.data) expect(refusal(one.plan, d)).toBeNull();
  });

  it("outliers_sim: 3 samples per condition in every lab, but in clear k = 3 cannot be kept", async () => {
    const { plan, data } = await planOf("outliers_sim", { secureAggregation: false });
    for (const d of data)
      expect(refusal(plan, d)).toMatch(
        /the plan's min_cell 3 can only be kept under secure aggregation over three or more centers with the plan's cell sizes \(this plan is in clear\); a plan without them needs min_cell 1/,
      );
    const secure = await planOf("outliers_sim", { secureAggregation: true });
    for (const d of secure.data) expect(refusal(secure.plan, d)).toBeNull();
    const consent = await planOf("outliers_sim", { secureAggregation: false, minCell: 1 });
    for (const d of consent.data) expect(refusal(consent.plan, d)).toBeNull();
  });

  it("a center whose cells are not the plan's refuses (a plan cannot claim cells that pool)", async () => {
    const { plan, data } = await planOf("bodymap", { secureAggregation: true });
    const sizes = plan.cellSizes as Record<string, Record<string, number>>;
    const forged = {
      ...plan,
      cellSizes: { ...sizes, hospital_b: { ...sizes.hospital_b, "tissue=blood": 9 } },
    };
    const b = data.find((d) => d.name === "hospital_b") as CenterData;
    expect(refusal(forged, b)).toBe(
      "center hospital_b: cell tissue=blood holds 2 samples here, the analysis plan says 9",
    );
    // The aggregator is told the plan's number (public), not the center's own (its data).
    expect(sharedText(forged, b)).toBe(
      "center hospital_b: cell tissue=blood does not hold the 9 samples the analysis plan says",
    );
  });

  it("a real center refuses in its constructor, before any request; only a simulation may waive", async () => {
    const { plan, data } = await planOf("li_lncap", { secureAggregation: false });
    expect(() => new CenterSession(data[0], { plan })).toThrow(
      "center site_1: cell treatment=control holds 2 samples here, fewer than the plan's min_cell 3",
    );
    const problems: string[] = [];
    for (const d of data) new CenterSession(d, { plan, cellRuleWaiver: (p) => problems.push(p) });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["center site_1", "center site_2"]);
  });
});
