/**
 * The federated Cook's machinery on `outliers_sim` (3 centers × 6 samples, `~ condition`,
 * 60 injected outliers) against DESeq2 1.38.3: trimmed means against pooled R semantics,
 * robust dispersions, maxCooks, the replaced genes and counts, `results()`' filtering.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  aggregateCells,
  type CooksPlan,
  cellsLocalStep,
  cooksPlan,
} from "../../../src/algorithms/cooks/cells.js";
import type { CellTable } from "../../../src/algorithms/cooks/center.js";
import { sampleCells } from "../../../src/algorithms/cooks/center.js";
import {
  aggregateCooks,
  type CooksOutcome,
  type CooksShare,
  cooksFilterMask,
  cooksLocalStep,
  cooksRequest,
  countsWithReplacements,
  type LocalReplacement,
  replaceOutliersLocal,
} from "../../../src/algorithms/cooks/cooks.js";
import {
  type RobustMoments,
  robustMoments,
  startRobustPass1,
  startRobustPass2,
} from "../../../src/algorithms/cooks/robustDispersion.js";
import type { TrimSearch } from "../../../src/algorithms/cooks/trimmedMean.js";
import { sumOverCenters } from "../../../src/algorithms/shares.js";
import { waldCovariance } from "../../../src/algorithms/wald/aggregate.js";
import { weightedGram } from "../../../src/algorithms/wald/local.js";
import { deseq2Table } from "../../helpers/deseq2.js";
import {
  DATASET,
  loadOutliersSim,
  messages,
  naWithoutRefitFixture,
  type OutliersSim,
  pooledTrimmedMean,
  robustFixture,
  runSearch,
} from "./outliersSim.js";

let sim: OutliersSim;
let table: CellTable;
let plan: CooksPlan;
let pass1: TrimSearch;
let pass2: TrimSearch;
let rounds1: number;
let rounds2: number;
let moments: RobustMoments;
let cooksShares: CooksShare[];
let replacements: LocalReplacement[];
let outcome: CooksOutcome;
let hatInverse: Float64Array;

/** Pooled values of gene g for the samples whose cell is in `cells` (all when undefined). */
function pooled(
  g: number,
  value: (y: number, s: number, i: number) => number,
  cells?: Set<number>,
): number[] {
  const n = sim.samples.length;
  const cellOf = sampleCells(
    {
      n,
      p: sim.p,
      genes: sim.genes.length,
      design: sim.design,
      sizeFactors: sim.sizeFactors,
      counts: sim.counts,
    },
    table,
  );
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (cells === undefined || cells.has(cellOf[i]))
      out.push(value(sim.counts[g * n + i], sim.sizeFactors[i], i));
  }
  return out;
}

beforeAll(async () => {
  // The record is the module's, and a worker keeps modules from file to file (isolate: false):
  // another file's searches (e.g. li_lncap's) may have filled it.
  messages.length = 0;
  sim = await loadOutliersSim();
  const { centers } = sim;
  const genes = sim.genes.length;
  const cellsShares = centers.map((c) => cellsLocalStep(c));
  for (const share of cellsShares) messages.push({ kind: share.kind, value: share });
  table = aggregateCells(cellsShares);
  plan = cooksPlan(table);

  pass1 = startRobustPass1(plan, genes, { thirdLargestCount: true });
  rounds1 = runSearch(centers, pass1);
  pass2 = startRobustPass2(plan, pass1);
  rounds2 = runSearch(centers, pass2);
  moments = robustMoments(plan, pass1, pass2);

  const hatRequest = {
    kind: "information-request" as const,
    beta: sim.firstFitBeta,
    dispersions: sim.firstFitDispersion,
  };
  messages.push({ kind: hatRequest.kind, value: hatRequest });
  const hatShares = centers.map((c) => ({
    kind: "information-share",
    xtwx: weightedGram(c, hatRequest.beta, hatRequest.dispersions),
  }));
  for (const share of hatShares) messages.push({ kind: share.kind, value: share });
  hatInverse = waldCovariance(sumOverCenters(hatShares, "xtwx"), sim.p).inverse;

  const request = cooksRequest(plan, {
    beta: sim.firstFitBeta,
    dispersions: sim.firstFitDispersion,
    robustDispersions: moments.dispersion,
    hatInverse,
    trimmedBaseMean: moments.trimmedBaseMean,
    thirdLargestCount: moments.thirdLargestCount,
  });
  messages.push({ kind: request.kind, value: request });
  cooksShares = centers.map((c) => cooksLocalStep(c, request));
  replacements = centers.map((c) => replaceOutliersLocal(c, request));
  for (const share of cooksShares) messages.push({ kind: share.kind, value: share });
  for (const r of replacements) messages.push({ kind: r.share.kind, value: r.share });
  outcome = aggregateCooks(
    plan,
    cooksShares,
    replacements.map((r) => r.share),
  );
});

describe("cells", () => {
  it("two cells of 9 samples: every sample counts for maxCooks and is replaceable", () => {
    expect(table.cells).toBe(2);
    expect(Array.from(table.sizes)).toEqual([9, 9]);
    expect(plan.m).toBe(18);
    expect(plan.recordsMaxCooks).toBe(true);
    expect(plan.sufficientReplicates).toBe(true);
    expect(plan.allReplaceable).toBe(true);
    expect(plan.robustGroups.map((g) => [g.size, g.trim, g.scale])).toEqual([
      [9, 1 / 4, 1.86],
      [9, 1 / 4, 1.86],
    ]);
    expect(plan.cutoff).toBeCloseTo(6.2262352803113803, 13);
  });
});

describe("federated trimmed means", () => {
  it("equal the pooled R-semantics trimmed means to 1e-12", () => {
    const genes = sim.genes.length;
    const g1 = pass1.groupCount;
    const g2 = pass2.groupCount;
    let worst = 0;
    for (let g = 0; g < genes; g++) {
      const check = (federated: number, reference: number) => {
        const err = Math.abs(federated - reference) / Math.max(Math.abs(reference), 1e-300);
        if (!(err <= 1e-12) && !(federated === reference)) {
          throw new Error(`gene ${sim.genes[g]}: ${federated} vs pooled ${reference}`);
        }
        worst = Math.max(worst, reference === 0 ? 0 : err);
      };
      plan.robustGroups.forEach((group, q) => {
        const cells = new Set([...group.cellMask.keys()].filter((c) => group.cellMask[c] === 1));
        const normalized = pooled(g, (y, s) => y / s, cells);
        check(pass1.means[g * g1 + q], pooledTrimmedMean(normalized, group.trim));
        const centre = pass1.means[g * g1 + q];
        const squared = pooled(g, (y, s) => (y / s - centre) ** 2, cells);
        check(pass2.means[g * g2 + q], pooledTrimmedMean(squared, group.trim));
      });
      const all = pooled(g, (y, s) => y / s);
      check(moments.trimmedBaseMean[g], pooledTrimmedMean(all, 0.2));
      check(moments.baseMean[g], all.reduce((a, b) => a + b, 0) / all.length);
      const raw = pooled(g, (y) => y).sort((a, b) => a - b);
      expect(moments.thirdLargestCount[g]).toBe(raw[raw.length - 3]);
    }
    console.log(
      `trimmed means: pass 1 ${rounds1} rounds (${pass1.groupCount} groups), pass 2 ${rounds2} rounds; worst relative error ${worst.toExponential(2)}`,
    );
    expect(rounds1).toBeLessThanOrEqual(16);
    expect(rounds2).toBeLessThanOrEqual(16);
  });

  it("the centers' bucket counts add up to each group's size in every round", () => {
    // Checked by trimAggregateStep on every round (it throws otherwise); here the first
    // round's totals, which are also Σ y/s over the group.
    const g1 = pass1.groupCount;
    for (let g = 0; g < sim.genes.length; g += 97) {
      const all = pooled(g, (y, s) => y / s);
      const sum = all.reduce((a, b) => a + b, 0);
      expect(Math.abs(pass1.totals[g * g1 + 2] - sum)).toBeLessThanOrEqual(1e-12 * sum);
    }
  });
});

describe("robust dispersion", () => {
  it("equals DESeq2's robustMethodOfMomentsDisp to 1e-10", () => {
    const expected = robustFixture();
    let worst = 0;
    expected.forEach((e, g) => {
      worst = Math.max(worst, Math.abs(moments.dispersion[g] - e) / e);
    });
    console.log(`robust dispersion: worst relative error ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-10);
  });
});

describe("Cook's distances", () => {
  it("maxCooks matches DESeq2's to 1e-6 (first fit: fit.csv, or the fixture for refitted genes)", () => {
    const cooks = deseq2Table(DATASET, "cooks.csv");
    const expected = cooks.numbers("max_cooks");
    let worstKept = 0;
    let worstRefitted = 0;
    const unconverged: string[] = [];
    expected.forEach((e, g) => {
      const err = Math.abs(outcome.waldMaxCooks[g] - e) / e;
      if (sim.firstFitIterations[g] >= 100) {
        // DESeq2's H is that of IRLS's last (unconverged) iterate, not of optim's final β.
        unconverged.push(`${sim.genes[g]} ${err.toExponential(2)}`);
        expect(err).toBeLessThan(1e-2);
      } else if (sim.refitted.has(g)) worstRefitted = Math.max(worstRefitted, err);
      else worstKept = Math.max(worstKept, err);
    });
    console.log(
      `maxCooks: worst relative error ${worstKept.toExponential(2)} (fit.csv genes), ${worstRefitted.toExponential(2)} (refitted genes, pre-refit fixture); IRLS-unconverged genes: ${unconverged.join(", ")}`,
    );
    expect(worstKept).toBeLessThan(1e-6);
    expect(worstRefitted).toBeLessThan(1e-6);
    expect(unconverged.length).toBe(1);
  });

  it("flags exactly DESeq2's replaced genes", () => {
    const cooks = deseq2Table(DATASET, "cooks.csv");
    const replace = cooks.numbers("replace");
    expect(Array.from(outcome.replace)).toEqual(Array.from(replace, (x) => (x === 1 ? 1 : 0)));
    expect(Array.from(outcome.refit)).toEqual(Array.from(outcome.replace));
    expect(outcome.refitted).toBe(true);
    expect(outcome.newAllZero.every((x) => x === 0)).toBe(true);
    expect(outcome.replacedEntries.reduce((a, b) => a + b, 0)).toBe(60);
  });

  it("replaces exactly DESeq2's counts, at the centers", () => {
    const expected = deseq2Table(DATASET, "replace_counts.csv");
    const n = sim.samples.length;
    const columns = sim.samples.map((s) => expected.numbers(s));
    let changed = 0;
    sim.centers.forEach((center, c) => {
      const local = countsWithReplacements(center.counts, center.n, replacements[c].replaced);
      center.samples.forEach((sample, j) => {
        const i = sim.samples.indexOf(sample);
        for (let g = 0; g < center.genes; g++) {
          const got = local[g * center.n + j];
          if (got !== columns[i][g]) {
            throw new Error(`${sim.genes[g]}, ${sample}: replaced ${got}, DESeq2 ${columns[i][g]}`);
          }
          if (got !== sim.counts[g * n + i]) changed++;
        }
      });
    });
    expect(changed).toBe(60);
  });

  it("the baseMean after replacement is DESeq2's reported baseMean", () => {
    const results = deseq2Table(DATASET, "results.csv");
    const baseMean = results.numbers("baseMean");
    for (let g = 0; g < sim.genes.length; g++) {
      expect(Math.abs(outcome.replacedBaseMean[g] - baseMean[g])).toBeLessThanOrEqual(
        1e-12 * baseMean[g],
      );
    }
  });

  it("results(): after the refit nothing is filtered (every sample replaceable: maxCooks NA)", () => {
    const results = deseq2Table(DATASET, "results.csv");
    const na = results.numbers("pvalue").filter((x) => Number.isNaN(x)).length;
    expect(na).toBe(0);
    expect(outcome.maxCooks.every((x) => Number.isNaN(x))).toBe(true);
    const mask = cooksFilterMask(plan, outcome, { twoLevelFactor: true });
    expect(mask.reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("results() without replacement (minReplicatesForReplace = Inf) filters DESeq2's genes", () => {
    const noReplace = cooksPlan(table, { minReplicatesForReplace: Number.POSITIVE_INFINITY });
    const outcome0 = aggregateCooks(noReplace, cooksShares);
    expect(outcome0.refitted).toBe(false);
    expect(outcome0.replace.every((x) => x === 0)).toBe(true);
    const mask = cooksFilterMask(noReplace, outcome0, { twoLevelFactor: true });
    const filtered = sim.genes.filter((_, g) => mask[g] === 1);
    expect(filtered).toEqual(naWithoutRefitFixture());
  });
});

describe("messages", () => {
  it("every per-gene message has genes × const values, never a per-sample axis", () => {
    const genes = sim.genes.length;
    const kinds = new Set<string>();
    // A search's request and shares cover its active genes only (those still searched).
    let searched = genes;
    for (const { kind, value } of messages) {
      kinds.add(kind);
      if (kind === "cooks-trim-request") {
        const active = (value as { active: Uint8Array }).active;
        expect(active.length).toBe(genes);
        searched = active.reduce((a, b) => a + b, 0);
      }
      for (const [field, x] of Object.entries(value)) {
        if (!ArrayBuffer.isView(x)) continue;
        const length = (x as Float64Array | Uint8Array).length;
        const perGene = !["active", "cellRows", "groupCells", "groupValues"].includes(field);
        if (kind.startsWith("cooks-trim") && perGene) {
          expect(searched).toBeGreaterThan(0);
          expect(length % searched, `${kind}.${field}: ${length} values`).toBe(0);
        } else if (kind === "cooks-cells-share" || field === "cellRows") {
          // Design metadata: distinct rows and their sizes, cells × p at most.
          expect(length).toBeLessThanOrEqual(table.cells * sim.p);
        } else if (["groupCells", "groupValues"].includes(field)) {
          expect(length).toBeLessThanOrEqual(pass1.groupCount * table.cells);
        } else if (["forMaxCooks", "replaceable"].includes(field)) {
          expect(length).toBe(table.cells);
        } else if (field !== "active") {
          // (an empty array: no data, e.g. the centres of a search without squared errors)
          expect(length % genes, `${kind}.${field}: ${length} values`).toBe(0);
        }
      }
    }
    expect([...kinds].sort()).toEqual([
      "cooks-cells-share",
      "cooks-replace-share",
      "cooks-request",
      "cooks-share",
      "cooks-trim-request",
      "cooks-trim-share",
      "information-request",
      "information-share",
    ]);
  });

  it("the sums over centers of the hat shares are the pooled XᵀWX", () => {
    // M⁻¹ − Λ = Σ_c X_cᵀW_cX_c; check against a pooled computation for a few genes.
    const p = sim.p;
    const n = sim.samples.length;
    for (let g = 0; g < sim.genes.length; g += 211) {
      const pooledGram = new Float64Array(p * p);
      for (let i = 0; i < n; i++) {
        let eta = 0;
        for (let k = 0; k < p; k++) eta += sim.design[i * p + k] * sim.firstFitBeta[g * p + k];
        const mu = Math.max(sim.sizeFactors[i] * Math.exp(eta), 0.5);
        const w = mu / (1 + sim.firstFitDispersion[g] * mu);
        for (let k = 0; k < p; k++)
          for (let l = 0; l < p; l++)
            pooledGram[k * p + l] += sim.design[i * p + k] * w * sim.design[i * p + l];
      }
      const ridge = 1e-6 / Math.LN2 ** 2;
      // (M⁻¹) for p = 2: invert the 2×2 inverse back.
      const m = hatInverse.subarray(g * 4, g * 4 + 4);
      const det = m[0] * m[3] - m[1] * m[2];
      const back = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
      for (let k = 0; k < 4; k++) {
        const expected = pooledGram[k] + (k % 3 === 0 ? ridge : 0);
        expect(Math.abs(back[k] - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected) + 1e-12);
      }
    }
  });
});
