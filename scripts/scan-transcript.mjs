#!/usr/bin/env node
/**
 * Scan a `fedseq run` transcript for numbers equal to functions of one or two samples
 * (issue [11]; the scanner is test/helpers/transcriptScan.ts).
 *
 *   node scripts/scan-transcript.mjs --data DIR --design "~ tissue" \
 *     [--transcript FILE --size-factors OUTDIR/size_factors.csv] [--out DIR] [--json FILE]
 *     [--tolerance 1e-12] [--pairs center|cell|none]
 *
 * Without --transcript it first runs `bin/fedseq run --data DIR --design … --transcript` into
 * --out (default: a temporary folder; build with `npm run build` first) and scans that run,
 * taking the size factors from its size_factors.csv. Prints markdown tables: per step and field,
 * numbers sent, non-trivial matches and the candidate kinds matched; by structure, values
 * computed from one or two samples; and the counts a scan rebuilds.
 *
 * The scanner is TypeScript: run under plain node, this script re-runs itself with vite-node
 * (a dependency of vitest).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

if (process.env.FEDSEQ_SCAN_UNDER_VITE_NODE !== "1") {
  const r = spawnSync(
    process.execPath,
    [
      "--max-old-space-size=8192",
      join(root, "node_modules", "vite-node", "vite-node.mjs"),
      fileURLToPath(import.meta.url),
      "--",
      ...process.argv.slice(2),
    ],
    { stdio: "inherit", env: { ...process.env, FEDSEQ_SCAN_UNDER_VITE_NODE: "1" } },
  );
  process.exit(r.status ?? 1);
}

const argv = process.argv.slice(2).filter((a, i) => !(i === 0 && a === "--"));
const { values: opts } = parseArgs({
  args: argv,
  options: {
    data: { type: "string" },
    design: { type: "string" },
    transcript: { type: "string" },
    "size-factors": { type: "string" },
    out: { type: "string" },
    json: { type: "string" },
    tolerance: { type: "string", default: "1e-12" },
    pairs: { type: "string" },
    name: { type: "string" },
  },
});
if (opts.data === undefined || opts.design === undefined) {
  console.error(
    "usage: scan-transcript.mjs --data DIR --design FORMULA [--transcript FILE --size-factors FILE] [--out DIR] [--json FILE]",
  );
  process.exit(2);
}

const scan = await import(join(root, "test", "helpers", "transcriptScan.ts"));

let transcript = opts.transcript;
let sizeFactorsFile = opts["size-factors"];
let runSeconds = null;
if (transcript === undefined) {
  const out = opts.out ?? mkdtempSync(join(tmpdir(), "fedseq-scan-"));
  mkdirSync(out, { recursive: true });
  transcript = join(out, "transcript.jsonl");
  const started = performance.now();
  const r = spawnSync(
    join(root, "bin", "fedseq"),
    ["run", "--data", opts.data, "--design", opts.design, "--out", out, "--transcript", transcript],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  if (r.status !== 0) {
    console.error(`fedseq run failed (exit ${r.status})`);
    process.exit(1);
  }
  runSeconds = (performance.now() - started) / 1000;
  sizeFactorsFile = join(out, "size_factors.csv");
}
if (sizeFactorsFile === undefined) {
  console.error("--size-factors is needed with --transcript (the run's size_factors.csv)");
  process.exit(2);
}

const started = performance.now();
const centers = scan.privateCenters(
  await scan.datasetCenters(opts.data),
  opts.design,
  scan.readSizeFactorsCsv(sizeFactorsFile),
);
const options = { tolerance: Number(opts.tolerance), ...(opts.pairs ? { pairs: opts.pairs } : {}) };
const report = scan.scanTranscript(centers, scan.readTranscript(transcript), options);
const structure = scan.structureScan(centers, scan.readTranscript(transcript));
const scanSeconds = (performance.now() - started) / 1000;

const name = opts.name ?? opts.data;
const lines = [];
lines.push(`### ${name} (\`${opts.design}\`)`, "");
const centerList = centers.map((c) => `${c.name} (${c.samples.length} samples)`).join(", ");
const candidateList = Object.entries(report.candidates)
  .map(([c, k]) => `${c} ${k}`)
  .join(", ");
const scopes = [...new Set(Object.values(report.pairs))].join("/");
const timing = `${runSeconds === null ? "" : `run ${runSeconds.toFixed(1)} s, `}scan ${scanSeconds.toFixed(1)} s`;
lines.push(
  `${report.records} messages, ${report.numbers} numbers; centers ${centerList}; candidates ${candidateList} (pairs: ${scopes}); ${timing}.`,
  "",
);
lines.push(
  "| step | field | numbers sent | trivial | non-trivial matches (exact) | at the position's gene | candidate kinds matched | counts exposed | from 1 / 2 samples by structure (non-trivial) |",
);
lines.push("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |");
const structByKey = new Map(structure.map((s) => [`${s.step}.${s.field}`, s]));
for (const f of report.fields) {
  const s = structByKey.get(`${f.step}.${f.field}`);
  const kinds = Object.entries(f.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join("; ");
  const struct =
    s === undefined || !s.judged ? "—" : `${s.fromOne} / ${s.fromTwo} (${s.nonTrivial})`;
  lines.push(
    `| ${f.step} | ${f.field} | ${f.numbers} | ${f.trivial} | ${f.matched} (${f.exact}) | ${f.geneAxis ? f.matchedAtGene : "—"} | ${kinds || "—"} | ${f.exposedCounts} | ${struct} |`,
  );
}
lines.push("");
lines.push(
  "| center | counts | non-zero counts | exposed by value alone (fields without a gene axis) | exposed in all | fraction of non-zero counts rebuilt |",
);
lines.push("| --- | ---: | ---: | ---: | ---: | ---: |");
let all = 0;
let nonZero = 0;
let exposed = 0;
for (const e of report.exposure) {
  all += e.counts;
  nonZero += e.nonZeroCounts;
  exposed += e.exposed;
  lines.push(
    `| ${e.center} | ${e.counts} | ${e.nonZeroCounts} | ${e.uniquelyExposed} | ${e.exposed} | ${((100 * e.exposed) / Math.max(1, e.nonZeroCounts)).toFixed(1)}% |`,
  );
}
lines.push(
  `| all | ${all} | ${nonZero} | ${report.exposure.reduce((a, e) => a + e.uniquelyExposed, 0)} | ${exposed} | ${((100 * exposed) / Math.max(1, nonZero)).toFixed(1)}% |`,
  "",
);
console.log(lines.join("\n"));
if (opts.json !== undefined) {
  const plain = {
    name,
    design: opts.design,
    records: report.records,
    numbers: report.numbers,
    candidates: report.candidates,
    pairs: report.pairs,
    fields: report.fields.map((f) => ({ ...f, centers: [...f.centers] })),
    exposure: report.exposure,
    structure,
    runSeconds,
    scanSeconds,
  };
  writeFileSync(opts.json, `${JSON.stringify(plain, null, 1)}\n`);
}
