/**
 * Reading a dataset folder: `counts.csv` (column `gene`, then one integer column per
 * sample, genes as rows) and `metadata.csv` (column `sample`, factor columns, column
 * `center`: the institution holding the sample). Everything a user can get wrong is
 * reported as an {@link InputError} naming the file, line and column.
 */
import { readCsv, requireColumn, streamCsv, tablePath } from "./csv.js";
import { InputError, listForMessage, quote } from "./errors.js";
import { isDecimal, isDigits } from "./numbers.js";

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

/** A dataset as read by {@link readDataset}: all centers' samples pooled. */
export interface Dataset {
  /** Gene ids, in `counts.csv` row order. */
  genes: string[];
  /** Sample ids, in `counts.csv` column order. */
  samples: string[];
  /**
   * Counts, gene-major: gene g's counts for samples 0..n-1 are at `g * n + i`,
   * n = `samples.length`. Non-negative integers.
   */
  counts: Float64Array;
  /** Sample annotations aligned with `samples`. */
  metadata: Metadata;
  /** The center of each sample, aligned with `samples`. */
  centerOfSample: string[];
  /** The distinct centers, sorted. Each has at least one sample. */
  centers: string[];
}

/** `metadata.csv` as written, before alignment with the counts. */
export interface MetadataFile {
  /** Sample ids in file order. */
  samples: string[];
  /** Line number of each sample's row (for error messages). */
  lines: number[];
  /** The annotations, in file order. */
  metadata: Metadata;
}

/** Name of the gene id column of `counts.csv`. */
export const GENE_COLUMN = "gene";
/** Name of the sample id column of `metadata.csv`. */
export const SAMPLE_COLUMN = "sample";
/** Name of the center column of `metadata.csv`. */
export const CENTER_COLUMN = "center";

/**
 * Read `metadata.csv`: one row per sample, with a `sample` and a `center` column.
 * @throws InputError when `sample` or `center` is missing or duplicated in the header, a
 *   sample id is empty or repeated, or a center name is empty
 */
export function readMetadata(file: string): MetadataFile {
  const table = readCsv(file);
  const sampleIndex = requireColumn(file, table.header, SAMPLE_COLUMN);
  requireColumn(file, table.header, CENTER_COLUMN);
  table.header.forEach((name, j) => {
    if (name === "") throw new InputError(`${file}: header field ${j + 1} is empty`);
    if (table.header.indexOf(name) !== j) {
      throw new InputError(`${file}: column ${quote(name)} appears more than once in the header`);
    }
  });
  const columnIndices = table.header.flatMap((_, j) => (j === sampleIndex ? [] : [j]));
  const columns = columnIndices.map((j) => table.header[j]);

  const samples: string[] = [];
  const lines: number[] = [];
  const lineOfSample = new Map<string, number>();
  const values = new Map<string, string[]>(columns.map((c) => [c, []]));
  for (const { fields, line } of table.rows) {
    const sample = fields[sampleIndex];
    if (sample === "") throw new InputError(`${file}: line ${line}: empty sample id`);
    const previous = lineOfSample.get(sample);
    if (previous !== undefined) {
      throw new InputError(
        `${file}: line ${line}: sample ${quote(sample)} is listed twice (also on line ${previous})`,
      );
    }
    lineOfSample.set(sample, line);
    samples.push(sample);
    lines.push(line);
    columns.forEach((name, k) => {
      values.get(name)!.push(fields[columnIndices[k]]);
    });
  }
  values.get(CENTER_COLUMN)!.forEach((center, i) => {
    if (center === "") {
      throw new InputError(
        `${file}: line ${lines[i]} (sample ${quote(samples[i])}): empty center name`,
      );
    }
  });
  return { samples, lines, metadata: { columns, values, samples, source: file } };
}

/** Growable Float64Array holding the counts while the number of genes is unknown. */
class CountBuffer {
  private data = new Float64Array(1 << 16);
  length = 0;

  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Float64Array(size);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }

  /** Write slot `length + offset` (after {@link reserve}). */
  set(offset: number, value: number): void {
    this.data[this.length + offset] = value;
  }

  result(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * Why `text` is not a valid count, or `undefined` when it is one (a non-negative integer
 * written in decimal, possibly as `12.0` or `1e3`).
 */
function countProblem(text: string): string | undefined {
  if (text === "") return "count is missing (empty field)";
  if (text === "NA" || text === "NaN") return `count ${quote(text)} is missing`;
  if (!isDecimal(text)) return `count ${quote(text)} is not a number`;
  const value = Number(text);
  if (value < 0) return `count ${quote(text)} is negative`;
  if (!Number.isInteger(value)) {
    return `count ${quote(text)} is not an integer: counts must be integer read counts (round estimated counts first, e.g. tximport's)`;
  }
  if (value > Number.MAX_SAFE_INTEGER) return `count ${quote(text)} is too large`;
  return undefined;
}

/** Check that two sets of sample ids agree, naming the strays. */
function checkSameSamples(
  countsFile: string,
  counts: readonly string[],
  metadataFile: string,
  metadata: readonly string[],
): void {
  const inMetadata = new Set(metadata);
  const inCounts = new Set(counts);
  const noMetadata = counts.filter((s) => !inMetadata.has(s));
  if (noMetadata.length > 0) {
    throw new InputError(
      `${countsFile}: sample${noMetadata.length > 1 ? "s" : ""} ${listForMessage(noMetadata.map((s) => quote(s)))} ${noMetadata.length > 1 ? "have" : "has"} no row in ${metadataFile}`,
    );
  }
  const noCounts = metadata.filter((s) => !inCounts.has(s));
  if (noCounts.length > 0) {
    throw new InputError(
      `${metadataFile}: sample${noCounts.length > 1 ? "s" : ""} ${listForMessage(noCounts.map((s) => quote(s)))} ${noCounts.length > 1 ? "have" : "has"} no column in ${countsFile}`,
    );
  }
}

/**
 * Read a dataset folder: `dir/counts.csv` and `dir/metadata.csv`. Metadata rows may be in
 * any order: they are aligned with the counts' sample columns by sample id. The count
 * matrix is streamed, never held as text.
 * @throws InputError for any problem of either file: missing `gene`, `sample` or `center`
 *   column; a sample in one file but not the other; duplicate gene or sample ids; a count
 *   that is negative, not an integer or not a number; a row with a wrong number of fields;
 *   an empty or header-only file; an empty center name
 */
export async function readDataset(dir: string): Promise<Dataset> {
  const metadataFile = tablePath(dir, "metadata.csv");
  const countsFile = tablePath(dir, "counts.csv");
  const meta = readMetadata(metadataFile);

  const genes: string[] = [];
  const lineOfGene = new Map<string, number>();
  const buffer = new CountBuffer();
  let samples: string[] = [];
  let sampleColumns: number[] = [];
  let geneIndex = 0;

  await streamCsv(countsFile, {
    header(header) {
      geneIndex = requireColumn(countsFile, header, GENE_COLUMN);
      sampleColumns = header.flatMap((_, j) => (j === geneIndex ? [] : [j]));
      samples = sampleColumns.map((j) => header[j]);
      if (samples.length === 0) {
        throw new InputError(`${countsFile}: no sample columns besides ${quote(GENE_COLUMN)}`);
      }
      samples.forEach((sample, i) => {
        if (sample === "") {
          throw new InputError(`${countsFile}: header field ${sampleColumns[i] + 1} is empty`);
        }
        if (samples.indexOf(sample) !== i) {
          throw new InputError(
            `${countsFile}: sample column ${quote(sample)} appears more than once in the header`,
          );
        }
      });
      checkSameSamples(countsFile, samples, metadataFile, meta.samples);
    },
    row(fields, line) {
      const gene = fields[geneIndex];
      if (gene === "") throw new InputError(`${countsFile}: line ${line}: empty gene id`);
      const previous = lineOfGene.get(gene);
      if (previous !== undefined) {
        throw new InputError(
          `${countsFile}: line ${line}: gene ${quote(gene)} is listed twice (also on line ${previous})`,
        );
      }
      lineOfGene.set(gene, line);
      genes.push(gene);
      const n = sampleColumns.length;
      buffer.reserve(n);
      for (let i = 0; i < n; i++) {
        const text = fields[sampleColumns[i]];
        // Fast path: plain digits (safe integers up to 15 digits).
        if (text.length <= 15 && isDigits(text)) {
          buffer.set(i, Number(text));
          continue;
        }
        const problem = countProblem(text);
        if (problem !== undefined) {
          throw new InputError(
            `${countsFile}: line ${line} (gene ${gene}), column ${samples[i]}: ${problem}`,
          );
        }
        buffer.set(i, Number(text));
      }
      buffer.length += n;
    },
  });

  const rowOfSample = new Map(meta.samples.map((s, k) => [s, k]));
  const order = samples.map((s) => rowOfSample.get(s)!);
  const values = new Map<string, string[]>();
  for (const column of meta.metadata.columns) {
    const inFileOrder = meta.metadata.values.get(column)!;
    values.set(
      column,
      order.map((k) => inFileOrder[k]),
    );
  }
  const centerOfSample = values.get(CENTER_COLUMN)!;
  const centers = [...new Set(centerOfSample)].sort();
  return {
    genes,
    samples,
    counts: buffer.result(),
    metadata: { columns: meta.metadata.columns, values, samples, source: metadataFile },
    centerOfSample,
    centers,
  };
}

/**
 * The samples of one center: their indices into `dataset.samples` and their metadata (what
 * that center alone would hold).
 * @throws InputError when `center` is not one of `dataset.centers`
 */
export function centerSlice(
  dataset: Dataset,
  center: string,
): { sampleIndices: number[]; metadata: Metadata } {
  if (!dataset.centers.includes(center)) {
    throw new InputError(
      `unknown center ${quote(center)} (centers: ${listForMessage(dataset.centers)})`,
    );
  }
  const sampleIndices = dataset.centerOfSample.flatMap((c, i) => (c === center ? [i] : []));
  const values = new Map<string, string[]>();
  for (const [column, all] of dataset.metadata.values) {
    values.set(
      column,
      sampleIndices.map((i) => all[i]),
    );
  }
  return {
    sampleIndices,
    metadata: {
      columns: dataset.metadata.columns,
      values,
      samples: sampleIndices.map((i) => dataset.samples[i]),
      source: dataset.metadata.source,
    },
  };
}
