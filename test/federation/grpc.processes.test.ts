/**
 * A real federation on loopback: an aggregator process and one process per center, with
 * certificates from `fedseq certs`. Results must equal the in-process simulation's, also when a
 * center or the aggregator is killed mid-run and restarted (resumed).
 *
 * Every test compares the processes with an in-process run on the same input, so they run on a
 * few hundred genes of a shared dataset ({@link small}): the processes, rounds and restarts are
 * the same, each round is cheaper. outliers_sim's keeps the 60 genes into which outliers were
 * injected (DESeq2 replaced and refitted them all, `deseq2/cooks.csv`): a run on it replaces and
 * refits all 60, as on the whole dataset.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcMode } from "../../src/algorithms/lfc/computeLfc.js";
import { readDataset } from "../../src/io/dataset.js";
import { fitLfc } from "../../src/pipeline/fitLfc.js";
import { DESIGNS } from "../helpers/fits.js";
import { freePort, runFedseq, runFedseqAsync, startFedseq } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { replacedByDeseq2, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { centerNames } from "../helpers/transports.js";

const tmp = useTempFolder("fedseq-grpc-");

/**
 * The input folder of a test on `dataset`: all of it (`full`) or its first few hundred genes.
 * bodymap keeps the genes on which DESeq2's IRLS takes longest (23 iterations, so its round
 * count is the whole dataset's); li_lncap's first 300 genes include genes PQN fits for 76 rounds,
 * as long as on the whole dataset (the kill tests stop a process at PQN round 10); outliers_sim's
 * first 400 genes and the genes DESeq2 replaced outlier counts of.
 */
function small(dataset: string): string {
  let dir = smallDirs.get(dataset);
  if (dir === undefined) {
    dir =
      dataset === "bodymap"
        ? sharedSubset(tmp, dataset, 300, BODYMAP_SLOWEST)
        : dataset === "outliers_sim"
          ? sharedSubset(tmp, dataset, 400, replacedByDeseq2())
          : sharedSubset(tmp, dataset, 300);
    smallDirs.set(dataset, dir);
  }
  return dir;
}
const smallDirs = new Map<string, string>();
const BODYMAP_SLOWEST = ["NM_001137548", "NM_001137549", "NM_001137556", "NM_007129", "NM_203436"];
const certs = join(tmp.dir, "certs");
let certsMade = false;

async function ensureCertificates(): Promise<void> {
  if (certsMade) return;
  const p = startFedseq([
    "certs",
    "--out",
    certs,
    "--centers",
    "hospital_a,hospital_b,hospital_c,site_1,site_2,lab_1,lab_2,lab_3",
  ]);
  expect(await p.exited, p.output()).toBe(0);
  certsMade = true;
}

function fitArgs(dataset: string, mode: LfcMode, out: string): string[] {
  // PQN-only runs are long (75 rounds): the fault tests kill processes in the middle of one.
  const solver = mode === "pqn" ? ["--solver", "upstream"] : [];
  return [
    ...solver,
    "--design",
    DESIGNS[dataset],
    "--size-factors",
    sharedPath("data", dataset, "deseq2", "size_factors.csv"),
    "--dispersions",
    sharedPath("data", dataset, "deseq2", "fit.csv"),
    "--mode",
    mode,
    "--out",
    out,
  ];
}

function aggregator(
  dataset: string,
  mode: LfcMode,
  port: number,
  out: string,
  extra: string[] = [],
) {
  const names = centerNames(sharedPath("data", dataset));
  return startFedseq([
    "aggregate",
    "--listen",
    `127.0.0.1:${port}`,
    "--centers",
    names.join(","),
    "--ca",
    join(certs, "ca.pem"),
    "--cert",
    join(certs, "aggregator.pem"),
    "--key",
    join(certs, "aggregator.key"),
    "--verbose",
    ...fitArgs(dataset, mode, out),
    ...extra,
  ]);
}

function center(data: string, name: string, port: number, extra: string[] = [], certDir = certs) {
  return startFedseq([
    "center",
    "--data",
    data,
    "--name",
    name,
    "--aggregator",
    `localhost:${port}`,
    "--ca",
    join(certDir, "ca.pem"),
    "--cert",
    join(certDir, `${name}.pem`),
    "--key",
    join(certDir, `${name}.key`),
    "--retry-delay",
    "0.2",
    // Three centers and an aggregator share the 2 cores with the other test worker: a center's
    // gene-pool threads would add their start-up and hand-offs without a core to run on (this
    // file: 74 -> 62 CPU-s). The pool's own path is tested in compute/genePool.test.ts and by
    // fit-lfc's --threads 1 / 2 comparison (cli/fitLfc.cli.test.ts).
    "--threads",
    "1",
    // A center without a plan serves an aggregate fit only when told to.
    ...(extra.includes("--plan") ? [] : ["--aggregate-fit"]),
    ...extra,
  ]);
}

const simulatedRuns = new Map<string, Promise<string>>();

/** The folder of `fedseq run --data` on a dataset's folder `data` (run once per file). */
function simulatedRun(dataset: string, data: string): Promise<string> {
  let run = simulatedRuns.get(data);
  if (run === undefined) {
    // With --vst (its pca.csv for the labs' --pca-out): the tables compared are the same.
    const args = ["run", "--data", data, "--design", DESIGNS[dataset], "--vst"];
    const out = join(tmp.dir, `run-sim-${simulatedRuns.size}-${dataset}`);
    run = (async () => {
      const sim = { ...(await runFedseqAsync([...args, "--out", out])), out };
      expect(sim.code, sim.stderr).toBe(0);
      return sim.out;
    })();
    simulatedRuns.set(data, run);
  }
  return run;
}

/**
 * A copy of the dataset folder `data` named `name`, its counts.csv's lines (header first)
 * passed through `edit`: a center's data gone wrong.
 */
function editedCopy(data: string, name: string, edit: (lines: string[]) => string[]): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const lines = readFileSync(join(data, "counts.csv"), "utf8").trimEnd().split("\n");
  writeFileSync(join(dir, "counts.csv"), `${edit(lines).join("\n")}\n`);
  copyFileSync(join(data, "metadata.csv"), join(dir, "metadata.csv"));
  return dir;
}

/** `run --listen` as the aggregator of the dataset's centers (holding `data`). */
function runAggregator(
  dataset: string,
  data: string,
  port: number,
  out: string,
  extra: string[] = [],
  planFlags: readonly string[] = [],
) {
  return startFedseq([
    "run",
    "--listen",
    `127.0.0.1:${port}`,
    "--ca",
    join(certs, "ca.pem"),
    "--cert",
    join(certs, "aggregator.pem"),
    "--key",
    join(certs, "aggregator.key"),
    "--plan",
    planFor(dataset, data, planFlags),
    "--out",
    out,
    ...extra,
  ]);
}

const plans = new Map<string, string>();

/**
 * The analysis plan of a shared dataset's README design, made by `fedseq plan --data` (with
 * `flags`, e.g. `--vst`).
 */
function planFor(dataset: string, data: string, flags: readonly string[] = []): string {
  const key = [data, ...flags].join("\u0000");
  let file = plans.get(key);
  if (file === undefined) {
    file = join(tmp.dir, `plan-${plans.size}-${dataset}.json`);
    const made = runFedseq([
      "plan",
      "--data",
      data,
      "--design",
      DESIGNS[dataset],
      ...flags,
      "--out",
      file,
    ]);
    expect(made.code, made.stderr).toBe(0);
    plans.set(key, file);
  }
  return file;
}

/** A center of `run --listen`: it answers only the plan it approved. */
function runCenter(
  dataset: string,
  data: string,
  name: string,
  port: number,
  extra: string[] = [],
  planFlags: readonly string[] = [],
) {
  return center(data, name, port, ["--plan", planFor(dataset, data, planFlags), ...extra]);
}

/**
 * Expect the run's three tables to equal the simulated run's, byte for byte, and the aggregator
 * to hold no size factors (they never leave the centers).
 */
async function expectSimulatedRunFiles(dataset: string, data: string, out: string): Promise<void> {
  const simulatedOut = await simulatedRun(dataset, data);
  for (const file of ["results.csv", "dispersions.csv", "lfc.csv"]) {
    expect(readFileSync(join(out, file), "utf8"), file).toBe(
      readFileSync(join(simulatedOut, file), "utf8"),
    );
  }
  expect(existsSync(join(out, "size_factors.csv"))).toBe(false);
}

/** Where a lab of test `name` writes its own size factors (`center --size-factors-out`). */
function ownSizeFactorsFile(name: string, lab: string): string {
  return join(tmp.dir, `${name}-${lab}.size_factors.csv`);
}

/** The labs' own size factors, together, are the simulated run's size_factors.csv rows. */
async function expectOwnSizeFactors(dataset: string, data: string, name: string, labs: string[]) {
  const simulated = readFileSync(
    join(await simulatedRun(dataset, data), "size_factors.csv"),
    "utf8",
  )
    .trimEnd()
    .split("\n")
    .slice(1);
  const own = labs.flatMap((lab) =>
    readFileSync(ownSizeFactorsFile(name, lab), "utf8").trimEnd().split("\n").slice(1),
  );
  expect(own.sort()).toEqual(simulated.sort());
}

const simulatedFits = new Map<string, Promise<string>>();

/** lfc.csv of the in-process `fit-lfc` of `data` (a folder of `dataset`), run once per file. */
function simulated(dataset: string, data: string, mode: LfcMode): Promise<string> {
  const key = `${data} ${mode}`;
  let fit = simulatedFits.get(key);
  if (fit === undefined) {
    fit = simulatedFit(dataset, data, mode, join(tmp.dir, `sim-${simulatedFits.size}-${dataset}`));
    simulatedFits.set(key, fit);
  }
  return fit;
}

async function simulatedFit(
  dataset: string,
  data: string,
  mode: LfcMode,
  out: string,
): Promise<string> {
  const solver = mode === "pqn" ? "upstream" : "deseq2";
  await fitLfc({
    dataDir: data,
    design: DESIGNS[dataset],
    sizeFactorsFile: sharedPath("data", dataset, "deseq2", "size_factors.csv"),
    dispersionsFile: sharedPath("data", dataset, "deseq2", "fit.csv"),
    mode,
    solver,
    references: {},
    fixedRounds: false,
    // As `fedseq aggregate` runs by default: the same masked sums, bit for bit.
    secureAggregation: true,
    hp: DEFAULT_HYPERPARAMETERS,
    outDir: out,
  });
  return readFileSync(join(out, "lfc.csv"), "utf8");
}

describe("a real federation on loopback (separate processes, mutual TLS)", () => {
  it("bodymap: three hospitals and an aggregator give the in-process lfc.csv", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "bodymap");
    const agg = aggregator("bodymap", "irls-pqn", port, out);
    await agg.waitFor(/listening/);
    const centers = ["hospital_a", "hospital_b", "hospital_c"].map((c) =>
      center(small("bodymap"), c, port),
    );
    expect(await agg.exited, agg.output()).toBe(0);
    for (const c of centers) expect(await c.exited, c.output()).toBe(0);
    expect(readFileSync(join(out, "lfc.csv"), "utf8")).toBe(
      await simulated("bodymap", small("bodymap"), "irls-pqn"),
    );
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    // The default solver replays DESeq2's IRLS: bodymap's slowest gene takes 23 iterations.
    expect(report.solver).toBe("deseq2");
    expect(report.rounds.total).toBe(1 + 24);
  });

  it("run --listen: three labs and an aggregator give the simulated run's results (Cook's refit included); each lab's --audit is the aggregator's --transcript of it; each lab's --vst-out is DESeq2's vst of its own samples, its --pca-out its rows of the simulated run's pca.csv", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-outliers");
    const transcript = join(tmp.dir, "transcript.jsonl");
    const data = small("outliers_sim");
    const withVst = ["--vst"];
    const started = performance.now();
    const agg = runAggregator(
      "outliers_sim",
      data,
      port,
      out,
      ["--transcript", transcript],
      withVst,
    );
    await agg.waitFor(/listening/);
    // The labs dial in 3 s late: the run's seconds exclude that wait for them.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const labs = ["lab_1", "lab_2", "lab_3"];
    const ownSizeFactors = (lab: string) => join(tmp.dir, `${lab}.size_factors.csv`);
    const ownVst = (lab: string) => join(tmp.dir, `${lab}.vst.csv`);
    const ownPca = (lab: string) => join(tmp.dir, `${lab}.pca.csv`);
    const centers = labs.map((c) =>
      runCenter(
        "outliers_sim",
        data,
        c,
        port,
        [
          "--audit",
          join(tmp.dir, `${c}.audit.jsonl`),
          "--size-factors-out",
          ownSizeFactors(c),
          "--vst-out",
          ownVst(c),
          "--pca-out",
          ownPca(c),
        ],
        withVst,
      ),
    );
    expect(await agg.exited, agg.output()).toBe(0);
    for (const c of centers) expect(await c.exited, c.output()).toBe(0);
    await expectSimulatedRunFiles("outliers_sim", data, out);
    // Each lab wrote its own size factors: the simulated run's rows of its samples.
    const simulatedRows = readFileSync(
      join(await simulatedRun("outliers_sim", data), "size_factors.csv"),
      "utf8",
    )
      .trimEnd()
      .split("\n");
    const labRows = labs.flatMap((lab) =>
      readFileSync(ownSizeFactors(lab), "utf8").trimEnd().split("\n").slice(1),
    );
    expect(labRows.sort()).toEqual(simulatedRows.slice(1).sort());
    expect(labRows.length).toBe(18);
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(report.cooks.refitted).toBe(60);
    expect(report.seconds).toBeLessThan((performance.now() - started) / 1000 - 3);
    // Each lab's vst.csv: DESeq2's parametric vst of its own counts over its own size factors,
    // with the trend the aggregator fitted (run.json); the aggregator wrote none.
    expect(existsSync(join(out, "vst.csv"))).toBe(false);
    const { asymptDisp: a, extraPois: e } = report.vst.trend;
    const vst = (q: number) =>
      Math.log((1 + e + 2 * a * q + 2 * Math.sqrt(a * q * (1 + e + a * q))) / (4 * a)) / Math.LN2;
    const counts = readFileSync(join(data, "counts.csv"), "utf8").trimEnd().split("\n");
    const columns = counts[0].split(",");
    const countOf = new Map(counts.slice(1).map((l) => [l.slice(0, l.indexOf(",")), l.split(",")]));
    for (const lab of labs) {
      const sf = new Map(
        readFileSync(ownSizeFactors(lab), "utf8")
          .trimEnd()
          .split("\n")
          .slice(1)
          .map((l) => [l.split(",")[0], Number(l.split(",")[1])]),
      );
      const rows = readFileSync(ownVst(lab), "utf8").trimEnd().split("\n");
      const samples = rows[0].split(",").slice(1);
      expect(samples.sort()).toEqual([...sf.keys()].sort());
      expect(rows.length - 1).toBe(countOf.size);
      let worst = 0;
      const header = rows[0].split(",");
      for (const row of rows.slice(1)) {
        const fields = row.split(",");
        const y = countOf.get(fields[0]) as string[];
        header.slice(1).forEach((sample, k) => {
          const expected = vst(Number(y[columns.indexOf(sample)]) / (sf.get(sample) as number));
          worst = Math.max(worst, Math.abs(Number(fields[k + 1]) - expected) / Math.abs(expected));
        });
      }
      expect(worst).toBeLessThan(1e-13);
    }
    // Each lab's --pca-out: its samples' rows of the simulated run's pca.csv, byte for byte
    // (the plan keeps the coordinates at the centers: the aggregator wrote none).
    expect(report.pca).toMatchObject({ coordinates: "kept at the centers" });
    expect(existsSync(join(out, "pca.csv"))).toBe(false);
    const simulatedPca = readFileSync(
      join(await simulatedRun("outliers_sim", data), "pca.csv"),
      "utf8",
    )
      .trimEnd()
      .split("\n");
    expect(simulatedPca[0]).toBe("sample,center,PC1,PC2");
    const labPca = labs.map((lab) => readFileSync(ownPca(lab), "utf8").trimEnd().split("\n"));
    for (const [k, rows] of labPca.entries()) {
      expect(rows[0]).toBe("sample,center,PC1,PC2");
      expect(rows.slice(1).every((row) => row.split(",")[1] === labs[k])).toBe(true);
    }
    expect(labPca.flatMap((rows) => rows.slice(1)).sort()).toEqual(simulatedPca.slice(1).sort());
    // What each center says it sent is what the aggregator holds, line for line.
    const received = readFileSync(transcript, "utf8").trimEnd().split("\n");
    expect(received.length).toBe(report.rounds.total * labs.length);
    for (const lab of labs) {
      const sent = readFileSync(join(tmp.dir, `${lab}.audit.jsonl`), "utf8")
        .trimEnd()
        .split("\n");
      expect(received.filter((line) => line.startsWith(`{"center":"${lab}",`))).toEqual(sent);
    }
  });

  it("run --listen, a plan without verified requests: a center SIGKILLed during the gene-wise dispersion rounds and restarted gives the uninterrupted run's files", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-kill-center");
    const data = small("outliers_sim");
    // Without verified requests a plan holds k = 1 only (the centers' consent).
    const unverified = ["--no-verify-requests", "--min-cell", "1"];
    const agg = runAggregator("outliers_sim", data, port, out, [], unverified);
    await agg.waitFor(/listening/);
    const own = (lab: string) => ["--size-factors-out", ownSizeFactorsFile("kill-center", lab)];
    const lab1 = runCenter("outliers_sim", data, "lab_1", port, own("lab_1"), unverified);
    let lab2 = runCenter("outliers_sim", data, "lab_2", port, own("lab_2"), unverified);
    const lab3 = runCenter("outliers_sim", data, "lab_3", port, own("lab_3"), unverified);
    await agg.waitFor(/genewise-dispersions round 0:/);
    lab2.child.kill("SIGKILL");
    await lab2.exited;
    lab2 = runCenter("outliers_sim", data, "lab_2", port, own("lab_2"), unverified);
    expect(await agg.exited, agg.output()).toBe(0);
    // Its size factors, dispersion data and μ were rebuilt from the requests that built them.
    expect(agg.output()).toMatch(
      /center lab_2: restarted, replaying the \d+ requests that built its state before dispersionGrid \(genewise-dispersions round/,
    );
    for (const lab of [lab1, lab2, lab3]) expect(await lab.exited).toBe(0);
    await expectSimulatedRunFiles("outliers_sim", data, out);
    // The restarted lab recomputed its size factors from the replayed requests: the same.
    await expectOwnSizeFactors("outliers_sim", data, "kill-center", ["lab_1", "lab_2", "lab_3"]);
  });

  it("run --listen, verified requests (the default): a center SIGKILLed mid-run and restarted cannot check the rounds it missed, refuses, and the run ends naming it (exit 3)", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-kill-verifying-center");
    const data = small("outliers_sim");
    const agg = runAggregator("outliers_sim", data, port, out);
    await agg.waitFor(/listening/);
    const lab1 = runCenter("outliers_sim", data, "lab_1", port);
    let lab2 = runCenter("outliers_sim", data, "lab_2", port);
    const lab3 = runCenter("outliers_sim", data, "lab_3", port);
    await agg.waitFor(/genewise-dispersions round 0:/);
    lab2.child.kill("SIGKILL");
    await lab2.exited;
    lab2 = runCenter("outliers_sim", data, "lab_2", port);
    expect(await agg.exited, agg.output()).toBe(3);
    expect(agg.output()).toMatch(/lab_2/);
    expect(lab2.output()).toMatch(
      /refused \w+ \([\w-]+ round \d+\): \w+ \([\w-]+ round \d+\) is not the first request of a run, and this center has no replay of run [\w-]+ \(a center restarted mid-run cannot check the rounds it missed: start the run again\)/,
    );
    for (const lab of [lab1, lab2, lab3]) await lab.exited;
  });

  it("run --listen --resume: the aggregator SIGKILLed during the gene-wise dispersion rounds and resumed gives the uninterrupted run's files", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-kill-aggregator");
    const data = small("outliers_sim");
    const first = runAggregator("outliers_sim", data, port, out);
    await first.waitFor(/listening/);
    const labs = ["lab_1", "lab_2", "lab_3"];
    const centers = labs.map((c) =>
      runCenter("outliers_sim", data, c, port, [
        "--size-factors-out",
        ownSizeFactorsFile("kill-aggregator", c),
      ]),
    );
    await first.waitFor(/genewise-dispersions round 0:/);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = runAggregator("outliers_sim", data, port, out, ["--resume"]);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/resuming run /);
    for (const c of centers) {
      expect(await c.exited, c.output()).toBe(0);
      expect(c.output()).toMatch(/answered \d+ repeated requests from its reply cache/);
    }
    await expectSimulatedRunFiles("outliers_sim", data, out);
    await expectOwnSizeFactors("outliers_sim", data, "kill-aggregator", labs);
  });

  it("run --listen: a center that joins and never answers ends the run within --round-timeout (exit 3, named)", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-silent-center");
    const data = small("outliers_sim");
    const agg = runAggregator("outliers_sim", data, port, out, ["--round-timeout", "3"]);
    await agg.waitFor(/listening/);
    const others = ["lab_1", "lab_3"].map((c) => runCenter("outliers_sim", data, c, port));
    const lab2 = runCenter("outliers_sim", data, "lab_2", port);
    await agg.waitFor(/center lab_2 joined/);
    lab2.child.kill("SIGSTOP");
    const started = Date.now();
    expect(await agg.exited, agg.output()).toBe(3);
    // The deadline is 3 s; the bound only guards against waiting forever.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(agg.output()).toMatch(/center lab_2: did not answer \w+ .* within 3 s/);
    lab2.child.kill("SIGKILL");
    await lab2.exited;
    for (const lab of others) await lab.exited;
  });

  it("run --listen: a center whose counts lack genes is refused before any round (exit 2), and --out is left as it was", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-lacking-genes");
    const data = small("outliers_sim");
    // lab_3's copy of the table without its last three genes.
    const lacking = editedCopy(data, "outliers-lacking-genes", (rows) => rows.slice(0, -3));
    const agg = runAggregator("outliers_sim", data, port, out, ["--join-timeout", "60"]);
    await agg.waitFor(/listening/);
    const labs = [
      runCenter("outliers_sim", data, "lab_1", port),
      runCenter("outliers_sim", data, "lab_2", port),
      center(lacking, "lab_3", port, ["--plan", planFor("outliers_sim", data)]),
    ];
    expect(await agg.exited, agg.output()).toBe(2);
    expect(agg.output()).toMatch(/lab_3 lacks 3 gene/);
    // No record of a run to resume, no folder: until 2026-12-07 OUT/.fedseq-run stayed.
    expect(existsSync(out)).toBe(false);
    for (const lab of labs) await lab.exited;
  });

  it.each([
    ["SIGINT", 130, false],
    ["SIGTERM", 143, true],
  ] as const)(
    "run --listen stopped by %s while its centers join leaves no OUT/.fedseq-run (exit %i), and --out as it was",
    async (signal, code, existing) => {
      await ensureCertificates();
      const port = await freePort();
      const out = join(tmp.dir, `run-stopped-${signal}`);
      if (existing) {
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, "keep.txt"), "keep\n");
      }
      const data = small("outliers_sim");
      const agg = runAggregator("outliers_sim", data, port, out, ["--join-timeout", "600"]);
      await agg.waitFor(/listening/);
      // The run's record is written once the aggregator listens: stop it while no center joined.
      const until = Date.now() + 30_000;
      while (!existsSync(join(out, ".fedseq-run")) && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(existsSync(join(out, ".fedseq-run")), agg.output()).toBe(true);
      agg.child.kill(signal);
      expect(await agg.exited, agg.output()).toBe(code);
      expect(agg.output()).toContain(`fedseq: stopped by ${signal}`);
      // Until 2026-12-08 OUT/.fedseq-run stayed, a run no --resume could take up.
      if (existing) expect(readdirSync(out)).toEqual(["keep.txt"]);
      else expect(existsSync(out)).toBe(false);
    },
  );

  it("run --listen: a center whose data cannot be read tells the aggregator it refuses (not why), and the run ends at once naming it (exit 3)", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "run-unreadable-center");
    const data = small("outliers_sim");
    // lab_3's copy of the table with a count that is not an integer.
    const bad = editedCopy(data, "outliers-bad-count", (rows) =>
      rows.map((row, k) => (k === 5 ? row.replace(/,(\d+)$/, ",$1.5") : row)),
    );
    const plan = planFor("outliers_sim", data);
    // A join timeout the run would otherwise wait out (until 2026-12-07 it did).
    const agg = runAggregator("outliers_sim", data, port, out, ["--join-timeout", "600"]);
    await agg.waitFor(/listening/);
    const lab3 = center(bad, "lab_3", port, ["--plan", plan]);
    expect(await lab3.exited, lab3.output()).toBe(2);
    // Bad input: one line, as without an aggregator.
    expect(lab3.output().trimEnd().split("\n")).toHaveLength(1);
    expect(lab3.output()).toMatch(/^fedseq: .*counts\.csv: line 6 .*is not an integer/);
    expect(await agg.exited, agg.output()).toBe(3);
    expect(agg.output()).toMatch(
      /center lab_3: refused to take part: its data could not be read \(the reason is in its own log\)/,
    );
    // The reason, which quotes the center's file, gene and count, stays with the center.
    const [gene, ...fields] = readFileSync(join(bad, "counts.csv"), "utf8")
      .split("\n")[5]
      .split(",");
    const count = fields[fields.length - 1];
    expect(lab3.output()).toContain(count);
    expect(agg.output()).not.toMatch(/not an integer|counts\.csv/);
    expect(agg.output()).not.toContain(count);
    expect(agg.output()).not.toContain(gene);
    // No run started, none to resume: --out is left as it was.
    expect(existsSync(out)).toBe(false);
    // A --data folder that is not there is refused the same way.
    const port2 = await freePort();
    const agg2 = runAggregator("outliers_sim", data, port2, out, ["--join-timeout", "600"]);
    await agg2.waitFor(/listening/);
    const missing = center(join(tmp.dir, "no-such-folder"), "lab_3", port2, ["--plan", plan]);
    expect(await missing.exited, missing.output()).toBe(2);
    expect(missing.output()).toMatch(/--data .*no-such-folder/);
    expect(await agg2.exited, agg2.output()).toBe(3);
    expect(agg2.output()).toMatch(/center lab_3: refused to take part: its data could not be read/);
    expect(agg2.output()).not.toMatch(/no-such-folder/);
  });

  it("a center whose data breaks its plan names the value, samples and file in its first line and exits 2, whether or not the aggregator is up; the aggregator is told only that it refuses", async () => {
    await ensureCertificates();
    const data = small("outliers_sim");
    const plan = planFor("outliers_sim", data);
    // lab_3's conditions written in lower case: `b` is not one of the plan's levels (A, B).
    const lower = editedCopy(data, "outliers-lower-condition", (rows) => rows);
    const metadata = readFileSync(join(data, "metadata.csv"), "utf8");
    writeFileSync(join(lower, "metadata.csv"), metadata.replace(/,B,lab_3$/gm, ",b,lab_3"));
    const reason =
      /center lab_3: condition = "b" \(samples s12, s15 and s18, \S*outliers-lower-condition\/metadata\.csv\) is not one of the analysis plan's levels \(A, B\)/;
    // No aggregator: until 2026-12-08 the center logged only "a value of condition here is not
    // one of the analysis plan's levels", retried for --give-up-after and exited 3.
    const port = await freePort();
    const alone = center(lower, "lab_3", port, ["--plan", plan, "--give-up-after", "3"]);
    expect(await alone.exited, alone.output()).toBe(2);
    const lines = alone.output().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^fedseq center: lab_3: refusing to take part: /);
    expect(lines[0]).toMatch(reason);
    expect(alone.output()).toContain("dialling until it is reached or for --give-up-after 3 s");
    expect(alone.output()).toMatch(
      /the aggregator was not told that this center refuses: .*for 3 s/,
    );
    expect(lines[lines.length - 1]).toMatch(/^fedseq: /);
    expect(lines[lines.length - 1]).toMatch(reason);
    // The aggregator up: the same exit and reason; it reads only the shared refusal.
    const port2 = await freePort();
    const out = join(tmp.dir, "run-lower-condition");
    const agg = runAggregator("outliers_sim", data, port2, out, ["--join-timeout", "600"]);
    await agg.waitFor(/listening/);
    const told = center(lower, "lab_3", port2, ["--plan", plan]);
    expect(await told.exited, told.output()).toBe(2);
    expect(told.output().split("\n")[0]).toMatch(reason);
    expect(told.output()).toContain("the aggregator was told that this center refuses");
    expect(await agg.exited, agg.output()).toBe(3);
    expect(agg.output()).toContain(
      "center lab_3: refused to take part: center lab_3: a value of condition here is not one of the analysis plan's levels (A, B)",
    );
    expect(agg.output()).not.toMatch(/"b"|s12|metadata\.csv/);
    // An aggregator whose run does not list the center does not take its refusal, and the center
    // says so (until 2026-12-08 it logged "the aggregator was told that this center refuses").
    const port3 = await freePort();
    const li = small("li_lncap");
    const other = runAggregator(
      "li_lncap",
      li,
      port3,
      join(tmp.dir, "run-other"),
      ["--join-timeout", "5"],
      ["--min-cell", "1"],
    );
    await other.waitFor(/listening/);
    const ignored = center(lower, "lab_3", port3, ["--plan", plan]);
    expect(await ignored.exited, ignored.output()).toBe(2);
    expect(ignored.output()).toMatch(
      /fedseq center: lab_3: the aggregator did not take this center's refusal: .*not one of this run's centers/,
    );
    expect(ignored.output()).not.toContain("the aggregator was told");
    expect(await other.exited, other.output()).toBe(3);
  });

  it("a center holding only its own files (--counts, --metadata without a center column)", async () => {
    await ensureCertificates();
    const data = await readDataset(small("li_lncap"));
    const own = data.samples.flatMap((_, i) => (data.centerOfSample[i] === "site_2" ? [i] : []));
    const n = data.samples.length;
    const counts = [
      ["gene", ...own.map((i) => data.samples[i])].join(","),
      ...data.genes.map((g, k) => [g, ...own.map((i) => String(data.counts[k * n + i]))].join(",")),
    ].join("\n");
    const treatment = data.metadata.values.get("treatment") as string[];
    const metadata = [
      "sample,treatment",
      ...own.map((i) => `${data.samples[i]},${treatment[i]}`),
    ].join("\n");
    const countsFile = tmp.write("site_2/counts.csv", `${counts}\n`);
    const metadataFile = tmp.write("site_2/metadata.csv", `${metadata}\n`);
    const port = await freePort();
    const out = join(tmp.dir, "own-files");
    const agg = aggregator("li_lncap", "irls-pqn", port, out);
    await agg.waitFor(/listening/);
    const site1 = center(small("li_lncap"), "site_1", port);
    const site2 = startFedseq([
      "center",
      "--counts",
      countsFile,
      "--metadata",
      metadataFile,
      "--name",
      "site_2",
      "--aggregator",
      `localhost:${port}`,
      "--ca",
      join(certs, "ca.pem"),
      "--cert",
      join(certs, "site_2.pem"),
      "--key",
      join(certs, "site_2.key"),
      "--aggregate-fit",
    ]);
    expect(await agg.exited, agg.output()).toBe(0);
    expect(await site1.exited).toBe(0);
    expect(await site2.exited, site2.output()).toBe(0);
    expect(readFileSync(join(out, "lfc.csv"), "utf8")).toBe(
      await simulated("li_lncap", small("li_lncap"), "irls-pqn"),
    );
  });

  it("a center killed mid-run and restarted: same lfc.csv", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "kill-center");
    const agg = aggregator("li_lncap", "pqn", port, out);
    await agg.waitFor(/listening/);
    const site1 = center(small("li_lncap"), "site_1", port);
    let site2 = center(small("li_lncap"), "site_2", port);
    await agg.waitFor(/pqn round 10:/);
    site2.child.kill("SIGKILL");
    await site2.exited;
    site2 = center(small("li_lncap"), "site_2", port);
    expect(await agg.exited, agg.output()).toBe(0);
    expect(agg.output()).toMatch(/center site_2 reconnected/);
    expect(agg.output()).toMatch(
      /center site_2: restarted, replaying the \d+ requests that built its state/,
    );
    expect(await site1.exited).toBe(0);
    expect(await site2.exited).toBe(0);
    expect(readFileSync(join(out, "lfc.csv"), "utf8")).toBe(
      await simulated("li_lncap", small("li_lncap"), "pqn"),
    );
  });

  it("the aggregator killed mid-run and resumed from its checkpoint: same lfc.csv", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "kill-aggregator");
    const first = aggregator("li_lncap", "pqn", port, out);
    await first.waitFor(/listening/);
    const centers = ["site_1", "site_2"].map((c) => center(small("li_lncap"), c, port));
    await first.waitFor(/pqn round 10:/);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = aggregator("li_lncap", "pqn", port, out, ["--resume"]);
    expect(await second.exited, second.output()).toBe(0);
    expect(second.output()).toMatch(/resuming run/);
    expect(second.output()).not.toMatch(/pqn round 0:/);
    for (const c of centers) expect(await c.exited, c.output()).toBe(0);
    expect(readFileSync(join(out, "lfc.csv"), "utf8")).toBe(
      await simulated("li_lncap", small("li_lncap"), "pqn"),
    );
  });

  it("a center with a certificate from another CA is refused before it dials, and the run reports it", async () => {
    await ensureCertificates();
    const otherCa = join(tmp.dir, "other-ca");
    const made = startFedseq(["certs", "--out", otherCa, "--centers", "site_2"]);
    expect(await made.exited).toBe(0);
    const port = await freePort();
    const out = join(tmp.dir, "wrong-ca");
    const agg = aggregator("li_lncap", "irls-pqn", port, out, ["--join-timeout", "6"]);
    await agg.waitFor(/listening/);
    const good = center(small("li_lncap"), "site_1", port, ["--give-up-after", "20"]);
    // site_2 trusts the real CA (to reach the aggregator) but presents a certificate of another CA.
    const bad = startFedseq([
      "center",
      "--data",
      small("li_lncap"),
      "--name",
      "site_2",
      "--aggregator",
      `localhost:${port}`,
      "--ca",
      join(certs, "ca.pem"),
      "--cert",
      join(otherCa, "site_2.pem"),
      "--key",
      join(otherCa, "site_2.key"),
      "--retry-delay",
      "0.5",
      "--give-up-after",
      "3",
      "--aggregate-fit",
    ]);
    // Refused before it dials: the certificate is not the CA's (the TLS handshake would refuse it).
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/--cert \S+site_2\.pem: not issued by --ca \S+ca\.pem/);
    expect(await agg.exited).toBe(3);
    expect(agg.output()).toMatch(/fedseq: center site_2: did not join within 6 s/);
    expect(await good.exited).toBe(3);
    expect(good.output()).toMatch(/ended the run with an error/);
  });

  it("the privacy guard: a center with fewer samples than --min-samples refuses, both sides say why", async () => {
    await ensureCertificates();
    const port = await freePort();
    const out = join(tmp.dir, "refusal");
    // Started before the aggregator listens: the refusal is dialled again until delivered.
    const few = center(small("li_lncap"), "site_1", port, ["--min-samples", "10"]);
    await few.waitFor(/refusing to take part/);
    const agg = aggregator("li_lncap", "irls-pqn", port, out, ["--join-timeout", "20"]);
    expect(await few.exited).toBe(3);
    expect(few.output()).toMatch(
      /refusing to take part: it holds \d samples, fewer than its minimum of 10/,
    );
    expect(await agg.exited).toBe(3);
    expect(agg.output()).toMatch(
      /fedseq: center site_1: refused to take part: it holds \d samples/,
    );
  });
});
