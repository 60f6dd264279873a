/**
 * `fedseq fit-lfc`: the federated log-fold-change fit with given size factors and dispersions,
 * simulated in this process on a dataset whose `center` column splits it between institutions.
 */

import { Command } from "commander";
import { checkFolder } from "../pipeline/runOptions.js";
import { type FitFlags, fitJobFromFlags, withFitFlags } from "./fitFlags.js";
import { withOutputFolder } from "./outputFolder.js";
import { clearProgress, terminalProgress } from "./progress.js";
import { type ReadFlags, readOptionsOf, withReadFlags } from "./readFlags.js";
import { withThreadsFlag } from "./threadsFlag.js";

/** The `fit-lfc` command. */
export function fitLfcCommand(): Command {
  const cmd = new Command("fit-lfc")
    .description(
      "fit DESeq2's log fold changes across centers (simulated in this process), with given size factors and dispersions",
    )
    .requiredOption(
      "--data <dir>",
      "dataset: a folder with counts and metadata tables (center column), per-center folders, or .h5ad files",
    );
  withReadFlags(cmd);
  cmd
    .option("--quiet", "no progress lines on stderr (warnings and the final line stay)", false)
    .option(
      "--no-secure-aggregation",
      "let the simulated centers send their sums in clear (default: masked, as in a real federation)",
    );
  withFitFlags(cmd);
  withThreadsFlag(cmd);
  cmd.addHelpText(
    "after",
    `
Example:
  fedseq fit-lfc --data data/bodymap --design "~ tissue" \\
    --size-factors data/bodymap/size_factors.csv --dispersions data/bodymap/dispersions.csv.gz --out results`,
  );
  cmd.action(
    async (
      flags: FitFlags &
        ReadFlags & {
          data: string;
          quiet?: boolean;
          threads?: number;
          secureAggregation?: boolean;
        },
    ) => {
      // Every flag is checked, and the output folder claimed, before the data is read.
      const job = fitJobFromFlags(flags);
      checkFolder("--data", flags.data);
      const read = readOptionsOf(flags);
      const report = await withOutputFolder(job.outDir, async () => {
        const { fitLfc } = await import("../pipeline/fitLfc.js");
        const progress = terminalProgress(process.stderr, flags.quiet === true);
        try {
          return await fitLfc(
            {
              ...job,
              dataDir: flags.data,
              read,
              threads: flags.threads,
              secureAggregation: flags.secureAggregation !== false,
            },
            progress,
          );
        } finally {
          clearProgress();
        }
      });
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      process.stderr.write(
        `fedseq: fitted ${report.genes.fitted} genes in ${report.rounds.total} rounds (${report.seconds.toFixed(1)} s); results in ${flags.out}\n`,
      );
    },
  );
  return cmd;
}
