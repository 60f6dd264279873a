/**
 * `fedseq demo`: a simulated three-hospital federation on the bundled BodyMap data, running
 * DESeq2's whole analysis (`fedseq run`) from the counts alone.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { DEFAULT_HYPERPARAMETERS } from "../algorithms/hyperparameters.js";
import { bundledBodymap } from "../io/bundled.js";
import { withOutputFolder } from "./outputFolder.js";
import { clearProgress, terminalProgress } from "./progress.js";
import { printRunWarnings } from "./warnings.js";

/** The `demo` command. */
export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "differential expression across three simulated hospitals on bundled real data (BodyMap 2.0)",
    )
    .option("--out <dir>", "output folder", "fedseq-demo")
    .option("--json", "print the run summary (run.json) on stdout", false)
    .addHelpText(
      "after",
      "\nExample:\n  fedseq demo --out fedseq-demo   # then open fedseq-demo/report.html",
    )
    .action(async (flags: { out: string; json?: boolean }) => {
      const data = bundledBodymap();
      if (!existsSync(data)) throw new Error(`bundled demo data missing at ${data}`);
      const out = resolve(flags.out);
      await withOutputFolder(out, () => demo(data, out, flags.json === true), "--out");
    });
}

/** The demo itself, in its claimed output folder. */
async function demo(data: string, out: string, json: boolean): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    "fedseq demo: Illumina BodyMap 2.0, 16 samples of 4 tissues held by 3 hospitals, design ~ tissue",
  );
  say(
    "  each hospital computes sums over its own samples; only per-gene aggregates travel, masked (secure aggregation)",
  );
  const { runSimulated } = await import("../pipeline/run.js");
  const progress = terminalProgress();
  const report = await runSimulated(
    {
      dataDir: data,
      design: "~ tissue",
      references: {},
      mode: "irls-pqn",
      solver: "deseq2",
      hp: DEFAULT_HYPERPARAMETERS,
      outDir: out,
      wald: { lfcThreshold: 0, altHypothesis: "greaterAbs" },
      alpha: 0.1,
      independentFiltering: true,
      compareFile: join(data, "deseq2_results.csv.gz"),
      // As `fedseq run --data`: the hospitals mask their sums (secure aggregation), and the
      // report renders on a thread of its own.
      secureAggregation: true,
      reportThread: true,
    },
    progress,
  );
  clearProgress();
  printRunWarnings(report);
  const g = report.genes;
  say(
    `  size factors, dispersions and fold changes of ${g.fitted} genes (${g.all_zero} all-zero genes reported, not fitted)`,
  );
  say(
    `  ${report.contrast}: ${report.significant} genes with an adjusted p-value below ${report.alpha}`,
  );
  say(
    `  ${report.rounds.total} round trips between the hospitals and the aggregator, ${report.seconds.toFixed(1)} s`,
  );
  say(
    `  results: ${join(out, "results.csv")} (DESeq2's columns), dispersions.csv, size_factors.csv, lfc.csv, run.json, saved_fit.json`,
  );
  say(`  report:  ${join(out, "report.html")} (open it in a browser; it needs no network)`);
  if (json) say(JSON.stringify(report));
}
