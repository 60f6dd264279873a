/**
 * Reading a dataset folder: `counts.csv` (column `gene`, then one integer column per
 * sample, genes as rows) and `metadata.csv` (column `sample`, factor columns, column
 * `center`: the institution holding the sample). Everything a user can get wrong is
 * reported as an {@link InputError} naming the file, line and column.
 *
 * The same dataset may also come as TSV, gzip-compressed or not; as one folder per center
 * (`DIR/<center>/counts.csv` and `DIR/<center>/metadata.csv`, the folder naming the
 * center); or as AnnData `.h5ad` files (one per center, or one `data.h5ad` with a `center`
 * column in `obs`). Instead of `counts.csv`, the metadata may name each sample's HTSeq-count
 * file in a `fileName` column (DESeq2's `DESeqDataSetFromHTSeqCount`; `htseq.ts`). See
 * {@link readDataset}.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fromDecimalComma, isDecimal } from "../core/numbers.js";
import type { Metadata } from "../design/metadata.js";
import { type CenterPart, poolCenters } from "./centers.js";
import { CENTER_COLUMN, FILE_NAME_COLUMN, GENE_COLUMN, SAMPLE_COLUMN } from "./columns.js";
import { CountBuffer, countReader } from "./counts.js";
import {
  type CsvTable,
  type Delimiter,
  findTable,
  idColumn,
  readCsv,
  requireColumn,
  streamCsv,
} from "./csv.js";
import type { Dataset, DatasetByCenter } from "./datasetTypes.js";
import { InputError, listForMessage, quote } from "./errors.js";
import { stripGeneVersion } from "./geneIds.js";
import { HTSEQ_SUMMARY_ROWS, readHtseqFiles, summaryRowsWarning } from "./htseq.js";

export {
  CENTER_COLUMN,
  FILE_NAME_COLUMN,
  GENE_COLUMN,
  SAMPLE_COLUMN,
} from "./columns.js";
export type { Dataset, DatasetByCenter } from "./datasetTypes.js";

/** `metadata.csv` as written, before alignment with the counts. */
export interface MetadataFile {
  /** Sample ids in file order. */
  samples: string[];
  /** Line number of each sample's row (for error messages). */
  lines: number[];
  /** The annotations, in file order (without `fileName`). */
  metadata: Metadata;
  /**
   * The `fileName` column, in file order, when the file has one: each sample's HTSeq-count file,
   * kept out of `metadata` (not a variable, and never sent: a file's name may identify).
   */
  fileNames?: string[];
}

/**
 * Note that `id` (a sample or gene id) is on `line`.
 * @throws InputError for an empty id, or one already seen (naming both lines)
 */
function recordId(
  file: string,
  line: number,
  kind: "sample" | "gene",
  id: string,
  seen: Map<string, number>,
): void {
  if (id === "") throw new InputError(`${file}: line ${line}: empty ${kind} id`);
  const previous = seen.get(id);
  if (previous !== undefined) {
    throw new InputError(
      `${file}: line ${line}: ${kind} ${quote(id)} is listed twice (also on line ${previous})`,
    );
  }
  seen.set(id, line);
}

/** Options of {@link readDataset}. */
export interface ReadDatasetOptions {
  /**
   * Round non-integer counts half to even (R's `round()`, as `DESeqDataSetFromTximport`
   * does with tximport's estimated counts) instead of rejecting them (`--round-counts`).
   */
  readonly roundCounts?: boolean;
  /** For `.h5ad` files: read the counts from `layers/NAME` instead of `X` (`--layer`). */
  readonly layer?: string;
  /** Drop gene ids' version suffixes (`ENSG00000141510.16` → `ENSG00000141510`; `--strip-version`). */
  readonly stripVersion?: boolean;
  /**
   * Told, in one line naming the file, what the reader left out of it (HTSeq's summary rows);
   * the command line prints it as a warning.
   */
  readonly onWarning?: (message: string) => void;
}

/** Options of {@link readMetadata}. */
export interface ReadMetadataOptions {
  /**
   * The center holding every sample of the file (a per-center folder's name): the file then
   * needs no `center` column (if it has one, every value must be this name), and the
   * metadata gets a `center` column with this value, last.
   */
  readonly center?: string;
  /** Told of what the reader dropped that R's `read.csv` would keep (spaces around values). */
  readonly onWarning?: (message: string) => void;
}

/** A number written with a thousands separator as a decimal-comma locale writes it (`1.200`). */
const DOT_GROUPED = /^[+-]?\d{1,3}(?:\.\d{3})+$/;

/**
 * A semicolon-separated table is a spreadsheet's CSV in a decimal-comma locale: a column whose
 * every value is a number, at least one written with a decimal comma (`20,5`), holds numbers,
 * rewritten with a decimal point (`20.5`), as R's `read.csv2` reads them. Other columns (text,
 * or numbers that all have a decimal point or none) are left as they are, but for a column of
 * numbers whose every point could be a thousands separator (`1.200`: that locale's 1200, or
 * 1.2): refused rather than read as one of them (R's read.csv2 would make the column text).
 * @throws InputError naming the file, the sample's line, the column and the value
 */
function readSemicolonNumbers(
  file: string,
  values: Map<string, string[]>,
  lines: readonly number[],
): void {
  for (const [name, column] of values) {
    if (name === CENTER_COLUMN) continue;
    const missing = (v: string) => v === "" || v === "NA";
    if (column.some((v) => v.includes(","))) {
      // Missing values ("" and NA, which the design refuses in its own words) do not make a
      // column text.
      const converted = column.map((v) => (missing(v) ? v : fromDecimalComma(v)));
      if (converted.every((v) => v !== undefined)) values.set(name, converted as string[]);
      continue;
    }
    if (!column.every((v) => missing(v) || isDecimal(v))) continue;
    // Ambiguous only when every number with a point could be a grouping (a 0.5 or a 3.75 shows
    // the column writes decimal points).
    const dotted = column.filter((v) => v.includes("."));
    const i = column.findIndex((v) => DOT_GROUPED.test(v));
    if (i >= 0 && dotted.every((v) => DOT_GROUPED.test(v))) {
      throw new InputError(
        `${file}: line ${lines[i]}, column ${name}: ${quote(column[i])} in a semicolon-separated table (a decimal-comma locale's) may be ${column[i].replaceAll(".", "")} with a thousands separator or ${column[i]}: write it without the separator, or with a decimal comma`,
      );
    }
  }
}

/**
 * Read `metadata.csv`: one row per sample, with a `sample` and a `center` column (or a
 * `center` given by `options`).
 * @throws InputError when `sample` or `center` is missing or duplicated in the header, a
 *   sample id is empty or repeated, or a center name is empty (or differs from
 *   `options.center`)
 */
export function readMetadata(file: string, options: ReadMetadataOptions = {}): MetadataFile {
  const table = readCsv(file);
  // A spreadsheet's export keeps rows it once used: a row of empty fields says nothing.
  const rows = table.rows.filter(({ fields }) => fields.some((f) => f !== ""));
  if (rows.length === 0)
    throw new InputError(`${file}: the file has a header but no data rows (only empty ones)`);
  // Beyond the first (R's write.csv puts the row names under ""), an unnamed column without a
  // value is a spreadsheet's: left out, and not a column to find the sample ids in.
  const unused = new Set(
    table.header.flatMap((name, j) =>
      name === "" && rows.every((r) => r.fields[j] === "") ? [j] : [],
    ),
  );
  const named = table.header.flatMap((_, j) => (j > 0 && unused.has(j) ? [] : [j]));
  const likelyId = named
    .map((j) => table.header[j])
    .find((c) => SAMPLE_ID_ALIASES.has(c.toLowerCase()));
  if (!table.header.includes(SAMPLE_COLUMN) && likelyId !== undefined && table.header[0] !== "")
    throw new InputError(
      `${file}: no column ${quote(SAMPLE_COLUMN)} in the header (found: ${listForMessage(
        table.header.map((h) => quote(h)),
        8,
      )}): if ${quote(likelyId)} holds the sample ids, name it ${quote(SAMPLE_COLUMN)}`,
    );
  const sampleIndex =
    named[
      idColumn(
        file,
        named.map((j) => table.header[j]),
        SAMPLE_COLUMN,
      )
    ];
  unused.delete(sampleIndex);
  const fixedCenter = options.center;
  const hasCenter = fixedCenter === undefined || table.header.includes(CENTER_COLUMN);
  if (hasCenter && !table.header.includes(CENTER_COLUMN))
    throw new InputError(
      `${file}: no column ${quote(CENTER_COLUMN)} in the header (found: ${listForMessage(
        table.header.map((h) => quote(h)),
        8,
      )}): add one naming the center that holds each sample, or put each center's tables in a folder of its own (DIR/<center>/counts.csv and metadata.csv)`,
    );
  if (hasCenter) requireColumn(file, table.header, CENTER_COLUMN);
  table.header.forEach((name, j) => {
    if (unused.has(j)) return;
    if (name === "" && j !== sampleIndex) {
      const filled = rows.find(({ fields }) => fields[j] !== "");
      throw new InputError(
        `${file}: header field ${j + 1} is empty, and line ${filled?.line} has a value there: name the column`,
      );
    }
    if (table.header.indexOf(name) !== j) {
      throw new InputError(`${file}: column ${quote(name)} appears more than once in the header`);
    }
  });
  // DESeqDataSetFromHTSeqCount's file names: read for the counts, never a variable.
  const fileNameIndex = table.header.indexOf(FILE_NAME_COLUMN);
  const columnIndices = table.header.flatMap((_, j) =>
    j === sampleIndex || j === fileNameIndex || unused.has(j) ? [] : [j],
  );
  const columns = columnIndices.map((j) => table.header[j]);

  const samples: string[] = [];
  const lines: number[] = [];
  const lineOfSample = new Map<string, number>();
  const values = new Map<string, string[]>(columns.map((c) => [c, []]));
  for (const { fields, line } of rows) {
    const sample = fields[sampleIndex];
    recordId(file, line, "sample", sample, lineOfSample);
    samples.push(sample);
    lines.push(line);
    columns.forEach((name, k) => {
      values.get(name)!.push(fields[columnIndices[k]]);
    });
  }
  if (table.delimiter === ";") readSemicolonNumbers(file, values, lines);
  const fileNames =
    fileNameIndex < 0 || fileNameIndex === sampleIndex
      ? undefined
      : rows.map(({ fields }) => fields[fileNameIndex]);
  if (!hasCenter) {
    columns.push(CENTER_COLUMN);
    values.set(CENTER_COLUMN, new Array<string>(samples.length).fill(fixedCenter as string));
  }
  values.get(CENTER_COLUMN)!.forEach((center, i) => {
    if (center === "") {
      throw new InputError(
        `${file}: line ${lines[i]} (sample ${quote(samples[i])}): empty center name`,
      );
    }
    if (fixedCenter !== undefined && center !== fixedCenter) {
      throw new InputError(
        `${file}: line ${lines[i]} (sample ${quote(samples[i])}): center ${quote(center)} is not this center's name ${quote(fixedCenter)} (its folder's name, or --name)`,
      );
    }
  });
  // Where R would read values as text: sample ids, file names, and every column not wholly
  // numbers (read.csv reads ` 5` as 5 in a column of numbers, and keeps " 5" in one of text).
  const textColumns = new Set([
    sampleIndex,
    ...(fileNameIndex < 0 ? [] : [fileNameIndex]),
    ...columnIndices.filter((j) => {
      const column = values.get(table.header[j]);
      return column === undefined || !column.every((v) => v === "" || isDecimal(v));
    }),
  ]);
  const spaced = spacedValuesWarning(table, textColumns, new Set(lines));
  if (spaced !== null) options.onWarning?.(spaced);
  return {
    samples,
    lines,
    metadata: { columns, values, samples, source: file },
    ...(fileNames === undefined ? {} : { fileNames }),
  };
}

/**
 * The warning for a metadata's values written with spaces (or tabs) around them, which the
 * reader drops, or null: R's `read.csv` keeps them in a column it reads as text (`columns`), so
 * DESeq2 would read `treated ` as a level of its own and ` s1` as another sample than `s1`. Files
 * with double quotes are left out: the reader does not report their fields ({@link CsvTable}).
 */
/** The R function a table of each delimiter is read with. */
const READER: Record<Delimiter, string> = {
  ",": "R's read.csv",
  ";": "R's read.csv2",
  "\t": "R's read.delim",
};

function spacedValuesWarning(
  table: CsvTable,
  columns: ReadonlySet<number>,
  dataLines: ReadonlySet<number>,
): string | null {
  // As written, less a line ending a file of mixed line endings leaves on its last field.
  const spaced = table.spaced
    .filter(({ line, column }) => columns.has(column) && dataLines.has(line))
    .map((field) => ({ ...field, text: field.raw.replace(/[\r\n]+$/, "") }))
    .filter(({ text }) => /^[ \t]|[ \t]$/.test(text));
  if (spaced.length === 0) return null;
  const { line, column, text } = spaced[0];
  const more = spaced.length === 1 ? "" : ` and ${spaced.length - 1} more`;
  return `${table.file}: spaces around values dropped (line ${line}, column ${quote(table.header[column])}: ${quote(text)}${more}): ${READER[table.delimiter]} keeps them, and DESeq2 would read ${quote(text)} as another value than ${quote(text.trim())}`;
}

/**
 * Column names of gene annotations that count tables often carry beside the ids (nf-core/rnaseq's
 * `gene_name`, biomaRt's `external_gene_name`, …), lower-cased: a stray of these names is named
 * as such.
 */
const GENE_ANNOTATION_COLUMNS = new Set([
  "gene_name",
  "gene_symbol",
  "symbol",
  "external_gene_name",
  "hgnc_symbol",
  "gene_biotype",
  "gene_type",
  "description",
  "chr",
  "chromosome",
  "start",
  "end",
  "strand",
  "length",
]);

/**
 * Names other tools give a metadata table's sample-id column (DESeq2's HTSeq sample table's
 * `sampleName`, nf-core's sample sheets' `sample_id`, SRA's `Run`), lower-cased: named in the
 * message when `sample` is missing.
 */
const SAMPLE_ID_ALIASES = new Set([
  "sample",
  "samplename",
  "sample_id",
  "sampleid",
  "sample_name",
  "run",
]);

/** Names other tools give a counts table's gene id column (lower-cased), named in its message. */
const GENE_ID_ALIASES = new Set([
  "gene_id",
  "geneid",
  "ensembl_gene_id",
  "gene_ids",
  "id",
  "ensembl",
]);

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
    const annotation = noMetadata.filter((s) => GENE_ANNOTATION_COLUMNS.has(s.toLowerCase()));
    throw new InputError(
      `${countsFile}: sample${noMetadata.length > 1 ? "s" : ""} ${listForMessage(noMetadata.map((s) => quote(s)))} ${noMetadata.length > 1 ? "have" : "has"} no row in ${metadataFile}${
        annotation.length === 0
          ? ""
          : ` (${listForMessage(annotation.map((s) => quote(s)))} ${annotation.length > 1 ? "look like gene annotation columns" : "looks like a gene annotation column"}: a counts table holds one gene id column and one column per sample; remove the others)`
      }`,
    );
  }
  const noCounts = metadata.filter((s) => !inCounts.has(s));
  if (noCounts.length > 0) {
    throw new InputError(
      `${metadataFile}: sample${noCounts.length > 1 ? "s" : ""} ${listForMessage(noCounts.map((s) => quote(s)))} ${noCounts.length > 1 ? "have" : "has"} no column in ${countsFile}`,
    );
  }
}

/** A counts table as read, before alignment with its metadata. */
interface CountsTable {
  genes: string[];
  samples: string[];
  /**
   * The counts of each part of the samples ({@link SampleParts}; one part, all samples, when
   * none is given), gene-major over the part's samples in `samples` order.
   */
  parts: Float64Array[];
}

/** A partition of a table's samples, by id: the counts of each part are held on their own. */
interface SampleParts {
  readonly partOf: ReadonlyMap<string, number>;
  readonly count: number;
}

/** featureCounts' annotation columns, after `Geneid`. */
const FEATURE_COUNTS_ANNOTATION = ["Chr", "Start", "End", "Strand", "Length"];

/** A header written by featureCounts: `Geneid`, its annotation columns, then one per BAM file. */
function isFeatureCountsHeader(header: readonly string[]): boolean {
  return (
    header[0] === "Geneid" && FEATURE_COUNTS_ANNOTATION.every((name, k) => header[k + 1] === name)
  );
}

/** A BAM/SAM/CRAM path's sample name: its file name without the alignment extension. */
function alignmentSampleName(path: string): string {
  const base = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  return base.replace(/\.(bam|sam|cram)$/i, "");
}

/**
 * The sample names of featureCounts' columns (BAM paths as given to it): the columns as they are
 * when they are the metadata's samples, else their file names without `.bam`.
 * @throws InputError naming the columns and the hint when neither matches the metadata
 */
function featureCountsSamples(
  countsFile: string,
  columns: readonly string[],
  metadataFile: string,
  metadataSamples: readonly string[],
): string[] {
  const known = new Set(metadataSamples);
  if (columns.every((c) => known.has(c))) return [...columns];
  const names = columns.map(alignmentSampleName);
  if (names.every((c) => known.has(c))) return names;
  const stray = names.filter((c) => !known.has(c));
  throw new InputError(
    `${countsFile}: looks like featureCounts output (Geneid, Chr, Start, End, Strand, Length, then one column per BAM file), but its sample${stray.length > 1 ? "s" : ""} ${listForMessage(stray.map((c) => quote(c)))} (BAM file names without .bam) ${stray.length > 1 ? "are" : "is"} not in ${metadataFile}: name the metadata's samples as the BAM files`,
  );
}

/**
 * Stream a counts table (CSV or TSV), checking its samples against the metadata's. Besides genes ×
 * samples with a `gene` (or empty-named, R's write.csv) id column, it reads featureCounts output
 * (a `#` command line, `Geneid`, the annotation columns, BAM paths as sample names), the samples ×
 * genes layout PyDESeq2 uses (`counts_df.to_csv()`: sample ids in the first column, the
 * metadata's; genes across), and a trailing delimiter on every line (an empty last column).
 * @throws InputError as {@link readDataset}
 */
async function readCountsTable(
  countsFile: string,
  metadataFile: string,
  metadataSamples: readonly string[],
  options: ReadDatasetOptions,
  split?: SampleParts,
): Promise<CountsTable> {
  const roundCounts = options.roundCounts === true;
  const stripVersion = options.stripVersion === true;
  const genes: string[] = [];
  /** HTSeq's summary rows met, left out. */
  const summaryRows: string[] = [];
  const lineOfGene = new Map<string, number>();
  const parts = split?.count ?? 1;
  const buffers = Array.from({ length: parts }, () => new CountBuffer());
  /** Each sample's part, and its place among the part's samples. */
  let partOfSample = new Int32Array(0);
  let placeOfSample = new Int32Array(0);
  let partSizes = new Int32Array(parts);
  const arrange = (ids: readonly string[]): void => {
    partOfSample = Int32Array.from(ids, (id) => split?.partOf.get(id) ?? 0);
    placeOfSample = new Int32Array(ids.length);
    partSizes = new Int32Array(parts);
    partOfSample.forEach((q, i) => {
      placeOfSample[i] = partSizes[q]++;
    });
  };
  let samples: string[] = [];
  let sampleColumns: number[] = [];
  let geneIndex = 0;
  /** Samples × genes (PyDESeq2's layout): the rows are samples, kept until the end. */
  let bySample: { sample: string; line: number; values: Float64Array }[] | null = null;
  const knownSamples = new Set(metadataSamples);
  /** The header's columns when it ends with an empty one (a trailing delimiter), else -1. */
  let trailing = -1;
  /** The header's names, for the genes × samples message when the first row is no sample. */
  let headerNames: string[] = [];

  /** One count of the file, checked; `where` names it in a message. */
  const count = countReader(countsFile, roundCounts);

  await streamCsv(countsFile, {
    header(header, rowsAtMost) {
      // A delimiter at the end of every line leaves an empty last column.
      const width =
        header.length > 2 && header[header.length - 1] === "" ? header.length - 1 : header.length;
      if (width < header.length) trailing = width;
      const named = header.slice(0, width);
      headerNames = named;
      if (isFeatureCountsHeader(named)) {
        geneIndex = 0;
        sampleColumns = named.flatMap((_, j) => (j > FEATURE_COUNTS_ANNOTATION.length ? [j] : []));
        samples = featureCountsSamples(
          countsFile,
          sampleColumns.map((j) => named[j]),
          metadataFile,
          metadataSamples,
        );
      } else if (
        named.length > 1 &&
        !named.slice(1).some((c) => knownSamples.has(c)) &&
        named[0] !== GENE_COLUMN
      ) {
        // No column is a sample: the samples × genes layout, whose first column is the samples'.
        bySample = [];
        geneIndex = 0;
        sampleColumns = named.flatMap((_, j) => (j === 0 ? [] : [j]));
        for (const [k, j] of sampleColumns.entries()) {
          const gene = stripVersion ? stripGeneVersion(named[j]) : named[j];
          if (gene === "") throw new InputError(`${countsFile}: header field ${j + 1} is empty`);
          recordId(countsFile, 1, "gene", gene, lineOfGene);
          genes.push(gene);
          if (genes.length !== k + 1) throw new Error("gene list out of step");
        }
        return;
      } else {
        const likelyId = named.find((c) => GENE_ID_ALIASES.has(c.toLowerCase()));
        if (!named.includes(GENE_COLUMN) && likelyId !== undefined && named[0] !== "")
          throw new InputError(
            `${countsFile}: no column ${quote(GENE_COLUMN)} in the header (found: ${listForMessage(
              named.map((c) => quote(c)),
              8,
            )}): if ${quote(likelyId)} holds the gene ids, name it ${quote(GENE_COLUMN)}`,
          );
        geneIndex = idColumn(countsFile, named, GENE_COLUMN);
        sampleColumns = named.flatMap((_, j) => (j === geneIndex ? [] : [j]));
        samples = sampleColumns.map((j) => named[j]);
      }
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
      checkSameSamples(countsFile, samples, metadataFile, metadataSamples);
      arrange(samples);
      if (rowsAtMost !== undefined) {
        for (let q = 0; q < parts; q++) buffers[q].expect(rowsAtMost * partSizes[q]);
      }
    },
    row(fields, line) {
      // A row of empty fields (a spreadsheet's export keeps rows it once used) says nothing.
      if (fields[0] === "" && fields.every((f) => f === "")) return;
      if (trailing >= 0 && fields[trailing] !== "")
        throw new InputError(
          `${countsFile}: line ${line} has a value in the header's empty last column`,
        );
      if (bySample !== null) {
        const sample = fields[0];
        if (bySample.length === 0 && !knownSamples.has(sample)) {
          // Not samples × genes after all: report the header's samples as genes × samples would.
          checkSameSamples(countsFile, headerNames.slice(1), metadataFile, metadataSamples);
        }
        const values = new Float64Array(sampleColumns.length);
        sampleColumns.forEach((j, g) => {
          values[g] = count(fields[j], () => `line ${line} (sample ${sample}), gene ${genes[g]}`);
        });
        bySample.push({ sample, line, values });
        return;
      }
      const gene = stripVersion ? stripGeneVersion(fields[geneIndex]) : fields[geneIndex];
      if (HTSEQ_SUMMARY_ROWS.has(gene)) {
        summaryRows.push(gene);
        return;
      }
      recordId(countsFile, line, "gene", gene, lineOfGene);
      genes.push(gene);
      for (let q = 0; q < parts; q++) buffers[q].reserve(partSizes[q]);
      const n = sampleColumns.length;
      for (let i = 0; i < n; i++)
        buffers[partOfSample[i]].set(
          placeOfSample[i],
          count(
            fields[sampleColumns[i]],
            () => `line ${line} (gene ${gene}), column ${samples[i]}`,
          ),
        );
      for (let q = 0; q < parts; q++) buffers[q].length += partSizes[q];
    },
  });
  if (genes.length === 0 && bySample === null)
    throw new InputError(
      `${countsFile}: no gene rows (${summaryRows.length > 0 ? "only HTSeq's summary rows" : "only empty ones"})`,
    );
  if (summaryRows.length > 0) options.onWarning?.(summaryRowsWarning(countsFile, summaryRows));
  const rows = bySample as { sample: string; line: number; values: Float64Array }[] | null;
  if (rows === null) return { genes, samples, parts: buffers.map((b) => b.result()) };
  // Samples × genes: check the samples, then hold the counts gene-major as every reader does.
  const lineOfSample = new Map<string, number>();
  for (const r of rows) recordId(countsFile, r.line, "sample", r.sample, lineOfSample);
  const sampleIds = rows.map((r) => r.sample);
  checkSameSamples(countsFile, sampleIds, metadataFile, metadataSamples);
  arrange(sampleIds);
  // In shared memory, as CountBuffer's: a center's worker pool reads them without a copy.
  const counts = Array.from(
    partSizes,
    (size) => new Float64Array(new SharedArrayBuffer(genes.length * size * 8)),
  );
  rows.forEach((r, i) => {
    const part = counts[partOfSample[i]];
    const size = partSizes[partOfSample[i]];
    const place = placeOfSample[i];
    for (let g = 0; g < genes.length; g++) part[g * size + place] = r.values[g];
  });
  return { genes, samples: sampleIds, parts: counts };
}

/** Metadata in file order, reordered to follow `samples` (same ids, checked before). */
function alignMetadata(meta: MetadataFile, samples: string[]): Map<string, string[]> {
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
  return values;
}

/**
 * A folder with `counts.*` and `metadata.*`, or with `metadata.*` alone naming each sample's
 * HTSeq-count file in a `fileName` column (`center` given for a per-center folder).
 */
async function readTableFolder(
  dir: string,
  options: ReadDatasetOptions,
  center?: string,
  split?: (meta: MetadataFile) => SampleParts,
): Promise<CountsAndMetadata> {
  const metadataFile = findTable(dir, "metadata") ?? missingTable(dir, "metadata");
  const countsFile = findTable(dir, "counts");
  return readTableFiles(countsFile, metadataFile, options, center, split);
}

/**
 * The counts of the HTSeq-count files a metadata table names (its `fileName` column, relative to
 * the table's folder), one per sample, as a counts table's: the metadata's samples in its order.
 * @throws InputError as {@link readHtseqFiles}
 */
async function readHtseqTable(
  metadataFile: string,
  meta: MetadataFile,
  fileNames: readonly string[],
  options: ReadDatasetOptions,
  split?: SampleParts,
): Promise<CountsTable> {
  const samples = meta.samples.map((sample, i) => ({
    sample,
    fileName: fileNames[i],
    line: meta.lines[i],
  }));
  const { genes, parts } = await readHtseqFiles(
    metadataFile,
    dirname(metadataFile),
    samples,
    options,
    meta.samples.map((id) => split?.partOf.get(id) ?? 0),
    split?.count ?? 1,
  );
  return { genes, samples: meta.samples.slice(), parts };
}

/**
 * Whether a folder holds layout 1's tables: a counts table, or a metadata table whose `fileName`
 * column names each sample's HTSeq-count file.
 */
function holdsTables(dir: string): boolean {
  if (findTable(dir, "counts") !== undefined) return true;
  const metadata = findTable(dir, "metadata");
  if (metadata === undefined) return false;
  try {
    return readCsv(metadata).header.includes(FILE_NAME_COLUMN);
  } catch {
    return false; // read again, and reported, as the layout it is taken for
  }
}

/**
 * The error for a folder without its table `base` (`counts`, `metadata`): the file it looked
 * for, and the file of another name it found instead (featureCounts' `counts.txt`), if any.
 */
function missingTable(dir: string, base: string): never {
  const other = entries(dir).find(
    (f) => f.toLowerCase().startsWith(`${base}.`) && !isDirectory(join(dir, f)),
  );
  throw new InputError(
    `cannot read ${join(dir, `${base}.csv`)}: no such file${
      other === undefined
        ? ""
        : `; ${dir} holds ${quote(other)}: a ${base} table is named ${base}.csv, ${base}.csv.gz, ${base}.tsv or ${base}.tsv.gz (comma, tab or semicolon inside, whatever the name): rename it`
    }`,
  );
}

/**
 * The error for a folder with neither a counts table nor a `fileName` column, naming a column
 * that looks like one spelt otherwise (`filename`, `file_name`).
 */
function missingCounts(metadataFile: string, meta: MetadataFile): never {
  const spelt = meta.metadata.columns.find(
    (c) => c.toLowerCase().replace(/[_ .-]/g, "") === FILE_NAME_COLUMN.toLowerCase(),
  );
  if (spelt === undefined) missingTable(dirname(metadataFile), "counts");
  throw new InputError(
    `cannot read ${join(dirname(metadataFile), "counts.csv")}: no such file; ${metadataFile} has a column ${quote(spelt)}: to read each sample's HTSeq-count file from it, name it ${quote(FILE_NAME_COLUMN)}`,
  );
}

/**
 * An `.h5ad` file, its gene ids without version suffixes when asked.
 * @throws InputError when two ids of the file are one gene's versions
 */
async function readAnnData(file: string, options: ReadDatasetOptions) {
  // HDF5 (h5wasm, WebAssembly) loads only when an .h5ad file is read: every process reading
  // data (each center) starts without it.
  const { readH5ad } = await import("./h5ad.js");
  const t = await readH5ad(file, { layer: options.layer, roundCounts: options.roundCounts });
  if (options.stripVersion !== true) return t;
  const seen = new Map<string, string>();
  const genes = t.genes.map((id) => {
    const gene = stripGeneVersion(id);
    const before = seen.get(gene);
    if (before !== undefined)
      throw new InputError(
        `${file}: var ids ${quote(before)} and ${quote(id)} are one gene once their version is stripped`,
      );
    seen.set(gene, id);
    return gene;
  });
  return { ...t, genes };
}

/** A counts table, and its metadata aligned with the table's samples. */
interface CountsAndMetadata {
  readonly table: CountsTable;
  readonly metadata: Metadata;
  /** Where the counts come from (for messages). */
  readonly countsSource: string;
}

/**
 * A counts table and its metadata table (`center` given when the files hold one center); without
 * a counts table, the HTSeq-count files the metadata's `fileName` column names. With both, the
 * table is read and the column left out, with a warning.
 * @throws InputError as {@link readDataset}; without a counts table nor a `fileName` column,
 *   the error for the missing counts table
 */
async function readTableFiles(
  countsFile: string | undefined,
  metadataFile: string,
  options: ReadDatasetOptions,
  center?: string,
  split?: (meta: MetadataFile) => SampleParts,
): Promise<CountsAndMetadata> {
  const meta = readMetadata(metadataFile, { center, onWarning: options.onWarning });
  let table: CountsTable;
  let countsSource: string;
  if (countsFile === undefined) {
    const fileNames = meta.fileNames ?? missingCounts(metadataFile, meta);
    table = await readHtseqTable(metadataFile, meta, fileNames, options, split?.(meta));
    countsSource = `${metadataFile} (the HTSeq-count files of its column ${FILE_NAME_COLUMN})`;
  } else {
    if (meta.fileNames !== undefined)
      options.onWarning?.(
        `${metadataFile}: column ${FILE_NAME_COLUMN} (HTSeq-count files) is not read: the counts come from ${countsFile}, and the column is left out of the metadata`,
      );
    table = await readCountsTable(countsFile, metadataFile, meta.samples, options, split?.(meta));
    countsSource = countsFile;
  }
  const metadata = {
    columns: meta.metadata.columns,
    values: alignMetadata(meta, table.samples),
    samples: table.samples,
    source: meta.metadata.source,
  };
  return { table, metadata, countsSource };
}

/** Entries of a folder (names), or none when it cannot be listed. */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Name of the `.h5ad` file holding every center (with a `center` column in `obs`). */
const POOLED_H5AD = "data.h5ad";

/** `dir/*.h5ad` as a dataset: one file per center, or one `data.h5ad`. */
async function readH5adFolder(
  dir: string,
  files: string[],
  options: ReadDatasetOptions,
): Promise<Dataset> {
  if (files.includes(POOLED_H5AD)) {
    if (files.length > 1) {
      throw new InputError(
        `${dir}: ${POOLED_H5AD} holds every center, but there are other .h5ad files beside it (${listForMessage(files.filter((f) => f !== POOLED_H5AD))}); keep either ${POOLED_H5AD} or one <center>.h5ad per center`,
      );
    }
    const file = join(dir, POOLED_H5AD);
    const t = await readAnnData(file, options);
    const centerOfSample = t.values.get(CENTER_COLUMN);
    if (centerOfSample === undefined) {
      throw new InputError(
        `${file}: obs has no column ${quote(CENTER_COLUMN)} (found: ${listForMessage(
          t.columns.map((c) => quote(c)),
          8,
        )}); a single ${POOLED_H5AD} must say which center holds each sample, or write one <center>.h5ad per center`,
      );
    }
    centerOfSample.forEach((center, i) => {
      if (center === "") {
        throw new InputError(
          `${file}: obs ${quote(CENTER_COLUMN)} of sample ${quote(t.samples[i])} is empty`,
        );
      }
    });
    return {
      genes: t.genes,
      samples: t.samples,
      counts: t.counts,
      metadata: {
        columns: t.columns,
        values: t.values,
        samples: t.samples,
        source: `${file} (obs)`,
      },
      centerOfSample,
      centers: [...new Set(centerOfSample)].sort(),
    };
  }
  const parts: CenterPart[] = [];
  for (const name of files) {
    const center = name.slice(0, -".h5ad".length);
    const file = join(dir, name);
    const t = await readAnnData(file, options);
    const columns = t.columns.slice();
    const values = new Map(t.values);
    const given = values.get(CENTER_COLUMN);
    if (given === undefined) {
      columns.push(CENTER_COLUMN);
      values.set(CENTER_COLUMN, new Array<string>(t.samples.length).fill(center));
    } else {
      const i = given.findIndex((c) => c !== center);
      if (i >= 0) {
        throw new InputError(
          `${file}: obs ${quote(CENTER_COLUMN)} of sample ${quote(t.samples[i])} is ${quote(given[i])}, but the file's name says center ${quote(center)}`,
        );
      }
    }
    parts.push({
      center,
      genes: t.genes,
      samples: t.samples,
      counts: t.counts,
      columns,
      values,
      countsSource: file,
      metadataSource: `${file} (obs)`,
    });
  }
  return poolCenters(parts, join(dir, "<center>.h5ad (obs)"));
}

/** `dir/<center>/` folders as a dataset. */
async function readCenterFolders(
  dir: string,
  centers: string[],
  options: ReadDatasetOptions,
): Promise<Dataset> {
  const parts: CenterPart[] = [];
  for (const center of centers) {
    const { table, metadata, countsSource } = await readTableFolder(
      join(dir, center),
      options,
      center,
    );
    parts.push({
      center,
      genes: table.genes,
      samples: table.samples,
      counts: table.parts[0],
      columns: metadata.columns,
      values: metadata.values,
      countsSource,
      metadataSource: metadata.source ?? join(dir, center, "metadata.csv"),
    });
  }
  const metadataName = basename(parts[0].metadataSource);
  return poolCenters(parts, join(dir, "<center>", metadataName));
}

/**
 * Beside per-center folders, a folder that is empty, holds a `counts.*` or `metadata.*` file
 * under a name the reader does not take (`counts.txt`), or holds a folder with a center's tables
 * (one level too deep), is a center missing its tables: refused,
 * where reading on would run without that center's samples (exit 0, one center short). Other
 * folders (a run's output folder, say) are not centers and are left alone.
 * @throws InputError naming the folder or the file
 */
function checkOtherFolders(
  dir: string,
  listing: readonly string[],
  centers: readonly string[],
): void {
  for (const name of listing) {
    if (name.startsWith(".") || centers.includes(name) || !isDirectory(join(dir, name))) continue;
    const inside = entries(join(dir, name)).filter((f) => !f.startsWith("."));
    const where = `beside the center folders ${listForMessage(centers)}`;
    if (inside.length === 0) {
      throw new InputError(
        `${join(dir, name)}: an empty folder ${where}: put the center's counts and metadata tables in it (counts.csv, metadata.csv), or remove it`,
      );
    }
    const misnamed = inside.find((f) => /^(counts|metadata)\./i.test(f));
    if (misnamed !== undefined) {
      throw new InputError(
        `${join(dir, name, misnamed)}: ${where}, a center's tables are named counts.csv and metadata.csv (or .csv.gz, .tsv, .tsv.gz)`,
      );
    }
    const deeper = inside.find((f) => {
      const sub = join(dir, name, f);
      return (
        isDirectory(sub) &&
        (findTable(sub, "counts") !== undefined || findTable(sub, "metadata") !== undefined)
      );
    });
    if (deeper !== undefined) {
      throw new InputError(
        `${join(dir, name, deeper)}: a center's tables one folder too deep: the centers are the folders directly in ${dir} (${listForMessage(centers)})`,
      );
    }
  }
}

/**
 * Read a dataset folder. The layouts, tried in this order:
 *
 * 1. `dir/counts.csv` and `dir/metadata.csv` (each also found as `.csv.gz`, `.tsv` or
 *    `.tsv.gz`; comma or tab and gzip are detected by content). Metadata rows may be in any
 *    order: they are aligned with the counts' sample columns by sample id. The count matrix
 *    is streamed, never held as text. Without `counts.*`, a metadata column `fileName` names
 *    each sample's HTSeq-count file (relative to the metadata's folder; samples in metadata
 *    order); the column is then no metadata variable (nor when a counts table is read: left
 *    out, with a warning).
 * 2. AnnData files: `dir/<center>.h5ad`, one per center, or a single `dir/data.h5ad` whose
 *    `obs` has a `center` column; counts from `X` or `layers/<options.layer>`.
 * 3. One folder per center: `dir/<center>/counts.csv` and `dir/<center>/metadata.csv` (as in
 *    1., HTSeq-count files too; the metadata without a `center` column: the folder names the
 *    center). Sub-folders
 *    with neither file are ignored.
 *
 * In layouts 2 and 3 genes are aligned by id (each center may order them differently; the
 * first center's order is kept), samples come center after center (centers sorted by name).
 * @throws InputError for any problem of any file: missing `gene`, `sample` or `center`
 *   column; a sample in one file but not the other; duplicate gene or sample ids (also
 *   across centers); genes missing from a center; centers whose metadata columns differ; a
 *   count that is negative, not an integer (unless `roundCounts`) or not a number; a row
 *   with a wrong number of fields; an empty or header-only file; an empty center name; a
 *   layer asked for where there is none
 */
export async function readDataset(dir: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  if (!holdsTables(dir)) {
    const listing = entries(dir);
    const h5ad = listing.filter((f) => f.endsWith(".h5ad") && !f.startsWith("."));
    if (h5ad.length > 0) return readH5adFolder(dir, h5ad, options);
    const centers = listing.filter(
      (f) =>
        !f.startsWith(".") &&
        isDirectory(join(dir, f)) &&
        (findTable(join(dir, f), "counts") !== undefined ||
          findTable(join(dir, f), "metadata") !== undefined),
    );
    if (centers.length > 0) {
      checkOtherFolders(dir, listing, centers);
      const stray = findTable(dir, "metadata");
      if (stray !== undefined) {
        throw new InputError(
          `${stray}: found beside per-center folders (${listForMessage(centers)}), which hold their own metadata; move it into the center folders or remove it`,
        );
      }
      if (options.layer !== undefined) throw layerWithoutH5ad(dir, options.layer);
      return readCenterFolders(dir, centers, options);
    }
  }
  if (options.layer !== undefined) throw layerWithoutH5ad(dir, options.layer);
  const { table, metadata } = await readTableFolder(dir, options);
  const centerOfSample = metadata.values.get(CENTER_COLUMN)!;
  const centers = [...new Set(centerOfSample)].sort();
  return {
    genes: table.genes,
    samples: table.samples,
    counts: table.parts[0],
    metadata,
    centerOfSample,
    centers,
  };
}

/**
 * A dataset as {@link readDataset} reads it, with each center's counts held on their own: a
 * counts table is read straight into the centers' arrays (never pooled); the other layouts are
 * read pooled, then cut.
 * @throws InputError as {@link readDataset}
 */
export async function readDatasetByCenter(
  dir: string,
  options: ReadDatasetOptions = {},
): Promise<DatasetByCenter> {
  if (!holdsTables(dir) || options.layer !== undefined) {
    const { counts, ...dataset } = await readDataset(dir, options);
    const centerCounts = new Map(
      dataset.centers.map((center) => {
        const samples = centerSlice(dataset, center).sampleIndices;
        return [center, countsOfSamples(counts, dataset.samples.length, samples)] as const;
      }),
    );
    return { ...dataset, centerCounts };
  }
  let centers: string[] = [];
  const { table, metadata } = await readTableFolder(dir, options, undefined, (m) => {
    // The metadata's samples by center (checked against the counts' samples as they are read).
    const centerOfRow = m.metadata.values.get(CENTER_COLUMN)!;
    centers = [...new Set(centerOfRow)].sort();
    const partOf = new Map(m.samples.map((id, k) => [id, centers.indexOf(centerOfRow[k])]));
    return { partOf, count: centers.length };
  });
  return {
    genes: table.genes,
    samples: table.samples,
    metadata,
    centerOfSample: metadata.values.get(CENTER_COLUMN)!,
    centers,
    centerCounts: new Map(centers.map((center, q) => [center, table.parts[q]])),
  };
}

/**
 * The counts of some samples (their indices, ascending) of a gene-major table of `n` samples, in
 * shared memory (where a center's worker pool reads them in place): the table itself when they
 * are all its samples (a center's own dataset is its data, not a copy), else a copy of them.
 */
export function countsOfSamples(
  counts: Float64Array,
  n: number,
  samples: readonly number[],
): Float64Array {
  if (samples.length === n && samples.every((i, j) => i === j)) return counts;
  const genes = counts.length / n;
  const m = samples.length;
  const out = new Float64Array(new SharedArrayBuffer(genes * m * 8));
  for (let g = 0; g < genes; g++) {
    for (let j = 0; j < m; j++) out[g * m + j] = counts[g * n + samples[j]];
  }
  return out;
}

/**
 * One center's own files (`fedseq center --counts FILE --metadata FILE`): the metadata needs
 * no `center` column (if it has one, every value must be `center`).
 * @throws InputError as {@link readDataset}
 */
export async function readCenterFiles(
  countsFile: string,
  metadataFile: string,
  center: string,
  options: ReadDatasetOptions = {},
): Promise<Dataset> {
  return oneCenter(await readTableFiles(countsFile, metadataFile, options, center), center);
}

/** A center's own tables as a dataset of that one center. */
function oneCenter({ table, metadata }: CountsAndMetadata, center: string): Dataset {
  return {
    genes: table.genes,
    samples: table.samples,
    counts: table.parts[0],
    metadata,
    centerOfSample: table.samples.map(() => center),
    centers: [center],
  };
}

/**
 * One center's own folder (`fedseq center --data DIR`, a metadata table without a `center`
 * column): `counts.*` and `metadata.*`, or `metadata.*` naming each sample's HTSeq-count file.
 * @throws InputError as {@link readDataset}
 */
export async function readCenterFolder(
  dir: string,
  center: string,
  options: ReadDatasetOptions = {},
): Promise<Dataset> {
  return oneCenter(await readTableFolder(dir, options, center), center);
}

/** The error for `--layer` on a dataset without `.h5ad` files. */
function layerWithoutH5ad(dir: string, layer: string): InputError {
  return new InputError(
    `--layer ${quote(layer)}: only .h5ad files have layers, and ${dir} holds count tables`,
  );
}

/**
 * The samples of one center: their indices into `dataset.samples` and their metadata (what
 * that center alone would hold).
 * @throws InputError when `center` is not one of `dataset.centers`
 */
export function centerSlice(
  dataset: Omit<Dataset, "counts">,
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
