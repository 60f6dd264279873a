/**
 * `bin/fedseq demo`: runs DESeq2's analysis as a simulated federation on the bundled data, and
 * the bundled data is the shared BodyMap dataset (same results.csv as `run` on the shared copy,
 * which agrees with DESeq2: see test/pipeline/run.deseq2.test.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { probePage } from "../helpers/chromium.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-demo-");

it("demo analyses the bundled BodyMap data as run analyses the shared copy", async () => {
  const demoOut = join(tmp.dir, "demo");
  const runOut = join(tmp.dir, "run");
  // The two runs side by side: neither reads the other's output.
  const [demo, run] = await Promise.all([
    runFedseqAsync(["demo", "--out", demoOut]),
    runFedseqAsync([
      "run",
      "--data",
      sharedPath("data", "bodymap"),
      "--design",
      "~ tissue",
      "--out",
      runOut,
    ]),
  ]);
  expect(demo.code, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/3 hospitals/);
  expect(demo.stdout).toMatch(/fold changes of 34356 genes/);
  expect(demo.stdout).toMatch(
    /tissue skeletal_muscle vs adipose: \d+ genes with an adjusted p-value below 0.1/,
  );
  expect(demo.stdout).toContain(join(demoOut, "results.csv"));
  expect(run.code, run.stderr).toBe(0);
  for (const file of ["results.csv", "dispersions.csv", "size_factors.csv", "lfc.csv"]) {
    expect(readFileSync(join(demoOut, file), "utf8"), file).toBe(
      readFileSync(join(runOut, file), "utf8"),
    );
  }

  // The report, as a person opens it: every plot laid out with marks, one MA point per fitted
  // gene (all 34,356 have a positive mean), the comparison with DESeq2's fold changes, the
  // dispersions (gene-wise and final, and the trend), the volcano plot.
  const probe = (await probePage(
    join(demoOut, "report.html"),
    `return [...document.querySelectorAll("figure")].map((f) => ({
      id: f.id,
      points: f.querySelectorAll("g.mark-symbol.role-mark > path").length,
      lines: f.querySelectorAll("g.mark-line.role-mark > path").length,
      width: f.querySelector("svg").getBoundingClientRect().width,
    }));`,
  )) as { id: string; points: number; lines: number; width: number }[];
  expect(probe.map((f) => f.id)).toEqual([
    "rounds-plot",
    "ma-plot",
    "reference-plot",
    "dispersion-plot",
    "volcano-plot",
  ]);
  for (const figure of probe) expect(figure.width).toBeGreaterThan(100);
  expect(probe[0].lines).toBeGreaterThan(0);
  expect(probe[1].points).toBe(34356);
  expect(probe[2].points).toBe(34356);
  expect(probe[3].points).toBe(2 * 34356);
  expect(probe[3].lines).toBe(1);
  expect(probe[4].points).toBe(34356);
});
