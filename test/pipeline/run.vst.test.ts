/**
 * `run --vst` against DESeq2 1.38.3's `varianceStabilizingTransformation(dds, blind = FALSE)`:
 * outliers_sim and bodymap `~ center + <factor>` against the shared `deseq2_more/vst.csv.gz`; li_lncap
 * against DESeq2 run with size factors nudged below 1e-15 (fixtures/vst.R: DESeq2's own trend
 * flips there, and the shared file holds the other branch); a mean trend; and a local trend
 * (fixtures/vst.R), computed only when the plan lets the largest normalised count be found
 * (otherwise the run says why, and writes no vst.csv).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { vstTrendOf } from "../../src/algorithms/vst.js";
import { madePca, type VstTable } from "../../src/pipeline/run.js";
import { COUNT_POINTS, probePage } from "../helpers/chromium.js";
import { type Deseq2Table, deseq2Table, deseq2TableAt } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { batchRunWithVst, outliersSimTrendRun } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-vst-");

/** Largest relative difference over DESeq2's genes and samples. */
function worstRelative(ours: VstTable, expected: Deseq2Table): number {
  const row = new Map(ours.genes.map((g, i) => [g, i]));
  const m = ours.samples.length;
  let worst = 0;
  for (const sample of expected.header.slice(1)) {
    const k = ours.samples.indexOf(sample);
    expect(k, sample).toBeGreaterThanOrEqual(0);
    const theirs = expected.numbers(sample);
    expected.ids.forEach((gene, e) => {
      const g = row.get(gene) as number;
      const v = ours.values[g * m + k];
      worst = Math.max(worst, Math.abs(v - theirs[e]) / Math.abs(theirs[e]));
    });
  }
  return worst;
}

/** vst.csv as a table. */
function readVstCsv(file: string): VstTable {
  const lines = readFileSync(file, "utf8").trimEnd().split("\n");
  const samples = lines[0].split(",").slice(1);
  const genes = lines.slice(1).map((l) => l.slice(0, l.indexOf(",")));
  const values = Float64Array.from(
    lines.slice(1).flatMap((l) => l.split(",").slice(1).map(Number)),
  );
  return { genes, samples, values };
}

it('fedseq run --design "~ center + condition" --vst on outliers_sim: DESeq2\'s vst to 1e-6', async () => {
  const out = join(tmp.dir, "outliers");
  const run = await runFedseqAsync([
    "run",
    "--data",
    sharedPath("data", "outliers_sim"),
    "--design",
    "~ center + condition",
    "--vst",
    "--out",
    out,
    "--quiet",
  ]);
  expect(run.code, run.stderr).toBe(0);
  const ours = readVstCsv(join(out, "vst.csv"));
  const expected = deseq2Table("outliers_sim", "vst.csv.gz", "deseq2_more");
  expect(ours.genes).toEqual(expected.ids);
  expect([...ours.samples].sort()).toEqual(expected.header.slice(1).sort());
  const worst = worstRelative(ours, expected);
  console.info(`outliers_sim vst vs DESeq2: max relative difference ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-6);
  const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  expect(report.vst.trend.fit).toBe("parametric");
  // DESeq2's PCA (plotPCA) of the vst: pca.csv, run.json, and the report's plot of 18 samples.
  expect(report.pca).toMatchObject({ genes: 500, coordinates: "kept at the centers" });
  const pca = readFileSync(join(out, "pca.csv"), "utf8").trimEnd().split("\n");
  expect(pca[0]).toBe("sample,center,PC1,PC2");
  expect(pca).toHaveLength(19);
  const r = plotPca("outliers_sim");
  const pc1 = new Map(pca.slice(1).map((l) => [l.split(",")[0], Number(l.split(",")[2])]));
  const rPc1 = Array.from(r.pcs[0]);
  const ourPc1 = r.samples.map((sample) => pc1.get(sample) as number);
  const sign = Math.sign(ourPc1.reduce((a, x, i) => a + x * rPc1[i], 0));
  const scale = Math.max(...rPc1.map(Math.abs));
  expect(Math.max(...ourPc1.map((x, i) => Math.abs(sign * x - rPc1[i]) / scale))).toBeLessThan(
    1e-6,
  );
  const figures = (await probePage(
    join(out, "report.html"),
    `${COUNT_POINTS}
    return [...document.querySelectorAll("figure")].map((f) => ({ id: f.id, points: countPoints(f) }));`,
  )) as { id: string; points: number }[];
  expect(figures.find((f) => f.id === "pca-plot")?.points).toBe(18);
});

it("li_lncap ~ center + treatment: DESeq2's vst (its trend's nudged branch, which is ours) to 1e-6", async () => {
  // The run of run.deseq2.test.ts's batch test (the same analysis), computed once.
  const { vst } = await batchRunWithVst("li_lncap", "treatment");
  if (vst === null) throw new Error("no vst");
  const nudged = worstRelative(vst, deseq2TableAt(join(fixtures, "vst_li_lncap_nudged.csv.gz")));
  // The shared file holds DESeq2's other branch (asymptDisp 0.0049286 instead of 0.0049259).
  const shared = worstRelative(vst, deseq2Table("li_lncap", "vst.csv.gz", "deseq2_more"));
  console.info(
    `li_lncap vst: vs DESeq2 with nudged size factors ${nudged.toExponential(2)}, vs the shared file ${shared.toExponential(2)}`,
  );
  expect(nudged).toBeLessThanOrEqual(1e-6);
});

it("bodymap ~ center + tissue: DESeq2's vst to 1e-6", async () => {
  const { vstTrend, vst } = await batchRunWithVst("bodymap", "tissue");
  if (vst === null) throw new Error("no vst");
  expect(vstTrend).toMatchObject({ trend: { fit: "parametric" } });
  const worst = worstRelative(vst, deseq2Table("bodymap", "vst.csv.gz", "deseq2_more"));
  console.info(`bodymap vst vs DESeq2: max relative difference ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-6);
});

/** DESeq2's plotPCA(returnData = TRUE) of its vst (test/algorithms/pca/fixtures/plotPCA.R). */
function plotPca(dataset: string) {
  const t = deseq2TableAt(join(fixtures, `../../algorithms/pca/fixtures/plotPCA_${dataset}.csv`));
  return {
    samples: t.ids,
    pcs: [t.numbers("PC1"), t.numbers("PC2")],
    percentVar: [t.numbers("percentVar1")[0], t.numbers("percentVar2")[0]],
  };
}

it.each([
  ["bodymap", "tissue"],
  ["li_lncap", "treatment"],
])(
  "%s ~ center + %s: the run's PCA (plotPCA of the vst, 500 genes) is DESeq2's to 1e-6",
  async (dataset, factor) => {
    const batch = await batchRunWithVst(dataset, factor);
    const pca = madePca(batch);
    const { pcaCoordinates } = batch;
    if (pca === null || pcaCoordinates === null) throw new Error("no PCA");
    expect(pca.genes).toBe(500);
    // The centers kept their coordinates (the default plan sends none).
    expect(pca.coordinates).toBeNull();
    const r = plotPca(dataset);
    const errors = [0, 1].map((j) => {
      const ours = r.samples.map((s) => {
        const i = pcaCoordinates.samples.indexOf(s);
        return (j === 0 ? pcaCoordinates.pc1 : pcaCoordinates.pc2)[i];
      });
      const theirs = r.pcs[j];
      const sign = Math.sign(ours.reduce((s, x, i) => s + x * theirs[i], 0));
      const scale = Math.max(...Array.from(theirs, Math.abs));
      return Math.max(...ours.map((x, i) => Math.abs(sign * x - theirs[i]) / scale));
    });
    const share = [0, 1].map(
      (j) => Math.abs(pca.percentVariance[j] - r.percentVar[j]) / r.percentVar[j],
    );
    console.info(
      `${dataset} PCA vs DESeq2's plotPCA: PC1 ${errors[0].toExponential(2)}, PC2 ${errors[1].toExponential(2)}, percentVar ${Math.max(...share).toExponential(2)}`,
    );
    for (const e of [...errors, ...share]) expect(e).toBeLessThanOrEqual(1e-6);
  },
);

it("a mean trend (--fit-type mean): DESeq2's vst to 1e-6", async () => {
  // The run of run.fitType.test.ts's outliers_sim mean case (its results), computed once.
  const { vstTrend, vst } = await outliersSimTrendRun("mean");
  if (vst === null) throw new Error("no vst");
  expect(vstTrend).toMatchObject({ trend: { fit: "mean" } });
  const worst = worstRelative(vst, deseq2TableAt(join(fixtures, "vst_outliers_sim_mean.csv.gz")));
  console.info(`outliers_sim mean-trend vst vs DESeq2: ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-6);
});

it("a local trend: only with vst_max_count (the largest normalised count found), then DESeq2's vst to 1e-6", async () => {
  expect(vstTrendOf({ type: "local", coefficients: null, meanDispersion: Number.NaN })).toBeNull();
  // Without vst_max_count: the run of run.fitType.test.ts's outliers_sim local case, made once.
  const without = await outliersSimTrendRun("local");
  expect(without.vst).toBeNull();
  expect(without.vstTrend).toMatchObject({
    unavailable: expect.stringMatching(/local fit.*--vst-max-count/),
  });
  expect(without.rounds.vst).toBeUndefined();
  const { vstTrend, vst, rounds } = await outliersSimTrendRun("local", true);
  if (vst === null) throw new Error("no vst");
  expect(vstTrend).toMatchObject({ trend: { fit: "local" } });
  // The bisection over the doubles: at most 63 rounds.
  expect(rounds["vst-maximum"]).toBeLessThanOrEqual(63);
  const worst = worstRelative(vst, deseq2TableAt(join(fixtures, "vst_outliers_sim_local.csv.gz")));
  console.info(`outliers_sim local-trend vst vs DESeq2: ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-6);
});

it("--pca-coordinates without --vst: exit 2, one line, before any round", async () => {
  const out = join(tmp.dir, "pca-without-vst");
  const run = await runFedseqAsync([
    "run",
    "--data",
    sharedPath("data", "outliers_sim"),
    "--design",
    "~ condition",
    "--pca-coordinates",
    "--out",
    out,
  ]);
  expect(run.code).toBe(2);
  expect(run.stderr.trimEnd()).toBe(
    "fedseq: --pca-coordinates needs --vst (the PCA is of the transformed counts)",
  );
});
