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

/**
 * The shared tables read so far in this worker: `../shared` is read-only (no test writes there),
 * and a worker runs file after file (vitest's `isolate: false`), so each is parsed once.
 */
const sharedTables = new Map<string, Deseq2Table>();

/**
 * Read `<folder>/<file>` of a shared dataset (`deseq2/` by default; `deseq2_more/`, gzipped),
 * parsed once per worker.
 */
export function deseq2Table(dataset: string, file: string, folder = "deseq2"): Deseq2Table {
  const path = sharedPath("data", dataset, folder, file);
  let table = sharedTables.get(path);
  if (table === undefined) {
    table = deseq2TableAt(path);
    sharedTables.set(path, table);
  }
  return table;
}

/** A DESeq2 output table at `path` (e.g. one of the tests' own R-generated fixtures). */
export function deseq2TableAt(path: string): Deseq2Table {
  const { ids, header, columns, file } = parsedTable(path);
  return {
    ids,
    header,
    // A copy per call: callers may modify what they get.
    numbers(name: string): Float64Array {
      const column = columns.get(name);
      if (column === undefined) throw new Error(`${file}: no column ${name}`);
      return column.slice();
    },
  };
}

/**
 * The ids and every column of the table at `path`, parsed now: a worker keeps each shared table
 * for the whole `vitest run` (isolate: false), and the rows (an object, an array and a string
 * slice of the file's text per cell) were most of a worker's live heap, which every full
 * collection marks (210 of 266 MB after run.deseq2.test.ts). In a function of its own so that
 * no closure of {@link deseq2TableAt} keeps the rows.
 */
function parsedTable(path: string): {
  readonly ids: string[];
  readonly header: string[];
  readonly columns: Map<string, Float64Array>;
  readonly file: string;
} {
  const table = readCsv(path);
  const header = table.header.map(ownString);
  const columns = new Map<string, Float64Array>();
  header.forEach((name, k) => {
    if (columns.has(name)) return; // a repeated name reads its first column
    columns.set(
      name,
      Float64Array.from(table.rows, (r) => {
        const v = r.fields[k];
        if (v === "TRUE") return 1;
        if (v === "FALSE") return 0;
        return v === "NA" || v === "" ? Number.NaN : Number(v);
      }),
    );
  });
  return {
    ids: table.rows.map((r) => ownString(r.fields[0])),
    header,
    columns,
    file: table.file,
  };
}

/** `text` in a string of its own (a slice of a file's text would keep all of the text alive). */
function ownString(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

/** Share of entries with |a − e| ≤ rel·|e| + abs (NaN matches NaN only). */
export function shareWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  abs = 0,
): number {
  let ok = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= rel * Math.abs(e) + abs) ok++;
  }
  return ok / expected.length;
}

/** Share of genes whose padj < 0.05 call agrees (NA is "not significant", as for DESeq2 users). */
export function callAgreement(ours: Float64Array, theirs: Float64Array): number {
  let agree = 0;
  for (let g = 0; g < theirs.length; g++) if (ours[g] < 0.05 === theirs[g] < 0.05) agree++;
  return agree / theirs.length;
}

/**
 * How a results table agrees with DESeq2's: the shares of genes whose log2FoldChange, lfcSE and
 * stat are within 1% (+1e-8) of DESeq2's, and whose padj < 0.05 call agrees.
 */
export function resultsAgreement(
  ours: {
    log2FoldChange: Float64Array;
    lfcSE: Float64Array;
    stat: Float64Array;
    padj: Float64Array;
  },
  theirs: Deseq2Table,
): { log2FoldChange: number; lfcSE: number; stat: number; padjCalls: number } {
  return {
    log2FoldChange: shareWithin(ours.log2FoldChange, theirs.numbers("log2FoldChange"), 0.01, 1e-8),
    lfcSE: shareWithin(ours.lfcSE, theirs.numbers("lfcSE"), 0.01, 1e-8),
    stat: shareWithin(ours.stat, theirs.numbers("stat"), 0.01, 1e-8),
    padjCalls: callAgreement(ours.padj, theirs.numbers("padj")),
  };
}

/** The columns of a results table that are compared with DESeq2's. */
export type ResultColumns = Record<
  "log2FoldChange" | "lfcSE" | "stat" | "pvalue" | "padj",
  Float64Array
>;

/** A results.csv (ours, read back) as {@link ResultColumns}. */
export function resultColumns(table: Deseq2Table): ResultColumns {
  return {
    log2FoldChange: table.numbers("log2FoldChange"),
    lfcSE: table.numbers("lfcSE"),
    stat: table.numbers("stat"),
    pvalue: table.numbers("pvalue"),
    padj: table.numbers("padj"),
  };
}

/**
 * {@link resultsAgreement} and the p-values' share within 1% (+1e-8), printed under `label` as
 * the measured numbers.
 */
export function resultsAgreementWithPvalues(
  label: string,
  ours: ResultColumns,
  theirs: Deseq2Table,
): Record<string, number> {
  const shares = {
    ...resultsAgreement(ours, theirs),
    pvalue: shareWithin(ours.pvalue, theirs.numbers("pvalue"), 0.01, 1e-8),
  };
  console.info(
    `${label}: ${Object.entries(shares)
      .map(([k, v]) => `${k} ${(100 * v).toFixed(3)}%`)
      .join(", ")}`,
  );
  return shares;
}

/**
 * DESeq2's natural-log coefficients (`fit.csv`'s beta_ln.* columns) of `genes`, in design order,
 * gene-major (G×p).
 * @throws when a gene has no DESeq2 fit, or the table does not have p coefficients
 */
export function deseq2Coefficients(dataset: string, genes: string[], p: number): Float64Array {
  const table = deseq2Table(dataset, "fit.csv");
  const columns = table.header.filter((h) => h.startsWith("beta_ln."));
  if (columns.length !== p)
    throw new Error(`fit.csv has ${columns.length} coefficients, expected ${p}`);
  const values = columns.map((c) => table.numbers(c));
  const rowOf = new Map(table.ids.map((id, r) => [id, r]));
  const out = new Float64Array(genes.length * p);
  genes.forEach((g, j) => {
    const r = rowOf.get(g);
    if (r === undefined) throw new Error(`no DESeq2 fit for ${g}`);
    for (let k = 0; k < p; k++) out[j * p + k] = values[k][r];
  });
  return out;
}
