/**
 * The table a design formula is evaluated on: the samples' annotations (`io/dataset.ts` reads
 * them from `metadata.csv`).
 */

/** Sample annotations: one value per sample for each column of `metadata.csv`. */
export interface Metadata {
  /** Column names of `metadata.csv` except `sample`, in file order (includes `center`). */
  columns: string[];
  /** For each column, its values in sample order (the order of the owning dataset's samples). */
  values: Map<string, string[]>;
  /** Sample ids, aligned with the values (for error messages). */
  samples?: string[];
  /** Where the values come from (a file path), for error messages; `metadata` when absent. */
  source?: string;
}
