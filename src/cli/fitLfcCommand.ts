/**
 * `fedseq fit-lfc`: the federated log-fold-change fit with given size factors and dispersions,
 * simulated in this process on a dataset whose `center` column splits it between institutions.
 */
import { Command } from "commander";
import { fitLfc } from "../pipeline/fitLfc.js";
import { type FitFlags, fitJobFromFlags, withFitFlags } from "./fitFlags.js";
import { clearProgress, terminalProgress } from "./progress.js";

/** The `fit-lfc` command. */
export function fitLfcCommand(): Command {
  const cmd = new Command("fit-lfc")
    .description(
      "fit DESeq2's log fold changes across centers (simulated in this process), with given size factors and dispersions",
    )
    .requiredOption(
      "--data <dir>",
      "dataset folder: counts.csv and metadata.csv (with a center column)",
    );
  withFitFlags(cmd);
  cmd.addHelpText(
    "after",
    `
Example:
  fedseq fit-lfc --data data/bodymap --design "~ tissue" \\
    --size-factors data/bodymap/size_factors.csv --dispersions data/bodymap/dispersions.csv.gz --out results`,
  );
  cmd.action(async (flags: FitFlags & { data: string }) => {
    const progress = terminalProgress();
    try {
      const report = await fitLfc({ ...fitJobFromFlags(flags), dataDir: flags.data }, progress);
      clearProgress();
      process.stderr.write(
        `fedseq: fitted ${report.genes.fitted} genes in ${report.rounds.total} rounds (${report.seconds.toFixed(1)} s); results in ${flags.out}\n`,
      );
    } finally {
      clearProgress();
    }
  });
  return cmd;
}
