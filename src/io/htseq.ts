/**
 * HTSeq-count's output, one file per sample (`gene<TAB>count` lines, no header, gzipped or
 * not), as DESeq2's `DESeqDataSetFromHTSeqCount(sampleTable, directory, design)` reads it: a
 * data folder without a counts table whose metadata names each sample's file in a `fileName`
 * column. The files are read one after the other through the table reader's row stream
 * ({@link streamRows}) and their counts checked as a table's ({@link countReader}); every file
 * must list the same genes in the same order, as DESeq2 requires. The counts end up as a counts
 * table's: gene-major over the samples of each part (a center), in shared memory.
 */
import { realpathSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { countReader } from "./counts.js";
import { streamRows } from "./csv.js";
import { InputError, listForMessage, quote } from "./errors.js";
import { stripGeneVersion } from "./geneIds.js";

/**
 * HTSeq-count's summary rows: counts of reads in no gene, not genes. DESeq2's
 * `DESeqDataSetFromHTSeqCount` leaves them out; a matrix merged from HTSeq's files by hand still
 * holds them. (The names older HTSeq versions wrote without the underscores are left in: in
 * another table `ambiguous` could be a gene's name; in HTSeq-count's own files they are left out,
 * {@link HTSEQ_FILE_SUMMARY_ROWS}.)
 */
export const HTSEQ_SUMMARY_ROWS: ReadonlySet<string> = new Set(
  ["no_feature", "ambiguous", "too_low_aQual", "not_aligned", "alignment_not_unique"].map(
    (name) => `__${name}`,
  ),
);

/**
 * The summary rows of an HTSeq-count file: {@link HTSEQ_SUMMARY_ROWS}, and the names HTSeq-count
 * wrote without the underscores up to version 0.5.4, which DESeq2's `DESeqDataSetFromHTSeqCount`
 * leaves out too (its `oldSpecialNames`): in HTSeq-count's own output they are no genes.
 */
const HTSEQ_FILE_SUMMARY_ROWS: ReadonlySet<string> = new Set([
  ...HTSEQ_SUMMARY_ROWS,
  ...[...HTSEQ_SUMMARY_ROWS].map((name) => name.slice(2)),
]);

/** The warning for HTSeq's summary rows met in `where` (a file, or the files of a metadata). */
export function summaryRowsWarning(where: string, rows: readonly string[]): string {
  return `${where}: ${listForMessage(rows.map((g) => quote(g)))} ${rows.length > 1 ? "are HTSeq's summary rows (reads counted in no gene), not genes" : "is an HTSeq summary row (reads counted in no gene), not a gene"}: left out, as DESeq2's DESeqDataSetFromHTSeqCount leaves them out`;
}

/** One sample's HTSeq-count file, as the metadata names it. */
export interface HtseqSample {
  /** The sample id. */
  readonly sample: string;
  /** The `fileName` value: a path relative to the metadata's folder (or absolute). */
  readonly fileName: string;
  /** The metadata line naming it (for messages). */
  readonly line: number;
}

/** The options of {@link readHtseqFiles} (those of `readDataset` that apply). */
export interface HtseqOptions {
  readonly roundCounts?: boolean;
  readonly stripVersion?: boolean;
  readonly onWarning?: (message: string) => void;
}

/** The counts of HTSeq-count files: the genes, and each part's counts, gene-major. */
export interface HtseqCounts {
  readonly genes: string[];
  readonly parts: Float64Array[];
}

/**
 * The path of a sample's file: its `fileName` in the metadata's folder (`folder`).
 * @throws InputError naming the metadata file, line and sample when the name is empty or the
 *   file does not exist (or is a folder, a FIFO or a device), with the path tried
 */
function samplePath(metadataFile: string, folder: string, s: HtseqSample): string {
  const where = `${metadataFile}: line ${s.line} (sample ${quote(s.sample)})`;
  if (s.fileName === "") throw new InputError(`${where}: empty fileName`);
  const path = isAbsolute(s.fileName) ? s.fileName : join(folder, s.fileName);
  let problem: string | undefined;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) problem = "it is a folder";
    // A FIFO or a device (/dev/zero) is never read: opening one may block the process for good,
    // or reading it never end.
    else if (!stat.isFile()) problem = "not a regular file (a pipe, a device or a socket)";
  } catch {
    problem = "no such file";
  }
  if (problem !== undefined)
    throw new InputError(
      `${where}: fileName ${quote(s.fileName)}: cannot read ${path}: ${problem}`,
    );
  return path;
}

/**
 * Read the HTSeq-count files of `samples` (in that order), named by `metadataFile`.
 * @param folder - the folder holding `metadataFile`: the files' names are relative to it
 * @param partOfSample - each sample's part (a center), 0 to `partCount - 1` (all 0 by default)
 * @returns the genes (the files' shared order) and, for each part, its samples' counts
 *   gene-major in `samples` order
 * @throws InputError, in one line naming the file, line and sample: a file missing (or not a
 *   regular file, or a second sample's), a line without a gene id and a count or not as wide as
 *   the file's first gene line, a bad count, an empty gene id or a gene listed twice, a file
 *   without gene rows, and a gene not where the first file has it (naming both files)
 */
export async function readHtseqFiles(
  metadataFile: string,
  folder: string,
  samples: readonly HtseqSample[],
  options: HtseqOptions = {},
  partOfSample: readonly number[] = samples.map(() => 0),
  partCount = 1,
): Promise<HtseqCounts> {
  const roundCounts = options.roundCounts === true;
  const stripVersion = options.stripVersion === true;
  // Every file found before any is read.
  const paths = samples.map((s) => samplePath(metadataFile, folder, s));
  // One file for two samples is a copied row: the same counts twice, as two replicates (the
  // real path: a symbolic link to another sample's file is that file).
  const sampleOfPath = new Map<string, number>();
  paths.forEach((path, k) => {
    const real = realpathSync(path);
    const before = sampleOfPath.get(real);
    if (before !== undefined)
      throw new InputError(
        `${metadataFile}: line ${samples[k].line} (sample ${quote(samples[k].sample)}): fileName ${quote(samples[k].fileName)} names the file of sample ${quote(samples[before].sample)} (line ${samples[before].line}) too: each sample has its own HTSeq-count file`,
      );
    sampleOfPath.set(real, k);
  });
  const partSizes = new Array<number>(partCount).fill(0);
  const placeOfSample = partOfSample.map((q) => partSizes[q]++);

  /** The first file's genes, the line of each, and its counts (until the parts exist). */
  const genes: string[] = [];
  const geneLines: number[] = [];
  let firstCounts: number[] | null = [];
  const lineOfGene = new Map<string, number>();
  let parts: Float64Array[] = [];
  const summaryRows = new Set<string>();
  const sameOrder = "every HTSeq-count file must list the same genes in the same order";

  for (let k = 0; k < samples.length; k++) {
    const file = paths[k];
    const at = (line: number) => `${file}: line ${line} (sample ${quote(samples[k].sample)})`;
    const count = countReader(file, roundCounts, "\t");
    const part = parts[partOfSample[k]];
    const size = partSizes[partOfSample[k]];
    const place = placeOfSample[k];
    let g = 0;
    let lastLine = 0;
    let summaries = 0;
    /** The width of the file's gene lines (its first's): 2, or more with --additional-attr. */
    let width = 0;
    let widthLine = 0;
    await streamRows(file, (fields, line) => {
      // A line of spaces only says nothing.
      if (fields.every((f) => f === "")) return;
      const gene = stripVersion ? stripGeneVersion(fields[0]) : fields[0];
      // htseq-count --additional-attr writes gene id, attributes, count (its summary rows with
      // the attributes empty): the count is the last field, as DESeq2 reads it.
      if (fields.length >= 2 && HTSEQ_FILE_SUMMARY_ROWS.has(gene)) {
        summaryRows.add(gene);
        summaries++;
        return;
      }
      if (width === 0 && fields.length >= 2) {
        width = fields.length;
        widthLine = line;
      }
      if (fields.length < 2 || (fields.length !== width && width === 2))
        throw new InputError(
          `${at(line)}: ${fields.length} field${fields.length === 1 ? "" : "s"}, expected 2 (a gene id, a tab, its count: HTSeq-count's output)`,
        );
      if (fields.length !== width)
        throw new InputError(
          `${at(line)}: ${fields.length} fields, expected ${width} as on line ${widthLine} (a gene id, its --additional-attr values, its count: HTSeq-count's output)`,
        );
      if (gene === "") throw new InputError(`${at(line)}: empty gene id`);
      const value = count(
        fields[width - 1],
        () => `line ${line} (sample ${quote(samples[k].sample)}, gene ${gene})`,
      );
      if (k === 0) {
        const before = lineOfGene.get(gene);
        if (before !== undefined)
          throw new InputError(
            `${at(line)}: gene ${quote(gene)} is listed twice (also on line ${before})`,
          );
        lineOfGene.set(gene, line);
        genes.push(gene);
        geneLines.push(line);
        (firstCounts as number[]).push(value);
      } else {
        if (g >= genes.length)
          throw new InputError(
            `${at(line)}: gene ${quote(gene)}, where ${paths[0]} ends after gene ${quote(genes[g - 1])} (line ${geneLines[g - 1]}): ${sameOrder}`,
          );
        if (gene !== genes[g])
          throw new InputError(
            `${at(line)}: gene ${quote(gene)}, where ${paths[0]} has gene ${quote(genes[g])} (line ${geneLines[g]}): ${sameOrder}`,
          );
        part[g * size + place] = value;
      }
      g++;
      lastLine = line;
    });
    if (g === 0)
      throw new InputError(
        `${file} (sample ${quote(samples[k].sample)}): no gene rows (${summaries > 0 ? "only HTSeq's summary rows" : "the file is empty"})`,
      );
    if (g < genes.length)
      throw new InputError(
        `${at(lastLine)}: the file ends after gene ${quote(genes[g - 1])}, where ${paths[0]} has gene ${quote(genes[g])} next (line ${geneLines[g]}): ${sameOrder}`,
      );
    if (k === 0) {
      // The genes are known: each part's counts in shared memory, as a counts table's (a
      // center's worker pool reads them in place).
      const first = firstCounts as number[];
      parts = partSizes.map((n) => new Float64Array(new SharedArrayBuffer(genes.length * n * 8)));
      const own = parts[partOfSample[0]];
      const n = partSizes[partOfSample[0]];
      for (let i = 0; i < first.length; i++) own[i * n + placeOfSample[0]] = first[i];
      firstCounts = null;
    }
  }
  if (summaryRows.size > 0)
    options.onWarning?.(
      summaryRowsWarning(`${metadataFile} (the HTSeq-count files of its column fileName)`, [
        ...summaryRows,
      ]),
    );
  return { genes, parts };
}
