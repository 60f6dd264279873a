/**
 * How a command reads a dataset's tables (`--round-counts`, `--layer`, `--strip-version`): shared
 * by the commands that read counts (run, fit-lfc, center).
 */
import type { Command } from "commander";
import type { ReadDatasetOptions } from "../io/dataset.js";
import { warn } from "./warnings.js";

/** The reading flags as commander gives them. */
export interface ReadFlags {
  roundCounts?: boolean;
  layer?: string;
  stripVersion?: boolean;
}

/** Add `--round-counts`, `--layer <name>` and `--strip-version`. */
export function withReadFlags(cmd: Command): Command {
  return cmd
    .option(
      "--round-counts",
      "round non-integer counts (e.g. tximport estimates) instead of rejecting them",
      false,
    )
    .option("--layer <name>", "for .h5ad files: read counts from this layer instead of X")
    .option(
      "--strip-version",
      "drop gene ids' version suffixes (ENSG00000141510.16 -> ENSG00000141510), e.g. when centers used different annotation releases",
      false,
    );
}

/**
 * The reading options the flags ask for; what the reader leaves out of a file (HTSeq's summary
 * rows) is printed on stderr as a warning, after `prefix`.
 */
export function readOptionsOf(flags: ReadFlags, prefix = "fedseq: "): ReadDatasetOptions {
  return {
    roundCounts: flags.roundCounts === true,
    layer: flags.layer,
    stripVersion: flags.stripVersion === true,
    onWarning: (message) => warn(message, prefix),
  };
}
