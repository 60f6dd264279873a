/**
 * A shared dataset restricted to some of its genes, for tests of plumbing (processes, transports,
 * restarts) whose assertions compare two runs on the same input, not a run with an outside truth.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sharedPath } from "./shared.js";
import type { TempFolder } from "./tempFiles.js";

/**
 * Write `dataset` restricted to its first `first` genes (and the genes of `also`, wherever they
 * are) under `tmp`: counts.csv with those rows in the shared file's order, metadata.csv as shared
 * (same samples, same centers). DESeq2's size factors and dispersions of the shared folder still
 * apply (sample-wise; dispersions are looked up by gene). Returns the folder.
 */
export function sharedSubset(
  tmp: TempFolder,
  dataset: string,
  first: number,
  also: readonly string[] = [],
): string {
  const source = sharedPath("data", dataset);
  const name = `${dataset}-${first}-genes${also.length > 0 ? `-and-${also.length}` : ""}`;
  const lines = readFileSync(join(source, "counts.csv"), "utf8").trimEnd().split("\n");
  const extra = new Set(also);
  const kept = lines.filter((line, i) => {
    if (i <= first) return true;
    return extra.delete(line.slice(0, line.indexOf(",")));
  });
  if (extra.size > 0) throw new Error(`${dataset}: no gene ${[...extra].join(", ")}`);
  tmp.write(`${name}/counts.csv`, `${kept.join("\n")}\n`);
  tmp.write(`${name}/metadata.csv`, readFileSync(join(source, "metadata.csv"), "utf8"));
  return join(tmp.dir, name);
}
