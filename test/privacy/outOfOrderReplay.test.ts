/**
 * A malicious aggregator against centers that verify its requests (the default): re-sending to one
 * center a request that center's replay already made, out of order — its size factors before
 * poscounts' scaling, just before `prepare` — once left that center on unscaled size factors, and
 * the pooled `prepare` sums then differed from the honest `dispersionMoments` sums by that
 * center's own Σ y/s per gene (a red team read all 600 genes' to 4.2e-14), also after a new key
 * agreement. Each center now answers requests in the order its replay made them (again: the last
 * one, the one after it, or a replay from the first).
 */
import { describe, expect, it } from "vitest";
import { CenterSession } from "../../src/federation/centerSession.js";
import { runJobFromPlan } from "../../src/pipeline/analysisPlan.js";
import { planPipeline, runOverFederation } from "../../src/pipeline/run.js";
import { ReplayingAggregator } from "../helpers/replayingAggregator.js";
import { verifiedOutliersSim } from "../helpers/verifiedPlan.js";

/** outliers_sim's first 300 genes under a verified plan with these size factors; its centers. */
async function verifiedFederation(sizeFactorsType: "poscounts" | "iterate" = "poscounts") {
  const { data, plan } = await verifiedOutliersSim(sizeFactorsType, 300);
  expect(plan.verifyRequests).toBe(true);
  const sessions = data.map((d) => new CenterSession(d, { plan, replay: planPipeline(plan) }));
  return { plan, sessions, job: runJobFromPlan(plan, ".") };
}

const OUT_OF_ORDER =
  /refusing sizeFactors: .* out of the order this center answered its replay's requests in/;

describe("a center that verifies requests answers them in its replay's order", () => {
  it("refuses its size factors' request again just before prepare (poscounts)", async () => {
    const { plan, sessions, job } = await verifiedFederation();
    const aggregator = new ReplayingAggregator(sessions);
    aggregator.before = async (_tag, step) => {
      if (step !== "prepare") return;
      const sizeFactors = aggregator.log.find((r) => r.step === "sizeFactors");
      if (sizeFactors === undefined) throw new Error("no sizeFactors request yet");
      await aggregator.ask(0, sizeFactors.tag, "sizeFactors", sizeFactors.inputs[0]);
    };
    await expect(runOverFederation(aggregator, job, { plan, runId: "r" })).rejects.toThrow(
      OUT_OF_ORDER,
    );
  });

  it("refuses it after a new key agreement too; the last request asked again is answered", async () => {
    const { plan, sessions, job } = await verifiedFederation();
    const aggregator = new ReplayingAggregator(sessions);
    aggregator.stopAfter = (_tag, step) => step === "prepare";
    await expect(runOverFederation(aggregator, job, { plan, runId: "r" })).rejects.toThrow(/stop/);
    const find = (step: string) => {
      const record = aggregator.log.find((r) => r.step === step);
      if (record === undefined) throw new Error(`no ${step} request`);
      return record;
    };
    await aggregator.rekey("r");
    // A retry of the last request (a reconnect): answered, the same sums.
    const prepare = find("prepare");
    const again = await aggregator.askAll(prepare.tag, "prepare", prepare.inputs, false);
    const sums = (o: unknown) => Array.from((o as { normalizedSums: Float64Array }).normalizedSums);
    expect(sums(again.pooled[0])).toEqual(sums(prepare.pooled[0]));
    const sizeFactors = find("sizeFactors");
    await expect(
      aggregator.ask(0, sizeFactors.tag, "sizeFactors", sizeFactors.inputs[0]),
    ).rejects.toThrow(OUT_OF_ORDER);
  });

  it("refuses an iteration's commit of its size factors again once the run went on (iterate)", async () => {
    // The commit's reply is empty, the same bytes every time: asked again after convergence it
    // set a center's size factors back to that iteration's (±3–4% in ln s).
    const { plan, sessions, job } = await verifiedFederation("iterate");
    const aggregator = new ReplayingAggregator(sessions);
    aggregator.stopAfter = (tag, step) =>
      step === "dispersionMoments" && tag.phase === "dispersions";
    await expect(runOverFederation(aggregator, job, { plan, runId: "r" })).rejects.toThrow(/stop/);
    const commit = aggregator.log.find(
      (r) => r.step === "sizeFactorCandidate" && (r.inputs[0] as { commit: boolean }).commit,
    );
    if (commit === undefined) throw new Error("no commit");
    const before = Float64Array.from(sessions[0].ownSizeFactors("r") as Float64Array);
    await expect(
      aggregator.ask(0, commit.tag, "sizeFactorCandidate", commit.inputs[0]),
    ).rejects.toThrow(/refusing sizeFactorCandidate: .* out of the order/);
    expect(Array.from(sessions[0].ownSizeFactors("r") as Float64Array)).toEqual(Array.from(before));
  });
});
