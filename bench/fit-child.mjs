// One fit in its own process, so that its peak memory is its own: prints a JSON line.
// Arguments: dataDir design sizeFactorsFile dispersionsFile solver mode outDir [threads]. The same
// steps as `fitLfc` (dist/pipeline/fitLfc.js), with the time spent in each step's round trips
// (in-process: the centers' local steps) recorded, and the time of the fit itself (set-up steps
// and rounds, without reading the tables or writing the outputs).

import { availableParallelism } from "node:os";
import { DEFAULT_HYPERPARAMETERS } from "../dist/algorithms/hyperparameters.js";
import { GenePool } from "../dist/compute/genePool.js";
import { InProcessTransport } from "../dist/federation/inProcess.js";
import {
  fitOverFederation,
  runReport,
  simulatedCenters,
  writeFitOutputs,
} from "../dist/pipeline/fitLfc.js";

const [dataDir, design, sizeFactorsFile, dispersionsFile, solver, mode, outDir, threadsArg] =
  process.argv.slice(2);
const threads = threadsArg === undefined ? availableParallelism() : Number(threadsArg);
const job = {
  dataDir,
  design,
  sizeFactorsFile,
  dispersionsFile,
  solver,
  mode,
  references: {},
  fixedRounds: false,
  hp: DEFAULT_HYPERPARAMETERS,
  outDir,
};
const started = performance.now();
const pool = new GenePool({ threads });
const inner = new InProcessTransport(await simulatedCenters(dataDir, {}, { kernels: pool }));
const stepSeconds = {};
const transport = {
  centers: inner.centers,
  async request(tag, step, inputs) {
    const t0 = performance.now();
    try {
      return await inner.request(tag, step, inputs);
    } finally {
      stepSeconds[step] = (stepSeconds[step] ?? 0) + (performance.now() - t0) / 1000;
    }
  },
  close: () => inner.close(),
};
const fitStarted = performance.now();
const outcome = await fitOverFederation(transport, job);
const fitSeconds = (performance.now() - fitStarted) / 1000;
const report = runReport(outcome, job, (performance.now() - started) / 1000);
await writeFitOutputs(outDir, outcome, report);
await transport.close();
await pool.close();
process.stdout.write(
  `${JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    fitSeconds,
    localSeconds: ["irls", "pqn", "newton"].reduce((s, k) => s + (stepSeconds[k] ?? 0), 0),
    stepSeconds,
    threads,
    rounds: report.rounds.total,
    bytes: report.bytes.to_aggregator + report.bytes.from_aggregator,
    peakMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
