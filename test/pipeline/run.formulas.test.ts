/**
 * Designs without an intercept (`~ 0 + tissue`) and with `factor(x)` of a numeric column, against
 * DESeq2 1.38.3 (fixtures/formulas.R): its `resultsNames`, its default `results()` (without an
 * intercept: the last variable's last level against its first, with DESeq2's contrastAllZero
 * genes), a contrast of two fully coded levels, and a `factor(lane)` coefficient by name.
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
import { deseq2TableAt, resultColumns } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-formulas-");
const names = (file: string) => readFileSync(join(fixtures, file), "utf8").trim().split("\n");

it("run --design '~ 0 + tissue' (bodymap, 4,000 genes): DESeq2's resultsNames and default results, contrastAllZero genes included", async () => {
  const out = join(tmp.dir, "noint");
  const run = await runFedseqAsync([
    "run",
    "--data",
    sharedSubset(tmp, "bodymap", 4000),
    "--design",
    "~ 0 + tissue",
    "--out",
    out,
    "--json",
    "--quiet",
  ]);
  expect(run.code, run.stderr).toBe(0);
  const report = JSON.parse(run.stdout) as { design_columns: string[]; contrast: string };
  expect(report.design_columns).toEqual(names("bodymap4000_noint_names.txt"));
  expect(report.contrast).toBe("tissue skeletal_muscle vs adipose");
  const ours = deseq2TableAt(join(out, "results.csv"));
  expectDeseq2Contrast(
    "bodymap (4,000 genes) ~ 0 + tissue",
    resultColumns(ours),
    ours.ids,
    deseq2TableAt(join(fixtures, "bodymap4000_noint_default.csv.gz")),
    141,
  );
});

it("~ 0 + tissue, --contrast tissue,heart,blood (two fully coded levels): DESeq2's results", async () => {
  const transport = new InProcessTransport(
    await simulatedCenters(sharedSubset(tmp, "bodymap", 4000)),
  );
  try {
    const contrast: ContrastSpec = {
      kind: "levels",
      factor: "tissue",
      level: "heart",
      reference: "blood",
    };
    const outcome = await runOverFederation(
      transport,
      { ...deseq2Job("bodymap", "~ 0 + tissue"), contrast },
      { runId: "noint-heart-blood" },
    );
    expect(outcome.contrast).toBe("tissue heart vs blood");
    expectDeseq2Contrast(
      "bodymap (4,000 genes) ~ 0 + tissue, heart vs blood",
      outcome.results,
      outcome.fit.genes,
      deseq2TableAt(join(fixtures, "bodymap4000_noint_heart_vs_blood.csv.gz")),
      152,
    );
  } finally {
    await transport.close();
  }
});

/** outliers_sim with a numeric column lane = 1, 2, 10, 1, 2, 10, … in metadata row order. */
function outliersWithLane(): string {
  const source = sharedPath("data", "outliers_sim");
  const lines = readFileSync(join(source, "metadata.csv"), "utf8").trimEnd().split("\n");
  const lanes = [1, 2, 10];
  const metadata = [`${lines[0]},lane`, ...lines.slice(1).map((l, i) => `${l},${lanes[i % 3]}`)];
  tmp.write("lanes/metadata.csv", `${metadata.join("\n")}\n`);
  tmp.write("lanes/counts.csv", readFileSync(join(source, "counts.csv"), "utf8"));
  return join(tmp.dir, "lanes");
}

it.each([
  ["the default (condition_B_vs_A)", undefined, "outliers_sim_factor_lane_default.csv.gz"],
  [
    "--name factor.lane.10",
    { kind: "coefficient", name: "factor.lane.10" } as ContrastSpec,
    "outliers_sim_factor_lane_10.csv.gz",
  ],
])(
  "~ factor(lane) + condition (outliers_sim), %s: DESeq2's resultsNames and results",
  async (_, contrast, file) => {
    const transport = new InProcessTransport(await simulatedCenters(outliersWithLane()));
    try {
      const outcome = await runOverFederation(
        transport,
        {
          ...deseq2Job("outliers_sim", "~ factor(lane) + condition"),
          ...(contrast === undefined ? {} : { contrast }),
        },
        { runId: `lane-${file}` },
      );
      expect(outcome.fit.columns).toEqual(names("outliers_sim_factor_lane_names.txt"));
      expectDeseq2Contrast(
        `outliers_sim ~ factor(lane) + condition ${file}`,
        outcome.results,
        outcome.fit.genes,
        deseq2TableAt(join(fixtures, file)),
        0,
      );
    } finally {
      await transport.close();
    }
  },
);

it("--test LRT of ~ 0 + center + condition against ~ 0 + center (outliers_sim): DESeq2's LRT of the same models", async () => {
  // The designs span the same columns as DESeq2's ~ center + condition and ~ center
  // (deseq2_more/lrt_results): the same fits, the same statistic, and conditionB is
  // condition_B_vs_A, the fold change DESeq2 reports.
  const transport = new InProcessTransport(
    await simulatedCenters(sharedPath("data", "outliers_sim")),
  );
  try {
    const outcome = await runOverFederation(
      transport,
      deseq2Job("outliers_sim", "~ 0 + center + condition", "deseq2", "~ 0 + center"),
      { runId: "noint-lrt" },
    );
    expect(outcome.fit.columns).toEqual([
      "centerlab_1",
      "centerlab_2",
      "centerlab_3",
      "conditionB",
    ]);
    expect(outcome.lrt?.df).toBe(1);
    const expected = deseq2TableAt(
      sharedPath("data", "outliers_sim", "deseq2_more", "lrt_results.csv.gz"),
    );
    expectDeseq2Contrast(
      "outliers_sim ~ 0 + center + condition, LRT",
      outcome.results,
      outcome.fit.genes,
      expected,
      0,
    );
  } finally {
    await transport.close();
  }
});
