/**
 * apeglm (`lfcShrink(type = "apeglm")`) against R: PyDESeq2's shrinkage tests
 * (tests/test_pydeseq2.py: test_lfc_shrinkage, test_lfc_shrinkage_no_apeAdapt,
 * test_multifactor_lfc_shrinkage, test_continuous_lfc_shrinkage, test_lfc_shrinkage_large_counts)
 * as PyDESeq2 runs them: R's size factors, dispersions and MLE results in, R's `lfcShrink` table
 * (DESeq2 1.34 with apeglm) out, max relative error of log2FoldChange below PyDESeq2's 0.02.
 * Here the samples are dealt to three centers that only sum likelihood terms. And the centers'
 * terms are what they claim: the gradient and Hessian of the value they send.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ApeglmStepTypes,
  apeglmPriorVariance,
  apeglmShrinkage,
} from "../../../src/algorithms/apeglm/aggregate.js";
import { apeglmLocalStep } from "../../../src/algorithms/apeglm/local.js";
import type { ApeglmRequest } from "../../../src/algorithms/apeglm/state.js";
import { type FitCenter, prepareCenterData } from "../../../src/algorithms/center.js";
import { readCsv } from "../../../src/io/csv.js";
import { localRunner } from "../../helpers/localRunner.js";

const DATA = join(dirname(fileURLToPath(import.meta.url)), "../../pydeseq2/data");

/** A CSV as rows of id → column → text. */
function table(file: string): { ids: string[]; column: (name: string) => string[] } {
  const t = readCsv(join(DATA, file));
  return {
    ids: t.rows.map((r) => r.fields[0]),
    column: (name) => {
      const k = t.header.indexOf(name);
      if (k < 0) throw new Error(`${file}: no column ${name}`);
      return t.rows.map((r) => r.fields[k]);
    },
  };
}

/** A case: counts (genes × samples), the design matrix, and R's inputs and outputs. */
interface Case {
  readonly name: string;
  readonly counts: number[][];
  /** Row-major n×p. */
  readonly design: number[][];
  readonly coefficient: number;
  readonly folder: string;
  readonly reference: string;
  readonly adaptive?: boolean;
}

/** Genes × samples counts and the metadata columns of a PyDESeq2 input. */
function input(countsFile: string, metadataFile: string) {
  const counts = readCsv(join(DATA, countsFile));
  const meta = table(metadataFile);
  return {
    counts: counts.rows.map((r) => r.fields.slice(1).map(Number)),
    meta,
  };
}

const synthetic = input("synthetic/test_counts.csv", "synthetic/test_metadata.csv");
const continuous = input("continuous/test_counts.csv", "continuous/test_metadata.csv");
const is = (values: string[], level: string) => values.map((v) => (v === level ? 1 : 0));
const columns = (...cols: number[][]) => cols[0].map((_, i) => cols.map((c) => c[i]));
const ones = (n: number) => new Array<number>(n).fill(1);

const syntheticCondition = is(synthetic.meta.column("condition"), "B");
const syntheticGroup = is(synthetic.meta.column("group"), "Y");
const n = syntheticCondition.length;
const cont = continuous.meta;
const contN = cont.ids.length;
// PyDESeq2's test_lfc_shrinkage_large_counts: samples A1–A4, B1–B4, genes g1–g5.
const large = input("large_counts/test_counts.csv", "large_counts/test_metadata.csv");

const CASES: Case[] = [
  {
    name: "test_lfc_shrinkage (~condition)",
    counts: synthetic.counts,
    design: columns(ones(n), syntheticCondition),
    coefficient: 1,
    folder: "single_factor",
    reference: "r_test_lfc_shrink_res.csv",
  },
  {
    name: "test_lfc_shrinkage_no_apeAdapt (prior scale 1)",
    counts: synthetic.counts,
    design: columns(ones(n), syntheticCondition),
    coefficient: 1,
    folder: "single_factor",
    reference: "r_test_lfc_shrink_no_apeAdapt_res.csv",
    adaptive: false,
  },
  {
    name: "test_multifactor_lfc_shrinkage (~group + condition)",
    counts: synthetic.counts,
    design: columns(ones(n), syntheticGroup, syntheticCondition),
    coefficient: 2,
    folder: "multi_factor",
    reference: "r_test_lfc_shrink_res.csv",
  },
  {
    name: "test_continuous_lfc_shrinkage (~group + condition + measurement)",
    counts: continuous.counts,
    design: columns(
      ones(contN),
      is(cont.column("group"), "Y"),
      is(cont.column("condition"), "B"),
      cont.column("measurement").map(Number),
    ),
    coefficient: 3,
    folder: "continuous",
    reference: "r_test_lfc_shrink_res.csv",
  },
  {
    name: "test_lfc_shrinkage_large_counts (~condition)",
    counts: large.counts,
    design: columns(ones(8), is(large.meta.column("condition"), "B")),
    coefficient: 1,
    folder: "large_counts",
    reference: "r_test_lfc_shrink_res.csv",
  },
];

/** Deal the samples round-robin to `k` centers, each holding its samples' counts. */
function centers(c: Case, sizeFactors: number[], dispersions: number[], k = 3): FitCenter[] {
  const genes = c.counts.length;
  const p = c.design[0].length;
  return Array.from({ length: k }, (_, center) => {
    const samples = c.design.map((_, i) => i).filter((i) => i % k === center);
    const counts = new Float64Array(genes * samples.length);
    c.counts.forEach((row, g) => {
      samples.forEach((i, a) => {
        counts[g * samples.length + a] = row[i];
      });
    });
    return {
      main: prepareCenterData({
        n: samples.length,
        p,
        genes,
        design: Float64Array.from(samples.flatMap((i) => c.design[i])),
        sizeFactors: Float64Array.from(samples, (i) => sizeFactors[i]),
        counts,
        dispersions: Float64Array.from(dispersions),
      }),
    };
  });
}

const measured: string[] = [];
afterAll(() => console.info(`apeglm vs R (PyDESeq2's references):\n  ${measured.join("\n  ")}`));

describe("apeglm against R's lfcShrink(type = 'apeglm'), PyDESeq2's shrinkage tests", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const sizeFactors = table(`${c.folder}/r_test_size_factors.csv`).column("x").map(Number);
    const dispersions = table(`${c.folder}/r_test_dispersions.csv`).column("x").map(Number);
    const mle = table(`${c.folder}/r_test_res.csv`);
    const r = table(`${c.folder}/${c.reference}`);
    const genes = c.counts.length;
    const fitCenters = centers(c, sizeFactors, dispersions);
    const runner = localRunner<ApeglmStepTypes>((_, request) =>
      fitCenters.map((center) => apeglmLocalStep(center, request as ApeglmRequest)),
    );
    const out = await apeglmShrinkage(runner, {
      p: c.design[0].length,
      coefficient: c.coefficient,
      genes,
      rows: Int32Array.from({ length: genes }, (_, g) => g),
      log2FoldChange: Float64Array.from(mle.column("log2FoldChange"), Number),
      lfcSE: Float64Array.from(mle.column("lfcSE"), Number),
      adaptive: c.adaptive ?? true,
    });
    const rLfc = r.column("log2FoldChange").map(Number);
    const rSe = r.column("lfcSE").map(Number);
    const lfcError = Math.max(
      ...rLfc.map((x, g) => Math.abs(out.log2FoldChange[g] - x) / Math.abs(x)),
    );
    const seError = Math.max(...rSe.map((x, g) => Math.abs(out.lfcSE[g] - x) / Math.abs(x)));
    measured.push(
      `${c.name}: max relative error log2FoldChange ${lfcError.toExponential(2)}, lfcSE ${seError.toExponential(2)}; ${runner.rounds} rounds`,
    );
    expect(out.notConverged).toBe(0);
    // PyDESeq2's bound, on log2FoldChange (its tests do not compare lfcSE; we hold it to the same).
    expect(lfcError).toBeLessThan(0.02);
    expect(seError).toBeLessThan(0.02);
  });
});

describe("apeglm's pieces", () => {
  it("a center's gradient and observed information are the derivatives of the value it sends", () => {
    const c = CASES[3];
    const sizeFactors = table(`${c.folder}/r_test_size_factors.csv`).column("x").map(Number);
    const dispersions = table(`${c.folder}/r_test_dispersions.csv`).column("x").map(Number);
    const [center] = centers(c, sizeFactors, dispersions, 1);
    const p = 4;
    const genes = c.counts.length;
    const beta = Float64Array.from({ length: genes * p }, (_, j) => 0.3 * Math.sin(j + 1));
    const ask = (b: Float64Array, curvature: boolean) =>
      apeglmLocalStep(center, {
        kind: "apeglm-request",
        coefficients: p,
        mask: new Uint8Array(genes).fill(1),
        beta: b,
        curvature,
      });
    const at = ask(beta, true);
    const h = 1e-5;
    let worstScore = 0;
    let worstInformation = 0;
    for (let k = 0; k < p; k++) {
      const plus = beta.slice();
      const minus = beta.slice();
      for (let g = 0; g < genes; g++) {
        plus[g * p + k] += h;
        minus[g * p + k] -= h;
      }
      const up = ask(plus, false);
      const down = ask(minus, false);
      for (let g = 0; g < genes; g++) {
        // The score is the log-likelihood's gradient: −d(nll)/dβ.
        const numeric = -(up.nll[g] - down.nll[g]) / (2 * h);
        const score = at.score[g * p + k];
        worstScore = Math.max(worstScore, Math.abs(numeric - score) / (1 + Math.abs(score)));
        // Observed information: −d(score)/dβ, row k of the packed triangle.
        for (let l = 0; l < p; l++) {
          const numericInfo = -(up.score[g * p + l] - down.score[g * p + l]) / (2 * h);
          const [i, j] = k <= l ? [k, l] : [l, k];
          const packed = (i * (2 * p - i + 1)) / 2 + (j - i);
          const info = at.information[g * ((p * (p + 1)) / 2) + packed];
          worstInformation = Math.max(
            worstInformation,
            Math.abs(numericInfo - info) / (1 + Math.abs(info)),
          );
        }
      }
    }
    expect(worstScore).toBeLessThan(1e-6);
    expect(worstInformation).toBeLessThan(1e-6);
  });

  it("the adaptive prior variance solves apeglm's moment equation, within its bounds", () => {
    const mle = Float64Array.from([0.5, -1.2, 0.1, 2.0, Number.NaN, -0.3]);
    const se = Float64Array.from([0.2, 0.4, 0.3, 0.5, 0.1, 0.25]);
    const a = apeglmPriorVariance(mle, se);
    let num = 0;
    let den = 0;
    mle.forEach((b, g) => {
      if (Number.isNaN(b)) return;
      const w = 1 / (2 * (a + se[g] ** 2) ** 2);
      num += (b * b - se[g] ** 2) * w;
      den += w;
    });
    expect(Math.abs(num / den - a)).toBeLessThan(1e-12);
    // Estimates all within their noise: the lower bound.
    expect(apeglmPriorVariance(Float64Array.from([0.01, -0.02]), Float64Array.of(1, 1))).toBe(1e-6);
    // Huge effects: the upper bound.
    expect(apeglmPriorVariance(Float64Array.from([100, -100]), Float64Array.of(0.1, 0.1))).toBe(
      400,
    );
  });
});
