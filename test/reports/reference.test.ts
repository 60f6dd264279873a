/**
 * `--compare FILE`: DESeq2's results table as R writes it, with a `gene` column (the shared
 * datasets' deseq2/results.csv) or as `write.csv(as.data.frame(res))` does, its row names headed
 * "": the same log2 fold changes, aligned with the fit's genes (NaN for a gene it lacks).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/io/errors.js";
import { readReferenceLfc } from "../../src/reports/reference.js";
import { deseq2Table } from "../helpers/deseq2.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-reference-");

describe("readReferenceLfc", () => {
  const file = sharedPath("data", "outliers_sim", "deseq2", "results.csv");
  const expected = deseq2Table("outliers_sim", "results.csv");
  const genes = [...expected.ids.slice(0, 50), "not_a_gene"];
  const target = { genes, columns: ["Intercept", "condition_B_vs_A"] };
  const want = [...expected.numbers("log2FoldChange").slice(0, 50), Number.NaN];

  it("reads DESeq2's table with a gene column, and as R's write.csv writes it (\"\" header)", () => {
    expect(Array.from(readReferenceLfc(file, target).lfc)).toEqual(want);
    const text = readFileSync(file, "utf8");
    const rWritten = tmp.write("res.csv", `""${text.slice(text.indexOf(","))}`);
    expect(Array.from(readReferenceLfc(rWritten, target).lfc)).toEqual(want);
  });

  it("refuses a table whose ids have no column, naming the file", () => {
    const text = readFileSync(file, "utf8");
    const unnamed = tmp.write("ids.csv", `id${text.slice(text.indexOf(","))}`);
    expect(() => readReferenceLfc(unnamed, target)).toThrow(InputError);
    expect(() => readReferenceLfc(unnamed, target)).toThrow(/ids\.csv/);
  });
});
