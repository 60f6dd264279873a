/**
 * DESeq2's own pooled outputs in `../shared/data/<dataset>/deseq2/`, as columns by name.
 */
import { readCsv } from "../../src/io/csv.js";
import { sharedPath } from "./shared.js";

/** A DESeq2 output table: its rows' first column (ids), and numeric columns by name (NA → NaN). */
export interface Deseq2Table {
  readonly ids: string[];
  /** The column names. */
  readonly header: string[];
  /** A column as numbers ("NA" and empty cells become NaN; TRUE/FALSE become 1/0). */
  numbers(name: string): Float64Array;
}

/** Read `<folder>/<file>` of a shared dataset (`deseq2/` by default; `deseq2_more/`, gzipped). */
export function deseq2Table(dataset: string, file: string, folder = "deseq2"): Deseq2Table {
  const table = readCsv(sharedPath("data", dataset, folder, file));
  const ids = table.rows.map((r) => r.fields[0]);
  return {
    ids,
    header: table.header,
    numbers(name: string): Float64Array {
      const k = table.header.indexOf(name);
      if (k < 0) throw new Error(`${table.file}: no column ${name}`);
      return Float64Array.from(table.rows, (r) => {
        const v = r.fields[k];
        if (v === "TRUE") return 1;
        if (v === "FALSE") return 0;
        return v === "NA" || v === "" ? Number.NaN : Number(v);
      });
    },
  };
}
