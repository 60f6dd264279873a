/**
 * Reading and writing the CSV files fedseq exchanges with users, on top of csv-parse and
 * papaparse.
 *
 * Reading accepts a UTF-8 byte-order mark, CRLF line ends, RFC 4180 quoting and blank
 * lines, trims spaces around fields, and turns every problem into an {@link InputError}
 * naming the file and line: unreadable file, malformed quoting, empty file, header-only
 * file, a row whose number of fields differs from the header's. Tab-separated files are
 * read as well: the delimiter is detected from the header line ({@link detectDelimiter}),
 * and gzip compression from the first bytes, whatever the file's name.
 *
 * Two parsers, one result. A file without a double quote (a count matrix, a table R wrote with
 * `quote = FALSE`, DESeq2's outputs as shared) is split by papaparse, about five times faster than
 * csv-parse and with far less garbage; csv-parse reads every other file (quoting, comment
 * lines), and is the reference the fast path is tested against, field for field and line for
 * line (test/io/csv.test.ts). Without quotes, the fields are the text between delimiters and
 * line endings, trimmed as csv-parse's `trim` does, blank lines skipped as its
 * `skip_empty_lines` does.
 */
import { isUtf8 } from "node:buffer";
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { createGunzip, gunzipSync, constants as zlibConstants } from "node:zlib";
import { CsvError, type Options, parse } from "csv-parse";
import { parse as parseSync } from "csv-parse/sync";
import type PapaParse from "papaparse";
import { fromDecimalComma } from "../core/numbers.js";
import { writeFileAtomic } from "./atomic.js";
import { InputError, listForMessage, quote, unreadableFile } from "./errors.js";

// papaparse is a CommonJS module: `require` loads it as it is, where an `import` would first
// have Node's ESM loader scan its 52 KB for the names it exports (cjs-module-lexer, in
// JavaScript, not yet optimised when a process starts: about 70 ms of CPU in every `fedseq`
// process, `fedseq --version` included, 0.33 -> 0.26 s).
const Papa = createRequire(import.meta.url)("papaparse") as typeof PapaParse;

/** One data row of a CSV file. */
export interface CsvRow {
  /** The fields, as many as the header has. */
  readonly fields: string[];
  /** 1-based line number in the file (the line where the row ends; the header is line 1). */
  readonly line: number;
}

/** A whole CSV file: its header and its data rows. */
export interface CsvTable {
  /** The file, as given to {@link readCsv} (used in error messages). */
  readonly file: string;
  /** The column names of the first line. */
  readonly header: string[];
  /** The data rows, at least one. */
  readonly rows: CsvRow[];
  /**
   * The field delimiter found ({@link delimiterOfHeader}): with a semicolon, a spreadsheet's
   * CSV in a decimal-comma locale, whose numbers may be written `20,5` ({@link decimalPointText}).
   */
  readonly delimiter: Delimiter;
  /**
   * The fields, header's and rows', that had spaces (or tabs) around them, as the file wrote
   * them: known in a file without double quotes (the fast path's own trimming); empty for the
   * others.
   */
  readonly spaced: readonly SpacedField[];
}

/** A field read with spaces around it, which {@link readCsv} dropped. */
export interface SpacedField {
  /** The file's line (from 1). */
  readonly line: number;
  /** The field's column (from 0). */
  readonly column: number;
  /** The field as written, spaces included. */
  readonly raw: string;
}

/** Callbacks of {@link streamCsv}. */
export interface CsvVisitor {
  /**
   * Called once with the header, before any row; `rowsAtMost`, when known (a file without
   * quotes, whose lines were counted before reading), bounds the number of rows from above.
   */
  header(header: string[], rowsAtMost?: number): void;
  /** Called for each data row in file order; `fields` is not reused and may be kept. */
  row(fields: string[], line: number): void;
}

const PARSE_OPTIONS: Options = {
  bom: true,
  info: true,
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true,
};

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/** Checks the records of one file in order; shared by the sync and the streaming readers. */
class RecordChecker {
  private width = -1;
  private rows = 0;

  constructor(
    private readonly file: string,
    private readonly visitor: CsvVisitor,
    private readonly rowsAtMost?: number,
    /** No header: every record is a row, its width the visitor's to check ({@link streamRows}). */
    private readonly headerless = false,
  ) {}

  accept(record: string[], line: number): void {
    if (this.headerless) {
      this.visitor.row(record, line);
      return;
    }
    if (this.width < 0) {
      this.width = record.length;
      this.visitor.header(record, this.rowsAtMost);
      return;
    }
    if (record.length !== this.width) {
      throw new InputError(
        `${this.file}: line ${line} has ${record.length} field${record.length === 1 ? "" : "s"}, but the header has ${this.width}`,
      );
    }
    this.rows++;
    this.visitor.row(record, line);
  }

  finish(): void {
    if (this.headerless) return;
    if (this.width < 0) {
      throw new InputError(
        `${this.file}: the file is empty (expected a header line, then data rows)`,
      );
    }
    if (this.rows === 0)
      throw new InputError(`${this.file}: the file has a header but no data rows`);
  }
}

/** Turn a file-system or csv-parse error into an {@link InputError}; rethrow anything else. */
function toInputError(file: string, error: unknown, delimiter: Delimiter = ","): unknown {
  if (error instanceof InputError) return error;
  if (error instanceof CsvError) {
    const line = typeof error.lines === "number" ? `line ${error.lines}: ` : "";
    const what = error.message.replace(/:.*$/s, "").toLowerCase();
    const format =
      delimiter === "\t" ? "TSV" : delimiter === ";" ? "CSV (semicolon-separated)" : "CSV";
    return new InputError(`${file}: ${line}malformed ${format} (${what})`, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? unreadableFile(file, error) : error;
}

/** True when `bytes` start with the gzip magic number (compression is detected by content). */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True when the file at `file` is gzip-compressed (false when it cannot be read: the reader reports that). */
function isGzipFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && isGzip(head);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Refuses text that is not UTF-8, fed chunk by chunk (a multi-byte character may straddle two
 * chunks). Decoded leniently, a Latin-1 `contrôle` and `contrèle` both became `contr\uFFFDle`:
 * two levels merged into one, a run with exit 0 on another design than the file's. A UTF-16 LE
 * file (its byte-order mark first: Excel's "Unicode text") is left to csv-parse, which decodes
 * it; UTF-16 BE, which csv-parse does not decode, is refused as such. Lines end at LF, CRLF or a
 * lone CR (a classic Mac "CSV"), as the readers' lines do.
 */
class Utf8Check {
  /** Line breaks in the bytes checked. */
  #lines = 0;
  /** Whether the last byte checked was a CR (a CRLF across two chunks is one break). */
  #lastWasCr = false;
  /** The bytes of a character the last chunk ended inside. */
  #carry: Buffer = Buffer.alloc(0);
  #started = false;
  #off = false;

  constructor(private readonly file: string) {}

  /** @throws InputError naming the file and the first line that is not UTF-8 */
  feed(chunk: Buffer): void {
    if (this.#off || chunk.length === 0) return;
    if (!this.#started) {
      this.#started = true;
      if (chunk[0] === 0xff && chunk[1] === 0xfe) {
        this.#off = true;
        return;
      }
      if (chunk[0] === 0xfe && chunk[1] === 0xff) {
        throw new InputError(
          `${this.file}: UTF-16 big-endian text, which fedseq does not read: save the file as UTF-8`,
        );
      }
    }
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, chunk]) : chunk;
    const end = bytes.length - incompleteTail(bytes);
    const whole = bytes.subarray(0, end);
    if (!isUtf8(whole)) this.#fail(whole);
    this.#count(whole);
    this.#carry = Buffer.from(bytes.subarray(end));
  }

  /** @throws InputError when the text ends inside a character */
  finish(): void {
    if (!this.#off && this.#carry.length > 0) this.#fail(this.#carry);
  }

  /** Count the line breaks of `bytes` (CR, LF, and CRLF as one). */
  #count(bytes: Buffer): void {
    if (bytes.length === 0) return;
    let breaks = 0;
    for (let at = bytes.indexOf(CR); at >= 0; at = bytes.indexOf(CR, at + 1)) breaks++;
    for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) {
      const afterCr = at > 0 ? bytes[at - 1] === CR : this.#lastWasCr;
      if (!afterCr) breaks++;
    }
    this.#lines += breaks;
    this.#lastWasCr = bytes[bytes.length - 1] === CR;
  }

  #fail(bytes: Buffer): never {
    // The line holding the first byte that is not UTF-8: lines checked one by one.
    let line = this.#lines + 1;
    let start = 0;
    let afterCr = this.#lastWasCr;
    for (let i = 0; i <= bytes.length; i++) {
      const b = i < bytes.length ? bytes[i] : -1;
      if (b === LF && afterCr && i === start) {
        // The LF of a CRLF whose CR ended the previous line.
        start = i + 1;
        afterCr = false;
        continue;
      }
      if (b === CR || b === LF || b === -1) {
        if (!isUtf8(bytes.subarray(start, i))) break;
        if (b === -1) break;
        line++;
        start = i + 1;
        afterCr = b === CR;
      }
    }
    throw new InputError(
      `${this.file}: line ${line} is not UTF-8 text (a spreadsheet's "CSV" in a legacy encoding such as Latin-1?): save the file as UTF-8`,
    );
  }
}

/**
 * Refuse a whole file's `bytes` that are not UTF-8 text ({@link Utf8Check}).
 * @throws InputError naming the file and its first line that is not UTF-8
 */
export function checkUtf8(file: string, bytes: Buffer): void {
  const check = new Utf8Check(file);
  check.feed(bytes);
  check.finish();
}

/**
 * A number field's text as a decimal point writes it: in a semicolon-separated table (a
 * decimal-comma locale's), `405,4` is 405.4 (`fromDecimalComma`, core/numbers.ts); any other
 * text as it is.
 */
export function decimalPointText(delimiter: Delimiter, text: string): string {
  return delimiter === ";" ? (fromDecimalComma(text) ?? text) : text;
}

/**
 * How many bytes at the end of `bytes` begin a UTF-8 character that continues past them (0 when
 * the last character is whole, or the bytes are not UTF-8 there: the check then refuses them).
 */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > k ? k : 0;
  }
  return 0;
}

/** The text of a file's bytes, gunzipped when compressed. */
function decompressed(bytes: Buffer): Buffer {
  return isGzip(bytes) ? gunzipSync(bytes) : bytes;
}

/** A field delimiter fedseq reads: comma (CSV), tab (TSV) or semicolon (a spreadsheet's CSV). */
export type Delimiter = "," | "\t" | ";";

/**
 * The delimiter of a table, from its header line (the text up to the first line break
 * outside double quotes): tab when it has at least one and at least as many tabs as commas
 * and as semicolons outside quotes; semicolon when it has more semicolons than commas; comma
 * otherwise.
 */
export function delimiterOfHeader(text: string): Delimiter {
  // A comment block before the header (featureCounts' `# Program:featureCounts …` line).
  if (text.startsWith("#")) {
    let at = 0;
    while (text.startsWith("#", at)) {
      const end = text.indexOf("\n", at);
      if (end < 0) return ",";
      at = end + 1;
    }
    text = text.slice(at);
  }
  let tabs = 0;
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (quoted) continue;
    else if (c === 10 || c === 13) break;
    else if (c === 9) tabs++;
    else if (c === 44) commas++;
    else if (c === 59) semicolons++;
  }
  if (tabs > 0 && tabs >= commas && tabs >= semicolons) return "\t";
  // Spreadsheets in locales with a decimal comma save "CSV" separated by semicolons.
  if (semicolons > commas) return ";";
  return ",";
}

/**
 * csv-parse's options for a file: the common ones, the delimiter, and, when the file opens with
 * a line starting with `#` (featureCounts writes its command there), lines starting with `#` as
 * comments. Only such files: elsewhere a `#` opens a value like any other character.
 */
function parseOptions(delimiter: Delimiter, head: string): Options {
  const commented = isCommented(head);
  return {
    ...PARSE_OPTIONS,
    delimiter,
    ...(commented ? { comment: "#", comment_no_infix: true } : {}),
  };
}

/** True when a file's text (its head) opens with a `#` comment line (featureCounts). */
function isCommented(head: string): boolean {
  return head.replace(/^\uFEFF/, "").startsWith("#");
}

/** The first bytes of a file as text (inflated when compressed; "" when unreadable). */
function headText(file: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const head = Buffer.alloc(HEADER_PEEK_BYTES);
    const length = readSync(fd, head, 0, head.length, 0);
    let bytes = head.subarray(0, length);
    // Inflated, the first 64 KiB of the text: what readCsv looks at, so both readers see one
    // header line (a header longer than that is cut at the same byte).
    if (isGzip(bytes))
      bytes = gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(
        0,
        HEADER_PEEK_BYTES,
      );
    return bytes.toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Bytes read from the start of a file to find its header line. */
const HEADER_PEEK_BYTES = 1 << 16;

/**
 * The delimiter of the table in `file` (gunzipped first when compressed), detected by
 * {@link delimiterOfHeader} from at most its first 64 KiB: comma when it cannot be read
 * (the reader then reports why).
 */
export function detectDelimiter(file: string): Delimiter {
  // A prefix of a gzip stream is inflated without requiring its end (headText).
  return delimiterOfHeader(headText(file));
}

/** Suffixes under which {@link findTable} looks for a table, in order of preference. */
export const TABLE_SUFFIXES = [".csv", ".csv.gz", ".tsv", ".tsv.gz"] as const;

/**
 * The path of the table `base` (e.g. `counts`) in a folder: the first of `base.csv`,
 * `base.csv.gz`, `base.tsv`, `base.tsv.gz` that exists, or `undefined` when none does.
 * (The suffix only finds the file: delimiter and compression are detected by content.)
 */
export function findTable(dir: string, base: string): string | undefined {
  for (const suffix of TABLE_SUFFIXES) {
    const path = join(dir, `${base}${suffix}`);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/**
 * The path of a table in a folder: `name` (e.g. `counts.csv`), or `name.gz` when only the
 * compressed file exists.
 */
export function tablePath(dir: string, name: string): string {
  const plain = join(dir, name);
  if (!existsSync(plain) && existsSync(`${plain}.gz`)) return `${plain}.gz`;
  return plain;
}

/**
 * Read a whole CSV (or TSV) file into memory (for small files: metadata, size factors,
 * dispersions).
 * @throws InputError when the file cannot be read, is malformed, empty or header-only, or
 *   has a row with a wrong number of fields
 */
export function readCsv(file: string): CsvTable {
  let header: string[] = [];
  const rows: CsvRow[] = [];
  const checker = new RecordChecker(file, {
    header: (h) => {
      header = h;
    },
    row: (fields, line) => {
      rows.push({ fields, line });
    },
  });
  let delimiter: Delimiter = ",";
  const spaced: SpacedField[] = [];
  try {
    const text = decompressed(readFileSync(file));
    checkUtf8(file, text);
    const head = text.subarray(0, HEADER_PEEK_BYTES).toString("utf8");
    delimiter = delimiterOfHeader(head);
    const shape = isCommented(head) ? null : new PlainText().feed(text).shape();
    if (shape === null) {
      const records = parseSync(text, parseOptions(delimiter, head)) as unknown as ParsedRecord[];
      for (const { record, info } of records) checker.accept(record, info.lines);
    } else {
      let all = text.toString("utf8");
      if (all.charCodeAt(0) === BOM) all = all.slice(1);
      const { newline } = shape;
      const lines = new QuoteFreeLines(delimiter, newline, checker, (field) => spaced.push(field));
      const end = all.endsWith(newline) ? all.length - newline.length : all.length;
      if (end > 0) lines.parse(all.slice(0, end));
    }
    checker.finish();
  } catch (error) {
    throw toInputError(file, error, delimiter);
  }
  return { file, header, rows, delimiter, spaced };
}

/**
 * Read a CSV (or TSV) file row by row without holding its text in memory (for count
 * matrices). Exceptions thrown by the visitor stop the reading and propagate.
 * @throws InputError as {@link readCsv}
 */
export async function streamCsv(file: string, visitor: CsvVisitor): Promise<void> {
  await streamRecords(file, visitor, false);
}

/**
 * Read a file without a header line row by row, as {@link streamCsv} reads a table's rows (gzip
 * detected from the first bytes, fields trimmed, blank lines skipped, lines numbered from 1):
 * HTSeq-count's `gene<TAB>count` lines, split at tabs whatever the first line holds (a gene id
 * with commas or semicolons there made the delimiter of a table's header one of those). The
 * rows' widths are the caller's to check, and an empty file is one without rows.
 * @throws InputError when the file cannot be read or is malformed (as {@link readCsv})
 */
export async function streamRows(
  file: string,
  row: (fields: string[], line: number) => void,
): Promise<void> {
  await streamRecords(file, { header() {}, row }, true, "\t");
}

/**
 * {@link streamCsv}, or {@link streamRows} when `headerless`; the delimiter detected from the
 * header line unless given.
 */
async function streamRecords(
  file: string,
  visitor: CsvVisitor,
  headerless: boolean,
  given?: Delimiter,
): Promise<void> {
  const head = headText(file);
  const delimiter = given ?? delimiterOfHeader(head);
  const scan = isCommented(head) ? null : await scanPlainText(file);
  // Every line but the header's may be a row.
  const checker = new RecordChecker(
    file,
    visitor,
    scan === null ? undefined : scan.lines - 1,
    headerless,
  );
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    if (scan === null)
      await streamWithCsvParse(input, file, parseOptions(delimiter, head), checker);
    else await streamQuoteFree(input, file, new QuoteFreeLines(delimiter, scan.newline, checker));
    checker.finish();
  } catch (error) {
    throw toInputError(file, error, delimiter);
  } finally {
    input.destroy();
  }
}

/** Feed csv-parse's records of a file to `checker`. */
async function streamWithCsvParse(
  input: NodeJS.ReadableStream,
  file: string,
  options: Options,
  checker: RecordChecker,
): Promise<void> {
  const parser = parse(options);
  input.on("error", (error) => parser.destroy(error));
  let text = input;
  if (isGzipFile(file)) {
    const gunzip = createGunzip();
    gunzip.on("error", (error) => parser.destroy(error));
    text = input.pipe(gunzip);
  }
  const utf8 = new Utf8Check(file);
  text.on("data", (chunk: Buffer) => {
    try {
      utf8.feed(chunk);
    } catch (error) {
      parser.destroy(error as Error);
    }
  });
  text.pipe(parser);
  for await (const { record, info } of parser as AsyncIterable<ParsedRecord>)
    checker.accept(record, info.lines);
  utf8.finish();
}

/** Feed a quote-free file to `lines`, whole lines at a time (a line ending always ends a row). */
async function streamQuoteFree(
  input: NodeJS.ReadableStream,
  file: string,
  lines: QuoteFreeLines,
): Promise<void> {
  const decoder = new StringDecoder("utf8");
  const utf8 = new Utf8Check(file);
  let rest = "";
  let start = true;
  for await (const chunk of createGunzipIfNeeded(file, input) as AsyncIterable<Buffer>) {
    utf8.feed(chunk);
    let text = rest + decoder.write(chunk);
    if (start && text.length > 0) {
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
      start = false;
    }
    const end = text.lastIndexOf(lines.newline);
    if (end < 0) {
      rest = text;
      continue;
    }
    lines.parse(text.slice(0, end));
    rest = text.slice(end + lines.newline.length);
  }
  utf8.finish();
  rest += decoder.end();
  if (start && rest.charCodeAt(0) === BOM) rest = rest.slice(1);
  if (rest.length > 0) lines.parse(rest);
}

/** The file's bytes, gunzipped when it is compressed (a read error ends the stream with it). */
function createGunzipIfNeeded(file: string, input: NodeJS.ReadableStream): NodeJS.ReadableStream {
  if (!isGzipFile(file)) return input;
  const gunzip = createGunzip();
  input.on("error", (error) => gunzip.destroy(error));
  return input.pipe(gunzip);
}

/** A plain text's line ending (the one its every line ends with), and its number of lines. */
interface PlainShape {
  readonly newline: LineEnding;
  readonly lines: number;
}

/**
 * Whether a text, fed in chunks of bytes, is plain: UTF-8, no double quote, and one line ending
 * throughout (every CR, every LF, or every CR LF pair; csv-parse numbers a line ending that is
 * not the file's as a line of its own, which the fast path does not reproduce).
 */
class PlainText {
  /** A double quote or a UTF-16 byte-order mark seen: csv-parse reads the file. */
  private ruledOut = false;
  private started = false;
  private cr = 0;
  private lf = 0;
  private crlf = 0;
  private lastWasCr = false;

  /** Feed the text's next bytes (the first call, its first bytes). */
  feed(bytes: Buffer): this {
    if (this.ruledOut || bytes.length === 0) return this;
    if (!this.started) {
      this.started = true;
      // UTF-16 (Excel's "Unicode text"): csv-parse decodes it from its byte-order mark.
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
        this.ruledOut = true;
        return this;
      }
    }
    if (bytes.indexOf(QUOTE) >= 0) {
      this.ruledOut = true;
      return this;
    }
    if (this.lastWasCr && bytes[0] === LF) this.crlf++;
    for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) {
      this.lf++;
      if (at > 0 && bytes[at - 1] === CR) this.crlf++;
    }
    for (let at = bytes.indexOf(CR); at >= 0; at = bytes.indexOf(CR, at + 1)) this.cr++;
    this.lastWasCr = bytes[bytes.length - 1] === CR;
    return this;
  }

  /** True once the text is known not to be plain (a double quote, or UTF-16). */
  get notPlain(): boolean {
    return this.ruledOut;
  }

  /** The text's shape when it is plain, null when csv-parse must read it. */
  shape(): PlainShape | null {
    if (this.ruledOut) return null;
    // Line endings + 1 counts a last line without one (and one empty line after the last ending).
    if (this.cr === 0) return { newline: "\n", lines: this.lf + 1 };
    if (this.lf === 0) return { newline: "\r", lines: this.cr + 1 };
    const consistent = this.cr === this.crlf && this.lf === this.crlf;
    return consistent ? { newline: "\r\n", lines: this.lf + 1 } : null;
  }
}

/**
 * The shape of a file (gunzipped when compressed) when it is plain ({@link PlainText}); null
 * when it is not or cannot be read (csv-parse then reads it, and reports why it cannot).
 */
async function scanPlainText(file: string): Promise<PlainShape | null> {
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    const text = new PlainText();
    for await (const chunk of createGunzipIfNeeded(file, input) as AsyncIterable<Buffer>) {
      if (text.feed(chunk).notPlain) return null;
    }
    return text.shape();
  } catch {
    return null;
  } finally {
    input.destroy();
  }
}

/** A line ending csv-parse discovers (the first of the file, used for all of it). */
type LineEnding = "\r\n" | "\n" | "\r";

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/** True for the characters csv-parse's `trim` removes at a field's start: CR, LF, form feed, space, tab. */
function isTrimmable(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 12;
}

/**
 * An unquoted field trimmed as csv-parse's `trim` does: those five characters at its start,
 * and at its end whatever `String.prototype.trimEnd` removes (csv-parse's `rtrim` calls it).
 */
function trimField(field: string): string {
  const start = trimmedStart(field);
  return (start === 0 ? field : field.slice(start)).trimEnd();
}

/** Where a field starts once csv-parse's `trim` removed what it removes at the start. */
function trimmedStart(field: string): number {
  let start = 0;
  while (start < field.length && isTrimmable(field.charCodeAt(start))) start++;
  return start;
}

/**
 * The rows of a quote-free file, fed whole lines at a time: papaparse splits them; the fields
 * are trimmed, blank lines skipped and lines numbered as csv-parse does.
 */
class QuoteFreeLines {
  private line = 0;

  constructor(
    private readonly delimiter: Delimiter,
    readonly newline: LineEnding,
    private readonly checker: RecordChecker,
    /** Told of each field that had spaces around it (none: nobody asked). */
    private readonly onSpaced?: (field: SpacedField) => void,
  ) {}

  /** Read `text`: one or more whole lines, without the line ending after the last. */
  parse(text: string): void {
    if (text.length === 0) {
      this.line++; // one blank line
      return;
    }
    // papaparse drops a byte-order mark opening its input: the file's own was removed already,
    // so one opening these lines is text (csv-parse keeps it), kept behind a mark to drop.
    const rows = Papa.parse<string[]>(text.charCodeAt(0) === BOM ? `\uFEFF${text}` : text, {
      delimiter: this.delimiter,
      newline: this.newline,
    }).data;
    for (const fields of rows) {
      this.line++;
      // skip_empty_lines: a line with nothing left once its start is trimmed.
      if (fields.length === 1 && trimmedStart(fields[0]) === fields[0].length) continue;
      for (let i = 0; i < fields.length; i++) {
        const trimmed = trimField(fields[i]);
        if (this.onSpaced !== undefined && trimmed.length !== fields[i].length)
          this.onSpaced({ line: this.line, column: i, raw: fields[i] });
        fields[i] = trimmed;
      }
      this.checker.accept(fields, this.line);
    }
  }
}

/**
 * Index of the column `name` in a header.
 * @throws InputError naming the file and listing the columns found when `name` is absent,
 *   or when it appears more than once
 */
export function requireColumn(file: string, header: readonly string[], name: string): number {
  const index = header.indexOf(name);
  if (index < 0) {
    throw new InputError(
      `${file}: no column ${quote(name)} in the header (found: ${listForMessage(
        header.map((h) => quote(h)),
        8,
      )})`,
    );
  }
  if (header.indexOf(name, index + 1) >= 0) {
    throw new InputError(`${file}: column ${quote(name)} appears more than once in the header`);
  }
  return index;
}

/**
 * The column of a table's ids: the column `name`, or else the first column when its header
 * field is empty and no other is (R's `write.csv`, which writes the row names, e.g. gene or
 * sample ids, as a first column headed "").
 * @throws InputError as {@link requireColumn} when there is neither
 */
export function idColumn(file: string, header: readonly string[], name: string): number {
  if (!header.includes(name) && header[0] === "" && header.indexOf("", 1) < 0) return 0;
  return requireColumn(file, header, name);
}

/**
 * Format a number for a CSV file: the shortest text that reads back as the same double
 * (`String(x)`), `Inf`/`-Inf` for infinities (as R writes them), and an empty field for
 * NaN, `undefined` or `null` (a missing value).
 */
export function formatNumber(x: number | undefined | null): string {
  if (x === undefined || x === null || Number.isNaN(x)) return "";
  if (x === Number.POSITIVE_INFINITY) return "Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(x);
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/**
 * One CSV field, RFC 4180 style: quoted only when it contains a comma, a double quote or a
 * line break (or starts or ends with a space, which readers may trim); quotes are doubled.
 */
export function formatField(field: string): string {
  return NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** Buffered text written per system call by {@link writeCsvAtomic}. */
const CHUNK_CHARS = 1 << 16;

/**
 * Write a CSV file atomically: the text goes to a temporary file in the same directory,
 * which is flushed to disk and then renamed over `file`. Readers see either the old file or
 * the complete new one, never a half-written file; on failure the temporary file is removed.
 * Lines end with `\n`; fields are quoted only when needed ({@link formatField}).
 * @param header - column names
 * @param rows - rows of already formatted fields (see {@link formatNumber}), each as long as
 *   `header`
 * @throws Error when a row's length differs from the header's (a programming error), or
 *   when the file system fails
 */
export function writeCsvAtomic(file: string, header: string[], rows: Iterable<string[]>): void {
  writeFileAtomic(file, (emit) => {
    let buffer = `${header.map(formatField).join(",")}\n`;
    let index = 0;
    for (const row of rows) {
      index++;
      if (row.length !== header.length) {
        throw new Error(
          `writeCsvAtomic(${file}): row ${index} has ${row.length} fields, the header has ${header.length}`,
        );
      }
      // Field by field into one string (no array of quoted fields per row, no join).
      let line = row.length > 0 ? formatField(row[0]) : "";
      for (let k = 1; k < row.length; k++) line += `,${formatField(row[k])}`;
      buffer += `${line}\n`;
      if (buffer.length >= CHUNK_CHARS) {
        emit(buffer);
        buffer = "";
      }
    }
    emit(buffer);
  });
}
