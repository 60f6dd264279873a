/**
 * Names of the columns with a fixed meaning in fedseq's dataset files (re-exported by
 * `dataset.ts`; kept apart so that every reader of a layout can use them).
 */

/** Name of the gene id column of `counts.csv`. */
export const GENE_COLUMN = "gene";
/** Name of the sample id column of `metadata.csv`. */
export const SAMPLE_COLUMN = "sample";
/** Name of the center column of `metadata.csv` (and of an `.h5ad` file's `obs`). */
export const CENTER_COLUMN = "center";
/**
 * Name of the metadata column naming each sample's HTSeq-count file (DESeq2's
 * `DESeqDataSetFromHTSeqCount` sample table, as its vignette names it): read for the counts,
 * never a metadata variable.
 */
export const FILE_NAME_COLUMN = "fileName";
