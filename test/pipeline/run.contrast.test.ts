/**
 * `run --contrast factor,level,reference` for two levels other than the default's, against DESeq2
 * 1.38.3's `results(dds, contrast = c("tissue", "heart", "adipose"))` on bodymap's first 4,000
 * genes (fixtures/contrast.R): including DESeq2's contrastAllZero genes (no count in either
 * level's samples, some elsewhere), reported with a log2 fold change and statistic of 0 and a
 * p-value of 1. Run as a user runs it (secure aggregation and the plan's request policy on).
 * Also `--contrast-vector 0,0,1,-1` (DESeq2's contrastAllZeroNumeric: 180 genes) and
 * `--name tissue_blood_vs_adipose` (no zeroing), against DESeq2's results for the same.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../src/pipeline/run.js";
import type { ContrastSpec } from "../../src/results/contrast.js";
import { expectDeseq2Contrast } from "../helpers/contrastResults.js";
import {
  type Deseq2Table,
  deseq2TableAt,
  type ResultColumns,
  resultColumns,
  shareWithin,
} from "../helpers/deseq2.js";
import { bodymap4000HeartVsAdipose, sharedFedseqRun } from "../helpers/processes.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { cachedSubset, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-contrast-");

it("--contrast tissue,heart,adipose on bodymap: DESeq2's results, its contrastAllZero genes included", async () => {
  // The same run as results.cli's whole run with this contrast: made once (sharedFedseqRun).
  const run = await sharedFedseqRun(
    "run-bodymap4000-heart-vs-adipose",
    bodymap4000HeartVsAdipose(await cachedSubset("bodymap", 4000)),
  );
  expect(run.code, run.stderr).toBe(0);
  const ours = deseq2TableAt(join(run.out, "results.csv"));
  expectDeseq2(
    "tissue heart vs adipose",
    resultColumns(ours),
    ours.ids,
    deseq2TableAt(join(fixtures, "bodymap4000_heart_vs_adipose.csv.gz")),
    64,
  );
});

/** {@link expectDeseq2Contrast} on bodymap's first 4,000 genes. */
const expectDeseq2 = (
  label: string,
  ours: ResultColumns,
  ids: readonly string[],
  expected: Deseq2Table,
  zeroed: number,
) => expectDeseq2Contrast(`bodymap (4,000 genes) ${label}`, ours, ids, expected, zeroed);

const OTHER_CONTRASTS: [string, ContrastSpec, string, number][] = [
  ["--contrast-vector 0,0,1,-1", { kind: "vector", weights: [0, 0, 1, -1] }, "numeric", 180],
  [
    "--name tissue_blood_vs_adipose",
    { kind: "coefficient", name: "tissue_blood_vs_adipose" },
    "name",
    0,
  ],
];

it.each(OTHER_CONTRASTS)("%s on bodymap: DESeq2's results", async (_, contrast, file, zeroed) => {
  const data = await cachedSubset("bodymap", 4000);
  const transport = new InProcessTransport(await simulatedCenters(data));
  try {
    const outcome = await runOverFederation(
      transport,
      { ...deseq2Job("bodymap", "~ tissue"), contrast },
      { runId: `contrast-${file}` },
    );
    const expected = deseq2TableAt(join(fixtures, `bodymap4000_${file}.csv.gz`));
    expectDeseq2(file, outcome.results, outcome.fit.genes, expected, zeroed);
  } finally {
    await transport.close();
  }
});

it("the default reference of control and Treated is control, as R's factor() orders them: outliers_sim relabelled gives DESeq2's B vs A", async () => {
  // Sorted by code units "Treated" would come first (T < c) and every fold change flip sign.
  const dir = sharedSubset(tmp, "outliers_sim", 3000);
  const metadata = readFileSync(join(dir, "metadata.csv"), "utf8")
    .replace(/,A,/g, ",control,")
    .replace(/,B,/g, ",Treated,");
  tmp.write("outliers_sim-3000-genes/metadata.csv", metadata);
  const transport = new InProcessTransport(await simulatedCenters(dir));
  const outcome = await runOverFederation(transport, deseq2Job("outliers_sim"), {
    runId: "control-treated",
  });
  await transport.close();
  expect(outcome.contrast).toBe("condition Treated vs control");
  const theirs = deseq2TableAt(sharedPath("data", "outliers_sim", "deseq2", "results.csv"));
  expect(outcome.fit.genes).toEqual(theirs.ids);
  for (const column of ["log2FoldChange", "stat"] as const) {
    const ours = outcome.results[column];
    expect(shareWithin(ours, theirs.numbers(column), 1e-6), column).toBeGreaterThanOrEqual(0.99);
  }
});
