/**
 * A malicious aggregator (or a resumed one) that forces a new key agreement mid-run, which
 * clears what each center remembers of the replies it masked (the same label is then masked
 * anew), and asks every request again from the first: each center's own replies must be those it
 * first sent, bit for bit (else the two pooled sums, under two keys, would differ by what changed),
 * and the run must go on from the reply each center holds as its own (its last one, masked under
 * the new keys, not the one it sent under the old: the replies relayed with the next request
 * never carry it).
 */
import { expect, it } from "vitest";
import { CenterSession } from "../../src/federation/centerSession.js";
import { runJobFromPlan } from "../../src/pipeline/analysisPlan.js";
import { planPipeline, runOverFederation } from "../../src/pipeline/run.js";
import { ReplayingAggregator } from "../helpers/replayingAggregator.js";
import { verifiedOutliersSim } from "../helpers/verifiedPlan.js";

/** Deep equality, typed arrays byte for byte (−0 and NaN payloads included). */
function same(a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return bytes(a).equals(bytes(b));
  }
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const keys = Object.keys(a);
    if (keys.join("\u0000") !== Object.keys(b).join("\u0000")) return false;
    return keys.every((k) =>
      same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    );
  }
  return Object.is(a, b);
}

it.each([
  ["poscounts", "every request from the first"],
  ["iterate", "every request from the first"],
  ["poscounts", "the last request (a retry)"],
] as const)(
  "%s: a new key agreement mid-run, then %s asked again: the same replies, and the run goes on to the same results",
  async (sizeFactorsType, which) => {
    const { data, plan: base } = await verifiedOutliersSim(sizeFactorsType, 300);
    const plan = { ...base, vst: true };
    const job = runJobFromPlan(plan, ".");
    const centers = () =>
      data.map((d) => new CenterSession(d, { plan, replay: planPipeline(plan) }));
    const honest = await runOverFederation(new ReplayingAggregator(centers()), job, {
      plan,
      runId: "r",
    });
    const aggregator = new ReplayingAggregator(centers());
    const changed: string[] = [];
    let requests = 0;
    let replayed = false;
    aggregator.before = async () => {
      if (replayed || ++requests < 60) return;
      replayed = true;
      await aggregator.rekey("r");
      const first = which === "the last request (a retry)" ? aggregator.log.length - 1 : 0;
      for (const [i, asked] of aggregator.log.entries()) {
        if (i < first) continue;
        const again = await aggregator.askAll(asked.tag, asked.step, asked.inputs, i > 0);
        again.own.forEach((own, c) => {
          if (!same(own, asked.own[c]))
            changed.push(
              `${asked.step} (${asked.tag.phase} round ${asked.tag.round}), center ${c}`,
            );
        });
      }
    };
    const attacked = await runOverFederation(aggregator, job, { plan, runId: "r" });
    expect(replayed).toBe(true);
    expect(changed).toEqual([]);
    expect(Array.from(attacked.results.pvalue)).toEqual(Array.from(honest.results.pvalue));
    expect(Array.from(attacked.dispersions.final)).toEqual(Array.from(honest.dispersions.final));
  },
  120_000,
);
