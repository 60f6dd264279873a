/**
 * `bin/fedseq demo`: runs the simulated federation on the bundled data, and the bundled data
 * is the shared BodyMap dataset (same lfc.csv as fit-lfc on `../shared/data/bodymap`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { root, sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-demo-");

it("demo fits the bundled BodyMap data as fit-lfc fits the shared copy", () => {
  const bin = join(root, "bin", "fedseq");
  const demoOut = join(tmp.dir, "demo");
  const demo = spawnSync(process.execPath, [bin, "demo", "--out", demoOut], { encoding: "utf8" });
  expect(demo.status, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/3 hospitals/);
  expect(demo.stdout).toMatch(/fitted 34356 genes/);
  expect(demo.stdout).toContain(join(demoOut, "lfc.csv"));
  const fitOut = join(tmp.dir, "fit");
  const fit = spawnSync(
    process.execPath,
    [
      bin,
      "fit-lfc",
      "--data",
      sharedPath("data", "bodymap"),
      "--design",
      "~ tissue",
      "--size-factors",
      sharedPath("data", "bodymap", "deseq2", "size_factors.csv"),
      "--dispersions",
      sharedPath("data", "bodymap", "deseq2", "fit.csv"),
      "--out",
      fitOut,
    ],
    { encoding: "utf8" },
  );
  expect(fit.status, fit.stderr).toBe(0);
  expect(readFileSync(join(demoOut, "lfc.csv"), "utf8")).toBe(
    readFileSync(join(fitOut, "lfc.csv"), "utf8"),
  );
});
