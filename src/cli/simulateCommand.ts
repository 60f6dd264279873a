/**
 * `fedseq simulate`: write a synthetic RNA-seq cohort that `fit-lfc` runs on directly.
 */
import { join, resolve } from "node:path";
import { Command } from "commander";
import { InputError } from "../io/errors.js";
import { integerOption, numberOption } from "./options.js";
import { withOutputFolder } from "./outputFolder.js";

interface SimulateFlags {
  out: string;
  genes: number;
  samples: number;
  centers: number;
  seed: number;
  designLevels: number;
  deFraction: number;
}

/** A number in [0, 1]. */
function fractionOption(flag: string) {
  const parse = numberOption(flag, "non-negative");
  return (text: string): number => {
    const x = parse(text);
    if (x > 1) throw new InputError(`${flag}: must be ≤ 1, got ${text}`);
    return x;
  };
}

/** The `simulate` command. */
export function simulateCommand(): Command {
  return new Command("simulate")
    .description(
      "write a synthetic RNA-seq cohort (negative-binomial counts, known truth) in the fit-lfc layout",
    )
    .requiredOption("--out <dir>", "output folder (counts.csv, metadata.csv, truth/)")
    .requiredOption("--genes <n>", "number of genes", integerOption("--genes", 1))
    .requiredOption("--samples <n>", "number of samples", integerOption("--samples", 2))
    .requiredOption("--centers <k>", "number of centers", integerOption("--centers", 1))
    .requiredOption("--seed <s>", "seed of the random generator", integerOption("--seed", 0))
    .option(
      "--design-levels <n>",
      "condition levels A, B, … (balanced within each center)",
      integerOption("--design-levels", 2),
      2,
    )
    .option(
      "--de-fraction <x>",
      "share of differentially expressed genes",
      fractionOption("--de-fraction"),
      0.1,
    )
    .option("--json", "print a summary (genes, samples, centers, seconds) on stdout", false)
    .addHelpText(
      "after",
      "\nExample:\n  fedseq simulate --out sim --genes 20000 --samples 48 --centers 3 --seed 1",
    )
    .action(async (flags: SimulateFlags & { json?: boolean }) => {
      const out = resolve(flags.out);
      const started = performance.now();
      // Loaded only now: the samplers are heavy, and a mistake in the flags needs none of them.
      const { CONDITION_COLUMN, writeCohort } = await import("../simulate/cohort.js");
      // The folder is claimed first (created one folder at a time, proved writable, locked):
      // one line naming --out when it cannot be, as for run's.
      const summary = await withOutputFolder(flags.out, async () =>
        writeCohort(out, {
          genes: flags.genes,
          samples: flags.samples,
          centers: flags.centers,
          seed: flags.seed,
          designLevels: flags.designLevels,
          deFraction: flags.deFraction,
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const { plan } = summary;
      const de = plan.de.reduce((a, b) => a + b, 0);
      const truth = join(out, "truth");
      if (flags.json) {
        const json = {
          out,
          genes: plan.genes.length,
          samples: plan.samples.length,
          centers: plan.centers.length,
          differentially_expressed: de,
          all_zero: summary.allZeroGenes,
          seconds,
        };
        process.stdout.write(`${JSON.stringify(json)}\n`);
      }
      process.stderr.write(
        `fedseq: wrote ${plan.genes.length} genes × ${plan.samples.length} samples in ${plan.centers.length} centers ` +
          `(${de} differentially expressed, ${summary.allZeroGenes} all-zero) to ${out} (${seconds.toFixed(1)} s)\n` +
          `fit it with: fedseq fit-lfc --data ${out} --design "~ ${CONDITION_COLUMN}" ` +
          `--size-factors ${join(truth, "size_factors.csv")} --dispersions ${join(truth, "dispersions.csv")} --out OUTDIR\n`,
      );
    });
}
