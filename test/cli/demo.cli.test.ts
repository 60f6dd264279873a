/**
 * `bin/fedseq demo`: runs the simulated federation on the bundled data, and the bundled data
 * is the shared BodyMap dataset (same lfc.csv as fit-lfc on `../shared/data/bodymap`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { probePage } from "../helpers/chromium.js";
import { runFedseq, sharedFitArgs } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-demo-");

it("demo fits the bundled BodyMap data as fit-lfc fits the shared copy", () => {
  const demoOut = join(tmp.dir, "demo");
  const demo = runFedseq(["demo", "--out", demoOut]);
  expect(demo.code, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/3 hospitals/);
  expect(demo.stdout).toMatch(/fitted 34356 genes/);
  expect(demo.stdout).toContain(join(demoOut, "lfc.csv"));
  const fitOut = join(tmp.dir, "fit");
  const fit = runFedseq([...sharedFitArgs("bodymap", "~ tissue"), "--out", fitOut]);
  expect(fit.code, fit.stderr).toBe(0);
  expect(readFileSync(join(demoOut, "lfc.csv"), "utf8")).toBe(
    readFileSync(join(fitOut, "lfc.csv"), "utf8"),
  );

  // The report, as a person opens it: three plots with marks, the MA plot one point per gene
  // fitted (all 34,356 have a positive mean), and the comparison with DESeq2's fold changes.
  expect(demo.stdout).toContain(join(demoOut, "report.html"));
  const probe = probePage(
    join(demoOut, "report.html"),
    `return [...document.querySelectorAll("figure svg")].map((svg) => ({
      points: svg.querySelectorAll("g.mark-symbol.role-mark > path").length,
      lines: svg.querySelectorAll("g.mark-line.role-mark > path").length,
      width: svg.getBoundingClientRect().width,
    }));`,
  ) as { points: number; lines: number; width: number }[];
  expect(probe).toHaveLength(3);
  for (const figure of probe) expect(figure.width).toBeGreaterThan(100);
  expect(probe[0].lines).toBeGreaterThan(0);
  expect(probe[1].points).toBe(34356);
  expect(probe[2].points).toBe(34356);
});
