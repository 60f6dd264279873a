/**
 * `bin/fedseq run` as users run it: the exact output contract (files, columns, gene order, empty
 * cells), the contrast flags, the report's plots, and bad input (exit 2, one line, nothing
 * written).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COUNT_POINTS, probePage } from "../helpers/chromium.js";
import { useCliHost } from "../helpers/cliHost.js";
import { deseq2Table } from "../helpers/deseq2.js";
import { defaultRunArgs, runFedseqAsync, sharedDefaultRun } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-run-");
/** bin/fedseq's entry point in one host process, for the bad-input cases (cliHost.ts). */
const hosted = useCliHost();

function lines(file: string): string[] {
  return readFileSync(file, "utf8").trimEnd().split("\n");
}

describe("fedseq run", () => {
  it("writes size_factors, dispersions, lfc, results, run.json and the report, in the contract's layout", async () => {
    // The same run as secureAggregation.cli's and run.deseq2's: made once (sharedDefaultRun).
    expect(defaultRunArgs("li_lncap")).toEqual([
      "run",
      "--data",
      sharedPath("data", "li_lncap"),
      "--design",
      "~ treatment",
    ]);
    const r = await sharedDefaultRun("li_lncap");
    const out = r.out;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/treatment dht vs control: \d+ of 22743 genes with padj < 0.1/);
    expect(readdirSync(out).sort()).toEqual([
      "dispersions.csv",
      "lfc.csv",
      "report.html",
      "results.csv",
      "run.json",
      "saved_fit.json",
      "size_factors.csv",
    ]);
    const deseq2 = deseq2Table("li_lncap", "results.csv");

    const sf = lines(join(out, "size_factors.csv"));
    expect(sf[0]).toBe("sample,size_factor");
    expect(sf).toHaveLength(8);
    // The samples center by center, in the federation's order (README's table).
    const metadata = lines(sharedPath("data", "li_lncap", "metadata.csv"));
    const centerColumn = metadata[0].split(",").indexOf("center");
    const centerOf = new Map(
      metadata.slice(1).map((l) => [l.split(",")[0], l.split(",")[centerColumn]]),
    );
    const centers = sf.slice(1).map((l) => centerOf.get(l.split(",")[0]));
    expect(centers).toEqual([...centers].sort());
    expect(new Set(centers).size).toBe(2);

    const disp = lines(join(out, "dispersions.csv"));
    expect(disp[0]).toBe(
      "gene,dispersion_genewise,dispersion_trend,dispersion_map,dispersion,dispersion_outlier",
    );
    expect(disp.slice(1).map((l) => l.split(",")[0])).toEqual(deseq2.ids);

    const results = lines(join(out, "results.csv"));
    expect(results[0]).toBe("gene,baseMean,log2FoldChange,lfcSE,stat,pvalue,padj");
    expect(results.slice(1).map((l) => l.split(",")[0])).toEqual(deseq2.ids);
    // DESeq2's NA is an empty cell: the first gene is filtered out independently (padj NA).
    // The numbers are DESeq2's (deseq2/results.csv) to 12 significant digits.
    expect(results[1]).toMatch(
      /^ENSG00000230758,0\.119521190188\d*,-0\.704410183821\d*,3\.81694647031\d*,-0\.184548090810\d*,0\.853583503960\d*,$/,
    );

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run.contrast).toBe("treatment dht vs control");
    expect(run.rounds["size-factors"]).toBe(2);
    expect(run.rounds.wald).toBe(1);
    expect(run.rounds.total).toBe(
      Object.entries(run.rounds as Record<string, number>)
        .filter(([k]) => k !== "total")
        .reduce((a, [, v]) => a + v, 0),
    );
    expect(run.bytes.to_aggregator).toBeGreaterThan(0);

    expect(readFileSync(join(out, "report.html"), "utf8")).toMatch(
      /round trips per phase<\/th><td class="value">setup 2, size-factors 2, dispersions 2, genewise-dispersions \d+/,
    );
    // The report: rounds, MA plot, dispersions (gene-wise + final points, a trend line), volcano.
    // Probed from a copy: the run's folder is shared with other files (sharedFedseqRun).
    const report = tmp.write(
      "li-report/report.html",
      readFileSync(join(out, "report.html"), "utf8"),
    );
    const probe = (await probePage(
      report,
      `${COUNT_POINTS}
      return [...document.querySelectorAll("figure")].map((f) => ({
        id: f.id,
        points: countPoints(f),
        lines: f.querySelectorAll("g.mark-line.role-mark > path").length,
      })).concat([{ id: "top", points: document.querySelectorAll("#top-genes tr").length, lines: 0 }]);`,
    )) as { id: string; points: number; lines: number }[];
    const byId = new Map(probe.map((f) => [f.id, f]));
    expect(byId.get("ma-plot")?.points).toBe(22743);
    expect(byId.get("dispersion-plot")?.points).toBe(2 * 22743);
    expect(byId.get("dispersion-plot")?.lines).toBe(1);
    expect(byId.get("volcano-plot")?.points).toBe(22743);
    expect(byId.get("top")?.points).toBe(21);
  });

  it("tests a chosen contrast with a threshold and an alternative hypothesis", async () => {
    const out = join(tmp.dir, "contrast");
    const r = await runFedseqAsync([
      "run",
      "--data",
      sharedPath("data", "outliers_sim"),
      "--design",
      "~ condition",
      "--contrast",
      "condition,A,B",
      "--lfc-null",
      "1",
      "--alt-hypothesis",
      "greater",
      "--out",
      out,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).contrast).toBe("condition A vs B");
    const deseq2 = deseq2Table("outliers_sim", "results.csv");
    const lfc = deseq2.numbers("log2FoldChange");
    const se = deseq2.numbers("lfcSE");
    // A vs B is minus DESeq2's B vs A; "greater" with threshold 1 is DESeq2's
    // stat = max((LFC − 1)/lfcSE, 0): (1.918 − 1)/0.245 for gene1, 0 for gene2 (LFC 0.302).
    const rows = lines(join(out, "results.csv"))
      .slice(1, 3)
      .map((l) => l.split(","));
    for (const [g, row] of rows.entries()) {
      expect(row[0]).toBe(deseq2.ids[g]);
      expect(Number(row[2])).toBeCloseTo(-lfc[g], 6);
      expect(Number(row[3])).toBeCloseTo(se[g], 6);
      expect(Number(row[4])).toBeCloseTo(Math.max((-lfc[g] - 1) / se[g], 0), 5);
    }
    expect(Number(rows[0][4])).toBeGreaterThan(3.7);
    expect(Number(rows[1][4])).toBe(0);
  });

  it("refuses bad input with one line and writes nothing", async () => {
    const out = join(tmp.dir, "bad");
    const cases: [string[], RegExp][] = [
      [["--design", "~ tissue"], /tissue/],
      [
        ["--design", "~ treatment", "--contrast", "treatment,dht,placebo"],
        /"placebo" is not a level of treatment/,
      ],
      [["--design", "~ treatment", "--alpha", "0"], /--alpha: must be > 0/],
    ];
    // These in the CLI host process; the last case (neither --data nor --listen) spawns bin/fedseq.
    for (const [args, message] of cases) {
      const r = await hosted([
        "run",
        "--data",
        sharedPath("data", "li_lncap"),
        ...args,
        "--out",
        out,
      ]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
    // A design DESeq2 cannot fit: confounded columns, or no replicate to estimate a dispersion.
    const counts = "gene,s1,s2,s3,s4\ng1,10,12,30,28\ng2,5,7,9,4\ng3,100,90,80,120\n";
    const designs: [string, string, RegExp][] = [
      [
        "sample,a,b,center\ns1,x,u,c1\ns2,x,u,c1\ns3,y,v,c2\ns4,y,v,c2\n",
        "~ a + b",
        /rank-deficient/,
      ],
      [
        "sample,a,center\ns1,w,c1\ns2,x,c1\ns3,y,c2\ns4,z,c2\n",
        "~ a",
        /4 samples for 4 design columns: no replicates/,
      ],
    ];
    for (const [metadata, design, message] of designs) {
      const dir = tmp.subdir(`design-${designs.findIndex((d) => d[1] === design)}`);
      tmp.write(`${dir.slice(tmp.dir.length + 1)}/counts.csv`, counts);
      tmp.write(`${dir.slice(tmp.dir.length + 1)}/metadata.csv`, metadata);
      const r = await hosted(["run", "--data", dir, "--design", design, "--out", out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
    const neither = await runFedseqAsync(["run", "--design", "~ treatment", "--out", out]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/either --data .* or --listen/);
  });
});
