/**
 * A shared dataset restricted to some of its genes, for tests of plumbing (processes, transports,
 * restarts) whose assertions compare two runs on the same input, not a run with an outside truth.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { cachedRun, cacheFolder } from "./runCache.js";
import { sharedPath } from "./shared.js";
import type { TempFolder } from "./tempFiles.js";

/**
 * Write `dataset` restricted to its first `first` genes (and the genes of `also`, wherever they
 * are, among them or after them) under `tmp`: counts.csv with those rows in the shared file's order, metadata.csv as shared
 * (same samples, same centers). DESeq2's size factors and dispersions of the shared folder still
 * apply (sample-wise; dispersions are looked up by gene). Returns the folder.
 */
export function sharedSubset(
  tmp: TempFolder,
  dataset: string,
  first: number,
  also: readonly string[] = [],
): string {
  const name = `${dataset}-${first}-genes${also.length > 0 ? `-and-${also.length}` : ""}`;
  const dir = join(tmp.dir, name);
  writeSubset(dir, dataset, first, also);
  return dir;
}

/**
 * outliers_sim's 60 genes whose counts DESeq2 replaced (`deseq2/cooks.csv`), in its order: a
 * subset with them replaces and refits all 60, as the whole dataset does.
 */
export function replacedByDeseq2(): string[] {
  const rows = readFileSync(sharedPath("data", "outliers_sim", "deseq2", "cooks.csv"), "utf8")
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.split(","));
  const genes = rows.filter((r) => r[1] === "TRUE").map((r) => r[0]);
  expect(genes).toHaveLength(60);
  return genes;
}

/**
 * {@link sharedSubset} of a dataset's first `first` genes written once per `vitest run`, in the
 * run cache's folder (test/helpers/runCache.ts): the input of CLI runs several files share
 * (sharedFedseqRun), at the same path in every worker. Callers only read it.
 */
export function cachedSubset(dataset: string, first: number): Promise<string> {
  const name = `subset-${dataset}-${first}-genes`;
  return cachedRun(name, async () => {
    const dir = cacheFolder(name);
    writeSubset(dir, dataset, first, []);
    return dir;
  });
}

function writeSubset(dir: string, dataset: string, first: number, also: readonly string[]): void {
  const source = sharedPath("data", dataset);
  const lines = readFileSync(join(source, "counts.csv"), "utf8").trimEnd().split("\n");
  const extra = new Set(also);
  const kept = lines.filter((line, i) => {
    const found = extra.delete(line.slice(0, line.indexOf(",")));
    return i <= first || found;
  });
  if (extra.size > 0) throw new Error(`${dataset}: no gene ${[...extra].join(", ")}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "counts.csv"), `${kept.join("\n")}\n`);
  writeFileSync(join(dir, "metadata.csv"), readFileSync(join(source, "metadata.csv"), "utf8"));
}
