/**
 * What a plan without verified requests gives away: the Cook's sums step (`cooksPrivateSums`)
 * sums a center's values over whatever bucket ranges and groups a request names (only the honest
 * aggregator's own code keeps each range to ≥ k pooled non-zero values), so an aggregator that
 * sends one-bucket ranges (4.4% wide) in as many groups as it likes reads each value alone in its
 * bucket, exactly, from the pooled sums secure aggregation lets it read. A red team's attack on
 * outliers_sim (400 genes and the 60 DESeq2 replaced): about three quarters of the non-zero counts
 * from one request, none wrong. This is why a plan holds a k above 1 only under verified requests
 * (plan.ts `UNVERIFIED_MIN_CELL`, docs/privacy.md "Without verified requests"): here the plan is
 * one the centers may still make, k = 1, their consent to disclose.
 */
import { describe, expect, it } from "vitest";
import type { PrivateSumWire } from "../../src/algorithms/cooks/index.js";
import { sampleCellKeys } from "../../src/federation/cellRule.js";
import type { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { type AnalysisPlan, planFromJson, planToJson } from "../../src/federation/plan.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import type { Transport } from "../../src/federation/transport.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../src/pipeline/run.js";
import { deseq2Job } from "../helpers/runs.js";
import { replacedByDeseq2, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { outliersSimPlan } from "../helpers/verifiedPlan.js";

const tmp = useTempFolder("fedseq-unverified-cooks-");
const JOB = deseq2Job("outliers_sim");

/** Secure aggregation with the cell sizes, verified requests off, k as given. */
async function unverifiedCenters(
  data: string,
  minCell: number,
): Promise<{ plan: AnalysisPlan; sessions: CenterSession[] }> {
  let plan: AnalysisPlan | null = null;
  const sessions = await simulatedCenters(
    data,
    {},
    {
      plan: (centers) => {
        plan = outliersSimPlan(centers, { minCell, verifyRequests: false });
        return plan;
      },
    },
  );
  return { plan: plan as unknown as AnalysisPlan, sessions };
}

/**
 * An aggregator running the honest pipeline that, before the first request of `step`, sends its
 * own (`craft`, under another phase) to every center and keeps the replies.
 */
function spying(
  inner: Transport,
  step: StepName,
  craft: (honest: never) => unknown,
  spy: { seen: Map<StepName, unknown[]>; stolen: unknown[][] },
): Transport {
  let done = false;
  return {
    centers: inner.centers,
    async request<K extends StepName>(
      tag: RequestTag,
      s: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const list = spy.seen.get(s) ?? [];
      list.push(inputs[0]);
      spy.seen.set(s, list);
      if (s === step && !done) {
        done = true;
        const input = craft(inputs[0] as never);
        const replies = await inner.request(
          { ...tag, phase: `${tag.phase}-attack` },
          s,
          inner.centers.map(() => input as never),
        );
        spy.stolen.push(replies as unknown[]);
      }
      return inner.request(tag, s, inputs);
    },
    close: (reason) => inner.close(reason),
  };
}

/** A field summed over the centers' replies (what secure aggregation lets the aggregator read). */
function pooled(replies: readonly unknown[], field: string): Float64Array {
  const first = (replies[0] as Record<string, Float64Array>)[field];
  const out = new Float64Array(first.length);
  for (const r of replies) {
    const v = (r as Record<string, Float64Array>)[field];
    for (let i = 0; i < out.length; i++) out[i] += v[i];
  }
  return out;
}

/** Threshold τ_j of the protocol's grid (16 per doubling from 2^-40). */
const tau = (j: number) => (j === 0 ? 0 : 2 ** (-40 + (j - 1) / 16));
const LO = 641; // the bucket of a count of 1 (τ_641 = 1)
const HI = 641 + 22 * 16; // counts up to 2^22

describe("a plan without verified requests (k = 1, the centers' consent)", () => {
  it("answers Cook's sums over one-bucket ranges: three quarters of outliers_sim's non-zero counts come back exactly from one request", async () => {
    // The same plan with k = 3 is refused: no k above 1 without verified requests.
    const data = sharedSubset(tmp, "outliers_sim", 400, replacedByDeseq2());
    const { plan, sessions } = await unverifiedCenters(data, 1);
    expect(plan.verifyRequests).toBe(false);
    expect(() => planFromJson(planToJson({ ...plan, minCell: 3 }), "plan.json")).toThrow(
      /min_cell: a k above 1 holds only under verified requests/,
    );
    const spy = { seen: new Map<StepName, unknown[]>(), stolen: [] as unknown[][] };
    let layout: { cells: number; perCell: number; genes: number } | null = null;
    const craft = (h: PrivateSumWire): PrivateSumWire => {
      const cells = h.cellRows.length / h.p;
      const perCell = Math.ceil((HI - LO + 1) / 3);
      const groups = cells * perCell;
      const genes = h.active.length;
      layout = { cells, perCell, genes };
      const groupCells = new Uint8Array(groups * cells);
      const groupValues = new Uint8Array(groups).fill(1); // raw counts
      const boundaries = new Float64Array(genes * groups * 4);
      const atomSlots = new Uint8Array(genes * groups * 5);
      for (let c = 0; c < cells; c++)
        for (let t = 0; t < perCell; t++) {
          const q = c * perCell + t;
          groupCells[q * cells + c] = 1;
          const b = LO + 3 * t;
          for (let a = 0; a < genes; a++) {
            boundaries.set([b, b + 1, b + 2, b + 3], (a * groups + q) * 4);
            // atoms 1..3 (buckets b, b+1, b+2) to slots 1..3 (wire: slot + 1); 0 and 4 unsummed
            atomSlots.set([0, 2, 3, 4, 0], (a * groups + q) * 5);
          }
        }
      return {
        ...h,
        groups,
        groupCells,
        groupValues,
        active: new Uint8Array(genes).fill(1),
        boundaries,
        atomSlots,
        centres: new Float64Array(0),
      };
    };
    const transport = spying(
      new InProcessTransport(sessions, { secureAggregation: true }),
      "cooksPrivateSums",
      craft as never,
      spy,
    );
    // The honest run may end after the attack (its own sums requests are limited per run).
    await runOverFederation(transport, JOB, { runId: "attack", plan }).catch(() => undefined);
    expect(spy.stolen).toHaveLength(1);
    const sums = pooled(spy.stolen[0], "sums");
    const { cells, perCell, genes } = layout as unknown as {
      cells: number;
      perCell: number;
      genes: number;
    };
    const groups = cells * perCell;
    // A bucket's pooled sum S in (τ_{b−1}, 2τ_{b−1}] is one value.
    const recovered: string[] = [];
    for (let a = 0; a < genes; a++)
      for (let c = 0; c < cells; c++)
        for (let t = 0; t < perCell; t++) {
          const q = c * perCell + t;
          for (let j = 1; j <= 3; j++) {
            const b = LO + 3 * t + (j - 1);
            const s = sums[(a * groups + q) * 6 + j];
            if (s > tau(b - 1) && s <= 2 * tau(b - 1)) recovered.push(`${a}/${c}/${s}`);
          }
        }
    // Truth: the fitted genes' non-zero counts, pooled per cell.
    const prepares = spy.seen.get("prepare") as StepInput<"prepare">[];
    const fitted = prepares[prepares.length - 1].genes;
    expect(fitted.length).toBe(genes);
    const cellNames = ["condition=A", "condition=B"];
    const byCell: number[][][] = fitted.map(() => cellNames.map(() => []));
    for (const s of sessions) {
      const keys = sampleCellKeys(plan, s.data);
      const n = s.data.samples.length;
      const row = new Map(s.data.genes.map((g, i) => [g, i]));
      fitted.forEach((g, a) => {
        const r = row.get(g) as number;
        for (let i = 0; i < n; i++) {
          const y = s.data.counts[r * n + i];
          if (y > 0) byCell[a][cellNames.indexOf(keys[i])].push(y);
        }
      });
    }
    let nonZero = 0;
    let matched = 0;
    const found = new Set(recovered);
    for (const [a, perCellValues] of byCell.entries())
      for (const [c, values] of perCellValues.entries()) {
        nonZero += values.length;
        for (const y of values) if (found.has(`${a}/${c}/${y}`)) matched++;
      }
    let wrong = 0;
    for (const r of recovered) {
      const [a, c, y] = r.split("/").map(Number);
      if (!byCell[a][c].includes(y)) wrong++;
    }
    console.info(
      `unverified Cook's sums: ${matched} of ${nonZero} non-zero counts back exactly, ${wrong} wrong`,
    );
    // Measured: 5,769 of 7,838 (73.6%), none wrong.
    expect(wrong).toBe(0);
    expect(matched / nonZero).toBeGreaterThan(0.7);
  });
});
