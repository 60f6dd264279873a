/**
 * Optional per-sample and per-gene inputs that replace what fedseq would otherwise
 * estimate: size factors, dispersions, and gene lists. Other columns of these files are
 * ignored, so DESeq2 exports such as `deseq2/fit.csv` can be used directly.
 */
import { readFileSync } from "node:fs";
import { parseNumeric } from "../core/numbers.js";
import { checkUtf8, decimalPointText, readCsv, requireColumn } from "./csv.js";
import { InputError, listForMessage, quote, unreadableFile } from "./errors.js";

/**
 * Read size factors (columns `sample,size_factor`; other columns and rows of other samples
 * are ignored), in the order of `samples`.
 * @throws InputError naming the line or sample when a sample has no row or two rows, or
 *   when a size factor is not a finite positive number
 */
export function readSizeFactors(file: string, samples: readonly string[]): Float64Array {
  const table = readCsv(file);
  const sampleColumn = requireColumn(file, table.header, "sample");
  const valueColumn = requireColumn(file, table.header, "size_factor");
  const indexOf = new Map(samples.map((s, i) => [s, i]));
  const lineOf = new Map<string, number>();
  const result = new Float64Array(samples.length).fill(Number.NaN);
  for (const { fields, line } of table.rows) {
    const sample = fields[sampleColumn];
    const previous = lineOf.get(sample);
    if (previous !== undefined) {
      throw new InputError(
        `${file}: line ${line}: sample ${quote(sample)} is listed twice (also on line ${previous})`,
      );
    }
    lineOf.set(sample, line);
    const i = indexOf.get(sample);
    if (i === undefined) continue;
    const text = fields[valueColumn];
    const value = parseNumeric(decimalPointText(table.delimiter, text));
    if (value === undefined || !Number.isFinite(value) || value <= 0) {
      throw new InputError(
        `${file}: line ${line} (sample ${sample}): size factor ${quote(text)} is not a finite positive number`,
      );
    }
    result[i] = value;
  }
  const missing = samples.filter((s) => !lineOf.has(s));
  if (missing.length > 0) {
    throw new InputError(
      `${file}: no size factor for sample${missing.length > 1 ? "s" : ""} ${listForMessage(missing.map((s) => quote(s)))}`,
    );
  }
  return result;
}

/**
 * Read dispersions (columns `gene,dispersion`; other columns and rows of other genes are
 * ignored; rows in any order), in the order of `genes`.
 *
 * A gene may lack a usable value (no row, an empty field, `NA`, a non-finite or
 * non-positive number: DESeq2 writes `NA` for all-zero genes): its entry is NaN, which is
 * an error only when `needed(g)` is true.
 * @param needed - whether gene g (index into `genes`) must have a dispersion
 * @throws InputError naming the first gene that needs a dispersion and has none (and how
 *   many more), a gene listed twice, or a field that is not a number at all
 */
export function readDispersions(
  file: string,
  genes: readonly string[],
  needed: (g: number) => boolean,
): Float64Array {
  const table = readCsv(file);
  const geneColumn = requireColumn(file, table.header, "gene");
  const valueColumn = requireColumn(file, table.header, "dispersion");
  const indexOf = new Map(genes.map((gene, g) => [gene, g]));
  const lineOf = new Int32Array(genes.length);
  const seen = new Map<string, number>();
  const result = new Float64Array(genes.length).fill(Number.NaN);
  for (const { fields, line } of table.rows) {
    const gene = fields[geneColumn];
    const previous = seen.get(gene);
    if (previous !== undefined) {
      throw new InputError(
        `${file}: line ${line}: gene ${quote(gene)} is listed twice (also on line ${previous})`,
      );
    }
    seen.set(gene, line);
    const g = indexOf.get(gene);
    if (g === undefined) continue;
    lineOf[g] = line;
    const text = fields[valueColumn];
    const value = parseNumeric(decimalPointText(table.delimiter, text));
    if (value === undefined) {
      throw new InputError(
        `${file}: line ${line} (gene ${gene}): dispersion ${quote(text)} is not a number`,
      );
    }
    if (Number.isFinite(value) && value > 0) result[g] = value;
  }
  const unusable: number[] = [];
  for (let g = 0; g < genes.length; g++) {
    if (Number.isNaN(result[g]) && needed(g)) unusable.push(g);
  }
  if (unusable.length > 0) {
    const g = unusable[0];
    const more = unusable.length > 1 ? ` (and ${unusable.length - 1} more genes)` : "";
    if (lineOf[g] === 0) {
      throw new InputError(`${file}: no dispersion for gene ${quote(genes[g])}${more}`);
    }
    const text = table.rows.find((row) => row.line === lineOf[g])!.fields[valueColumn];
    throw new InputError(
      `${file}: line ${lineOf[g]} (gene ${genes[g]}): dispersion ${quote(text)} is not a finite positive number, and this gene needs one${more}`,
    );
  }
  return result;
}

/**
 * Read a list of gene ids: one per line; blank lines, spaces around ids and a first line
 * reading `gene` (a header) are ignored; a UTF-8 byte-order mark and CRLF are accepted.
 * @throws InputError when the file cannot be read, lists no gene, lists a gene twice, or has
 *   a line with a comma (a CSV with several columns)
 */
export function readGeneList(file: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw unreadableFile(file, error);
  }
  checkUtf8(file, bytes);
  let text = bytes.toString("utf8");
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const genes: string[] = [];
  const lineOf = new Map<string, number>();
  let first = true;
  text.split(/\r?\n|\r/).forEach((raw, k) => {
    const id = raw.trim();
    const line = k + 1;
    if (id === "") return;
    const isHeader = first && id === "gene";
    first = false;
    if (isHeader) return;
    if (id.includes(",")) {
      throw new InputError(
        `${file}: line ${line}: ${quote(id)} contains a comma (expected one gene id per line)`,
      );
    }
    const previous = lineOf.get(id);
    if (previous !== undefined) {
      throw new InputError(
        `${file}: line ${line}: gene ${quote(id)} is listed twice (also on line ${previous})`,
      );
    }
    lineOf.set(id, line);
    genes.push(id);
  });
  if (genes.length === 0) throw new InputError(`${file}: no gene ids (expected one per line)`);
  return genes;
}
