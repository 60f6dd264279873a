/**
 * Reading a reference fit to compare with (`--compare FILE`): DESeq2's `results(dds)` table
 * (`gene`, or R's `write.csv` row names headed "", and `log2FoldChange`) or a per-coefficient
 * fit table (`gene`, `beta_log2.*` columns in design order, as `deseq2/fit.csv`).
 */
import { basename } from "node:path";
import { idColumn, readCsv } from "../io/csv.js";
import { InputError } from "../io/errors.js";

/** What the HTML report compares our fit with (e.g. DESeq2's pooled fit). */
export interface ReportReference {
  /** log2 fold changes of the report's coefficient, aligned with the outcome's genes. */
  readonly lfc: Float64Array;
  readonly label: string;
}

/** What a reference is aligned with: a fit's genes and design columns (as `FitOutcome`'s). */
export interface ReferenceTarget {
  readonly genes: readonly string[];
  readonly columns: readonly string[];
}

/**
 * The reference's log2 fold changes of the outcome's last coefficient (DESeq2's default
 * contrast), aligned with the outcome's genes (NaN where the reference has none).
 * @throws InputError when the file has neither a `log2FoldChange` column nor as many
 *   `beta_log2.*` columns as the design has coefficients
 */
export function readReferenceLfc(file: string, outcome: ReferenceTarget): ReportReference {
  const table = readCsv(file);
  // R's write.csv(as.data.frame(res)) heads the genes' column "".
  const gene = idColumn(file, table.header, "gene");
  let column = table.header.indexOf("log2FoldChange");
  if (column < 0) {
    const betas = table.header.flatMap((h, i) => (h.startsWith("beta_log2.") ? [i] : []));
    if (betas.length !== outcome.columns.length) {
      throw new InputError(
        `${file}: needs a log2FoldChange column or ${outcome.columns.length} beta_log2.* columns (one per coefficient), found ${betas.length}`,
      );
    }
    column = betas[betas.length - 1];
  }
  const values = new Map<string, number>();
  for (const row of table.rows) {
    const text = row.fields[column];
    values.set(row.fields[gene], text === "" || text === "NA" ? Number.NaN : Number(text));
  }
  return {
    lfc: Float64Array.from(outcome.genes, (g) => values.get(g) ?? Number.NaN),
    label: basename(file),
  };
}
