/**
 * `fedseq cells`: a center's own row of an analysis plan's cell sizes — how many of its samples
 * each cell of the design holds — read from its data as `fedseq center` will check it, for the
 * federation's `cells.json` (`fedseq plan --cell-sizes`, repeatable: one file per center).
 */
import { lstatSync } from "node:fs";
import { Command } from "commander";
import { localLevels } from "../design/designMatrix.js";
import { parseFormula } from "../design/formula.js";
import { localCellSizes } from "../federation/cellRule.js";
import { loadCenterData } from "../federation/centerData.js";
import { writeFileAtomic } from "../io/atomic.js";
import { InputError, unwritableFile } from "../io/errors.js";
import { checkLogFile, forOption } from "../pipeline/runOptions.js";
import {
  type CenterSourceFlags,
  centerSourceFromFlags,
  checkSource,
  withCenterSourceFlags,
} from "./centerCommand.js";

interface CellsFlags extends CenterSourceFlags {
  design: string;
  out?: string;
}

/**
 * The center's cell sizes as a plan's `cell_sizes` holds them, `{"<center>": {"<cell>": n}}`. The
 * design's factors are the variables DESeq2 reads as factors from the metadata (text columns,
 * `factor(x)`), as a center reads them under a plan: a numeric column without `factor()` is a
 * covariate, which makes no cells (and which a center refuses to take as a plan's factor).
 * @throws InputError naming the flag, file or column at fault
 */
export async function centerCellSizes(
  flags: CellsFlags,
): Promise<Record<string, Record<string, number>>> {
  const formula = forOption("--design", () => parseFormula(flags.design));
  const source = centerSourceFromFlags(flags, "cells");
  checkSource(source);
  const data = await loadCenterData(source);
  const levels = localLevels(data.metadata, formula);
  return { [data.name]: localCellSizes({ design: flags.design, levels }, data) };
}

/** Whether something is at `path`: a file, folder, device, or a link, dangling or not. */
function taken(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The `cells` command. */
export function cellsCommand(): Command {
  const cmd = new Command("cells").description(
    "print this center's samples per design cell (its row of the plan's cell sizes, fedseq plan --cell-sizes), read from its data as fedseq center checks it",
  );
  withCenterSourceFlags(cmd)
    .requiredOption("--design <formula>", 'the design formula of the plan, e.g. "~ tissue"')
    .option("--out <file>", "write the JSON to this file instead of stdout")
    .addHelpText(
      "after",
      `
Example (each center runs it on its own data and sends the file to whoever writes the plan):
  fedseq cells --data /data/rnaseq --name hospital_a --design "~ tissue" --out hospital_a.cells.json
  fedseq plan … --cell-sizes hospital_a.cells.json --cell-sizes hospital_b.cells.json …`,
    )
    .action(async (flags: CellsFlags) => {
      const out = flags.out;
      if (out !== undefined) {
        forOption("--out", () => checkLogFile("--out", out));
        // Never over a file (the center's own tables, a link, a device): the row is a new file.
        if (taken(out))
          throw new InputError(`--out ${out}: already exists (remove it first, or name another)`);
      }
      const text = `${JSON.stringify(await centerCellSizes(flags), null, 2)}\n`;
      if (out === undefined) process.stdout.write(text);
      else {
        try {
          writeFileAtomic(out, text);
        } catch (error) {
          throw unwritableFile("--out", out, error);
        }
      }
    });
  return cmd;
}
