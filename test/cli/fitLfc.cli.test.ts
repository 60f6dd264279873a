/**
 * `bin/fedseq fit-lfc` as users run it: the exact output contract, early stopping against the
 * fixed schedule, and one test per kind of bad input (exit 2, one short line naming the file,
 * no stack trace, no output files). The cases run bin/fedseq's entry point in one host process
 * (test/helpers/cliHost.ts: the same entry point, exit code and output, without loading the
 * command line once per case), except the first of the output contract, the first bad input and
 * the bad option values, which spawn bin/fedseq itself (asynchronously: the worker's event loop
 * stays free).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHost } from "../helpers/cliHost.js";
import { runFedseqAsync, sharedFitArgs } from "../helpers/processes.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-cli-");

const fedseq = runFedseqAsync;
const hosted = useCliHost();

const GENES = ["g1", "g2", "g3", "g4", "g5", "g6"];
const SAMPLES = ["s1", "s2", "s3", "s4", "s5", "s6"];
const COUNTS = [
  [10, 12, 9, 30, 28, 35],
  [0, 0, 0, 0, 0, 0],
  [100, 90, 120, 80, 70, 95],
  [5, 0, 3, 40, 60, 52],
  [0, 1, 0, 0, 2, 1],
  [1000, 1100, 950, 2100, 1900, 2050],
];

interface Inputs {
  counts?: string;
  metadata?: string;
  sizeFactors?: string;
  dispersions?: string;
}

function defaults(): Required<Inputs> {
  return {
    counts: `gene,${SAMPLES.join(",")}\n${GENES.map((g, i) => `${g},${COUNTS[i].join(",")}`).join("\n")}\n`,
    metadata: "sample,condition,center\ns1,A,a\ns2,A,a\ns3,B,a\ns4,A,b\ns5,B,b\ns6,B,b\n",
    sizeFactors: `sample,size_factor\n${SAMPLES.map((s, i) => `${s},${(0.8 + 0.1 * i).toFixed(1)}`).join("\n")}\n`,
    dispersions: "gene,dispersion\ng1,0.05\ng2,\ng3,0.02\ng4,0.3\ng5,1.5\ng6,0.01\n",
  };
}

let cases = 0;
/** Write a dataset (defaults overridden by `inputs`) and run fit-lfc on it. */
async function run(
  inputs: Inputs = {},
  extra: string[] = [],
  design = "~ condition",
  how: typeof fedseq | typeof hosted = hosted,
) {
  const files = { ...defaults(), ...inputs };
  const dir = tmp.subdir(`case${cases++}`);
  tmp.write(join(dir, "data", "counts.csv").slice(tmp.dir.length + 1), files.counts);
  tmp.write(join(dir, "data", "metadata.csv").slice(tmp.dir.length + 1), files.metadata);
  const sf = tmp.write(join(dir, "sf.csv").slice(tmp.dir.length + 1), files.sizeFactors);
  const disp = tmp.write(join(dir, "disp.csv").slice(tmp.dir.length + 1), files.dispersions);
  const out = join(dir, "out");
  const args = ["fit-lfc", "--data", join(dir, "data"), "--design", design, "--size-factors", sf];
  const result = await how([...args, "--dispersions", disp, ...extra, "--out", out]);
  return { ...result, out };
}

function expectUserError(r: Awaited<ReturnType<typeof run>>, ...mentions: (string | RegExp)[]) {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines.length).toBeLessThanOrEqual(3);
  expect(r.stderr).toMatch(/^fedseq: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const m of mentions) expect(r.stderr).toMatch(m);
  expect(existsSync(join(r.out, "lfc.csv"))).toBe(false);
  expect(existsSync(join(r.out, "run.json"))).toBe(false);
}

describe("fit-lfc output contract", () => {
  it("writes lfc.csv with the exact columns, all genes in input order, empty cells for all-zero genes", async () => {
    const r = await run({}, [], "~ condition", fedseq);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(r.out, "lfc.csv"), "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(
      "gene,Intercept,condition_B_vs_A,irls_converged,pqn_caught,pqn_diverged,rounds,betaConv,betaIter",
    );
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(GENES);
    expect(lines[2]).toBe("g2,,,,,,,,");
    for (const line of [lines[1], ...lines.slice(3)]) {
      const f = line.split(",");
      expect(Number.isFinite(Number(f[1])) && Number.isFinite(Number(f[2]))).toBe(true);
      for (const flag of f.slice(3, 6)) expect(["true", "false"]).toContain(flag);
      // The round trip after which the gene was final: within the run, after the init.
      expect(Number(f[6])).toBeGreaterThanOrEqual(2);
      expect(Number(f[6])).toBeLessThanOrEqual(101);
      // DESeq2's betaConv and betaIter (at most its maxit, 100).
      expect(["true", "false"]).toContain(f[7]);
      expect(Number(f[8])).toBeGreaterThanOrEqual(1);
      expect(Number(f[8])).toBeLessThanOrEqual(100);
    }
    const report = JSON.parse(readFileSync(join(r.out, "run.json"), "utf8"));
    expect(report.solver).toBe("deseq2");
    expect(report.rounds.init).toBe(1);
    expect(report.rounds.total).toBe(
      report.rounds.init +
        report.rounds.irls +
        report.rounds.pqn +
        report.rounds.newton +
        report.rounds.optim,
    );
    expect(report.genes).toMatchObject({ total: 6, all_zero: 1, fitted: 5 });
    expect(report.bytes.to_aggregator).toBeGreaterThan(0);
    expect(report.bytes.from_aggregator).toBeGreaterThan(0);
    expect(typeof report.seconds).toBe("number");
  });

  it("the log2 coefficients are β / ln 2 of the closed form for a saturated one-factor design", async () => {
    // With ~ condition and a gene whose counts are equal within each group, the MLE has
    // exp(β0)·s = count in group A and exp(β0+β1)·s = count in group B (up to the tiny ridge).
    const counts = `gene,${SAMPLES.join(",")}\ng1,8,8,16,8,16,16\n`;
    const sizeFactors = `sample,size_factor\n${SAMPLES.map((s) => `${s},1`).join("\n")}\n`;
    const r = await run({ counts, sizeFactors, dispersions: "gene,dispersion\ng1,0.1\n" });
    expect(r.code, r.stderr).toBe(0);
    const f = readFileSync(join(r.out, "lfc.csv"), "utf8").trimEnd().split("\n")[1].split(",");
    expect(Number(f[1])).toBeCloseTo(3, 5);
    expect(Number(f[2])).toBeCloseTo(1, 5);
  });

  it("accepts CRLF line endings, a UTF-8 BOM and genes in any order in the dispersions", async () => {
    const d = defaults();
    const crlf = (s: string) => `\ufeff${s.replaceAll("\n", "\r\n")}`;
    const shuffled = "gene,dispersion\ng6,0.01\ng4,0.3\ng1,0.05\ng3,0.02\ng5,1.5\n";
    const [a, b] = await Promise.all([
      run(),
      run({
        counts: crlf(d.counts),
        metadata: crlf(d.metadata),
        sizeFactors: crlf(d.sizeFactors),
        dispersions: crlf(shuffled),
      }),
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(b.out, "lfc.csv"), "utf8")).toBe(
      readFileSync(join(a.out, "lfc.csv"), "utf8"),
    );
  });

  it("--fixed-rounds runs upstream's schedule and gives an identical lfc.csv (li_lncap, both modes)", async () => {
    // Genes are fitted independently: li_lncap's first 300 genes (among them genes PQN takes 76
    // rounds over, as long as on the whole dataset) and ENSG00000214867 (which IRLS hands to PQN
    // for 72 rounds, as the whole dataset's slowest genes) make the same comparison on fewer rows:
    // each mode stops as many rounds early as on the whole dataset.
    const data = sharedSubset(tmp, "li_lncap", 300, ["ENSG00000214867"]);
    for (const mode of ["irls-pqn", "pqn"]) {
      const base = [
        ...sharedFitArgs("li_lncap", "~ treatment", data),
        "--mode",
        mode,
        "--solver",
        "upstream",
      ];
      const early = join(tmp.dir, `li-${mode}-early`);
      const fixed = join(tmp.dir, `li-${mode}-fixed`);
      const runs = await Promise.all([
        hosted([...base, "--out", early]),
        hosted([...base, "--fixed-rounds", "--out", fixed]),
      ]);
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(early, "lfc.csv"), "utf8")).toBe(
        readFileSync(join(fixed, "lfc.csv"), "utf8"),
      );
      const e = JSON.parse(readFileSync(join(early, "run.json"), "utf8"));
      const f = JSON.parse(readFileSync(join(fixed, "run.json"), "utf8"));
      expect(f.rounds.total).toBe(mode === "pqn" ? 102 : 123);
      expect(e.rounds.total).toBeLessThan(f.rounds.total);
    }
  });

  it("--threads 1 and --threads 2 give the same lfc.csv byte for byte (li_lncap)", async () => {
    const one = join(tmp.dir, "li-threads-1");
    const two = join(tmp.dir, "li-threads-2");
    const base = sharedFitArgs("li_lncap", "~ treatment");
    // All of li_lncap: a center splits its genes over threads only above a size of work.
    const runs = await Promise.all([
      hosted([...base, "--threads", "1", "--out", one]),
      hosted([...base, "--threads", "2", "--out", two]),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(two, "lfc.csv"), "utf8")).toBe(
      readFileSync(join(one, "lfc.csv"), "utf8"),
    );
  });

  it("--json prints run.json's summary on stdout", async () => {
    const r = await run({}, ["--json"]);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(join(r.out, "run.json"), "utf8")));
    expect(printed.genes.fitted).toBe(5);
  });

  it("--genes restricts the fit and --reference changes the reference level", async () => {
    const genes = tmp.write("genes.txt", "g3\ng1\n");
    const r = await run({}, ["--genes", genes, "--reference", "condition=B"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(join(r.out, "lfc.csv"), "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe(
      "gene,Intercept,condition_A_vs_B,irls_converged,pqn_caught,pqn_diverged,rounds,betaConv,betaIter",
    );
    expect(lines.filter((l) => /,(true|false),\d+$/.test(l)).map((l) => l.split(",")[0])).toEqual([
      "g1",
      "g3",
    ]);
  });
});

describe.concurrent("fit-lfc rejects bad input with one line, exit 2 and no output", () => {
  const d = defaults();
  const cases: [string, Inputs, (string | RegExp)[], string?][] = [
    ["unknown design column", {}, [/tissue/], "~ tissue"],
    [
      "missing center column",
      { metadata: d.metadata.replace(/,center/, "").replace(/,[ab]$/gm, "") },
      [/metadata\.csv/, /center/],
    ],
    ["sample missing from metadata", { metadata: d.metadata.replace("s6,B,b\n", "") }, [/s6/]],
    ["sample missing from counts", { metadata: `${d.metadata}s7,A,b\n` }, [/s7/]],
    ["negative count", { counts: d.counts.replace("g3,100", "g3,-100") }, [/counts\.csv/, /-100/]],
    [
      "non-integer count",
      { counts: d.counts.replace("g3,100", "g3,100.5") },
      [/counts\.csv/, /100\.5/, /integer/],
    ],
    [
      "non-numeric count",
      { counts: d.counts.replace("g3,100", "g3,lots") },
      [/counts\.csv/, /lots/],
    ],
    [
      "row with the wrong number of fields",
      { counts: d.counts.replace("g3,100,", "g3,") },
      [/counts\.csv/, /line 4/],
    ],
    [
      "non-positive size factor",
      { sizeFactors: d.sizeFactors.replace("s2,0.9", "s2,0") },
      [/sf\.csv/, /s2/],
    ],
    [
      "missing dispersion for a gene with counts",
      { dispersions: d.dispersions.replace("g4,0.3\n", "") },
      [/disp\.csv/, /g4/],
    ],
    [
      "non-finite dispersion",
      { dispersions: d.dispersions.replace("g4,0.3", "g4,Inf") },
      [/disp\.csv/, /g4/],
    ],
    [
      "non-positive dispersion",
      { dispersions: d.dispersions.replace("g4,0.3", "g4,-0.3") },
      [/disp\.csv/, /g4/],
    ],
    ["duplicate gene id", { counts: d.counts.replace("g5,", "g4,") }, [/counts\.csv/, /g4/]],
    ["duplicate sample id", { counts: d.counts.replace("s6", "s5") }, [/counts\.csv/, /s5/]],
    [
      "a center with no name",
      { metadata: d.metadata.replace("s6,B,b", "s6,B,") },
      [/metadata\.csv/, /center/],
    ],
    [
      "rank-deficient design",
      {
        metadata:
          "sample,condition,batch,center\ns1,A,x,a\ns2,A,x,a\ns3,B,y,a\ns4,A,x,b\ns5,B,y,b\ns6,B,y,b\n",
      },
      [/rank-deficient/, /batch/],
      "~ condition + batch",
    ],
    ["empty counts file", { counts: "" }, [/counts\.csv/, /empty/]],
    ["header-only metadata", { metadata: "sample,condition,center\n" }, [/metadata\.csv/]],
  ];
  cases.forEach(([name, inputs, mentions, design], k) => {
    it(name, async () => {
      expectUserError(await run(inputs, [], design, k === 0 ? fedseq : hosted), ...mentions);
    });
  });

  it("a bad option value", async () => {
    expectUserError(await run({}, ["--max-beta", "-3"], "~ condition", fedseq), /--max-beta/);
    expectUserError(await run({}, ["--threads", "0"], "~ condition", fedseq), /--threads/);
  });
});
