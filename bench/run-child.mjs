// One `fedseq run` (DESeq2's whole analysis) in its own process, with a given solver and design,
// compared with DESeq2's results table: prints a JSON line with seconds, round trips (all, and
// the fit's own), bytes and the share of genes agreeing with DESeq2.
// Arguments: dataDir design solver outDir deseq2Results.csv
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DEFAULT_HYPERPARAMETERS } from "../dist/algorithms/hyperparameters.js";
import { runSimulated } from "../dist/pipeline/run.js";

const [dataDir, design, solver, outDir, referenceFile] = process.argv.slice(2);
const started = performance.now();
const report = await runSimulated({
  dataDir,
  design,
  references: {},
  mode: "irls-pqn",
  solver,
  hp: DEFAULT_HYPERPARAMETERS,
  outDir,
  wald: { lfcThreshold: 0, altHypothesis: "greaterAbs" },
  alpha: 0.1,
  independentFiltering: true,
});
const seconds = (performance.now() - started) / 1000;

/** A results CSV as columns of numbers (empty and NA: NaN). */
function table(file) {
  const bytes = readFileSync(file);
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString();
  const [header, ...lines] = text.trim().split("\n");
  const names = header.split(",");
  const rows = lines.map((l) => l.split(","));
  return Object.fromEntries(
    names.map((n, k) => [
      n,
      rows.map((r) => (r[k] === "" || r[k] === "NA" ? Number.NaN : Number(r[k]))),
    ]),
  );
}
const ours = table(`${outDir}/results.csv`);
const theirs = table(referenceFile);
const within = (name) => {
  const a = ours[name];
  const e = theirs[name];
  let ok = 0;
  for (let g = 0; g < e.length; g++)
    if (
      Number.isNaN(e[g])
        ? Number.isNaN(a[g])
        : Math.abs(a[g] - e[g]) <= 0.01 * Math.abs(e[g]) + 1e-8
    )
      ok++;
  return ok / e.length;
};
let calls = 0;
for (let g = 0; g < theirs.padj.length; g++)
  if (ours.padj[g] < 0.05 === theirs.padj[g] < 0.05) calls++;
const fitPhases = ["init", "irls", "optim", "newton", "pqn"];
process.stdout.write(
  `${JSON.stringify({
    seconds,
    rounds: report.rounds.total,
    fitRounds: fitPhases.reduce((s, k) => s + (report.rounds[k] ?? 0), 0),
    bytes: report.bytes.to_aggregator + report.bytes.from_aggregator,
    unconverged: report.genes.beta_unconverged,
    handedOver: report.genes.handed_over,
    lfc: within("log2FoldChange"),
    lfcSE: within("lfcSE"),
    stat: within("stat"),
    padjCalls: calls / theirs.padj.length,
  })}\n`,
);
