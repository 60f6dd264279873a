/**
 * `bin/fedseq demo`: runs DESeq2's analysis as a simulated federation on the bundled data, the
 * BodyMap dataset, and its files give DESeq2's answer on it (DESeq2 1.38.3's own outputs for the
 * shared copy, `../shared/data/bodymap/deseq2/`).
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { bundledBodymap } from "../../src/io/bundled.js";
import { readCsv } from "../../src/io/csv.js";
import { COUNT_POINTS, probePage } from "../helpers/chromium.js";
import { deseq2Table, resultsAgreement, shareWithin } from "../helpers/deseq2.js";
import { sharedDemoRun } from "../helpers/processes.js";
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
  // run.deseq2 checks the same files as bodymap's default run: made once (sharedDemoRun).
  const demo = await sharedDemoRun();
  const demoOut = demo.out;
  expect(demo.code, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/3 hospitals/);
  expect(demo.stdout).toMatch(/fold changes of 34356 genes/);
  expect(demo.stdout).toMatch(
    /tissue skeletal_muscle vs adipose: \d+ genes with an adjusted p-value below 0.1/,
  );
  expect(demo.stdout).toContain(join(demoOut, "results.csv"));
  // BodyMap's 4 samples per tissue sit 2, 1 and 1 at the three hospitals: under verified requests
  // (each hospital learns the pooled sums) a hospital holding 2 would learn the other 2 samples'
  // sums, so a real federation would refuse k = 3; the simulation runs and records why.
  const rule = JSON.parse(readFileSync(join(demoOut, "run.json"), "utf8")).k_sample_rule;
  expect(rule).toMatchObject({ min_cell: 3, pooled_cells: true, verified_requests: true });
  expect(rule.unmet).toEqual(
    [
      "hospital_a: cell tissue=adipose",
      "hospital_b: cell tissue=blood",
      "hospital_c: cell tissue=heart",
    ].map((cell) =>
      expect.stringContaining(`center ${cell} holds 2 samples at the other centers (2 here)`),
    ),
  );
  // …and says so, as `run --data` does: one warning line per unmet rule.
  expect(
    demo.stderr.split("\n").filter((l) => l.startsWith("fedseq: warning: a real federation")),
  ).toHaveLength(3);
  expect(demo.stdout).toMatch(/run\.json, saved_fit\.json/);
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

  // The report, as a person opens it: the analysis first (design, contrast, significant genes;
  // samples per hospital and tissue; size factors), then every plot laid out with marks: one MA
  // point per fitted gene (all 34,356 have a positive mean), the comparison with DESeq2's fold
  // changes, the dispersions (gene-wise and final, and the trend, named), the volcano plot, the
  // p-value histogram; the federation's details last. A few MB for 37,653 genes.
  expect(statSync(join(demoOut, "report.html")).size).toBeLessThanOrEqual(5 * 1024 * 1024);
  // Probed from a copy: the demo's folder is shared with another file (sharedDemoRun).
  const report = tmp.write(
    "demo-report/report.html",
    readFileSync(join(demoOut, "report.html"), "utf8"),
  );
  const page = (await probePage(
    report,
    `${COUNT_POINTS}
    const rows = (selector) => [...document.querySelectorAll(selector + " tr")].map((r) => [...r.children].map((c) => c.textContent));
    return {
      sections: [...document.querySelectorAll("h2")].map((h) => h.textContent),
      summary: Object.fromEntries(rows("#summary")),
      samples: rows("#samples-per-center"),
      sizeFactors: rows("#size-factors"),
      federation: Object.fromEntries(rows("#federation")),
      dispersionCaption: document.querySelector("#dispersion-plot figcaption").textContent,
      figures: [...document.querySelectorAll("figure")].map((f) => ({
        id: f.id,
        points: countPoints(f),
        lines: f.querySelectorAll("g.mark-line.role-mark > path").length,
        width: f.querySelector("svg").getBoundingClientRect().width,
      })),
      // The p-value histogram's bars (rects), read in the same page load.
      bars: document.querySelectorAll("#pvalue-histogram g.mark-rect.role-mark > path").length,
    };`,
  )) as {
    sections: string[];
    summary: Record<string, string>;
    samples: string[][];
    sizeFactors: string[][];
    federation: Record<string, string>;
    dispersionCaption: string;
    figures: { id: string; points: number; lines: number; width: number }[];
    bars: number;
  };
  expect(page.sections[0]).toBe("Summary");
  expect(page.sections[1]).toBe("Samples");
  expect(page.sections.at(-2)).toBe("Federation");
  expect(page.summary.design).toBe("~ tissue");
  expect(page.summary.contrast).toBe("tissue skeletal_muscle vs adipose");
  const significant = ours.padj.filter((p) => p < 0.1).length;
  expect(page.summary["genes with padj < 0.1"]).toBe(significant.toLocaleString("en-US"));
  // As DESeq2 on BodyMap: the parametric trend fails, the local one is used (run.json says so).
  const trend = "local (asked: parametric; parametric dispersion fit failed)";
  expect(page.summary["dispersion trend"]).toBe(trend);
  expect(page.dispersionCaption).toContain(`trend (red, ${trend})`);
  // Samples per hospital and tissue, as the bundled metadata has them.
  const metadata = readCsv(join(bundledBodymap(), "metadata.csv"));
  expect(metadata.header).toContain("center");
  expect(page.samples[0]).toEqual([
    "center",
    "tissue=adipose",
    "tissue=blood",
    "tissue=heart",
    "tissue=skeletal_muscle",
    "samples",
  ]);
  const count = (center: string, tissue?: string) =>
    metadata.rows.filter(
      (r) =>
        r.fields[metadata.header.indexOf("center")] === center &&
        (tissue === undefined || r.fields[metadata.header.indexOf("tissue")] === tissue),
    ).length;
  for (const row of page.samples.slice(1)) {
    const center = row[0];
    expect(row.slice(1).map(Number)).toEqual([
      ...["adipose", "blood", "heart", "skeletal_muscle"].map((t) => count(center, t)),
      count(center),
    ]);
  }
  expect(page.samples.length).toBe(4);
  // Every sample's size factor, as size_factors.csv has it (4 significant digits).
  expect(page.sizeFactors.length).toBe(1 + sizeFactors.ids.length);
  for (const [sample, , value] of page.sizeFactors.slice(1))
    expect(Number(value)).toBeCloseTo(bySample.get(sample) as number, 3);
  expect(page.federation["secure aggregation"]).toBe("yes");
  expect(page.federation.solver).toBe("deseq2");
  expect(Number(page.federation["round trips in all"])).toBeGreaterThan(0);
  expect(Number(page.federation["bytes to the aggregator"].replace(/,/g, ""))).toBeGreaterThan(0);
  const probe = page.figures;
  expect(probe.map((f) => f.id)).toEqual([
    "ma-plot",
    "reference-plot",
    "dispersion-plot",
    "volcano-plot",
    "pvalue-histogram",
    "rounds-plot",
  ]);
  for (const figure of probe) expect(figure.width).toBeGreaterThan(100);
  expect(probe[0].points).toBe(34356);
  expect(probe[1].points).toBe(34356);
  expect(probe[2].points).toBe(2 * 34356);
  expect(probe[2].lines).toBe(1);
  expect(probe[3].points).toBe(34356);
  expect(probe[5].lines).toBeGreaterThan(0);
  // The p-value histogram: 20 bars (rects) laid out.
  expect(page.bars).toBe(20);
  // A whole BodyMap run and a browser: a generous deadline, as the machine may be loaded (the
  // other vitest worker runs another file meanwhile).
});
