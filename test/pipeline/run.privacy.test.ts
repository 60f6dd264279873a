/**
 * What leaves a center in a run: the Cook's and refit steps' replies carry per-gene (or per-cell)
 * aggregates only, never a value per sample, on outliers_sim where counts are replaced and
 * genes refitted. A transport wrapper records every reply as the aggregator receives it.
 */
import { describe, expect, it } from "vitest";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import type { Transport } from "../../src/federation/transport.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runShared } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";

interface Recorded {
  readonly phase: string;
  readonly step: StepName;
  readonly center: string;
  readonly samples: number;
  readonly reply: Record<string, unknown>;
  readonly request: Record<string, unknown>;
}

/** A transport that records every reply it delivers. */
function recording(inner: Transport, log: Recorded[]): Transport {
  return {
    get centers() {
      return inner.centers;
    },
    async request<K extends StepName>(
      tag: RequestTag,
      step: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const replies = await inner.request(tag, step, inputs);
      replies.forEach((reply, c) => {
        log.push({
          phase: tag.phase,
          step,
          center: inner.centers[c].name,
          samples: inner.centers[c].samples.length,
          reply: reply as unknown as Record<string, unknown>,
          request: inputs[c] as unknown as Record<string, unknown>,
        });
      });
      return replies;
    },
    close: () => inner.close(),
  } as Transport;
}

/**
 * Genes a request covers (its replies' arrays are per gene of these; per gene and trimmed-mean
 * group for the private Cook's sums, whose groups differ between passes, per target rank still
 * searched for their counts, and per gene and point for the dispersion searches, whose genes
 * may send different numbers of points, the derivative fields per point with derivatives).
 */
function genesInPlay(step: StepName, request: Record<string, unknown>, field: string): number {
  const count = (mask: unknown) => (mask as Uint8Array).reduce((a, b) => a + b, 0);
  switch (step) {
    case "dispersionGrid": {
      const derivatives = request.derivativeCounts as Float64Array;
      if (field.endsWith("Slope") && derivatives.length > 0)
        return derivatives.reduce((a, b) => a + b, 0);
      return (request.points as Float64Array).length;
    }
    case "dispersionResiduals":
      return count(request.mask);
    case "cooksPrivateTrim":
      // the targets still searched (K + 1 counts each): the request's brackets, two ends each
      return (request.brackets as Float64Array).length / 2;
    case "cooksPrivateSums":
      // active genes × groups (the trimmed means searched per gene)
      return count(request.active) * (request.groups as number);
    case "cooksScreen":
    case "cooksPrivate":
      return (request.dispersions as Float64Array).length;
    case "information":
      return (request.beta as Float64Array).length / (request.coefficients as number);
    case "dispersionMoments":
      return (request.refitGenes as Uint8Array).length === 0
        ? Number.NaN
        : count(request.refitGenes);
    default:
      return Number.NaN;
  }
}

describe("run on outliers_sim: what the Cook's and refit steps send", () => {
  it("never a per-sample value: every array is per gene (or per design cell)", async () => {
    const log: Recorded[] = [];
    const transport = recording(
      new InProcessTransport(await simulatedCenters(sharedPath("data", "outliers_sim"))),
      log,
    );
    const outcome = await runShared(transport, "outliers_sim");
    expect(outcome.cooks.refitted).toBe(60);
    const refitSteps = log.filter(
      (r) => r.phase.startsWith("cooks") || r.phase.startsWith("refit"),
    );
    expect(new Set(refitSteps.map((r) => r.step))).toEqual(
      new Set([
        "cooksCellCounts",
        "cooksScreen",
        "cooksPrivateTrim",
        "cooksPrivateSums",
        "cooksPrivate",
        "dispersionMoments",
        "dispersionResiduals",
        "dispersionGrid",
        "prepareRefit",
        "information",
      ]),
    );
    let arrays = 0;
    const widths = new Map<string, Set<number>>();
    for (const r of refitSteps) {
      for (const [field, value] of Object.entries(r.reply)) {
        if (!ArrayBuffer.isView(value)) continue;
        arrays++;
        const length = (value as Float64Array).length;
        const where = `${r.phase}/${r.step}.${field} from ${r.center}`;
        if (r.step === "cooksCellCounts") {
          // How many samples have each candidate row (the aggregator's): one count per
          // candidate, not per sample, and no row.
          const counts = r.reply.counts as Float64Array;
          const rows = r.request.rows as Float64Array;
          expect(
            counts.reduce((a, b) => a + b, 0),
            where,
          ).toBe(r.samples);
          expect(counts.length, where).toBe(rows.length / (r.request.p as number));
          expect(counts.length, where).toBeLessThan(r.samples);
          continue;
        }
        if (r.step === "dispersionMoments" && field === "gram") {
          // The design's XᵀX (p×p): a design summary, not per sample.
          expect(length % outcome.fit.columns.length, where).toBe(0);
          expect(length / outcome.fit.columns.length, where).toBeLessThan(r.samples);
          continue;
        }
        if (r.step === "dispersionMoments" && field === "rowCounts") {
          // Samples per candidate row (the aggregator's list): one count per candidate, no row.
          const counts = r.reply.rowCounts as Float64Array;
          const candidates = r.request.candidateRows as Float64Array;
          expect(
            counts.reduce((a, b) => a + b, 0),
            where,
          ).toBe(r.samples);
          expect(counts.length, where).toBe(candidates.length / outcome.fit.columns.length);
          continue;
        }
        // Per gene: the genes the request covers times a per-step constant, the same in every
        // round and at every center.
        const genes = genesInPlay(r.step, r.request, field);
        expect(genes, where).toBeGreaterThan(0);
        expect(length % genes, `${where}: ${length} values for ${genes} genes`).toBe(0);
        const key = `${r.step}.${field}`;
        const perGene = length / genes;
        if (!widths.has(key)) widths.set(key, new Set());
        widths.get(key)?.add(perGene);
      }
    }
    expect(arrays).toBeGreaterThan(50);
    // A search's points per gene may change between its stages; nothing else varies.
    for (const [key, set] of widths) {
      if (!key.startsWith("dispersionGrid")) expect(set.size, key).toBe(1);
    }
  });
});
