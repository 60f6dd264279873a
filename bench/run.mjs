// `npm run bench`: kernel throughput (with a C yardstick built here by gcc -O2), and end-to-end
// fits of the shared datasets and simulated cohorts (wall time, rounds, bytes, peak memory).
// Medians of repeated runs. `--json` prints JSON; `--quick` fewer repetitions; `--large` adds
// 60k-gene cohorts (500, 1,000 and 2,000 samples), `--huge` one of 10,000 samples;
// `--with-deseq2` times DESeq2's nbinomWaldTest against fit-lfc, and its DESeq() + results()
// against `fedseq run` (installing r-bioc-deseq2 with apt-get when missing);
// `--with-fedpydeseq2` times fedpydeseq2's own compute_lfc (its Python, in a simulated federation
// without substra: bench/fedpydeseq2/README.md) against `fit-lfc --solver upstream`;
// `--only=kernels,threads,datasets,solvers,deseq2,run,fedpydeseq2,cohorts` runs only those sections.
// Numbers are machine-dependent: reported, never asserted.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareCenterData, withSampleTerms } from "../dist/algorithms/center.js";
import { unpackSymmetric } from "../dist/algorithms/lfc/symmetric.js";
import { nbFisherGradientNllAtSteps, nbIrlsSummandsAndNll } from "../dist/math/negativeBinomial.js";
import { writeCohort } from "../dist/simulate/cohort.js";
import { roundInputs, upstreamBytes } from "./upstream-bytes.mjs";

const args = new Set(process.argv.slice(2));
const json = args.has("--json");
const reps = args.has("--quick") ? 3 : 5;
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "out");
mkdirSync(out, { recursive: true });
const log = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { kernels: [], yardstick: [], datasets: [], cohorts: [], bytes: [] };
// `--only=kernels,threads,datasets,solvers,deseq2,run,fedpydeseq2,cohorts` runs only those sections (default: all).
const onlyArg = [...args].find((a) => a.startsWith("--only="));
const only = onlyArg === undefined ? null : new Set(onlyArg.slice("--only=".length).split(","));
const want = (section) => only === null || only.has(section);

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A center with n samples, G genes, p design columns (intercept + 0/1 groups). */
function center(n, genes, p, seed) {
  const r = rng(seed);
  const design = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    design[i * p] = 1;
    if (p > 1) design[i * p + 1 + (i % (p - 1))] = i % p === 0 ? 0 : 1;
  }
  const sizeFactors = Float64Array.from({ length: n }, () => 0.5 + r());
  const counts = Float64Array.from({ length: genes * n }, () =>
    Math.floor(-Math.log(1 - r()) * 200),
  );
  const dispersions = Float64Array.from({ length: genes }, () => 0.01 + 0.5 * r());
  // Upstream's kernels (PQN, its IRLS) sum each sample's NLL term: the per-sample ln Γ terms.
  return withSampleTerms(
    prepareCenterData({ n, p, genes, design, sizeFactors, counts, dispersions }),
  );
}

function timeIt(fn) {
  const times = [];
  let result;
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    result = fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times), result };
}

if (want("kernels")) {
  // ---- kernels ----
  const N = 100;
  const G = 2000;
  const STEPS = Float64Array.from({ length: 20 }, (_, k) => 0.5 ** k);
  const BOX = { lower: -30, upper: 30 };
  log(`\n## Kernels (one center: ${N} samples × ${G} genes; gene·sample·step per second)\n`);
  log("| p | PQN local step, 20 steps | IRLS local step |");
  log("| --- | --- | --- |");
  const inputs = {};
  for (const p of [2, 4, 8]) {
    const c = center(N, G, p, p);
    const r = rng(100 + p);
    const genes = Int32Array.from({ length: G }, (_, g) => g);
    const beta = Float64Array.from({ length: G * p }, (_, i) =>
      i % p === 0 ? 4 : 0.5 * (r() - 0.5),
    );
    const direction = Float64Array.from({ length: G * p }, () => 0.2 * (r() - 0.5));
    const pqn = timeIt(() =>
      nbFisherGradientNllAtSteps(c.data, c.constants, genes, beta, direction, STEPS, BOX, 0),
    );
    const irls = timeIt(() => nbIrlsSummandsAndNll(c.data, c.constants, genes, beta, 0.5));
    const pqnRate = (G * N * STEPS.length) / pqn.seconds;
    const irlsRate = (G * N) / irls.seconds;
    results.kernels.push({
      p,
      pqnSeconds: pqn.seconds,
      pqnRate,
      irlsSeconds: irls.seconds,
      irlsRate,
    });
    log(
      `| ${p} | ${(pqnRate / 1e6).toFixed(1)} M/s (${(pqn.seconds * 1000).toFixed(0)} ms) | ${(irlsRate / 1e6).toFixed(1)} M/s (${(irls.seconds * 1000).toFixed(1)} ms) |`,
    );
    inputs[p] = { c, genes, beta, direction, js: pqn };
  }

  // ---- C yardstick ----
  log(
    "\n## Yardstick: the same local PQN step in C (gcc -O2, no fast-math), same inputs, CPU time\n",
  );
  log(
    "`same algorithm`: bench/pqn_step.c, the TypeScript kernel's loops in C; `plain loops`: " +
      "bench/pqn_step_plain.c, the straightforward C loops. Ratios are medians over alternating " +
      "rounds (TypeScript, then each C binary), each round the median of its repetitions.\n",
  );
  const yardsticks = { same: join(out, "pqn_step"), plain: join(out, "pqn_step_plain") };
  let haveC = true;
  try {
    for (const [name, binary] of Object.entries(yardsticks)) {
      const source = join(here, name === "same" ? "pqn_step.c" : "pqn_step_plain.c");
      execFileSync("gcc", ["-O2", "-o", binary, source, "-lm"], { stdio: "pipe" });
    }
  } catch (error) {
    haveC = false;
    log(`gcc unavailable (${error.message.split("\n")[0]}): yardstick skipped`);
  }
  /** CPU seconds of this process (all its threads) spent in fn, median of `reps` calls. */
  function cpuTimeIt(fn) {
    const times = [];
    let result;
    for (let k = 0; k < reps; k++) {
      const t0 = process.cpuUsage();
      result = fn();
      const d = process.cpuUsage(t0);
      times.push((d.user + d.system) / 1e6);
    }
    return { seconds: median(times), result };
  }
  if (haveC) {
    log(
      "| p | TypeScript | C, same algorithm | ratio | C, plain loops | ratio | max deviation (relative) |",
    );
    log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const p of [2, 4, 8]) {
      const { c, beta, direction } = inputs[p];
      const { data, constants } = c;
      const f64 = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      const header = Buffer.from(
        Int32Array.of(data.n, data.p, data.genes, STEPS.length, reps).buffer,
      );
      const file = join(out, `pqn_in_${p}.bin`);
      writeFileSync(
        file,
        Buffer.concat([
          header,
          ...[
            data.design,
            data.sizeFactors,
            data.counts,
            data.dispersions,
            constants.inverseDispersion,
            constants.nllOffset,
            constants.logBinomial,
            constants.designTimesCounts,
            beta,
            direction,
            STEPS,
            Float64Array.of(-30, 30),
            Float64Array.of(0),
          ].map(f64),
        ]),
      );
      const nF = STEPS.length * G * p * p;
      const nG = STEPS.length * G * p;
      const runC = (binary) => {
        const outFile = join(out, `pqn_out_${p}.bin`);
        execFileSync(binary, [file, outFile]);
        const raw = readFileSync(outFile);
        const all = new Float64Array(
          raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength),
        );
        return { all, seconds: all[nF + nG + STEPS.length * G] };
      };
      const rounds = { ts: [], same: [], plain: [], ratioSame: [], ratioPlain: [] };
      let ts;
      let outputs;
      for (let round = 0; round < 3; round++) {
        ts = cpuTimeIt(() =>
          nbFisherGradientNllAtSteps(
            data,
            constants,
            inputs[p].genes,
            beta,
            direction,
            STEPS,
            BOX,
            0,
          ),
        );
        const same = runC(yardsticks.same);
        const plain = runC(yardsticks.plain);
        outputs = [same.all, plain.all];
        rounds.ts.push(ts.seconds);
        rounds.same.push(same.seconds);
        rounds.plain.push(plain.seconds);
        rounds.ratioSame.push(ts.seconds / same.seconds);
        rounds.ratioPlain.push(ts.seconds / plain.seconds);
      }
      let worst = 0;
      for (const all of outputs) {
        const compare = (ours, offset) => {
          for (let i = 0; i < ours.length; i++) {
            const scale = Math.max(1, Math.abs(all[offset + i]));
            worst = Math.max(worst, Math.abs(ours[i] - all[offset + i]) / scale);
          }
        };
        // The kernel writes upper triangles (as they travel); the C programs full p×p matrices.
        compare(unpackSymmetric(ts.result.fisher, p), 0);
        compare(ts.result.gradient, nF);
        compare(ts.result.nll, nF + nG);
      }
      const row = {
        p,
        tsSeconds: median(rounds.ts),
        cSeconds: median(rounds.same),
        ratio: median(rounds.ratioSame),
        plainCSeconds: median(rounds.plain),
        ratioPlain: median(rounds.ratioPlain),
        maxRelativeDeviation: worst,
      };
      results.yardstick.push(row);
      const ms = (x) => `${(x * 1000).toFixed(0)} ms`;
      log(
        `| ${p} | ${ms(row.tsSeconds)} | ${ms(row.cSeconds)} | ${row.ratio.toFixed(2)} | ${ms(row.plainCSeconds)} | ${row.ratioPlain.toFixed(2)} | ${worst.toExponential(1)} |`,
      );
    }
  }
}

// ---- end to end ----
/** One fit per repetition, each in its own process (fit-child.mjs): medians. */
function fitChild(dataDir, design, sf, disp, solver, mode, options = {}) {
  const runs = [];
  for (let k = 0; k < (options.reps ?? reps); k++)
    runs.push(fitOnce(dataDir, design, sf, disp, solver, mode, options.threads));
  return summarize(runs);
}

function fitOnce(dataDir, design, sf, disp, solver, mode, threads) {
  const dest = join(out, "fit");
  rmSync(dest, { recursive: true, force: true });
  const argv = [join(here, "fit-child.mjs"), dataDir, design, sf, disp, solver, mode, dest];
  if (threads !== undefined) argv.push(String(threads));
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

function summarize(runs) {
  return {
    seconds: median(runs.map((x) => x.seconds)),
    fitSeconds: median(runs.map((x) => x.fitSeconds)),
    localSeconds: median(runs.map((x) => x.localSeconds)),
    rounds: runs[0].rounds,
    bytes: runs[0].bytes,
    peakMB: median(runs.map((x) => x.peakMB)),
    threads: runs[0].threads,
    runs: runs.length,
  };
}

/** A simulated cohort's folder (written once, kept in bench/out). */
function cohortDir(genes, samples, centers) {
  const dir = join(out, `cohort-${genes}x${samples}x${centers}`);
  if (!existsSync(join(dir, "counts.csv"))) writeCohort(dir, { genes, samples, centers, seed: 7 });
  return dir;
}

if (want("threads")) {
  // One center holding 20,000 genes × 500 samples; runs with 1 and 2 threads alternate.
  const [genes, samples] = [20000, 500];
  const dir = cohortDir(genes, samples, 1);
  log(
    `\n## Worker pool: one center, ${genes.toLocaleString("en")} genes × ${samples} samples, fit-lfc (fast), 1 vs 2 threads\n`,
  );
  log("Local steps: time in the center's IRLS/Newton/PQN steps over the whole fit.\n");
  const byThreads = { 1: [], 2: [] };
  for (let k = 0; k < reps; k++) {
    for (const threads of [1, 2]) {
      byThreads[threads].push(
        fitOnce(
          dir,
          "~ condition",
          join(dir, "truth", "size_factors.csv"),
          join(dir, "truth", "dispersions.csv"),
          "fast",
          "irls-pqn",
          threads,
        ),
      );
    }
  }
  const one = summarize(byThreads[1]);
  const two = summarize(byThreads[2]);
  results.threads = {
    genes,
    samples,
    one,
    two,
    localSpeedup: one.localSeconds / two.localSeconds,
    wallSpeedup: one.seconds / two.seconds,
  };
  log("| threads | local steps | whole fit-lfc | rounds | peak memory |");
  log("| --- | --- | --- | --- | --- |");
  for (const [t, r] of [
    [1, one],
    [2, two],
  ]) {
    log(
      `| ${t} | ${r.localSeconds.toFixed(2)} s | ${r.seconds.toFixed(2)} s | ${r.rounds} | ${r.peakMB.toFixed(0)} MB |`,
    );
  }
  log(
    `\nSpeed-up with 2 threads: local steps ${results.threads.localSpeedup.toFixed(2)}×, whole fit-lfc ${results.threads.wallSpeedup.toFixed(2)}× (medians of ${reps} alternating runs)`,
  );
}

if (want("datasets")) {
  const shared = resolve(here, "..", "..", "shared", "data");
  if (existsSync(shared)) {
    log(
      "\n## fit-lfc on the shared datasets (in-process federation; DESeq2's size factors and dispersions)\n",
    );
    log("| dataset | solver | seconds | rounds | bytes | peak memory |");
    log("| --- | --- | --- | --- | --- | --- |");
    const designs = { bodymap: "~ tissue", li_lncap: "~ treatment", outliers_sim: "~ condition" };
    for (const [dataset, design] of Object.entries(designs)) {
      for (const solver of ["fast", "upstream"]) {
        const d = join(shared, dataset);
        const r = fitChild(
          d,
          design,
          join(d, "deseq2", "size_factors.csv"),
          join(d, "deseq2", "fit.csv"),
          solver,
          "irls-pqn",
        );
        results.datasets.push({ dataset, solver, ...r });
        log(
          `| ${dataset} | ${solver} | ${r.seconds.toFixed(2)} | ${r.rounds} | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.peakMB.toFixed(0)} MB |`,
        );
      }
    }
  }

  const fixtures = resolve(here, "..", "..", "shared", "fixtures", "end_to_end");
  if (existsSync(fixtures)) {
    log("\n## Bytes per run against upstream's message layout (same datasets, lfc mode)\n");
    log(
      "| dataset | upstream's layout (123 rounds) | fedseq, upstream solver | ratio | fedseq, fast solver | ratio |",
    );
    log("| --- | --- | --- | --- | --- | --- |");
    for (const dataset of ["bodymap", "li_lncap"]) {
      const inputs = JSON.parse(readFileSync(join(fixtures, dataset, "inputs.json"), "utf8"));
      const lfc = JSON.parse(readFileSync(join(fixtures, dataset, "lfc.json"), "utf8"));
      const G = inputs.genes.length;
      const p = inputs.design_columns.length;
      const C = inputs.centers.length;
      const theirs = upstreamBytes({ G, p, C, ...roundInputs(lfc, G) });
      const ours = Object.fromEntries(
        results.datasets.filter((d) => d.dataset === dataset).map((d) => [d.solver, d.bytes]),
      );
      results.bytes.push({ dataset, upstreamLayout: theirs.total, ours, arithmetic: theirs.lines });
      log(
        `| ${dataset} | ${(theirs.total / 1e6).toFixed(1)} MB | ${(ours.upstream / 1e6).toFixed(1)} MB | ${(theirs.total / ours.upstream).toFixed(1)}× | ${(ours.fast / 1e6).toFixed(1)} MB | ${(theirs.total / ours.fast).toFixed(1)}× |`,
      );
      for (const line of theirs.lines) log(`  - ${dataset}: ${line}`);
    }
  }
}

if (want("solvers")) {
  const shared = resolve(here, "..", "..", "shared", "data");
  if (existsSync(shared)) {
    log(
      "\n## `fedseq run` with each solver against DESeq2 (whole analysis, in-process; agreement = share of genes within 1% + 1e-8 of DESeq2's results)\n",
    );
    log(
      "| dataset | design | solver | seconds | round trips (fit) | bytes | log2FoldChange | lfcSE | stat | padj < 0.05 calls | unconverged | handed over |",
    );
    log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    results.solvers = [];
    const factors = { bodymap: "tissue", li_lncap: "treatment", outliers_sim: "condition" };
    for (const [dataset, factor] of Object.entries(factors)) {
      for (const [design, reference] of [
        [`~ ${factor}`, join(shared, dataset, "deseq2", "results.csv")],
        [`~ center + ${factor}`, join(shared, dataset, "deseq2_more", "batch_results.csv.gz")],
      ]) {
        for (const solver of ["deseq2", "fast", "upstream"]) {
          const dir = join(out, `solvers-${dataset}-${solver}`);
          const r = spawnSync(
            process.execPath,
            [join(here, "run-child.mjs"), join(shared, dataset), design, solver, dir, reference],
            { encoding: "utf8", maxBuffer: 1 << 26 },
          );
          if (r.status !== 0) throw new Error(r.stderr);
          const m = JSON.parse(r.stdout.trim().split("\n").pop());
          results.solvers.push({ dataset, design, solver, ...m });
          const pct = (x) => `${(100 * x).toFixed(3)}%`;
          log(
            `| ${dataset} | \`${design}\` | ${solver} | ${m.seconds.toFixed(1)} | ${m.rounds} (${m.fitRounds}) | ${(m.bytes / 1e6).toFixed(0)} MB | ${pct(m.lfc)} | ${pct(m.lfcSE)} | ${pct(m.stat)} | ${pct(m.padjCalls)} | ${m.unconverged} | ${m.handedOver} |`,
          );
        }
      }
    }
  }
}

// ---- DESeq2's nbinomWaldTest (--with-deseq2) ----
/** Whether Rscript runs and loads DESeq2. */
function haveDeseq2() {
  const r = spawnSync("Rscript", ["-e", "suppressPackageStartupMessages(library(DESeq2))"], {
    stdio: "ignore",
  });
  return r.status === 0;
}

/** Install Debian's r-bioc-deseq2 (and R) with apt-get, as root or through sudo. */
function installDeseq2() {
  const asRoot = process.getuid?.() === 0;
  const apt = (...rest) => {
    const [cmd, argv] = asRoot ? ["apt-get", rest] : ["sudo", ["-n", "apt-get", ...rest]];
    return spawnSync(cmd, argv, {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status;
  };
  log("Rscript or DESeq2 missing: installing r-bioc-deseq2 with apt-get …");
  if (apt("install", "-y", "--no-install-recommends", "r-bioc-deseq2") !== 0) {
    apt("update");
    apt("install", "-y", "--no-install-recommends", "r-bioc-deseq2");
  }
}

if (args.has("--with-deseq2") && want("deseq2")) {
  log("\n## fit-lfc against DESeq2's nbinomWaldTest (same data, size factors and dispersions)\n");
  const shared = resolve(here, "..", "..", "shared", "data");
  if (!haveDeseq2()) installDeseq2();
  if (!haveDeseq2()) {
    log("DESeq2 unavailable (Rscript could not load it): comparison skipped");
  } else if (existsSync(shared)) {
    log(
      "fit-lfc: `fedseq fit-lfc`'s work in a process of its own, once its modules are loaded (reading the tables, set-up, fit, writing lfc.csv, run.json and report.html); fit alone: set-up steps and rounds (the data already read). DESeq2: `nbinomWaldTest(dds)` alone (tables already loaded), R's elapsed time.\n",
    );
    log(
      "| dataset | fit-lfc (fast) | fit alone | DESeq2 nbinomWaldTest | fit-lfc / DESeq2 | fit alone / DESeq2 | DESeq2 LFC vs fit.csv |",
    );
    log("| --- | --- | --- | --- | --- | --- | --- |");
    results.deseq2 = [];
    for (const [dataset, design] of [
      ["bodymap", "~ tissue"],
      ["li_lncap", "~ treatment"],
    ]) {
      const d = join(shared, dataset);
      const ours = fitChild(
        d,
        design,
        join(d, "deseq2", "size_factors.csv"),
        join(d, "deseq2", "fit.csv"),
        "fast",
        "irls-pqn",
      );
      const r = spawnSync("Rscript", [join(here, "deseq2-wald.R"), d, design, String(reps)], {
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(r.stderr);
      const theirs = JSON.parse(r.stdout.trim().split("\n").pop());
      const ratio = ours.seconds / theirs.seconds;
      const fitRatio = ours.fitSeconds / theirs.seconds;
      results.deseq2.push({
        dataset,
        fitLfcSeconds: ours.seconds,
        fitSeconds: ours.fitSeconds,
        deseq2: theirs,
        ratio,
        fitRatio,
      });
      log(
        `| ${dataset} | ${ours.seconds.toFixed(2)} s | ${ours.fitSeconds.toFixed(2)} s | ${theirs.seconds.toFixed(2)} s | ${ratio.toFixed(2)} | ${fitRatio.toFixed(2)} | ${theirs.maxLfcDifference.toExponential(1)} |`,
      );
    }
  }
}

// ---- `fedseq run` against DESeq2's DESeq() + results() (--with-deseq2), alternating ----
if (args.has("--with-deseq2") && want("run")) {
  log(
    "\n## `fedseq run` against DESeq2's `DESeq(dds); results(dds)` (whole analysis, same data; runs alternate)\n",
  );
  const shared = resolve(here, "..", "..", "shared", "data");
  if (!haveDeseq2()) installDeseq2();
  if (!haveDeseq2()) {
    log("DESeq2 unavailable (Rscript could not load it): comparison skipped");
  } else {
    log(
      "fedseq: `bin/fedseq run --data DIR --design …` with its defaults (secure aggregation on, a simulated federation of the table's centers in one process, worker threads = cores), the whole command's wall time (Node's start, reading the tables, every round, writing every output and the report) and run.json's `seconds` (from reading the data to the last round). DESeq2 1.38.3: `DESeq(dds); results(dds)` timed in R by bench/deseq2-run.R, R's start-up and reading the tables excluded. Medians; ratio = median of the per-pair ratios (the target of issue [16] is 0.25).\n",
    );
    log(
      "| dataset | design | fedseq command | fedseq run.json | DESeq2 | command / DESeq2 | run.json / DESeq2 | pairs |",
    );
    log("| --- | --- | --- | --- | --- | --- | --- | --- |");
    results.run = [];
    const datasets = [
      ["bodymap", join(shared, "bodymap"), "~ tissue"],
      ["li_lncap", join(shared, "li_lncap"), "~ treatment"],
      ["outliers_sim", join(shared, "outliers_sim"), "~ condition"],
      // A design whose distinct rows outnumber its columns: μ from an NB GLM, unconverged rows
      // refitted with L-BFGS-B, as in most analyses with a batch or center covariate.
      ["outliers_sim", join(shared, "outliers_sim"), "~ center + condition"],
      ["20,000 × 500, 4 centers", cohortDir(20000, 500, 4), "~ condition"],
    ];
    for (const [name, dir, design] of datasets) {
      if (!existsSync(join(dir, "counts.csv"))) continue;
      // The cohort's DESeq2 takes over a minute a run: fewer pairs there.
      const pairs = name.includes("×") ? Math.min(reps, 3) : reps;
      const ours = [];
      const theirs = [];
      for (let k = 0; k < pairs; k++) {
        const dest = join(out, "run-vs-deseq2");
        rmSync(dest, { recursive: true, force: true });
        const t0 = performance.now();
        // As a user runs it: bin/fedseq as a program (its shell lines start Node with glibc's
        // malloc on huge pages), not `node bin/fedseq`.
        const r = spawnSync(
          join(here, "..", "bin", "fedseq"),
          ["run", "--data", dir, "--design", design, "--out", dest],
          { encoding: "utf8", maxBuffer: 1 << 26 },
        );
        const wall = (performance.now() - t0) / 1000;
        if (r.status !== 0) throw new Error(r.stderr);
        const report = JSON.parse(readFileSync(join(dest, "run.json"), "utf8"));
        ours.push({ wall, seconds: report.seconds, rounds: report.rounds.total });
        const d = spawnSync("Rscript", [join(here, "deseq2-run.R"), dir, design], {
          encoding: "utf8",
        });
        if (d.status !== 0) throw new Error(d.stderr);
        theirs.push(Number(d.stdout.trim().split(/\s+/).pop()));
      }
      const row = {
        dataset: name,
        design,
        commandSeconds: median(ours.map((o) => o.wall)),
        runSeconds: median(ours.map((o) => o.seconds)),
        deseq2Seconds: median(theirs),
        commandRatio: median(ours.map((o, k) => o.wall / theirs[k])),
        runRatio: median(ours.map((o, k) => o.seconds / theirs[k])),
        rounds: ours[0].rounds,
        pairs,
      };
      results.run.push(row);
      log(
        `| ${name} | \`${design}\` | ${row.commandSeconds.toFixed(1)} s | ${row.runSeconds.toFixed(1)} s | ${row.deseq2Seconds.toFixed(1)} s | ${row.commandRatio.toFixed(2)} | ${row.runRatio.toFixed(2)} | ${pairs} |`,
      );
    }
  }
}

if (want("cohorts")) {
  log("\n## fit-lfc (fast) on simulated cohorts\n");
  log(
    "| genes × samples, centers | seconds | local steps | µs per gene·sample | rounds | bytes | peak memory | runs |",
  );
  log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  const cohorts = [
    [2000, 100, 3],
    [20000, 100, 3],
    [20000, 500, 4],
  ];
  // --large: three sizes at 60,000 genes × 5 centers (one run each: minutes per run); --huge:
  // 60,000 × 10,000 (a 2.3 GB table written once, about 4 minutes; the fit about 9, 10 GB).
  if (args.has("--large")) cohorts.push([60000, 500, 5], [60000, 1000, 5], [60000, 2000, 5]);
  if (args.has("--huge")) cohorts.push([60000, 10000, 5]);
  for (const [genes, samples, centers] of cohorts) {
    const dir = cohortDir(genes, samples, centers);
    const r = fitChild(
      dir,
      "~ condition",
      join(dir, "truth", "size_factors.csv"),
      join(dir, "truth", "dispersions.csv"),
      "fast",
      "irls-pqn",
      { reps: genes * samples > 20e6 ? 1 : reps },
    );
    results.cohorts.push({ genes, samples, centers, ...r });
    const perCell = (r.seconds / (genes * samples)) * 1e6;
    log(
      `| ${genes} × ${samples}, ${centers} | ${r.seconds.toFixed(2)} | ${r.localSeconds.toFixed(2)} | ${perCell.toFixed(2)} | ${r.rounds} | ${(r.bytes / 1e6).toFixed(1)} MB | ${r.peakMB.toFixed(0)} MB | ${r.runs} |`,
    );
  }
}

// ---- fit-lfc --solver upstream against fedpydeseq2's own compute_lfc (--with-fedpydeseq2) ----
if (args.has("--with-fedpydeseq2") && want("fedpydeseq2")) {
  log("\n## fit-lfc --solver upstream against fedpydeseq2's compute_lfc (bench/fedpydeseq2)\n");
  const upstream = process.env.UPSTREAM_DIR ?? join(out, "upstream");
  if (!existsSync(join(upstream, "fedpydeseq2")) || !existsSync(join(upstream, "PyDESeq2"))) {
    // Upstream's sources come from its repositories, which neither npm nor Debian carries.
    log(
      `no upstream sources in ${upstream}: run \`sh bench/fedpydeseq2/setup.sh FEDPYDESEQ2_GIT PYDESEQ2_GIT\` first (bench/fedpydeseq2/README.md); comparison skipped`,
    );
  } else {
    // Parity with the fixtures first (the same computation is timed), then alternating runs;
    // the harness prints its own table (Python's fit alone, fedseq's fit alone, both whole).
    const status = spawnSync("sh", [join(here, "fedpydeseq2", "run.sh"), "all"], {
      stdio: ["ignore", json ? process.stderr : "inherit", "inherit"],
      env: { ...process.env, UPSTREAM_DIR: upstream, RUNS: String(reps) },
    }).status;
    if (status !== 0) log(`bench/fedpydeseq2/run.sh failed (exit ${status})`);
  }
}

if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
