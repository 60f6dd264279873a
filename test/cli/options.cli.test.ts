/**
 * Every option mistake of `run` (`--data` and `--listen`), `fit-lfc`, `aggregate`, `center` and
 * `demo` stops the command before its first round: exit 2, one line `fedseq: …` naming the flag,
 * no stack trace, and nothing new in `--out`. And `--out` is locked while a command writes it: a
 * second command into the same folder exits 2 naming the holder's pid, the lock goes with the
 * command (also on SIGTERM), and a lock left by a process that no longer runs is taken over.
 *
 * Each case runs `bin/fedseq`'s entry point (built `dist/`): most in one host process that runs
 * them one after another (test/helpers/cliHost.ts: the same exit code and output, without
 * loading the command line 130 times); every {@link SPAWN_EVERY}th case, the first `center` case,
 * the read-only folder and the lock tests spawn `bin/fedseq` itself, to prove what a real
 * process exits with. The spawned cases run a few at a time, each with a deadline.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useCliHost } from "../helpers/cliHost.js";
import { freePort, runFedseqAsync, startFedseq } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-options-");
const DEADLINE_MS = 20_000;
/** One case in this many (and the first `center` case) spawns `bin/fedseq`; the others are hosted. */
const SPAWN_EVERY = 15;
const hosted = useCliHost();

/** Run `bin/fedseq args…`, killed after `timeoutMs` (as user `as.uid`, when given). */
function fedseq(
  args: string[],
  timeoutMs = DEADLINE_MS,
  as: { uid: number; gid: number } | null = null,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runFedseqAsync(args, { timeout: timeoutMs, killSignal: "SIGKILL", ...(as ?? {}) });
}

// A tiny dataset (two centers), its size factors and dispersions, and files for the flags.
const SAMPLES = ["s1", "s2", "s3", "s4", "s5", "s6"];
const data = tmp
  .write(
    "data/counts.csv",
    `gene,${SAMPLES.join(",")}\ng1,10,12,9,30,28,35\ng2,100,90,120,80,70,95\ng3,5,0,3,40,60,52\n`,
  )
  .replace(/\/counts\.csv$/, "");
tmp.write(
  "data/metadata.csv",
  "sample,condition,center\ns1,A,a\ns2,A,a\ns3,B,a\ns4,A,b\ns5,B,b\ns6,B,b\n",
);
const sf = tmp.write("sf.csv", `sample,size_factor\n${SAMPLES.map((s) => `${s},1`).join("\n")}\n`);
const disp = tmp.write("disp.csv", "gene,dispersion\ng1,0.05\ng2,0.02\ng3,0.3\n");
const compare = tmp.write("compare.csv", "gene,log2FoldChange\ng1,1\ng2,0\ng3,2\n");
const noColumns = tmp.write("no-columns.csv", "a,b\n1,2\n");
const genes = tmp.write("genes.txt", "g1\ng2\n");
const noGenes = tmp.write("no-genes.txt", "\n\n");
const notPem = tmp.write("not-pem.txt", "hello\n");
const aFile = tmp.write("a-file", "not a folder\n");
const folder = tmp.subdir("a-folder");
const missing = join(tmp.dir, "missing.csv");
const certs = join(tmp.dir, "certs");
const ca = join(certs, "ca.pem");
const aggCert = join(certs, "aggregator.pem");
const aggKey = join(certs, "aggregator.key");
const PLAN_JSON = {
  fedseq_plan: 2,
  centers: ["a", "b"],
  design: "~ condition",
  levels: { condition: ["A", "B"] },
  references: {},
  contrast: null,
  lfc_null: 0,
  alt_hypothesis: "greaterAbs",
  alpha: 0.1,
  independent_filtering: true,
  solver: "deseq2",
  mode: "irls-pqn",
  maxit: 100,
  hyperparameters: {
    max_beta: 30,
    irls_iters: 20,
    pqn_iters: 100,
    pqn_ls_iters: 20,
    pqn_c1: 1e-4,
    pqn_ftol: 1e-7,
    pqn_min_mu: 0,
    min_mu: 0.5,
    beta_tol: 1e-8,
  },
  // k = 1: without cell sizes the centers cannot verify requests, and a plan holds k > 1 only
  // under verified requests.
  min_cell: 1,
  secure_aggregation: true,
  cell_sizes: null,
};
const plan = tmp.write("plan.json", JSON.stringify(PLAN_JSON));
const badPlan = tmp.write("bad-plan.json", JSON.stringify({ ...PLAN_JSON, min_cell: 0 }));
const existingPlan = tmp.write("existing-plan.json", "{}\n");

// Every `--listen` case uses a port this test holds: one that passes the checks by mistake fails.
let busy: Server;
let busyPort = 0;

beforeAll(async () => {
  const made = await fedseq(["certs", "--out", certs, "--centers", "a,b"], 30_000);
  expect(made.code, made.stderr).toBe(0);
  busyPort = await freePort();
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(busyPort, "127.0.0.1", resolve));
});
afterAll(() => {
  busy?.close();
});

const tls = () => ["--ca", ca, "--cert", aggCert, "--key", aggKey];
const listen = () => `127.0.0.1:${busyPort}`;

/** Argument lists with `out` as `--out`. */
const runData = (out: string, ...extra: string[]) => [
  "run",
  "--data",
  data,
  "--design",
  "~ condition",
  "--out",
  out,
  ...extra,
];
const runListen = (out: string, ...extra: string[]) => [
  "run",
  "--listen",
  listen(),
  "--centers",
  "a,b",
  ...tls(),
  "--plan",
  plan,
  "--out",
  out,
  ...extra,
];
const fitLfc = (out: string, ...extra: string[]) => [
  "fit-lfc",
  "--data",
  data,
  "--design",
  "~ condition",
  "--size-factors",
  sf,
  "--dispersions",
  disp,
  "--out",
  out,
  ...extra,
];
const aggregate = (out: string, ...extra: string[]) => [
  "aggregate",
  "--listen",
  listen(),
  "--centers",
  "a,b",
  ...tls(),
  "--design",
  "~ condition",
  "--size-factors",
  sf,
  "--dispersions",
  disp,
  "--out",
  out,
  ...extra,
];
/** `center` with `extra`; without `--plan` in it, an aggregate-fit center (`--aggregate-fit`). */
const center = (...extra: string[]) => [
  "center",
  "--name",
  "a",
  "--aggregator",
  listen(),
  "--ca",
  ca,
  "--cert",
  join(certs, "a.pem"),
  "--key",
  join(certs, "a.key"),
  ...(extra.includes("--plan") ? [] : ["--aggregate-fit"]),
  ...extra,
];

/** Replace a flag's value in `args` (`null`: remove the flag and its value). */
function set(args: string[], flag: string, value: string | null): string[] {
  const i = args.indexOf(flag);
  if (i < 0) return value === null ? args : [...args, flag, value];
  const copy = [...args];
  if (value === null) copy.splice(i, 2);
  else copy[i + 1] = value;
  return copy;
}

/** A mistake: a name, the arguments (given the `--out` folder), and what the line must say. */
type Case = [name: string, args: (out: string) => string[], says: RegExp];

const cases: Case[] = [
  // run --data: values
  ["run --alpha 5", (o) => runData(o, "--alpha", "5"), /--alpha: must be > 0 and < 1/],
  ["run --alpha 0", (o) => runData(o, "--alpha", "0"), /--alpha/],
  ["run --alpha x", (o) => runData(o, "--alpha", "x"), /--alpha: "x" is not a number/],
  ["run --lfc-null -1", (o) => runData(o, "--lfc-null=-1"), /--lfc-null: must be ≥ 0/],
  [
    "run --alt-hypothesis lessAbs without --lfc-null",
    (o) => runData(o, "--alt-hypothesis", "lessAbs"),
    /--alt-hypothesis lessAbs: needs --lfc-null > 0/,
  ],
  [
    "run --alt-hypothesis lessAbs --lfc-null 0",
    (o) => runData(o, "--alt-hypothesis", "lessAbs", "--lfc-null", "0"),
    /--alt-hypothesis lessAbs: needs --lfc-null > 0/,
  ],
  [
    "run --alt-hypothesis sideways",
    (o) => runData(o, "--alt-hypothesis", "sideways"),
    /--alt-hypothesis/,
  ],
  [
    "run --test LRT without --reduced",
    (o) => runData(o, "--test", "LRT"),
    /--reduced: required with --test LRT/,
  ],
  [
    "run --reduced without --test LRT",
    (o) => runData(o, "--reduced", "~ 1"),
    /--reduced: only with --test LRT/,
  ],
  ["run --test F", (o) => runData(o, "--test", "F"), /--test/],
  [
    "run --no-refit-cooks with --min-replicates-for-replace",
    (o) => runData(o, "--no-refit-cooks", "--min-replicates-for-replace", "3"),
    /--no-refit-cooks, --min-replicates-for-replace: give one/,
  ],
  [
    "run --cooks-cutoff with --no-cooks-filter",
    (o) => runData(o, "--cooks-cutoff", "2", "--no-cooks-filter"),
    /--cooks-cutoff, --no-cooks-filter: give one/,
  ],
  ["run --cooks-cutoff 0", (o) => runData(o, "--cooks-cutoff", "0"), /--cooks-cutoff/],
  [
    "run --min-replicates-for-replace 0",
    (o) => runData(o, "--min-replicates-for-replace", "0"),
    /--min-replicates-for-replace/,
  ],
  [
    // DESeq2's replaceOutliers stops below 3: "at least 3 replicates are necessary in order to
    // indentify a sample as a count outlier" (fedseq replaced counts in cells of 2).
    "run --min-replicates-for-replace 2",
    (o) => runData(o, "--min-replicates-for-replace", "2"),
    /--min-replicates-for-replace: must be a whole number ≥ 3, got "2"/,
  ],
  [
    "run --name of no coefficient",
    (o) => runData(o, "--name", "condition_C_vs_A"),
    /--name "condition_C_vs_A": not a coefficient of the design \(resultsNames: Intercept and condition_B_vs_A\)/,
  ],
  [
    "run --contrast-vector of the wrong length",
    (o) => runData(o, "--contrast-vector", "0,1,-1"),
    /--contrast-vector: 3 weights, the design has 2 coefficients/,
  ],
  [
    "run --contrast-vector with a word",
    (o) => runData(o, "--contrast-vector", "0,one"),
    /--contrast-vector "0,one": "one" is not a number/,
  ],
  [
    "run --contrast with --name",
    (o) => runData(o, "--contrast", "condition,B,A", "--name", "condition_B_vs_A"),
    /--contrast, --name: give one contrast/,
  ],
  [
    "run --test LRT --reduced with a variable outside the design",
    (o) => runData(o, "--test", "LRT", "--reduced", "~ batch"),
    /--reduced: reduced design "~ batch": variable "batch" is not in the full design/,
  ],
  [
    "run --test LRT --reduced the full design",
    (o) => runData(o, "--test", "LRT", "--reduced", "~ condition"),
    /--reduced: reduced design "~ condition": it keeps every variable of the full design/,
  ],
  [
    "run --test LRT --solver fast",
    (o) => runData(o, "--test", "LRT", "--reduced", "~ 1", "--solver", "fast"),
    /--test LRT: only with --solver deseq2/,
  ],
  [
    "run --test LRT --lfc-null 1",
    (o) => runData(o, "--test", "LRT", "--reduced", "~ 1", "--lfc-null", "1"),
    /--test LRT: --lfc-null and --alt-hypothesis are for Wald tests/,
  ],
  ["run --maxit 0", (o) => runData(o, "--maxit", "0"), /--maxit/],
  ["run --fit-type loess", (o) => runData(o, "--fit-type", "loess"), /--fit-type/],
  [
    "run --size-factors-type median",
    (o) => runData(o, "--size-factors-type", "median"),
    /--size-factors-type/,
  ],
  [
    "run --size-factors-type iterate in clear (its steps run only under verified requests)",
    (o) => runData(o, "--size-factors-type", "iterate", "--no-secure-aggregation"),
    /--size-factors-type iterate needs verified requests/,
  ],
  ["run --maxit 2.5", (o) => runData(o, "--maxit", "2.5"), /--maxit/],
  ["run --threads 0", (o) => runData(o, "--threads", "0"), /--threads/],
  ["run --threads 100000", (o) => runData(o, "--threads", "100000"), /--threads/],
  ["run --beta-tol 0", (o) => runData(o, "--beta-tol", "0"), /--beta-tol: must be > 0/],
  ["run --pqn-ftol -1", (o) => runData(o, "--pqn-ftol=-1"), /--pqn-ftol/],
  ["run --pqn-c1 1.5", (o) => runData(o, "--pqn-c1", "1.5"), /--pqn-c1: must be > 0 and < 1/],
  ["run --max-beta 0", (o) => runData(o, "--max-beta", "0"), /--max-beta/],
  ["run --min-mu -1", (o) => runData(o, "--min-mu=-1"), /--min-mu/],
  ["run --pqn-min-mu -0.5", (o) => runData(o, "--pqn-min-mu=-0.5"), /--pqn-min-mu/],
  ["run --irls-iters x", (o) => runData(o, "--irls-iters", "x"), /--irls-iters/],
  ["run --pqn-iters 0", (o) => runData(o, "--pqn-iters", "0"), /--pqn-iters/],
  ["run --pqn-ls-iters 0", (o) => runData(o, "--pqn-ls-iters", "0"), /--pqn-ls-iters/],
  ["run --mode newton", (o) => runData(o, "--mode", "newton"), /--mode/],
  ["run --solver newton", (o) => runData(o, "--solver", "newton"), /--solver/],
  [
    "run --mode pqn without --solver upstream",
    (o) => runData(o, "--mode", "pqn"),
    /--mode pqn: only with --solver upstream/,
  ],
  // run: the model
  ["run --design without ~", (o) => set(runData(o), "--design", "condition"), /--design/],
  [
    "run --design with an interaction of a variable that is not a main effect",
    (o) => set(runData(o), "--design", "~ condition + condition:batch"),
    /--design.*interaction condition:batch needs "batch" as a main effect too/,
  ],
  [
    "run --design with a variable twice",
    (o) => set(runData(o), "--design", "~ condition + condition"),
    /--design.*twice/,
  ],
  [
    "run --design with a left-hand side",
    (o) => set(runData(o), "--design", "y ~ condition"),
    /--design/,
  ],
  ["run without --design", (o) => set(runData(o), "--design", null), /--design/],
  [
    "run --contrast with two parts",
    (o) => runData(o, "--contrast", "condition,B"),
    /--contrast "condition,B": expected/,
  ],
  [
    "run --contrast of a variable not in the design",
    (o) => runData(o, "--contrast", "tissue,a,b"),
    /--contrast: "tissue" is not a variable of the design/,
  ],
  [
    "run --contrast with level = reference",
    (o) => runData(o, "--contrast", "condition,B,B"),
    /--contrast: the level and the reference are the same/,
  ],
  [
    "run --contrast of a continuous variable not in the design",
    (o) => runData(o, "--contrast", "age"),
    /--contrast "age": not a variable/,
  ],
  [
    "run --reference without =",
    (o) => runData(o, "--reference", "condition"),
    /--reference: expected factor=level/,
  ],
  [
    "run --reference of a variable not in the design",
    (o) => runData(o, "--reference", "tissue=x"),
    /--reference tissue=x: "tissue" is not a variable/,
  ],
  [
    "run --reference twice for one factor",
    (o) => runData(o, "--reference", "condition=A", "--reference", "condition=B"),
    /--reference: condition is given twice/,
  ],
  // run: files
  [
    "run --compare missing",
    (o) => runData(o, "--compare", missing),
    /--compare: cannot read .*missing\.csv: no such file/,
  ],
  [
    "run --compare a folder",
    (o) => runData(o, "--compare", folder),
    /--compare: cannot read .*: it is a directory/,
  ],
  [
    "run --compare without the columns",
    (o) => runData(o, "--compare", noColumns),
    /--compare: .*no-columns\.csv/,
  ],
  [
    "run --data missing",
    (o) => set(runData(o), "--data", join(tmp.dir, "nowhere")),
    /--data .*nowhere: no such folder/,
  ],
  ["run --data a file", (o) => set(runData(o), "--data", aFile), /--data .*a-file: not a folder/],
  // run: combinations
  [
    "run with --data and --listen",
    (o) => runData(o, "--listen", listen()),
    /either --data .* or --listen/,
  ],
  [
    "run with neither --data nor --listen",
    (o) => set(runData(o), "--data", null),
    /either --data .* or --listen/,
  ],
  ["run --data --centers", (o) => runData(o, "--centers", "a,b"), /--centers: only with --listen/],
  ["run --data --ca", (o) => runData(o, "--ca", ca), /--ca: only with --listen/],
  [
    "run --data --join-timeout",
    (o) => runData(o, "--join-timeout", "5"),
    /--join-timeout: only with --listen/,
  ],
  [
    "run --data --round-timeout",
    (o) => runData(o, "--round-timeout", "5"),
    /--round-timeout: only with --listen/,
  ],
  [
    "run --data --reconnect-timeout",
    (o) => runData(o, "--reconnect-timeout", "5"),
    /--reconnect-timeout: only with --listen/,
  ],
  [
    "run --data --max-message-mb",
    (o) => runData(o, "--max-message-mb", "64"),
    /--max-message-mb: only with --listen/,
  ],
  ["run --data --resume", (o) => runData(o, "--resume"), /--resume: only with --listen/],
  [
    "run with an unknown flag",
    (o) => runData(o, "--alpah", "0.1"),
    /unknown option '--alpah' \(Did you mean --alpha\?\)/,
  ],
  // run --listen
  [
    "run --listen without --ca --cert --key",
    (o) => ["run", "--listen", listen(), "--centers", "a,b", "--plan", plan, "--out", o],
    /run --listen also needs --ca, --cert, --key/,
  ],
  [
    "run --listen without --plan",
    (o) => set(set(runListen(o), "--plan", null), "--design", "~ condition"),
    /--plan: required with --listen/,
  ],
  [
    "run --listen --plan with --design",
    (o) => runListen(o, "--design", "~ condition"),
    /--design: not with --plan \(the plan fixes/,
  ],
  [
    "run --listen --plan with --alpha and --solver",
    (o) => runListen(o, "--alpha", "0.05", "--solver", "fast"),
    /--alpha, --solver: not with --plan/,
  ],
  [
    "run --listen --plan missing",
    (o) => set(runListen(o), "--plan", missing),
    /--plan: .*missing\.csv: cannot read the analysis plan \(ENOENT\)/,
  ],
  [
    "run --listen --plan with a bad field",
    (o) => set(runListen(o), "--plan", badPlan),
    /--plan: .*bad-plan\.json: min_cell: expected a whole number ≥ 1, found 0/,
  ],
  [
    "run --listen --centers other than the plan's",
    (o) => set(runListen(o), "--centers", "a,c"),
    /--centers: a, c are not the plan's centers \(a, b\)/,
  ],
  [
    "run --plan with --no-secure-aggregation (the plan decides)",
    (o) => ["run", "--data", data, "--plan", plan, "--no-secure-aggregation", "--out", o],
    /--no-secure-aggregation: not with --plan/,
  ],
  ["run --min-cell 0", (o) => [...runData(o), "--min-cell", "0"], /--min-cell/],
  [
    "run --data --plan naming other centers",
    (o) => ["run", "--data", data, "--plan", badPlan, "--out", o],
    /--plan: .*min_cell/,
  ],
  [
    "run --listen without a port",
    (o) => set(runListen(o), "--listen", "localhost"),
    /--listen: expected HOST:PORT/,
  ],
  [
    "run --listen with port 70000",
    (o) => set(runListen(o), "--listen", "127.0.0.1:70000"),
    /--listen: port must be from 1 to 65535/,
  ],
  [
    "run --listen on a port in use",
    (o) => runListen(o),
    /--listen 127\.0\.0\.1:\d+: cannot listen there \(the port is in use\)/,
  ],
  [
    "run --listen --round-counts",
    (o) => runListen(o, "--round-counts"),
    /--round-counts: only with --data/,
  ],
  ["run --listen --threads", (o) => runListen(o, "--threads", "2"), /--threads: only with --data/],
  [
    "run --listen --centers a,,b",
    (o) => set(runListen(o), "--centers", "a,,b"),
    /--centers: expected distinct names/,
  ],
  [
    "run --listen --centers a,a",
    (o) => set(runListen(o), "--centers", "a,a"),
    /--centers: expected distinct names/,
  ],
  [
    "run --listen --ca missing",
    (o) => set(runListen(o), "--ca", missing),
    /--ca .*missing\.csv: cannot read \(ENOENT\)/,
  ],
  [
    "run --listen --cert not PEM",
    (o) => set(runListen(o), "--cert", notPem),
    /--cert .*not-pem\.txt: not a PEM file/,
  ],
  [
    "run --listen --cert a key",
    (o) => set(runListen(o), "--cert", aggKey),
    /--cert .*: not a PEM certificate/,
  ],
  [
    "run --listen --key not a key",
    (o) => set(runListen(o), "--key", aggCert),
    /--key .*: not an unencrypted PEM private key/,
  ],
  [
    "run --listen --key of another certificate",
    (o) => set(runListen(o), "--key", join(certs, "a.key")),
    /--key .*a\.key: not the private key of --cert/,
  ],
  [
    "run --listen --join-timeout 0",
    (o) => runListen(o, "--join-timeout", "0"),
    /--join-timeout: must be > 0/,
  ],
  [
    "run --listen --join-timeout beyond a timer",
    (o) => runListen(o, "--join-timeout", "1e9"),
    /--join-timeout: at most 2147483 seconds/,
  ],
  [
    "run --listen --reconnect-timeout 0",
    (o) => runListen(o, "--reconnect-timeout", "0"),
    /--reconnect-timeout/,
  ],
  [
    "run --listen --max-message-mb 4096",
    (o) => runListen(o, "--max-message-mb", "4096"),
    /--max-message-mb/,
  ],
  [
    "run --listen --round-timeout x",
    (o) => runListen(o, "--round-timeout", "x"),
    /--round-timeout: "x" is not a number/,
  ],
  [
    "run --listen --resume with no run to resume",
    (o) => runListen(o, "--resume"),
    /--resume: no run to resume/,
  ],
  // fit-lfc
  [
    "fit-lfc --size-factors missing",
    (o) => set(fitLfc(o), "--size-factors", missing),
    /--size-factors: cannot read .*missing\.csv/,
  ],
  [
    "fit-lfc --size-factors without the columns",
    (o) => set(fitLfc(o), "--size-factors", noColumns),
    /--size-factors: .*no column "sample"/,
  ],
  [
    "fit-lfc --dispersions without the columns",
    (o) => set(fitLfc(o), "--dispersions", noColumns),
    /--dispersions: .*no column "gene"/,
  ],
  [
    "fit-lfc --dispersions a folder",
    (o) => set(fitLfc(o), "--dispersions", folder),
    /--dispersions: cannot read/,
  ],
  ["fit-lfc --genes missing", (o) => fitLfc(o, "--genes", missing), /--genes: cannot read/],
  ["fit-lfc --genes with no gene", (o) => fitLfc(o, "--genes", noGenes), /--genes: .*no gene ids/],
  [
    "fit-lfc --compare missing",
    (o) => fitLfc(o, "--genes", genes, "--compare", missing),
    /--compare: cannot read/,
  ],
  [
    "fit-lfc --reference of a variable not in the design",
    (o) => fitLfc(o, "--reference", "batch=x"),
    /--reference batch=x/,
  ],
  ["fit-lfc --mode pqn without --solver upstream", (o) => fitLfc(o, "--mode", "pqn"), /--mode pqn/],
  [
    "fit-lfc --data missing",
    (o) => set(fitLfc(o), "--data", join(tmp.dir, "nowhere")),
    /--data .*: no such folder/,
  ],
  [
    "fit-lfc without --size-factors",
    (o) => set(fitLfc(o), "--size-factors", null),
    /--size-factors/,
  ],
  // aggregate
  [
    "aggregate --max-message-mb 0",
    (o) => aggregate(o, "--max-message-mb", "0"),
    /--max-message-mb/,
  ],
  [
    "aggregate --max-message-mb 4096",
    (o) => aggregate(o, "--max-message-mb", "4096"),
    /--max-message-mb: must be a whole number from 1 to 2047/,
  ],
  [
    "aggregate --reconnect-timeout 0",
    (o) => aggregate(o, "--reconnect-timeout", "0"),
    /--reconnect-timeout/,
  ],
  [
    "aggregate --resume with no checkpoint",
    (o) => aggregate(o, "--resume"),
    /--resume: no checkpoint/,
  ],
  [
    "aggregate --dispersions missing",
    (o) => set(aggregate(o), "--dispersions", missing),
    /--dispersions: cannot read/,
  ],
  [
    "aggregate --key of another certificate",
    (o) => set(aggregate(o), "--key", join(certs, "b.key")),
    /--key .*b\.key/,
  ],
  ["aggregate on a port in use", (o) => aggregate(o), /--listen .*: cannot listen there/],
  ["aggregate without --centers", (o) => set(aggregate(o), "--centers", null), /--centers/],
  // demo
  ["demo --out a file", () => ["demo", "--out", aFile], /--out .*a-file: a file, not a folder/],
  // --out
  ["run --out a file", () => runData(aFile), /--out .*a-file: a file, not a folder/],
  [
    "run --out under a file",
    () => runData(join(aFile, "sub")),
    /--out .*a-file\/sub: cannot create the folder \(.*a-file is a file\)/,
  ],
  [
    "fit-lfc --out under a file",
    () => fitLfc(join(aFile, "sub", "deeper")),
    /--out .*: cannot create the folder/,
  ],
  ["run without --out", (o) => set(runData(o), "--out", null), /--out/],
];

/** `center` has no `--out`. */
const centerCases: [name: string, args: () => string[], says: RegExp][] = [
  [
    "center without --plan or --aggregate-fit",
    () => center("--data", data).filter((a) => a !== "--aggregate-fit"),
    /--plan: required \(the analysis plan this center approved, made with fedseq plan\); --aggregate-fit serves a fit without one, trusting the aggregator with the counts/,
  ],
  [
    "center --plan with --aggregate-fit",
    () => center("--data", data, "--plan", missing, "--aggregate-fit"),
    /--plan, --aggregate-fit: give one/,
  ],
  [
    "center --plan missing",
    () => center("--data", data, "--plan", missing),
    /--plan: .*missing\.csv: cannot read the analysis plan/,
  ],
  [
    "center --plan with a bad field",
    () => center("--data", data, "--plan", badPlan),
    /--plan: .*bad-plan\.json: min_cell/,
  ],
  [
    "plan without --centers",
    () => [
      "plan",
      "--design",
      "~ condition",
      "--levels",
      "condition=A,B",
      "--out",
      join(tmp.dir, "p1.json"),
    ],
    /--centers: required/,
  ],
  [
    "plan --levels without levels",
    () => [
      "plan",
      "--design",
      "~ condition",
      "--levels",
      "condition",
      "--centers",
      "a,b",
      "--out",
      join(tmp.dir, "p2.json"),
    ],
    /--levels: expected factor=level1,level2/,
  ],
  [
    "plan --levels of a variable outside the design",
    () => [
      "plan",
      "--design",
      "~ condition",
      "--levels",
      "sex=f,m",
      "--centers",
      "a,b",
      "--out",
      join(tmp.dir, "p3.json"),
    ],
    /--levels: "sex" is not a variable of the design/,
  ],
  [
    "plan --contrast of a level not listed",
    () => [
      "plan",
      "--design",
      "~ condition",
      "--levels",
      "condition=A,B",
      "--contrast",
      "condition,C,A",
      "--centers",
      "a,b",
      "--out",
      join(tmp.dir, "p4.json"),
    ],
    /--contrast: "C" is not a level of condition/,
  ],
  [
    "plan --out that exists",
    () => [
      "plan",
      "--design",
      "~ condition",
      "--levels",
      "condition=A,B",
      "--centers",
      "a,b",
      "--out",
      existingPlan,
    ],
    /--out .*existing-plan\.json: already exists/,
  ],
  [
    "plan --min-cell 0",
    () => [
      "plan",
      "--design",
      "~ condition",
      "--levels",
      "condition=A,B",
      "--centers",
      "a,b",
      "--min-cell",
      "0",
      "--out",
      join(tmp.dir, "p5.json"),
    ],
    /--min-cell/,
  ],
  [
    "center without --data or --counts",
    () => center(),
    /center: give either --data DIR, or both --counts FILE and --metadata FILE/,
  ],
  [
    "center --counts without --metadata",
    () => center("--counts", sf),
    /--counts without --metadata/,
  ],
  [
    "center --metadata without --counts",
    () => center("--metadata", sf),
    /--metadata without --counts/,
  ],
  [
    "center --data with --counts",
    () => center("--data", data, "--counts", sf, "--metadata", sf),
    /--data with --counts/,
  ],
  [
    "center --counts missing",
    () => center("--counts", missing, "--metadata", sf),
    /--counts: cannot read .*missing\.csv/,
  ],
  [
    "center --data missing",
    () => center("--data", join(tmp.dir, "nowhere")),
    /--data .*: no such folder/,
  ],
  [
    "center --name empty",
    () => set(center("--data", data), "--name", " "),
    /--name: must not be empty/,
  ],
  [
    "center --aggregator without a port",
    () => set(center("--data", data), "--aggregator", "host"),
    /--aggregator: expected HOST:PORT/,
  ],
  ["center --min-samples 0", () => center("--data", data, "--min-samples", "0"), /--min-samples/],
  [
    "center --retry-delay 0",
    () => center("--data", data, "--retry-delay", "0"),
    /--retry-delay: must be > 0/,
  ],
  [
    "center --give-up-after -1",
    () => center("--data", data, "--give-up-after=-1"),
    /--give-up-after/,
  ],
  [
    "center --cert missing",
    () => set(center("--data", data), "--cert", missing),
    /--cert .*: cannot read/,
  ],
  [
    "center --key of another certificate",
    () => set(center("--data", data), "--key", aggKey),
    /--key .*: not the private key of --cert/,
  ],
  ["center --threads 0", () => center("--data", data, "--threads", "0"), /--threads/],
];

function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, says: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^fedseq: /);
  expect(lines[0]).toMatch(says);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe("");
}

describe.concurrent("every option mistake exits 2 with one line before any round, --out untouched", () => {
  cases.forEach(([name, args, says], k) => {
    it(name, { timeout: DEADLINE_MS + 5_000 }, async () => {
      // Half the cases write into a folder that exists (it must stay as it was), half into one
      // that does not (it must not appear).
      const out = join(tmp.dir, "out", `case-${k}`);
      const existing = k % 2 === 0;
      if (existing) {
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, "keep.txt"), "keep\n");
      }
      const r = await (k % SPAWN_EVERY === 0 ? fedseq : hosted)(args(out));
      expectOneLine(r, says);
      if (existing) expect(readdirSync(out)).toEqual(["keep.txt"]);
      else expect(existsSync(out)).toBe(false);
      expect(readFileSync(aFile, "utf8")).toBe("not a folder\n");
    });
  });

  centerCases.forEach(([name, args, says], k) => {
    it(name, { timeout: DEADLINE_MS + 5_000 }, async () => {
      expectOneLine(await (k === 0 ? fedseq : hosted)(args()), says);
    });
  });

  it("run --out in a folder this user may not write", {
    timeout: DEADLINE_MS + 5_000,
  }, async () => {
    // Root may write anywhere: as root (CI), the command runs as user nobody, which may read
    // the test's files but not write the read-only folder.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : null;
    if (asUser !== null) chmodSync(tmp.dir, 0o755);
    const locked = tmp.subdir("read-only");
    chmodSync(locked, 0o555);
    try {
      expectOneLine(
        await fedseq(runData(locked), DEADLINE_MS, asUser),
        /--out .*: cannot write there \(permission denied\)/,
      );
      expectOneLine(
        await fedseq(runData(join(locked, "sub")), DEADLINE_MS, asUser),
        /--out .*: cannot create the folder \(permission denied\)/,
      );
      expect(readdirSync(locked)).toEqual([]);
    } finally {
      chmodSync(locked, 0o755);
    }
  });
});

describe("certs --out it cannot write", () => {
  it("exits 2 at once with one line naming --out and why: in /proc (Node's recursive mkdir spun there), a file, a read-only folder", {
    timeout: 4 * DEADLINE_MS,
  }, async () => {
    const certsArgs = (out: string) => ["certs", "--out", out, "--centers", "a,b"];
    // A deadline well under the test's: a spinning command is killed and fails the check.
    expectOneLine(
      await fedseq(certsArgs("/proc/fedseq-certs"), 10_000),
      /^fedseq: --out \/proc\/fedseq-certs: cannot create the folder \(the file system takes no new files there \(ENOENT\)\)$/,
    );
    expectOneLine(await fedseq(certsArgs(aFile)), /--out .*a-file: a file, not a folder$/);
    expectOneLine(
      await fedseq(certsArgs(join(aFile, "certs"))),
      /--out .*: cannot create the folder \(.*a-file is a file\)$/,
    );
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : null;
    if (asUser !== null) chmodSync(tmp.dir, 0o755);
    const locked = tmp.subdir("read-only-certs");
    chmodSync(locked, 0o555);
    try {
      expectOneLine(
        await fedseq(certsArgs(locked), DEADLINE_MS, asUser),
        /--out .*: cannot write there \(permission denied\)$/,
      );
      expect(readdirSync(locked)).toEqual([]);
    } finally {
      chmodSync(locked, 0o755);
    }
    expect(readFileSync(aFile, "utf8")).toBe("not a folder\n");
  });
});

describe("simulate --out it cannot write", () => {
  it("exits 2 at once with one line naming --out and why: in /proc (Node's recursive mkdir spun there), a file", {
    timeout: 3 * DEADLINE_MS,
  }, async () => {
    const simulate = (out: string) => [
      "simulate",
      "--out",
      out,
      "--genes",
      "5",
      "--samples",
      "6",
      "--centers",
      "2",
      "--seed",
      "1",
    ];
    // A deadline well under the test's: a spinning command is killed and fails the check.
    expectOneLine(
      await fedseq(simulate("/proc/fedseq-simulate"), 10_000),
      /^fedseq: --out \/proc\/fedseq-simulate: cannot create the folder \(the file system takes no new files there \(ENOENT\)\)$/,
    );
    // Until 2026-12-08 a stack trace (EEXIST from mkdir), exit 1.
    expectOneLine(await fedseq(simulate(aFile)), /--out .*a-file: a file, not a folder$/);
    expect(readFileSync(aFile, "utf8")).toBe("not a folder\n");
  });
});

describe("--out is locked while a command writes it", () => {
  it("a second run into the folder exits 2 naming the first one's pid; SIGTERM removes the lock", async () => {
    const out = join(tmp.dir, "locked");
    const port = await freePort();
    const first = startFedseq(
      set(set(runListen(out), "--listen", `127.0.0.1:${port}`), "--join-timeout", "60"),
    );
    try {
      await first.waitFor(/listening on/, 20_000);
      const pid = first.child.pid as number;
      expect(readFileSync(join(out, ".fedseq-lock"), "utf8").split("\n").slice(0, 2)).toEqual([
        String(pid),
        hostname(),
      ]);
      const [run, fit] = await Promise.all([fedseq(runData(out)), fedseq(fitLfc(out))]);
      for (const r of [run, fit]) {
        expectOneLine(
          r,
          new RegExp(`--out .*locked: another fedseq run \\(pid ${pid}\\) is writing there`),
        );
      }
      expect(readFileSync(join(out, ".fedseq-lock"), "utf8")).toMatch(new RegExp(`^${pid}\n`));
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(143);
      expect(existsSync(join(out, ".fedseq-lock"))).toBe(false);
    } finally {
      first.child.kill("SIGKILL");
    }
  });

  it("a lock of a live process is respected, whoever holds it", {
    timeout: DEADLINE_MS + 5_000,
  }, async () => {
    const out = tmp.subdir("held");
    const lock = `${process.pid}\n${hostname()}\nsomeone\n`;
    writeFileSync(join(out, ".fedseq-lock"), lock);
    expectOneLine(
      await fedseq(fitLfc(out)),
      new RegExp(`\\(pid ${process.pid}\\) is writing there`),
    );
    expect(readdirSync(out)).toEqual([".fedseq-lock"]);
    expect(readFileSync(join(out, ".fedseq-lock"), "utf8")).toBe(lock);
  });

  it("a stale lock (its process is gone) is taken over, and removed when the run ends", {
    timeout: DEADLINE_MS + 5_000,
  }, async () => {
    const out = tmp.subdir("stale");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    writeFileSync(join(out, ".fedseq-lock"), `${dead}\n${hostname()}\nold\n`);
    const r = await fedseq(fitLfc(out, "--compare", compare, "--genes", genes));
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["lfc.csv", "report.html", "run.json"]);
  });
});

describe("a --compare file that fails only once the rounds are done", () => {
  it("exits 2 naming it, after writing every table (the report is what it costs)", {
    timeout: DEADLINE_MS + 5_000,
  }, async () => {
    // One beta_log2 column passes the check before round 1; the fit has two coefficients.
    const oneColumn = tmp.write("one-column.csv", "gene,beta_log2.x\ng1,1\ng2,0\ng3,2\n");
    const out = join(tmp.dir, "out", "late-compare");
    const r = await fedseq(runData(out, "--compare", oneColumn));
    // Progress lines, then the one line of the error (no stack).
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split("\n").at(-1)).toMatch(
      /^fedseq: .*one-column\.csv.*2 beta_log2\.\* columns/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(out).sort()).toEqual([
      "dispersions.csv",
      "lfc.csv",
      "results.csv",
      "run.json",
      "saved_fit.json",
      "size_factors.csv",
    ]);
  });
});
