// One fit in its own process, so that its peak memory is its own: prints a JSON line.

import { DEFAULT_HYPERPARAMETERS } from "../dist/algorithms/hyperparameters.js";
import { fitLfc } from "../dist/index.js";

const [dataDir, design, sizeFactorsFile, dispersionsFile, solver, mode, outDir] =
  process.argv.slice(2);
const started = performance.now();
const report = await fitLfc({
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
});
process.stdout.write(
  `${JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    rounds: report.rounds.total,
    bytes: report.bytes.to_aggregator + report.bytes.from_aggregator,
    peakMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
