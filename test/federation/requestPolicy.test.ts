/**
 * A malicious aggregator against centers that accepted an analysis plan: every request outside
 * the plan or the protocol's order is refused before anything is computed (issue [11]: a column
 * outside the design, a step repeated with new inputs, a narrower gene set, another design or
 * fit option, another plan or none), and the refusal names its reason. An honest run under the
 * plan gives exactly the results of a run without one.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CenterSession } from "../../src/federation/centerSession.js";
import { GrpcAggregator } from "../../src/federation/grpc/aggregatorServer.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { type AnalysisPlan, planHash } from "../../src/federation/plan.js";
import {
  checkDataAgainstPlan,
  PlanRefusal,
  sharedRefusal,
} from "../../src/federation/requestPolicy.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import type { MessageRecord } from "../../src/federation/transcript.js";
import type { Transport } from "../../src/federation/transport.js";
import type { InputError } from "../../src/io/errors.js";
import { planFromRunJob } from "../../src/pipeline/analysisPlan.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../src/pipeline/run.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { replacedByDeseq2, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { loopbackFederation, startAgents, testCertificates, tlsOf } from "../helpers/transports.js";
import { outliersSimPlan } from "../helpers/verifiedPlan.js";

const DATA = sharedPath("data", "outliers_sim");
/** A simulated dataset with a continuous covariate (test/pipeline/fixtures/covariate.R). */
const COVARIATE = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "pipeline",
  "fixtures",
  "covariate",
);
const tmp = useTempFolder("fedseq-request-policy-");
let few: string | null = null;
/**
 * The input of the attacks and refusals (whose runs are refused, or compared with nothing
 * outside): outliers_sim's first 400 genes and the 60 whose outliers DESeq2 replaced, so that a
 * run takes every step of a run on all of it (Cook's replacement and refit included).
 */
function fewGenes(): string {
  few ??= sharedSubset(tmp, "outliers_sim", 400, replacedByDeseq2());
  return few;
}
const JOB = deseq2Job("outliers_sim");
// In clear (these tests read the replies): min_cell 1, the consent a plan in clear needs (the
// k-sample rule has its own tests, cellRule.test.ts).
const PLAN: AnalysisPlan = planFromRunJob(
  JOB,
  { condition: ["A", "B"] },
  ["lab_1", "lab_2", "lab_3"],
  { minCell: 1 },
);

function planned(plan: AnalysisPlan = PLAN, data = fewGenes()): Promise<CenterSession[]> {
  return simulatedCenters(data, {}, { plan: () => plan });
}

/**
 * An aggregator that runs the honest protocol but, after every request of `after`, sends one
 * more request of its choosing (`extra`) and keeps its answer; or rewrites requests of a step.
 */
function malicious(
  inner: Transport,
  attack: {
    readonly step: StepName;
    readonly rewrite?: (input: never) => unknown;
    readonly extra?: (
      input: never,
      tag: RequestTag,
    ) => { tag: RequestTag; step: StepName; input: unknown };
  },
): Transport {
  return {
    centers: inner.centers,
    async request<K extends StepName>(
      tag: RequestTag,
      step: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      if (step !== attack.step) return inner.request(tag, step, inputs);
      const sent = attack.rewrite
        ? inputs.map((i) => attack.rewrite?.(i as never) as StepInput<K>)
        : inputs;
      const shares = await inner.request(tag, step, sent);
      if (attack.extra) {
        const extra = attack.extra(inputs[0] as never, tag);
        await inner.request(
          extra.tag,
          extra.step,
          inner.centers.map(() => extra.input as never),
        );
      }
      return shares;
    },
    close: (reason) => inner.close(reason),
  };
}

async function attackRun(attack: Parameters<typeof malicious>[1]): Promise<unknown> {
  const transport = malicious(new InProcessTransport(await planned()), attack);
  return runOverFederation(transport, JOB, { runId: "attack", plan: PLAN });
}

describe("a center with an analysis plan", () => {
  it("gives an honest run exactly the results of a run without a plan", async () => {
    const withPlan = await runOverFederation(
      new InProcessTransport(await planned(PLAN, DATA)),
      JOB,
      {
        runId: "honest",
        plan: PLAN,
      },
    );
    const without = await runOverFederation(
      new InProcessTransport(await simulatedCenters(DATA)),
      JOB,
      { runId: "honest" },
    );
    expect(withPlan.results).toEqual(without.results);
    expect(withPlan.dispersions.final).toEqual(without.dispersions.final);
    expect(withPlan.results.pvalue.length).toBe(2998);
  });

  it("refuses a request without the plan's hash, or under another plan", async () => {
    const [center] = await planned();
    const request: StepInput<"levels"> = { kind: "levels-request", formula: PLAN.design };
    expect(() => center.run({ runId: "r", phase: "setup", round: 0 }, "levels", request)).toThrow(
      /refusing levels: the request carries no analysis plan/,
    );
    const other = planHash({ ...PLAN, minCell: 2 });
    expect(() =>
      center.run({ runId: "r", phase: "setup", round: 0, plan: other }, "levels", request),
    ).toThrow(/refusing levels: the request is made under plan/);
    // Under its own plan too: the plan gives the levels, so no run asks a center for its own.
    const tag = { runId: "r", phase: "setup", round: 0, plan: planHash(PLAN) };
    expect(() => center.run(tag, "levels", request)).toThrow(
      /refusing levels: under a plan the protocol never asks it \(the plan gives it\)/,
    );
  });

  it("reads no metadata column outside the design (levels of ~ center)", async () => {
    await expect(
      attackRun({
        step: "presence",
        extra: (_: StepInput<"presence">, tag) => ({
          tag: { ...tag, phase: "levels-of-center" },
          step: "levels",
          input: { kind: "levels-request", formula: "~ center" },
        }),
      }),
    ).rejects.toThrow(/refusing levels: design "~ center" is not the plan's "~ condition"/);
  });

  it.each([
    ["levels", { levels: '{"condition":["A","B","C"]}' }, /the factor levels are not the plan's/],
    ["references", { references: '{"condition":"B"}' }, /the reference levels are not the plan's/],
    ["fit options", { minMu: 1e-300 }, /fit option minMu = 1e-300 is not the plan's 0.5/],
  ])("refuses a prepare with other %s", async (_, change, message) => {
    await expect(
      attackRun({
        step: "prepare",
        rewrite: (input: StepInput<"prepare">) => ({ ...input, ...change }),
      }),
    ).rejects.toThrow(message);
  });

  it("answers a set-up step once per run: no second logSums over one gene, no second sizeFactors", async () => {
    await expect(
      attackRun({
        step: "logSums",
        extra: (input: StepInput<"logSums">, tag) => ({
          tag: { ...tag, phase: "size-factors-again" },
          step: "logSums",
          input: { ...input, genes: input.genes.slice(0, 1) },
        }),
      }),
    ).rejects.toThrow(/refusing logSums: the protocol asks it once per run/);
    await expect(
      attackRun({
        step: "sizeFactors",
        extra: (input: StepInput<"sizeFactors">, tag) => ({
          tag: { ...tag, round: tag.round + 1 },
          step: "sizeFactors",
          input: {
            ...input,
            logGeoMeans: input.logGeoMeans.map((x, g) => (g === 0 ? x : Number.NaN)),
          },
        }),
      }),
    ).rejects.toThrow(/refusing sizeFactors: the protocol asks it once per run/);
  });

  it("fits lfcShrink's MAP model (its covariances: information twice more) only under a plan that asks for it", async () => {
    // outliers_sim ~ condition replaces outliers and refits: the MLE fit's two covariances
    // (main and refit), then the MAP fit's two.
    const job = { ...deseq2Job("outliers_sim"), lfcShrink: "normal" as const };
    const levels = { condition: ["A", "B"] };
    const centers = ["lab_1", "lab_2", "lab_3"];
    const shrinking = planFromRunJob(job, levels, centers, { minCell: 1 });
    const sessions = await simulatedCenters(fewGenes(), {}, { plan: () => shrinking });
    const outcome = await runOverFederation(new InProcessTransport(sessions), job, {
      runId: "shrink",
      plan: shrinking,
    });
    expect(outcome.shrunk?.coefficient).toBe("condition_B_vs_A");
    // The same requests under a plan without lfc_shrink: the MAP fit's start is one too many.
    const { lfcShrink: _, ...plain } = job;
    const without = planFromRunJob(plain, levels, centers, { minCell: 1 });
    const refusing = await simulatedCenters(fewGenes(), {}, { plan: () => without });
    await expect(
      runOverFederation(new InProcessTransport(refusing), job, { runId: "shrink", plan: without }),
    ).rejects.toThrow(/refusing information: the protocol asks it 2 times per run/);
  });

  it("evaluates apeglm's likelihood terms only under a plan that asks for apeglm", async () => {
    await expect(
      attackRun({
        step: "information",
        extra: (input: StepInput<"information">, tag) => ({
          tag: { ...tag, phase: "apeglm" },
          step: "apeglm",
          input: {
            kind: "apeglm-request",
            coefficients: input.coefficients,
            mask: new Uint8Array(input.beta.length / input.coefficients).fill(1),
            beta: input.beta,
            curvature: true,
          },
        }),
      }),
    ).rejects.toThrow(
      /refusing apeglm: the plan does not ask for apeglm's shrunk fold changes \(lfc_shrink\)/,
    );
  });

  it("runs only its plan's solver's fit steps: no upstream IRLS, PQN or Newton step under deseq2", async () => {
    const fitStepAfter = (step: "irls" | "pqn" | "newton") =>
      attackRun({
        step: "deseq2Irls",
        extra: (input: StepInput<"deseq2Irls">, tag) => ({
          tag: { ...tag, phase: "attack" },
          step,
          input:
            step === "irls"
              ? {
                  kind: "irls-request",
                  round: 0,
                  refit: input.refit,
                  coefficients: input.coefficients,
                  mask: input.mask,
                  beta: input.beta,
                }
              : step === "pqn"
                ? {
                    kind: "pqn-request",
                    round: 0,
                    refit: input.refit,
                    coefficients: input.coefficients,
                    mask: input.mask,
                    beta: input.beta,
                    direction: new Float64Array(0),
                  }
                : {
                    kind: "newton-request",
                    round: 0,
                    refit: input.refit,
                    coefficients: input.coefficients,
                    mask: input.mask,
                    beta: input.beta,
                    step: new Float64Array(0),
                    stepSizes: Float64Array.of(1),
                  },
        }),
      });
    await expect(fitStepAfter("irls")).rejects.toThrow(
      /refusing irls: the plan's solver is deseq2, not upstream/,
    );
    await expect(fitStepAfter("pqn")).rejects.toThrow(
      /refusing pqn: the plan's solver is deseq2, not upstream/,
    );
    await expect(fitStepAfter("newton")).rejects.toThrow(
      /refusing newton: the plan's solver is deseq2, not fast/,
    );
    // Under plans that name them, honest runs of those solvers are answered whole.
    for (const solver of ["fast", "upstream"] as const) {
      const job = { ...JOB, solver };
      const plan = planFromRunJob(job, { condition: ["A", "B"] }, ["lab_1", "lab_2", "lab_3"], {
        minCell: 1,
      });
      const outcome = await runOverFederation(new InProcessTransport(await planned(plan)), job, {
        runId: `solver-${solver}`,
        plan,
      });
      expect(outcome.fit.result.beta.length).toBeGreaterThan(0);
    }
  });

  it("answers the PCA's steps only under a plan with vst and verified requests", async () => {
    await expect(
      attackRun({
        step: "information",
        extra: (_: StepInput<"information">, tag) => ({
          tag: { ...tag, phase: "pca" },
          step: "pcaMoments",
          input: { kind: "pca-moments-request", genes: 400 },
        }),
      }),
    ).rejects.toThrow(/refusing pcaMoments: the plan does not ask for the variance-stabilising/);
    // The bisection for the largest normalised count (a local trend's vst): only under
    // vst_max_count.
    await expect(
      attackRun({
        step: "information",
        extra: (_: StepInput<"information">, tag) => ({
          tag: { ...tag, phase: "vst-maximum" },
          step: "vstMaximum",
          input: { kind: "vst-maximum-request", threshold: 100 },
        }),
      }),
    ).rejects.toThrow(/refusing vstMaximum: the plan does not let the federation's largest/);
    // A plan with vst but without verified requests (in clear): no PCA step is answered (its
    // bases and genes would be the aggregator's to choose), and the run says why.
    const levels = { condition: ["A", "B"] };
    const centers = ["lab_1", "lab_2", "lab_3"];
    const vstJob = { ...JOB, vst: true };
    const clear = planFromRunJob(vstJob, levels, centers, { minCell: 1 });
    const sessions = await simulatedCenters(fewGenes(), {}, { plan: () => clear });
    const honest = await runOverFederation(new InProcessTransport(sessions), vstJob, {
      runId: "pca",
      plan: clear,
    });
    expect(honest.pca).toMatchObject({ unavailable: expect.stringMatching(/verified requests/) });
    const attacked = await simulatedCenters(fewGenes(), {}, { plan: () => clear });
    await expect(
      runOverFederation(
        malicious(new InProcessTransport(attacked), {
          step: "vst",
          extra: (_: StepInput<"vst">, tag) => ({
            tag: { ...tag, phase: "pca" },
            step: "pcaMoments",
            input: { kind: "pca-moments-request", genes: 2998 },
          }),
        }),
        vstJob,
        { runId: "pca", plan: clear },
      ),
    ).rejects.toThrow(/refusing pcaMoments: .*verified requests/);
  });

  it("answers DESeq2's iterative size factors' steps only under a plan with size_factors_type iterate and verified requests", async () => {
    const problem = {
      baseMean: new Float64Array(2998).fill(10),
      dispersions: new Float64Array(2998).fill(0.1),
      // A malicious aggregator's gene set of one gene: t_j(λ) would give that gene's counts.
      keep: Uint8Array.from({ length: 2998 }, (_, g) => (g === 7 ? 1 : 0)),
      minMu: 0.5,
    };
    const askRoot = (lambda: number) =>
      attackRun({
        step: "sizeFactors",
        extra: (_: StepInput<"sizeFactors">, tag) => ({
          tag: { ...tag, phase: "size-factors-root" },
          step: "sizeFactorRoot",
          input: { kind: "size-factor-root-request", ...problem, lambda },
        }),
      });
    await expect(askRoot(0)).rejects.toThrow(
      /refusing sizeFactorRoot: the plan's size factors are not DESeq2's iterative ones/,
    );
    // A plan with iterate but in clear (no replay to fix the slopes and gene sets): refused, and
    // such a plan is not made.
    const levels = { condition: ["A", "B"] };
    const centers = ["lab_1", "lab_2", "lab_3"];
    const iterateJob = { ...JOB, sizeFactorsType: "iterate" as const };
    expect(() => planFromRunJob(iterateJob, levels, centers, { minCell: 1 })).toThrow(
      /--size-factors-type iterate needs verified requests/,
    );
    const clear: AnalysisPlan = { ...PLAN, sizeFactorsType: "iterate" };
    const [center] = await simulatedCenters(fewGenes(), {}, { plan: () => clear });
    const tag = { runId: "i", phase: "size-factors", round: 0, plan: planHash(clear) };
    expect(() =>
      center.run(tag, "unitSizeFactors", {
        kind: "unit-size-factors-request",
        genes: center.data.genes,
      }),
    ).toThrow(
      /refusing unitSizeFactors: the iterative size factors are answered only under verified requests/,
    );
    // Under iterate the median of ratios' steps are not the plan's either.
    expect(() =>
      center.run({ ...tag, round: 1 }, "logSums", {
        kind: "log-sums-request",
        genes: center.data.genes,
        genesWithZeros: false,
      }),
    ).toThrow(/refusing logSums: the plan's size factors are DESeq2's iterative ones/);
    // The intercept-only dispersions are the iterative size factors' only: not under a ratio plan.
    await expect(
      attackRun({
        step: "dispersionMoments",
        rewrite: (input: StepInput<"dispersionMoments">) => ({
          ...input,
          formula: "~ 1",
          levels: "{}",
          references: "{}",
          candidateRows: Float64Array.of(1),
        }),
      }),
    ).rejects.toThrow(/refusing dispersionMoments: design "~ 1" is not the plan's "~ condition"/);
  });

  it("sends no log sum of a gene it holds a zero of unless the plan's size factors (poscounts) need it", async () => {
    await expect(
      attackRun({
        step: "logSums",
        rewrite: (input: StepInput<"logSums">) => ({ ...input, genesWithZeros: true }),
      }),
    ).rejects.toThrow(
      /refusing logSums: log sums of genes with zero counts are not needed for the plan's ratio size factors/,
    );
    // The honest ratio run's log sums: 0 for every gene the center holds a zero of.
    const [session] = await planned();
    const share = session.run(
      { runId: "z", phase: "size-factors", round: 0, plan: planHash(PLAN) },
      "logSums",
      { kind: "log-sums-request", genes: session.data.genes, genesWithZeros: false },
    );
    const withZero = Array.from(share.hasZero.keys()).filter((g) => share.hasZero[g] === 1);
    expect(withZero.length).toBeGreaterThan(0);
    expect(withZero.every((g) => share.logSums[g] === 0)).toBe(true);
  });

  it("answers the sparse-gene counts only under a plan that leaves sparse genes out, for the plan's cells", async () => {
    const ask = (factors: string[], cells: string[]) =>
      attackRun({
        step: "presence",
        extra: (input: StepInput<"presence">, tag) => ({
          tag: { ...tag, round: tag.round + 1 },
          step: "nonZeroCells",
          input: { kind: "non-zero-cells-request", genes: input.genes, factors, cells },
        }),
      });
    await expect(ask(["condition"], ["condition=A", "condition=B"])).rejects.toThrow(
      /refusing nonZeroCells: the plan does not leave sparse genes out/,
    );
    const omitting = { ...PLAN, omitSparseGenes: true };
    const sessions = await simulatedCenters(fewGenes(), {}, { plan: () => omitting });
    const transport = malicious(new InProcessTransport(sessions), {
      step: "nonZeroCells",
      rewrite: (input: StepInput<"nonZeroCells">) => ({
        ...input,
        factors: ["center"],
        cells: ["center=lab_1", "center=lab_2", "center=lab_3"],
      }),
    });
    await expect(
      runOverFederation(transport, JOB, { runId: "attack", plan: omitting }),
    ).rejects.toThrow(
      /refusing nonZeroCells: factors \["center"\] are not the plan's \["condition"\]/,
    );
  });

  it("answers the contrast's presence bits only for the plan's factor,level,reference contrast", async () => {
    const ask = (factor: string, levels: string[]) =>
      attackRun({
        step: "presence",
        extra: (input: StepInput<"presence">, tag) => ({
          tag: { ...tag, round: tag.round + 1 },
          step: "contrastPresence",
          input: {
            kind: "contrast-presence-request",
            genes: input.genes,
            factor,
            levels,
            columns: new Uint8Array(0),
          },
        }),
      });
    // PLAN tests DESeq2's default contrast: no contrast's zeros are ever asked.
    await expect(ask("condition", ["B", "A"])).rejects.toThrow(
      /refusing contrastPresence: the plan's contrast is the default, not condition,B,A/,
    );
    const contrasted = { ...PLAN, contrast: "condition,B,A" };
    const sessions = await simulatedCenters(fewGenes(), {}, { plan: () => contrasted });
    const transport = malicious(new InProcessTransport(sessions), {
      step: "contrastPresence",
      rewrite: (input: StepInput<"contrastPresence">) => ({ ...input, factor: "center" }),
    });
    await expect(
      runOverFederation(
        transport,
        { ...JOB, contrast: { kind: "levels", factor: "condition", level: "B", reference: "A" } },
        { runId: "attack", plan: contrasted },
      ),
    ).rejects.toThrow(
      /refusing contrastPresence: the plan's contrast is "condition,B,A", not center,B,A/,
    );
  });

  it("answers per-level presence only under a plan that keeps it, for a factor of the plan with its levels", async () => {
    const withoutBits = { ...PLAN, levelPresence: false };
    const sessions = await simulatedCenters(fewGenes(), {}, { plan: () => withoutBits });
    const asking = malicious(new InProcessTransport(sessions), {
      step: "presence",
      extra: (input: StepInput<"presence">, tag) => ({
        tag: { ...tag, round: tag.round + 1 },
        step: "levelPresence",
        input: {
          kind: "level-presence-request",
          genes: input.genes,
          factor: "condition",
          levels: ["A", "B"],
        },
      }),
    });
    await expect(
      runOverFederation(
        asking,
        { ...JOB, levelPresence: false },
        { runId: "attack", plan: withoutBits },
      ),
    ).rejects.toThrow(
      /refusing levelPresence: the plan does not keep per-level presence for new contrasts/,
    );
    // Under PLAN (which keeps them), a metadata column outside the design, or other levels.
    for (const [factor, levels] of [
      ["center", ["lab_1", "lab_2", "lab_3"]],
      ["condition", ["B", "A"]],
    ] as const) {
      await expect(
        attackRun({
          step: "levelPresence",
          rewrite: (input: StepInput<"levelPresence">) => ({ ...input, factor, levels }),
        }),
      ).rejects.toThrow(
        new RegExp(
          `refusing levelPresence: ${factor}: not one of the plan's factors with its levels`,
        ),
      );
    }
    // Once per factor: a second request for it (other genes) is refused.
    await expect(
      attackRun({
        step: "levelPresence",
        extra: (input: StepInput<"levelPresence">, tag) => ({
          tag: { ...tag, round: tag.round + 1 },
          step: "levelPresence",
          input: { ...input, genes: input.genes.slice(0, 1) },
        }),
      }),
    ).rejects.toThrow(
      /refusing levelPresence: condition: its levels' presence was already asked with other inputs/,
    );
  });

  it("transforms its counts (vst) only under a plan that asks for it", async () => {
    await expect(
      attackRun({
        step: "presence",
        extra: (_: StepInput<"presence">, tag) => ({
          tag: { ...tag, round: tag.round + 1 },
          step: "vst",
          input: {
            kind: "vst-request",
            fit: "mean",
            asymptDisp: 0,
            extraPois: 0,
            meanDispersion: 0.1,
            knots: new Float64Array(0),
            integral: new Float64Array(0),
            eta: 0,
            xi: 0,
          },
        }),
      }),
    ).rejects.toThrow(
      /refusing vst: the plan does not ask for the variance-stabilising transformation/,
    );
  });

  it("refuses a changed request under a tag it already answered", async () => {
    await expect(
      attackRun({
        step: "deseq2Irls",
        extra: (input: StepInput<"deseq2Irls">, tag) => ({
          tag,
          step: "deseq2Irls",
          input: { ...input, beta: input.beta.map((b) => b + 1) },
        }),
      }),
    ).rejects.toThrow(
      /refusing deseq2Irls: irls round 0 was already answered for another request|refusing deseq2Irls: .* round 0 was already answered/,
    );
  });

  it("refuses genes outside the run's gene list (gene sets only narrow)", async () => {
    await expect(
      attackRun({
        step: "prepare",
        rewrite: (input: StepInput<"prepare">) => ({
          ...input,
          genes: ["not_a_gene_of_the_run", ...input.genes.slice(1)],
        }),
      }),
    ).rejects.toThrow(/gene "not_a_gene_of_the_run" is not among the run's genes/);
  });

  it("groups its samples by no finer design rows than the plan's cells: one row per age of ~ age + condition is refused", async () => {
    // The attack: list a row (1, age, condition) for every age the samples may have (the
    // fixture's ages have one decimal, 20.0–80.0), so that the dispersion search's Cox–Reid sums,
    // the Cook's cells' counts or the moments' row counts come back per age and condition —
    // sums over one or two samples (their weights, hence their size factors and counts), where
    // the plan's cells (the two conditions) hold 30 samples each.
    const job = deseq2Job("covariate", "~ age + condition");
    const plan = planFromRunJob(job, { condition: ["A", "B"] }, ["center1", "center2", "center3"], {
      minCell: 1,
    });
    const perAge = new Float64Array(601 * 2 * 3);
    for (let a = 0; a <= 600; a++)
      for (let c = 0; c < 2; c++) perAge.set([1, (200 + a) / 10, c], (2 * a + c) * 3);
    const attack = async (step: StepName, rewrite: (input: never) => unknown) => {
      const sessions = await simulatedCenters(COVARIATE, {}, { plan: () => plan });
      const transport = malicious(new InProcessTransport(sessions), { step, rewrite });
      return runOverFederation(transport, job, { runId: "attack", plan });
    };
    const finer =
      /is not one of the plan's design cells .*: sums over finer rows would be over fewer samples than its cells/;
    await expect(
      attack("dispersionGrid", (input: StepInput<"dispersionGrid">) => ({
        ...input,
        designRows: perAge,
      })),
    ).rejects.toThrow(
      new RegExp(`refusing dispersionGrid: designRows: row 1 \\(1,20,0\\) ${finer.source}`),
    );
    await expect(
      attack("dispersionMoments", (input: StepInput<"dispersionMoments">) => ({
        ...input,
        candidateRows: perAge,
      })),
    ).rejects.toThrow(
      /refusing dispersionMoments: candidateRows: not the combinations of the design's factor levels/,
    );
    const sessions = await simulatedCenters(COVARIATE, {}, { plan: () => plan });
    const counting = malicious(new InProcessTransport(sessions), {
      step: "presence",
      extra: (_input: StepInput<"presence">, tag) => ({
        tag: { ...tag, round: tag.round + 1 },
        step: "cooksCellCounts",
        input: { kind: "cooks-cell-counts-request", p: 3, rows: perAge },
      }),
    });
    await expect(runOverFederation(counting, job, { runId: "attack", plan })).rejects.toThrow(
      new RegExp(`refusing cooksCellCounts: rows: row 1 \\(1,20,0\\) ${finer.source}`),
    );
    // The honest run under the same plan sends no such rows, and completes.
    const honest = await simulatedCenters(COVARIATE, {}, { plan: () => plan });
    const outcome = await runOverFederation(new InProcessTransport(honest), job, {
      runId: "honest",
      plan,
    });
    expect(outcome.fit.genes.length).toBe(100);
  });

  it("refuses to take part when its data does not meet the plan, naming the value", async () => {
    await expect(planned({ ...PLAN, levels: { condition: ["A", "C"] } })).rejects.toThrow(
      // Its operator reads the samples holding the value and the file too.
      /center lab_\d: condition = "B" \(samples? [\w, ]+, \S*metadata\.csv\) is not one of the analysis plan's levels \(A, C\)/,
    );
    await expect(planned({ ...PLAN, centers: ["lab_1", "lab_2"] })).rejects.toThrow(
      /center lab_3: not one of the analysis plan's centers \(lab_1, lab_2\)/,
    );
    // The aggregator, told of the refusal, is not told the center's value (its metadata).
    const [session] = await simulatedCenters(fewGenes());
    let told = "";
    try {
      checkDataAgainstPlan({ ...PLAN, levels: { condition: ["A", "C"] } }, session.data);
    } catch (error) {
      told = sharedRefusal(error as InputError);
    }
    expect(told).toBe(
      `center ${session.name}: a value of condition here is not one of the analysis plan's levels (A, C)`,
    );
  });

  it("refuses a sample without a single count before round 1, naming it", async () => {
    const [session] = await simulatedCenters(fewGenes());
    const { data } = session;
    expect(() => checkDataAgainstPlan(PLAN, data)).not.toThrow();
    const n = data.samples.length;
    const counts = Float64Array.from(data.counts, (y, i) => (i % n === 1 ? 0 : y));
    expect(() => checkDataAgainstPlan(PLAN, { ...data, counts })).toThrow(
      new RegExp(`center ${data.name}: sample ${data.samples[1]} has no count above 0 in any gene`),
    );
    // The aggregator, told of the refusal, learns that a sample has none, not which: named, the
    // refusal would be that sample's counts (every one 0).
    let told = "";
    try {
      checkDataAgainstPlan(PLAN, { ...data, counts });
    } catch (error) {
      told = sharedRefusal(error as InputError);
    }
    expect(told).toBe(
      `center ${data.name}: a sample has no count above 0 in any gene (its operator has the sample's name)`,
    );
    for (const sample of data.samples) expect(told).not.toContain(sample);
  });

  it("without a plan, serves only an aggregate fit (what fedseq center does)", async () => {
    const [session] = await simulatedCenters(fewGenes());
    const fitOnly = new CenterSession(session.data, { fitOnlyWithoutPlan: true });
    const tag = { runId: "r", phase: "size-factors", round: 0 };
    expect(() =>
      fitOnly.run(tag, "logSums", {
        kind: "log-sums-request",
        genes: session.data.genes,
        genesWithZeros: false,
      }),
    ).toThrow(PlanRefusal);
    expect(
      fitOnly.run(tag, "levels", { kind: "levels-request", formula: "~ condition" }).kind,
    ).toBe("levels-share");
  });

  it("refuses size factors an aggregator brings to prepare without the size-factor steps before it (1 for one sample, 1e300 for the rest)", async () => {
    // The honest prepare request of this plan's run, as the pipeline makes it (without size
    // factors: each center uses its own), kept from a run stopped there.
    let honest: StepInput<"prepare"> | null = null;
    const centers = await planned();
    const inner = new InProcessTransport(centers);
    const recorder: Transport = {
      centers: inner.centers,
      request<K extends StepName>(tag: RequestTag, s: K, inputs: readonly StepInput<K>[]) {
        if (s === "prepare") {
          honest = inputs[0] as StepInput<"prepare">;
          return Promise.reject(new Error("stopped at prepare"));
        }
        return inner.request(tag, s, inputs);
      },
      close: () => inner.close(),
    };
    await expect(runOverFederation(recorder, JOB, { runId: "honest", plan: PLAN })).rejects.toThrow(
      "stopped at prepare",
    );
    expect(honest).not.toBeNull();
    const request = honest as unknown as StepInput<"prepare">;
    expect(request.sizeFactors).toHaveLength(0);
    // A center of the same plan that has not computed its size factors in this run (the
    // aggregator skipped those steps): it still takes none.
    const [fresh] = await planned();
    const imposed = Float64Array.from({ length: 6 }, (_, i) => (i === 0 ? 1 : 1e300));
    const tag = { runId: "skipped", phase: "setup", round: 0, plan: planHash(PLAN) };
    expect(() => fresh.run(tag, "prepare", { ...request, sizeFactors: imposed })).toThrow(
      /refusing prepare: it brings size factors, and under a plan a center fits only with the ones it computes itself/,
    );
  });

  it("over gRPC: a center under a plan tells the aggregator how many samples it holds, not their ids (unless the plan lets PCA coordinates leave)", async () => {
    const announced = async (plan: AnalysisPlan) => {
      const sessions = await simulatedCenters(fewGenes(), {}, { plan: () => plan });
      const { aggregator, close } = await loopbackFederation(sessions, {
        runId: "hello",
        plan: planHash(plan),
      });
      const held = aggregator.centers.map((c) => ({ name: c.name, samples: [...c.samples] }));
      await close("only the join was tested");
      return { held, sessions };
    };
    const { held, sessions } = await announced(PLAN);
    const own = new Set(sessions.flatMap((s) => s.data.samples));
    expect(own.size).toBe(18);
    for (const center of held) {
      const session = sessions.find((s) => s.name === center.name) as CenterSession;
      expect(center.samples).toHaveLength(session.data.samples.length);
      expect(center.samples.filter((id) => own.has(id))).toEqual([]);
    }
    // A plan whose PCA coordinates leave the centers: the report labels them by sample.
    const labelled = await announced({ ...PLAN, vst: true, pcaCoordinates: true });
    expect(new Set(labelled.held.flatMap((c) => c.samples))).toEqual(own);
  });

  it("over gRPC: an aggregator that picks one reference gene for the size factors is told that a sample has no count there, not which (a plan without verified requests; a red team's attack)", async () => {
    let plan: AnalysisPlan | null = null;
    const sessions = await simulatedCenters(
      sharedPath("data", "outliers_sim"),
      {},
      {
        plan: (centers) => {
          plan = outliersSimPlan(centers, { verifyRequests: false, minCell: 1 });
          return plan;
        },
      },
    );
    const planned = plan as unknown as AnalysisPlan;
    const names = sessions.map((s) => s.name);
    const { aggregator, close } = await loopbackFederation(sessions, {
      runId: "one-gene-reference",
      secureAggregation: true,
    });
    const genes = aggregator.centers[0].genes;
    // A gene with a zero at some center: its samples with a 0 there get no size factor.
    const first = sessions[0].data;
    const n = first.samples.length;
    const g = genes.findIndex((gene) => {
      const r = first.genes.indexOf(gene);
      return first.counts.subarray(r * n, r * n + n).includes(0);
    });
    expect(g).toBeGreaterThanOrEqual(0);
    const tag = { runId: "one-gene-reference", phase: "setup", round: 0, plan: planHash(planned) };
    await aggregator.request(
      tag,
      "logSums",
      names.map(
        () =>
          ({
            kind: "log-sums-request",
            genes,
            genesWithZeros: planned.sizeFactorsType === "poscounts",
          }) as const,
      ),
    );
    const logGeoMeans = new Float64Array(genes.length).fill(Number.NEGATIVE_INFINITY);
    logGeoMeans[g] = 0;
    const failure = await aggregator
      .request(
        { ...tag, round: 1 },
        "sizeFactors",
        names.map(() => ({ kind: "size-factors-request", logGeoMeans, stabilize: false }) as const),
      )
      .catch((error: unknown) => error);
    await close("attack over");
    const told = String(failure);
    expect(told).toMatch(
      /center lab_\d: a sample has no positive count among the genes of the size factors' reference/,
    );
    // No sample id of any center (they announced placeholders when they joined).
    for (const session of sessions)
      for (const sample of session.data.samples) expect(told).not.toContain(sample);
  });

  it("over gRPC: logs each refusal in its audit, and the aggregator's run ends naming the center", async () => {
    const certs = testCertificates();
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: ["lab_1", "lab_2", "lab_3"],
      tls: tlsOf(certs.aggregator),
      runId: "other-plan",
      plan: planHash({ ...PLAN, alpha: 0.05 }),
      joinTimeoutMs: 20_000,
      reconnectTimeoutMs: 20_000,
      log: () => {},
    });
    const audits: MessageRecord[] = [];
    const agents = startAgents(aggregator.port, await planned(), (_, r) => audits.push(r));
    await aggregator.ready();
    const otherPlan = { ...PLAN, alpha: 0.05 };
    await expect(
      runOverFederation(
        aggregator,
        { ...JOB, alpha: 0.05 },
        { runId: "other-plan", plan: otherPlan },
      ),
    ).rejects.toThrow(/center lab_\d: refusing presence: the request is made under plan/);
    await aggregator.close({ success: false, message: "refused" });
    await Promise.all(agents);
    expect(audits.length).toBeGreaterThan(0);
    for (const record of audits) {
      expect(record.fields).toEqual({});
      expect(record.refused).toMatch(/the request is made under plan/);
    }
  });
});
