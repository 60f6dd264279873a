/**
 * `bin/fedseq demo`: runs DESeq2's analysis as a simulated federation on the bundled data, the
 * BodyMap dataset, and its files give DESeq2's answer on it (DESeq2 1.38.3's own outputs for the
 * shared copy, `../shared/data/bodymap/deseq2/`).
 */
import { join } from "node:path";
import { expect, it } from "vitest";
import { readCsv } from "../../src/io/csv.js";
import { probePage } from "../helpers/chromium.js";
import { deseq2Table, resultsAgreement, shareWithin } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-demo-");

/** A column of one of the demo's CSV files, by name. */
function column(file: string, name: string): { ids: string[]; values: Float64Array } {
  const table = readCsv(file);
  const k = table.header.indexOf(name);
  return {
    ids: table.rows.map((r) => r.fields[0]),
    values: Float64Array.from(table.rows, (r) =>
      r.fields[k] === "NA" || r.fields[k] === "" ? Number.NaN : Number(r.fields[k]),
    ),
  };
}

it("demo analyses the bundled BodyMap data and gives DESeq2's answer on it", async () => {
  const demoOut = join(tmp.dir, "demo");
  const demo = await runFedseqAsync(["demo", "--out", demoOut]);
  expect(demo.code, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/3 hospitals/);
  expect(demo.stdout).toMatch(/fold changes of 34356 genes/);
  expect(demo.stdout).toMatch(
    /tissue skeletal_muscle vs adipose: \d+ genes with an adjusted p-value below 0.1/,
  );
  expect(demo.stdout).toContain(join(demoOut, "results.csv"));
  // DESeq2's results, gene for gene, as `run` on the shared copy (run.deseq2.test.ts).
  const theirs = deseq2Table("bodymap", "results.csv");
  const results = join(demoOut, "results.csv");
  const ours = Object.fromEntries(
    ["log2FoldChange", "lfcSE", "stat", "padj"].map((c) => [c, column(results, c).values]),
  ) as Parameters<typeof resultsAgreement>[0];
  expect(column(results, "gene").ids).toEqual(theirs.ids);
  for (const [name, share] of Object.entries(resultsAgreement(ours, theirs)))
    expect(share, name).toBeGreaterThanOrEqual(0.9995);
  const sizeFactors = column(join(demoOut, "size_factors.csv"), "size_factor");
  const expected = deseq2Table("bodymap", "size_factors.csv");
  // The demo lists samples by hospital; DESeq2 in the shared table's order.
  const bySample = new Map(sizeFactors.ids.map((id, i) => [id, sizeFactors.values[i]]));
  expect([...bySample.keys()].sort()).toEqual([...expected.ids].sort());
  const ourFactors = Float64Array.from(expected.ids, (id) => bySample.get(id) as number);
  expect(shareWithin(ourFactors, expected.numbers("size_factor"), 1e-8)).toBe(1);

  // The report, as a person opens it: every plot laid out with marks, one MA point per fitted
  // gene (all 34,356 have a positive mean), the comparison with DESeq2's fold changes, the
  // dispersions (gene-wise and final, and the trend), the volcano plot, the p-value histogram.
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
    "pvalue-histogram",
  ]);
  for (const figure of probe) expect(figure.width).toBeGreaterThan(100);
  expect(probe[0].lines).toBeGreaterThan(0);
  expect(probe[1].points).toBe(34356);
  expect(probe[2].points).toBe(34356);
  expect(probe[3].points).toBe(2 * 34356);
  expect(probe[3].lines).toBe(1);
  expect(probe[4].points).toBe(34356);
  // The p-value histogram: 20 bars (rects) laid out.
  const bars = (await probePage(
    join(demoOut, "report.html"),
    `return document.querySelectorAll("#pvalue-histogram g.mark-rect.role-mark > path").length;`,
  )) as number;
  expect(bars).toBe(20);
  // A whole BodyMap run and a browser: a generous deadline, as the machine may be loaded (the
  // other vitest worker runs another file meanwhile).
}, 600_000);
