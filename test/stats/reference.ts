/**
 * Reference values for the `src/stats` tests: R's own outputs in `fixtures/reference.json`
 * (written by `fixtures/generate.R`), and DESeq2's `results.csv` of the shared datasets.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sharedPath } from "../helpers/shared.js";

/** A JSON array of numbers where null stands for R's NA. */
export type NumList = (number | null)[];

/** The content of `fixtures/reference.json` (see generate.R for how each part is made). */
export interface Reference {
  generator: string;
  normal: { q: NumList; upper: NumList };
  padjust: { p: NumList; padj: NumList }[];
  quantile7: { x: NumList; probs: NumList; q: NumList }[];
  lowess: {
    x: NumList;
    y: NumList;
    f?: number;
    iter?: number;
    delta?: number;
    fit_x: NumList;
    fit_y: NumList;
  }[];
  qf: { p: NumList; df1: NumList; df2: NumList; q: NumList; q_beta: NumList };
  wald: {
    lfcThreshold: number;
    altHypothesis: "greaterAbs" | "lessAbs" | "greater" | "less";
    log2FoldChange: NumList;
    lfcSE: NumList;
    stat: NumList;
    pvalue: NumList;
  }[];
  log2e: number;
  filtering: (FilteringMetadata & { dataset: string })[];
  filteringSynthetic: (FilteringMetadata & {
    filter: NumList;
    pvalue: NumList;
    alpha: number;
    padj: NumList;
  })[];
}

/** What DESeq2's `pvalueAdjustment` stores in `metadata(res)`. */
export interface FilteringMetadata {
  theta: NumList;
  numRej: NumList;
  lowess: NumList;
  filterTheta: number;
  filterThreshold: number;
}

let cached: Reference | undefined;

/** The parsed fixture (read once). */
export function reference(): Reference {
  cached ??= JSON.parse(
    readFileSync(
      join(dirname(fileURLToPath(import.meta.url)), "fixtures", "reference.json"),
      "utf8",
    ),
  ) as Reference;
  return cached;
}

/** A JSON number list as a Float64Array, null → NaN. */
export function f64(values: NumList): Float64Array {
  return Float64Array.from(values, (v) => (v === null ? Number.NaN : v));
}

/** Columns of DESeq2's `results(dds)` for a shared dataset ("NA" → NaN). */
export interface Deseq2Results {
  baseMean: Float64Array;
  log2FoldChange: Float64Array;
  lfcSE: Float64Array;
  stat: Float64Array;
  pvalue: Float64Array;
  padj: Float64Array;
}

/** The datasets of `../shared/data` with a DESeq2 `results.csv`. */
export const DATASETS = ["bodymap", "li_lncap", "outliers_sim"] as const;

/** Read `../shared/data/<dataset>/deseq2/results.csv` (plain CSV: ids without commas or quotes). */
export function deseq2Results(dataset: string): Deseq2Results {
  const lines = readFileSync(sharedPath("data", dataset, "deseq2", "results.csv"), "utf8")
    .trimEnd()
    .split("\n");
  const header = lines[0].split(",");
  const column = (name: string): Float64Array => {
    const k = header.indexOf(name);
    if (k < 0) throw new Error(`${dataset} results.csv: no column ${name}`);
    const out = new Float64Array(lines.length - 1);
    for (let i = 1; i < lines.length; i++) {
      const cell = lines[i].split(",")[k];
      out[i - 1] = cell === "NA" ? Number.NaN : Number(cell);
    }
    return out;
  };
  return {
    baseMean: column("baseMean"),
    log2FoldChange: column("log2FoldChange"),
    lfcSE: column("lfcSE"),
    stat: column("stat"),
    pvalue: column("pvalue"),
    padj: column("padj"),
  };
}
