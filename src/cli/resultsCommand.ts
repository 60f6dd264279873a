/**
 * `fedseq results --from OUTDIR`: DESeq2's `results()` for another contrast, from the fit a run
 * saved (`saved_fit.json`), without contacting any center; writes `results.csv` (what a run
 * with that contrast writes) and `report.html`.
 */
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { InputError } from "../core/errors.js";
import { writeResultsCsv } from "../pipeline/run.js";
import { checkTest } from "../pipeline/runOptions.js";
import {
  readSavedFit,
  resultsFromSavedFit,
  SAVED_FIT_FILE,
  SAVED_FIT_FILE_V1,
  type SavedFit,
} from "../pipeline/savedFit.js";
import type { ReportInput } from "../reports/html.js";
import { ReportThread } from "../reports/reportThread.js";
import type { Contrast } from "../results/contrast.js";
import type { ResultsTable } from "../results/resultsTable.js";
import { withOutputFolder } from "./outputFolder.js";
import { contrastFromFlags, withResultsFlags } from "./runCommand.js";

interface ResultsFlags {
  from: string;
  out: string;
  contrast?: string;
  name?: string;
  contrastVector?: string;
  lfcNull: number;
  altHypothesis: "greaterAbs" | "lessAbs" | "greater" | "less";
  alpha: number;
  independentFiltering: boolean;
  test?: "Wald" | "LRT";
  quiet?: boolean;
}

async function resultsAction(flags: ResultsFlags): Promise<void> {
  const file = join(flags.from, SAVED_FIT_FILE);
  if (!existsSync(file))
    throw new InputError(
      existsSync(join(flags.from, SAVED_FIT_FILE_V1))
        ? `--from ${flags.from}: its ${SAVED_FIT_FILE_V1} was written by an earlier fedseq; run the analysis again to write ${SAVED_FIT_FILE}`
        : `--from ${flags.from}: no ${SAVED_FIT_FILE} (the output folder of a fedseq run)`,
    );
  const contrast = contrastFromFlags(flags);
  const wald = { lfcThreshold: flags.lfcNull, altHypothesis: flags.altHypothesis };
  checkTest(wald);
  // The same folder by any path (a symbolic link, ..): the run's files stay as they are.
  const real = (dir: string) => (existsSync(dir) ? realpathSync(dir) : resolve(dir));
  if (real(flags.out) === real(flags.from))
    throw new InputError("--out: another folder than --from (the run's files stay as they are)");
  const saved = readSavedFit(file);
  const lrt = flags.test === "Wald" ? null : saved.lrt;
  if (lrt !== null && (flags.lfcNull !== 0 || flags.altHypothesis !== "greaterAbs"))
    throw new InputError(
      "--lfc-null, --alt-hypothesis: the run's test is a likelihood-ratio test; they are for Wald tests (DESeq2: tests of log fold change above or below a threshold must be Wald tests)",
    );
  const { table, contrast: resolved } = resultsFromSavedFit(saved, {
    ...(contrast === undefined ? {} : { contrast }),
    ...(flags.test === undefined ? {} : { test: flags.test }),
    wald,
    alpha: flags.alpha,
    independentFiltering: flags.independentFiltering,
  });
  await withOutputFolder(flags.out, () => writeOutputs(flags, saved, lrt, table, resolved));
}

async function writeOutputs(
  flags: ResultsFlags,
  saved: SavedFit,
  lrt: SavedFit["lrt"],
  table: ResultsTable,
  resolved: Contrast,
): Promise<void> {
  const out = flags.out;
  const significant = Array.from(table.padj).filter((p) => p < flags.alpha).length;
  const input: ReportInput = {
    title: `fedseq: ${resolved.description}, from the saved fit of ${flags.from}`,
    rounds: [],
    genes: saved.genes,
    baseMean: table.baseMean,
    lfc: table.log2FoldChange,
    fitted: Array.from(table.log2FoldChange, (x) => (Number.isFinite(x) ? "irls" : null)),
    coefficient: resolved.description,
    summary: {
      design: saved.design,
      "design columns": saved.columns.join(", "),
      contrast: resolved.description,
      test:
        lrt === null
          ? "Wald"
          : `likelihood-ratio test against ${lrt.reduced} (${lrt.df} df): p-values are its; fold changes the contrast's`,
      [`genes with padj < ${flags.alpha}`]: significant,
      "genes in the input": saved.genes.length,
      "genes fitted": saved.fitted.length,
    },
    federation: {
      "computed from": `${SAVED_FIT_FILE} of ${flags.from}, without contacting any center`,
      "round trips": 0,
    },
    tests: {
      contrast: resolved.description,
      alpha: flags.alpha,
      ...table,
    },
  };
  // The report renders on its own thread while this one writes the table.
  await ReportThread.start().writeAlongside(join(out, "report.html"), input, () =>
    writeResultsCsv(join(out, "results.csv"), saved.genes, table),
  );
  if (flags.quiet !== true)
    process.stdout.write(
      `fedseq: ${resolved.description}: ${significant} of ${saved.fitted.length} genes with padj < ${flags.alpha}, from the saved fit (no round trip); results in ${out}\n`,
    );
}

/** The `results` command. */
export function resultsCommand(): Command {
  return withResultsFlags(new Command("results"))
    .description(
      "DESeq2's results() for another contrast from a finished run's saved fit (its output folder), without contacting any center: results.csv and report.html",
    )
    .requiredOption("--from <dir>", "the output folder of a fedseq run (its saved_fit.json)")
    .requiredOption("--out <dir>", "output folder for results.csv and report.html")
    .addOption(
      new Option(
        "--test <test>",
        "Wald, or LRT (default: the run's test); Wald after a run's likelihood-ratio test tests the contrast with the full model's fit, as DESeq2's results(dds, test = \"Wald\")",
      ).choices(["Wald", "LRT"]),
    )
    .option("--quiet", "print nothing when done")
    .action(resultsAction);
}
