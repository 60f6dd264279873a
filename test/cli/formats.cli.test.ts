/**
 * The same numbers as CSV, TSV.gz, per-center folders and AnnData files: `fit-lfc` writes the
 * same lfc.csv from each (real data: the first 400 genes of li_lncap).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type Dataset, readDataset } from "../../src/io/dataset.js";
import { useCliHost } from "../helpers/cliHost.js";
import { h5adFromDataset, writeH5ad } from "../helpers/h5ad.js";
import { sharedFitArgs } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-formats-");
/** bin/fedseq's entry point in one host process (cliHost.ts): the same exit code, output and files. */
const hosted = useCliHost();
const GENES = 400;

function tables(
  d: Dataset,
  genes: readonly string[],
  samples: number[],
  sep: string,
  withCenter: boolean,
) {
  const n = d.samples.length;
  const row = new Map(d.genes.map((g, i) => [g, i]));
  const counts = [
    ["gene", ...samples.map((i) => d.samples[i])].join(sep),
    ...genes.map((g) =>
      [g, ...samples.map((i) => String(d.counts[(row.get(g) as number) * n + i]))].join(sep),
    ),
  ].join("\n");
  const columns = d.metadata.columns.filter((c) => withCenter || c !== "center");
  const metadata = [
    ["sample", ...columns].join(sep),
    ...samples.map((i) =>
      [d.samples[i], ...columns.map((c) => (d.metadata.values.get(c) as string[])[i])].join(sep),
    ),
  ].join("\n");
  return { counts: `${counts}\n`, metadata: `${metadata}\n` };
}

async function fitLfc(data: string, out: string): Promise<string> {
  const r = await hosted([...sharedFitArgs("li_lncap", "~ treatment", data), "--out", out]);
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(join(out, "lfc.csv"), "utf8");
}

describe("input formats end to end", () => {
  it("CSV, TSV.gz, per-center folders and .h5ad give an identical lfc.csv", async () => {
    const full = await readDataset(sharedPath("data", "li_lncap"));
    const genes = full.genes.slice(0, GENES);
    const all = full.samples.map((_, i) => i);

    const csv = tmp.subdir("csv");
    const t = tables(full, genes, all, ",", true);
    writeFileSync(join(csv, "counts.csv"), t.counts);
    writeFileSync(join(csv, "metadata.csv"), t.metadata);
    const reference = await fitLfc(csv, join(tmp.dir, "out-csv"));
    expect(reference.trimEnd().split("\n")).toHaveLength(GENES + 1);

    const tsv = tmp.subdir("tsv");
    const tt = tables(full, genes, all, "\t", true);
    writeFileSync(join(tsv, "counts.tsv.gz"), gzipSync(tt.counts));
    writeFileSync(join(tsv, "metadata.tsv.gz"), gzipSync(tt.metadata));
    expect(await fitLfc(tsv, join(tmp.dir, "out-tsv"))).toBe(reference);

    const folders = tmp.subdir("folders");
    for (const center of full.centers) {
      const own = all.filter((i) => full.centerOfSample[i] === center);
      // The second center lists its genes in reverse order: genes are aligned by id.
      const order = center === full.centers[0] ? genes : [...genes].reverse();
      const ct = tables(full, order, own, ",", false);
      mkdirSync(join(folders, center));
      writeFileSync(join(folders, center, "counts.csv"), ct.counts);
      writeFileSync(join(folders, center, "metadata.csv"), ct.metadata);
    }
    expect(await fitLfc(folders, join(tmp.dir, "out-folders"))).toBe(reference);

    const h5ad = tmp.subdir("h5ad");
    const subset: Dataset = {
      ...full,
      genes,
      counts: full.counts.slice(0, GENES * full.samples.length),
    };
    for (const [k, center] of full.centers.entries()) {
      await writeH5ad(
        join(h5ad, `${center}.h5ad`),
        h5adFromDataset(subset, {
          center,
          format: k === 0 ? "dense" : "csr",
          countType: "int32",
          categorical: ["treatment"],
        }),
      );
    }
    expect(await fitLfc(h5ad, join(tmp.dir, "out-h5ad"))).toBe(reference);
  });
});
