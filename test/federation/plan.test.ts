import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import {
  type AnalysisPlan,
  planFromJson,
  planHash,
  planText,
  planToJson,
  readPlanFile,
} from "../../src/federation/plan.js";
import {
  checkPlanAnalysis,
  planFromRunJob,
  plannedLevels,
  runJobFromPlan,
} from "../../src/pipeline/analysisPlan.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder();

const PLAN: AnalysisPlan = {
  centers: ["hospital_a", "hospital_b", "hospital_c"],
  design: "~ batch + condition",
  levels: { batch: ["b1", "b2"], condition: ["control", "treated"] },
  references: { condition: "control" },
  contrast: "condition,treated,control",
  lfcNull: 0,
  altHypothesis: "greaterAbs",
  alpha: 0.1,
  independentFiltering: true,
  solver: "deseq2",
  mode: "irls-pqn",
  maxit: 100,
  fitType: "mean",
  sizeFactorsType: "poscounts",
  hyperparameters: {
    maxBeta: 30,
    irlsNumIter: 20,
    pqnNumIters: 100,
    pqnNumItersLs: 20,
    pqnC1: 1e-4,
    pqnFtol: 1e-7,
    pqnMinMu: 0,
    minMu: 0.5,
    betaTol: 1e-8,
  },
  minCell: 3,
  secureAggregation: true,
  verifyRequests: true,
  cellSizes: {
    hospital_a: { "batch=b1,condition=control": 3, "batch=b1,condition=treated": 4 },
    hospital_b: { "batch=b2,condition=control": 5 },
    hospital_c: { "batch=b2,condition=treated": 3 },
  },
  omitSparseGenes: true,
  reduced: null,
  minReplicatesForReplace: 7,
  cooksFilter: true,
  cooksCutoff: null,
  vst: false,
  pcaCoordinates: false,
  vstMaxCount: false,
  levelPresence: false,
  lfcShrink: null,
};

const PLAN_CELLS = PLAN.cellSizes as Record<string, Record<string, number>>;

/** The plan file as JSON text written by hand (not by the code under test). */
const CANONICAL =
  '{"alpha":0.1,"alt_hypothesis":"greaterAbs",' +
  '"cell_sizes":{"hospital_a":{"batch=b1,condition=control":3,"batch=b1,condition=treated":4},' +
  '"hospital_b":{"batch=b2,condition=control":5},"hospital_c":{"batch=b2,condition=treated":3}},' +
  '"centers":["hospital_a","hospital_b","hospital_c"],' +
  '"contrast":"condition,treated,control","design":"~ batch + condition","fedseq_plan":2,' +
  '"fit_type":"mean",' +
  '"hyperparameters":{"beta_tol":1e-8,"irls_iters":20,"max_beta":30,"min_mu":0.5,"pqn_c1":0.0001,' +
  '"pqn_ftol":1e-7,"pqn_iters":100,"pqn_ls_iters":20,"pqn_min_mu":0},"independent_filtering":true,' +
  '"levels":{"batch":["b1","b2"],"condition":["control","treated"]},"lfc_null":0,"maxit":100,' +
  '"min_cell":3,"mode":"irls-pqn","omit_sparse_genes":true,"references":{"condition":"control"},' +
  '"secure_aggregation":true,"size_factors_type":"poscounts","solver":"deseq2",' +
  '"verify_requests":true}';

function json(plan = PLAN): Record<string, unknown> {
  return JSON.parse(JSON.stringify(planToJson(plan)));
}

function problem(value: unknown): string {
  try {
    planFromJson(value, "plan.json");
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("accepted");
}

describe("analysis plan", () => {
  it("hashes the canonical JSON (keys sorted, no white space) with SHA-256", () => {
    const expected = createHash("sha256").update(CANONICAL).digest("hex");
    expect(planHash(PLAN)).toBe(expected);
  });

  it("reads back what it writes, and the hash ignores indentation and key order", () => {
    const file = temp.write("plan.json", planText(PLAN));
    expect(readPlanFile(file)).toEqual(PLAN);
    const shuffled = Object.fromEntries(Object.entries(json()).reverse());
    writeFileSync(file, JSON.stringify(shuffled));
    expect(planHash(readPlanFile(file))).toBe(planHash(PLAN));
  });

  it("holds DESeq2's iterative size factors under verified requests", () => {
    const plan = planFromJson({ ...json(), size_factors_type: "iterate" }, "plan.json");
    expect(plan.sizeFactorsType).toBe("iterate");
    expect(plan.verifyRequests).toBe(true);
    expect(json(plan).size_factors_type).toBe("iterate");
  });

  it("reads a plan written before fit_type and size_factors_type existed with DESeq2's defaults", () => {
    const { fit_type: _, size_factors_type: __, ...older } = json();
    expect(planFromJson(older, "plan.json").fitType).toBe("parametric");
    expect(planFromJson(older, "plan.json").sizeFactorsType).toBe("ratio");
  });

  it("changes its hash when any value changes", () => {
    const variants: Partial<AnalysisPlan>[] = [
      { levelPresence: true },
      { centers: ["hospital_a", "hospital_b"] },
      { design: "~ condition + batch" },
      { levels: { batch: ["b1", "b2", "b3"], condition: ["control", "treated"] } },
      { references: {} },
      { contrast: null },
      { lfcNull: 0.5 },
      { altHypothesis: "greater" },
      { alpha: 0.05 },
      { independentFiltering: false },
      { solver: "fast" },
      { mode: "pqn" },
      { maxit: 99 },
      { fitType: "local" },
      { sizeFactorsType: "ratio" },
      { hyperparameters: { ...PLAN.hyperparameters, minMu: 0.25 } },
      { minCell: 5 },
      { reduced: "~ batch" },
      { minReplicatesForReplace: 3 },
      { minReplicatesForReplace: null },
      { cooksFilter: false },
      { vst: true },
      { cooksCutoff: 2 },
    ];
    const hashes = new Set(variants.map((v) => planHash({ ...PLAN, ...v })));
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(planHash(PLAN))).toBe(false);
  });

  it.each([
    [{ fedseq_plan: 1 }, "plan.json: fedseq_plan: version 1"],
    [{ secure_aggregation: "yes" }, "plan.json: secure_aggregation: expected true or false"],
    [{ fit_type: "loess" }, "plan.json: fit_type:"],
    [{ size_factors_type: "median" }, "plan.json: size_factors_type:"],
    [
      { size_factors_type: "iterate", verify_requests: false, min_cell: 1 },
      "plan.json: size_factors_type: iterate needs verified requests (verify_requests), under which its steps run",
    ],
    [{ cell_sizes: { hospital_a: {} } }, "plan.json: cell_sizes.hospital_b: missing"],
    [
      { cell_sizes: { ...PLAN_CELLS, hospital_b: { "batch=b2,condition=control": 0 } } },
      "plan.json: cell_sizes.hospital_b.batch=b2,condition=control: expected a whole number of samples ≥ 1",
    ],
    [
      { cell_sizes: { ...PLAN_CELLS, hospital_b: { "condition=control": 5 } } },
      "plan.json: cell_sizes.hospital_b.condition=control: not a cell of the design ~ batch + condition (its cells: batch=b1,condition=control, batch=b1,condition=treated, batch=b2,condition=control and batch=b2,condition=treated)",
    ],
    [
      {
        levels: { condition: ["control", "treated"] },
        references: {},
      },
      'plan.json: cell_sizes.hospital_a.batch=b1,condition=control: "batch" has no levels in the plan, so it is a continuous covariate and no cell of it: give its levels (fedseq plan --levels batch=…)',
    ],
    [
      // A covariate whose name ends a factor's ("n" in "condition") is not blamed for its cells.
      {
        design: "~ n + condition",
        levels: { condition: ["control", "treated"] },
        references: {},
        cell_sizes: { ...PLAN_CELLS, hospital_b: { "condition=placebo": 5 } },
      },
      "plan.json: cell_sizes.hospital_a.batch=b1,condition=control: not a cell of the design ~ n + condition (its cells: condition=control and condition=treated)",
    ],
    [
      { design: "~ factor(batch) + condition", levels: { condition: ["control", "treated"] } },
      "plan.json: levels: the design's factor(batch) needs its levels (fedseq plan --levels batch=…)",
    ],
    [{ centers: ["a"] }, "plan.json: centers: a federation needs at least two centers"],
    [{ centers: ["a", "a"] }, "plan.json: centers: a center is listed twice"],
    [{ centers: ["a", "b c"] }, "plan.json: centers:"],
    [{ design: "condition" }, "plan.json: design:"],
    [{ levels: { age: ["1", "2"] } }, "plan.json: levels.age: not a variable of the design"],
    [
      { levels: { condition: ["treated", "control"] } },
      "plan.json: levels.condition: levels must be sorted",
    ],
    [
      { levels: { condition: ["control"] } },
      "plan.json: levels.condition: a factor needs at least two levels",
    ],
    [{ references: { condition: "placebo" } }, "plan.json: references.condition:"],
    [{ contrast: "condition,placebo,control" }, "plan.json: contrast:"],
    [{ contrast: "age" }, "plan.json: contrast:"],
    [{ lfc_null: -1 }, "plan.json: lfc_null:"],
    [{ alt_hypothesis: "two-sided" }, "plan.json: alt_hypothesis:"],
    [{ alpha: 1.5 }, "plan.json: alpha:"],
    [{ independent_filtering: "yes" }, "plan.json: independent_filtering:"],
    [{ solver: "glm" }, "plan.json: solver:"],
    [{ maxit: 2.5 }, "plan.json: maxit:"],
    [{ min_cell: 0 }, "plan.json: min_cell:"],
    [{ test: "F" }, "plan.json: test: expected one of Wald, LRT"],
    [
      { min_replicates_for_replace: 0 },
      "plan.json: min_replicates_for_replace: expected a whole number ≥ 3 (DESeq2 calls no count of a smaller cell an outlier) or null",
    ],
    [{ cooks_filter: "no" }, "plan.json: cooks_filter: expected true or false"],
    [{ contrast: { name: "" } }, "plan.json: contrast.name: expected a coefficient's name"],
    [{ contrast: { vector: [0, "1"] } }, "plan.json: contrast.vector: expected a list of numbers"],
    [{ contrast: { name: "a", vector: [1] } }, "plan.json: contrast: expected null, a contrast"],
    [{ test: "LRT" }, "plan.json: reduced: missing"],
    [{ reduced: "~ batch" }, 'plan.json: reduced: only with "test": "LRT"'],
    [
      { test: "LRT", reduced: "~ age" },
      'plan.json: reduced: reduced design "~ age": variable "age"',
    ],
    [
      { test: "LRT", reduced: "~ condition + batch" },
      'plan.json: reduced: reduced design "~ condition + batch": it keeps every variable',
    ],
    [{ min_cel: 3 }, "plan.json: min_cel: not a plan field"],
    [
      { hyperparameters: { ...(json().hyperparameters as object), min_mu: -1 } },
      "plan.json: hyperparameters.min_mu:",
    ],
    [
      { hyperparameters: { ...(json().hyperparameters as object), minMu: 1 } },
      "plan.json: hyperparameters.minMu: not a plan field",
    ],
  ])("refuses %j with one line naming the field", (change, message) => {
    const text = problem({ ...json(), ...change });
    expect(text.startsWith(message)).toBe(true);
    expect(text).not.toContain("\n");
  });

  it("holds a likelihood-ratio test as test and reduced, written only then (Wald plans keep their text)", () => {
    const lrt: AnalysisPlan = { ...PLAN, reduced: "~ batch" };
    expect(json(lrt)).toMatchObject({ test: "LRT", reduced: "~ batch" });
    expect(Object.hasOwn(json(), "test")).toBe(false);
    expect(Object.hasOwn(json(), "reduced")).toBe(false);
    expect(planFromJson(json(lrt), "plan.json")).toEqual(lrt);
    expect(planFromJson({ ...json(), test: "Wald" }, "plan.json").reduced).toBeNull();
    expect(runJobFromPlan(lrt, "out").reduced).toBe("~ batch");
    expect(runJobFromPlan(PLAN, "out").reduced).toBeUndefined();
  });

  it("holds a coefficient's name or a numeric contrast as an object", () => {
    for (const contrast of [{ name: "condition_treated_vs_control" }, { vector: [0, 0, 1] }]) {
      const plan: AnalysisPlan = { ...PLAN, contrast };
      expect(json(plan).contrast).toEqual(contrast);
      expect(planFromJson(json(plan), "plan.json")).toEqual(plan);
    }
    expect(runJobFromPlan({ ...PLAN, contrast: { name: "x" } }, "out").contrast).toEqual({
      kind: "coefficient",
      name: "x",
    });
    expect(runJobFromPlan({ ...PLAN, contrast: { vector: [0, 1] } }, "out").contrast).toEqual({
      kind: "vector",
      weights: [0, 1],
    });
  });

  it("holds the Cook's switches only when not DESeq2's defaults (7, filter on)", () => {
    expect(Object.hasOwn(json(), "min_replicates_for_replace")).toBe(false);
    expect(Object.hasOwn(json(), "cooks_filter")).toBe(false);
    const never: AnalysisPlan = { ...PLAN, minReplicatesForReplace: null, cooksFilter: false };
    expect(json(never)).toMatchObject({ min_replicates_for_replace: null, cooks_filter: false });
    expect(planFromJson(json(never), "plan.json")).toEqual(never);
    const job = runJobFromPlan(never, "out");
    expect(job.minReplicatesForReplace).toBe(Number.POSITIVE_INFINITY);
    expect(job.cooksFilter).toBe(false);
  });

  it("says whether the centers verify requests: by default under secure aggregation with cell sizes, never in clear", () => {
    expect(json()).toMatchObject({ verify_requests: true });
    expect(planFromJson(json(), "plan.json").verifyRequests).toBe(true);
    // Without verification k must be 1 (the next test).
    const trusting: AnalysisPlan = { ...PLAN, verifyRequests: false, minCell: 1 };
    expect(json(trusting)).toMatchObject({ verify_requests: false });
    expect(planFromJson(json(trusting), "plan.json")).toEqual(trusting);
    // A plan file made before the field existed: verified when it can be.
    const { verify_requests: _, ...older } = json();
    expect(planFromJson(older, "plan.json").verifyRequests).toBe(true);
    expect(
      planFromJson({ ...older, cell_sizes: null, min_cell: 1 }, "plan.json").verifyRequests,
    ).toBe(false);
    expect(
      planFromJson({ ...older, secure_aggregation: false, min_cell: 1 }, "plan.json")
        .verifyRequests,
    ).toBe(false);
    // It needs secure aggregation's pair secrets and the cell sizes.
    expect(problem({ ...json(), secure_aggregation: false })).toMatch(
      /^plan\.json: verify_requests: .*false when secure_aggregation is false/,
    );
    expect(problem({ ...json(), cell_sizes: null })).toMatch(
      /^plan\.json: verify_requests: .*false when the plan lists no cell_sizes/,
    );
  });

  it("holds a k above 1 only under verified requests: without them (no cell sizes, in clear, or verify_requests false) k must be 1", () => {
    // A red team's requests under an unverified plan read single samples' counts (Cook's sums
    // over ranges of its choosing, windows of replaced counts, coefficients that weigh samples
    // out of a sum): the k-sample rule is then only an honest aggregator's.
    for (const unverified of [
      { verify_requests: false },
      { cell_sizes: null, verify_requests: false },
      { secure_aggregation: false, verify_requests: false },
    ]) {
      expect(problem({ ...json(), ...unverified })).toMatch(
        /^plan\.json: min_cell: a k above 1 holds only under verified requests/,
      );
      expect(planFromJson({ ...json(), ...unverified, min_cell: 1 }, "plan.json").minCell).toBe(1);
    }
  });

  it("refuses more than 64 centers under secure aggregation, naming the way out; in clear it holds them", () => {
    const centers = Array.from({ length: 70 }, (_, i) => `lab_${i}`);
    const many = { ...json(), centers, cell_sizes: null, verify_requests: false, min_cell: 1 };
    expect(problem(many)).toMatch(
      /^plan\.json: centers: 70 centers: secure aggregation takes at most 64 .*--no-secure-aggregation/,
    );
    const clear = planFromJson({ ...many, secure_aggregation: false }, "plan.json");
    expect(clear.centers).toHaveLength(70);
    expect(clear.secureAggregation).toBe(false);
  });

  it("holds lfcShrink only when asked for (plans without it keep their text), and checks its coefficient", () => {
    expect(Object.hasOwn(json(), "lfc_shrink")).toBe(false);
    const shrinking: AnalysisPlan = { ...PLAN, lfcShrink: "normal" };
    expect(json(shrinking)).toMatchObject({ lfc_shrink: "normal" });
    expect(planFromJson(json(shrinking), "plan.json")).toEqual(shrinking);
    expect(runJobFromPlan(shrinking, "out").lfcShrink).toBe("normal");
    expect(problem({ ...json(), lfc_shrink: "ashr" })).toMatch(/^plan\.json: lfc_shrink: /);
    // PLAN's contrast is condition,treated,control: the coefficient condition_treated_vs_control.
    expect(() => checkPlanAnalysis(shrinking)).not.toThrow();
    expect(() =>
      checkPlanAnalysis({ ...shrinking, contrast: { vector: [0, 1, -1] } as never }),
    ).toThrow(/--lfc-shrink normal: DESeq2 shrinks one coefficient/);
  });

  it("lets the samples' PCA coordinates leave the centers only when it says so, and only with vst", () => {
    expect(Object.hasOwn(json(), "pca_coordinates")).toBe(false);
    expect(planFromJson(json(), "plan.json").pcaCoordinates).toBe(false);
    const sending: AnalysisPlan = { ...PLAN, vst: true, pcaCoordinates: true };
    expect(json(sending)).toMatchObject({ vst: true, pca_coordinates: true });
    expect(planFromJson(json(sending), "plan.json")).toEqual(sending);
    expect(runJobFromPlan(sending, "out").pcaCoordinates).toBe(true);
    expect(problem({ ...json(), pca_coordinates: true })).toMatch(
      /^plan\.json: pca_coordinates: true needs vst/,
    );
  });

  it("refuses a missing field", () => {
    const { solver: _, ...rest } = json();
    expect(problem(rest)).toBe("plan.json: solver: missing");
  });

  it("is the run job it was made from", () => {
    const job = runJobFromPlan(PLAN, "out");
    expect(
      planFromRunJob(job, PLAN.levels, PLAN.centers, {
        minCell: PLAN.minCell,
        secureAggregation: PLAN.secureAggregation,
        cellSizes: PLAN.cellSizes,
        omitSparseGenes: PLAN.omitSparseGenes,
      }),
    ).toEqual(PLAN);
    expect(job.contrast).toEqual({
      kind: "levels",
      factor: "condition",
      level: "treated",
      reference: "control",
    });
    expect(() => checkPlanAnalysis(PLAN)).not.toThrow();
  });

  it("gives the plan's levels, once its cell sizes show every level held somewhere", () => {
    expect(plannedLevels(PLAN)).toEqual(PLAN.levels);
    expect(plannedLevels({ ...PLAN, cellSizes: null })).toEqual(PLAN.levels);
    const noB2 = {
      hospital_a: { "batch=b1,condition=control": 3, "batch=b1,condition=treated": 4 },
      hospital_b: { "batch=b1,condition=control": 5 },
      hospital_c: { "batch=b1,condition=treated": 3 },
    };
    expect(() => plannedLevels({ ...PLAN, cellSizes: noB2 })).toThrow(
      "analysis plan: level(s) b2 of batch are held by no center (cell_sizes)",
    );
  });

  it("reads cell keys whose levels hold commas and equals signs (written %2C and %3D)", () => {
    const levels = { batch: ["b1", "b=2"], condition: ["ctl, day 1", "trt, day 1"] };
    const cellSizes = {
      hospital_a: {
        "batch=b1,condition=ctl%2C day 1": 3,
        "batch=b%3D2,condition=trt%2C day 1": 4,
      },
      hospital_b: { "batch=b1,condition=trt%2C day 1": 5 },
    };
    expect(plannedLevels({ ...PLAN, levels, cellSizes })).toEqual(levels);
    // Until 2026-12-07 the keys were split at commas: "ctl" and " day 1" were no levels; until
    // 2026-12-08 they were written as is, and two cells could share a key.
    const noCtl = {
      hospital_a: {
        "batch=b1,condition=trt%2C day 1": 3,
        "batch=b%3D2,condition=trt%2C day 1": 4,
      },
    };
    expect(() => plannedLevels({ ...PLAN, levels, cellSizes: noCtl })).toThrow(
      "analysis plan: level(s) ctl, day 1 of condition are held by no center (cell_sizes)",
    );
  });
});
