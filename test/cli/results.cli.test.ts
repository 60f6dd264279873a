/**
 * `fedseq results --from OUTDIR`: another contrast from a finished run's saved fit, without
 * contacting any center. On bodymap's first 4,000 genes: the same results.csv, byte for byte, as
 * a whole run with that contrast, and DESeq2 1.38.3's results for it (fixtures/contrast.R:
 * heart against adipose with its 64 contrastAllZero genes, the numeric contrast 0,0,1,-1 with
 * 180, results(name = …)). Bad input: one line, exit 2, nothing written.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { useCliHost } from "../helpers/cliHost.js";
import { expectDeseq2Contrast } from "../helpers/contrastResults.js";
import { deseq2TableAt, resultColumns } from "../helpers/deseq2.js";
import {
  bodymap4000HeartVsAdipose,
  OUTLIERS_LRT_VS_1,
  runFedseqAsync,
  sharedFedseqRun,
} from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { cachedSubset, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-results-");
/**
 * bin/fedseq's entry point in one host process (cliHost.ts): the same exit codes, output and
 * files without loading the command line once per case. The base run spawns bin/fedseq.
 */
const hosted = useCliHost();
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "pipeline", "fixtures");

describe("fedseq results --from a run's output folder", () => {
  let data = "";
  let base = "";
  /** The run's count of fitted genes, from its last line ("… of N genes with padj < 0.1 …"). */
  let fittedGenes = "";
  beforeAll(async () => {
    data = await cachedSubset("bodymap", 4000);
    base = join(tmp.dir, "base");
    const run = await runFedseqAsync([
      "run",
      "--data",
      data,
      "--design",
      "~ tissue",
      "--out",
      base,
      "--quiet",
    ]);
    expect(run.code, run.stderr).toBe(0);
    fittedGenes = /: \d+ of (\d+) genes with padj < 0\.1/.exec(run.stderr)?.[1] ?? "none";
  });

  const results = async (name: string, contrast: string[]) => {
    const out = join(tmp.dir, name);
    const r = await hosted(["results", "--from", base, ...contrast, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/from the saved fit \(no round trip\)/);
    // Counted as the run counts: of the genes fitted (not the all-zero ones).
    expect(r.stdout).toMatch(new RegExp(`: \\d+ of ${fittedGenes} genes with padj < 0\\.1`));
    return out;
  };

  it("writes, for another contrast of two levels, the results.csv of a whole run with it", async () => {
    const contrast = ["--contrast", "tissue,heart,adipose"];
    const out = await results("heart", contrast);
    // The whole run with this contrast is run.contrast's check against DESeq2: made once
    // (sharedFedseqRun).
    const run = await sharedFedseqRun(
      "run-bodymap4000-heart-vs-adipose",
      bodymap4000HeartVsAdipose(data),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(contrast).toEqual(bodymap4000HeartVsAdipose(data).slice(5, 7));
    expect(readFileSync(join(out, "results.csv"), "utf8")).toBe(
      readFileSync(join(run.out, "results.csv"), "utf8"),
    );
    expect(existsSync(join(out, "report.html"))).toBe(true);
  });

  it.each([
    [
      "--contrast tissue,heart,adipose",
      ["--contrast", "tissue,heart,adipose"],
      "heart_vs_adipose",
      64,
    ],
    ["--contrast-vector 0,0,1,-1", ["--contrast-vector", "0,0,1,-1"], "numeric", 180],
    ["--name tissue_blood_vs_adipose", ["--name", "tissue_blood_vs_adipose"], "name", 0],
  ] as const)(
    "%s: DESeq2's results, its contrastAllZero genes included",
    async (label, contrast, file, zeroed) => {
      const out = await results(file, [...contrast]);
      const ours = deseq2TableAt(join(out, "results.csv"));
      const expected = deseq2TableAt(join(fixtures, `bodymap4000_${file}.csv.gz`));
      expectDeseq2Contrast(
        `results --from ${label}`,
        resultColumns(ours),
        ours.ids,
        expected,
        zeroed,
      );
    },
  );

  it("refuses bad input with one line and exit 2, writing nothing", async () => {
    // Each case ends before any work: run in the CLI host process (cliHost.ts), not one process
    // per case.
    const out = join(tmp.dir, "refused");
    // A folder of fedseq before the saved fit's version 2 (saved_fit.json.gz).
    const versionOne = join(tmp.dir, "version-one");
    mkdirSync(versionOne, { recursive: true });
    writeFileSync(join(versionOne, "saved_fit.json.gz"), gzipSync("{}"));
    const cases: [string[], RegExp][] = [
      [["--from", join(tmp.dir, "nowhere")], /--from .*nowhere: no saved_fit\.json \(/],
      [["--from", versionOne], /saved_fit\.json\.gz was written by an earlier fedseq; run the/],
      [["--from", base, "--contrast", "tissue,liver,adipose"], /"liver" is not a level of tissue/],
      [["--from", base, "--name", "tissue_liver"], /--name "tissue_liver": not a coefficient/],
      [["--from", base, "--contrast", "tissue,heart,adipose", "--name", "x"], /give one contrast/],
    ];
    for (const [args, message] of cases) {
      const r = await hosted(["results", ...args, "--out", out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(out, "results.csv"))).toBe(false);
    }
    const same = await hosted(["results", "--from", base, "--out", base]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--out: another folder than --from/);
    // The same folder through a symbolic link: refused too, the run's results.csv untouched.
    const before = readFileSync(join(base, "results.csv"), "utf8");
    const link = join(tmp.dir, "link-to-base");
    symlinkSync(base, link);
    const linked = await hosted([
      "results",
      "--from",
      base,
      "--contrast",
      "tissue,heart,blood",
      "--out",
      link,
    ]);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toMatch(/--out: another folder than --from/);
    expect(readFileSync(join(base, "results.csv"), "utf8")).toBe(before);
    const lessAbs = await hosted([
      "results",
      "--from",
      base,
      "--alt-hypothesis",
      "lessAbs",
      "--out",
      out,
    ]);
    expect(lessAbs.code).toBe(2);
    expect(lessAbs.stderr.trim().split("\n")).toHaveLength(1);
    expect(lessAbs.stderr).toMatch(/--alt-hypothesis lessAbs: needs --lfc-null > 0/);
    // A damaged saved fit: one line naming the file and what is wrong, nothing written.
    const saved = JSON.parse(readFileSync(join(base, "saved_fit.json"), "utf8"));
    // Ten coefficients: their 80 bytes, in base64.
    const tenBeta = Buffer.from(saved.beta, "base64").subarray(0, 80).toString("base64");
    const damaged: [string, unknown, RegExp][] = [
      ["bare", { format: saved.format }, /not a well-formed saved fit: no design/],
      ["cut", { ...saved, beta: tenBeta }, /beta has 10 values, expected \d+/],
      ["odd", { ...saved, sigma_upper: "AAAA" }, /sigma_upper is not base64 float64 bytes/],
      ["other", { ...saved, format: "something else" }, /not a saved fit of this version/],
    ];
    for (const [name, content, message] of damaged) {
      const dir = join(tmp.dir, `damaged-${name}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "saved_fit.json"), JSON.stringify(content));
      const r = await hosted(["results", "--from", dir, "--out", join(dir, "out")]);
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim().split("\n"), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(message);
      expect(existsSync(join(dir, "out", "results.csv")), name).toBe(false);
    }
  });

  it("without the run's per-level presence (--no-level-presence), refuses a contrast of levels, naming why", async () => {
    const bare = join(tmp.dir, "bare");
    // What a saved fit keeps, not its numbers: bodymap's first 300 genes (all its samples and
    // levels) are enough.
    const run = await hosted([
      "run",
      "--data",
      sharedSubset(tmp, "bodymap", 300),
      "--design",
      "~ tissue",
      "--no-level-presence",
      "--out",
      bare,
      "--quiet",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = await hosted([
      "results",
      "--from",
      bare,
      "--contrast",
      "tissue,heart,adipose",
      "--out",
      join(tmp.dir, "bare-out"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /keeps no per-level presence for "tissue" .* run this contrast as a run of its own/,
    );
    // A coefficient needs no presence bits.
    const byName = await hosted([
      "results",
      "--from",
      bare,
      "--name",
      "tissue_blood_vs_adipose",
      "--out",
      join(tmp.dir, "bare-name"),
    ]);
    expect(byName.code, byName.stderr).toBe(0);
  });
});

it("after a likelihood-ratio test and Cook's refit (outliers_sim, ~ condition vs ~ 1): the results.csv of a whole run with the other contrast", async () => {
  const data = sharedPath("data", "outliers_sim");
  const design = ["--design", "~ condition", "--test", "LRT", "--reduced", "~ 1"];
  // The base run is run.lrt's check against DESeq2: made once (sharedFedseqRun).
  expect(OUTLIERS_LRT_VS_1).toEqual(["run", "--data", data, ...design, "--quiet"]);
  const run = await sharedFedseqRun("run-outliers_sim-lrt-vs-1", [...OUTLIERS_LRT_VS_1]);
  const base = run.out;
  expect(run.code, run.stderr).toBe(0);
  // Cook's step replaced counts and refitted genes in this run (DESeq2 does on this dataset).
  expect(JSON.parse(readFileSync(join(base, "run.json"), "utf8")).cooks.refitted).toBeGreaterThan(
    0,
  );
  const contrast = ["--contrast", "condition,A,B"];
  const out = join(tmp.dir, "lrt-results");
  const from = await hosted(["results", "--from", base, ...contrast, "--out", out]);
  expect(from.code, from.stderr).toBe(0);
  const full = join(tmp.dir, "lrt-full");
  const rerun = await hosted([
    "run",
    "--data",
    data,
    ...design,
    ...contrast,
    "--out",
    full,
    "--quiet",
  ]);
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(readFileSync(join(out, "results.csv"), "utf8")).toBe(
    readFileSync(join(full, "results.csv"), "utf8"),
  );
  // A threshold belongs to a Wald test: refused after a likelihood-ratio test, as run refuses it.
  const threshold = await hosted([
    "results",
    "--from",
    base,
    "--lfc-null",
    "1",
    "--out",
    join(tmp.dir, "lrt-threshold"),
  ]);
  expect(threshold.code).toBe(2);
  expect(threshold.stderr).toMatch(/likelihood-ratio test; they are for Wald tests/);
});

it("a contrast of two coefficients (outliers_sim ~ center + condition, center lab_2 against lab_3): the whole run's results.csv, byte for byte", async () => {
  // The run's covariance matrices were the sandwich product's, whose two triangles differ in their
  // last bits, and the saved fit keeps the upper one: such a contrast's lfcSE differed by an ulp.
  const args = ["--data", sharedPath("data", "outliers_sim"), "--design", "~ center + condition"];
  const base = join(tmp.dir, "center-base");
  const run = await hosted(["run", ...args, "--out", base, "--quiet"]);
  expect(run.code, run.stderr).toBe(0);
  const contrast = ["--contrast", "center,lab_2,lab_3"];
  const out = join(tmp.dir, "center-results");
  const from = await hosted(["results", "--from", base, ...contrast, "--out", out]);
  expect(from.code, from.stderr).toBe(0);
  const full = join(tmp.dir, "center-full");
  const rerun = await hosted(["run", ...args, ...contrast, "--out", full, "--quiet"]);
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(readFileSync(join(out, "results.csv"), "utf8")).toBe(
    readFileSync(join(full, "results.csv"), "utf8"),
  );
});
