import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parse as csvParse } from "csv-parse/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CsvRow,
  delimiterOfHeader,
  formatField,
  formatNumber,
  readCsv,
  requireColumn,
  streamCsv,
  tablePath,
  writeCsvAtomic,
} from "../../src/io/csv.js";
import { InputError } from "../../src/io/errors.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder();

/** Read with {@link streamCsv}, collecting what {@link readCsv} returns. */
async function streamAll(file: string): Promise<{ header: string[]; rows: CsvRow[] }> {
  let header: string[] = [];
  const rows: CsvRow[] = [];
  await streamCsv(file, {
    header: (h) => {
      header = h;
    },
    row: (fields, line) => {
      rows.push({ fields, line });
    },
  });
  return { header, rows };
}

/** Both readers must throw the same InputError, whose message matches `pattern`. */
async function expectBothFail(file: string, pattern: RegExp): Promise<void> {
  expect(() => readCsv(file)).toThrow(InputError);
  expect(() => readCsv(file)).toThrow(pattern);
  await expect(streamAll(file)).rejects.toThrow(InputError);
  await expect(streamAll(file)).rejects.toThrow(pattern);
}

describe("readCsv and streamCsv", () => {
  it("read header, rows and line numbers", async () => {
    const file = temp.write("plain.csv", "gene,a,b\ng1,1,2\ng2,3,4\n");
    const table = readCsv(file);
    expect(table.file).toBe(file);
    expect(table.header).toEqual(["gene", "a", "b"]);
    expect(table.rows).toEqual([
      { fields: ["g1", "1", "2"], line: 2 },
      { fields: ["g2", "3", "4"], line: 3 },
    ]);
    expect(await streamAll(file)).toEqual({ header: table.header, rows: table.rows });
  });

  it("accept a UTF-8 byte-order mark, CRLF, no final newline and blank lines", async () => {
    const file = temp.write("bom.csv", "\uFEFFgene,a\r\ng1,1\r\n\r\ng2,2");
    const table = readCsv(file);
    expect(table.header).toEqual(["gene", "a"]);
    expect(table.rows).toEqual([
      { fields: ["g1", "1"], line: 2 },
      { fields: ["g2", "2"], line: 4 },
    ]);
    expect((await streamAll(file)).rows).toEqual(table.rows);
  });

  it("unquote RFC 4180 fields and trim spaces around fields", () => {
    const file = temp.write("quoted.csv", 'id,note\nx, "a, ""b"""\ny,"two\nlines"\n');
    expect(readCsv(file).rows.map((r) => r.fields)).toEqual([
      ["x", 'a, "b"'],
      ["y", "two\nlines"],
    ]);
  });

  it("report the fields of a file without quotes that had spaces or tabs around them", () => {
    const file = temp.write("spaced.csv", "id, note\nx,a \n\ty,b\nz,c\n");
    const table = readCsv(file);
    expect(table.rows.map((r) => r.fields)).toEqual([
      ["x", "a"],
      ["y", "b"],
      ["z", "c"],
    ]);
    expect(table.spaced).toEqual([
      { line: 1, column: 1, raw: " note" },
      { line: 2, column: 1, raw: "a " },
      { line: 3, column: 0, raw: "\ty" },
    ]);
  });

  it("stream a large file in several chunks", async () => {
    const lines = ["gene,a,b"];
    for (let g = 0; g < 8_000; g++) lines.push(`gene${g},${g},${2 * g}`);
    const file = temp.write("large.csv", `${lines.join("\n")}\n`);
    const { rows } = await streamAll(file);
    expect(rows.length).toBe(8_000);
    expect(rows[7_999]).toEqual({ fields: ["gene7999", "7999", "15998"], line: 8_001 });
  });

  it("reject an empty file", async () => {
    await expectBothFail(temp.write("empty.csv", ""), /empty\.csv: the file is empty/);
    await expectBothFail(temp.write("blank.csv", "\n\r\n\n"), /blank\.csv: the file is empty/);
  });

  it("reject a header-only file", async () => {
    await expectBothFail(
      temp.write("header.csv", "gene,a,b\n"),
      /header\.csv: the file has a header but no data rows/,
    );
  });

  it("reject a row with a wrong number of fields, naming its line", async () => {
    const file = temp.write("ragged.csv", "gene,a,b\ng1,1,2\n\ng2,3\n");
    await expectBothFail(file, /ragged\.csv: line 4 has 2 fields, but the header has 3$/);
    const more = temp.write("ragged2.csv", "gene,a\ng1,1,2\n");
    await expectBothFail(more, /ragged2\.csv: line 2 has 3 fields, but the header has 2$/);
  });

  it("reject malformed quoting, naming the line", async () => {
    await expectBothFail(
      temp.write("quote1.csv", 'gene,a\ng1,"1\n'),
      /quote1\.csv: line 2: malformed CSV \(quote not closed\)/,
    );
    await expectBothFail(
      temp.write("quote2.csv", 'gene,a\ng1,1"x\n'),
      /quote2\.csv: line 2: malformed CSV/,
    );
  });

  it("report a missing file or a directory as an InputError", async () => {
    const missing = join(temp.dir, "nope.csv");
    await expectBothFail(missing, /^cannot read .*nope\.csv: no such file$/);
    const dir = temp.subdir("folder");
    expect(() => readCsv(dir)).toThrow(/cannot read .*: it is a directory/);
    await expect(streamAll(dir)).rejects.toThrow(/cannot read .*: it is a directory/);
  });

  it("streamCsv propagates an exception of the visitor", async () => {
    const file = temp.write("visitor.csv", "a\n1\n2\n");
    const failing = streamCsv(file, {
      header: () => {},
      row: (_, line) => {
        if (line === 3) throw new InputError("stop at line 3");
      },
    });
    await expect(failing).rejects.toThrow("stop at line 3");
  });
});

describe("requireColumn", () => {
  it("finds a column", () => {
    expect(requireColumn("f.csv", ["gene", "a"], "a")).toBe(1);
  });

  it("names the file and lists the columns when one is missing", () => {
    expect(() => requireColumn("f.csv", ["", "a", "b"], "gene")).toThrow(
      'f.csv: no column "gene" in the header (found: "", "a" and "b")',
    );
  });

  it("rejects a duplicated column", () => {
    expect(() => requireColumn("f.csv", ["gene", "a", "gene"], "gene")).toThrow(
      'f.csv: column "gene" appears more than once in the header',
    );
  });
});

describe("formatNumber", () => {
  it("writes the shortest text that reads back as the same double", () => {
    for (const x of [0, 5, -3, 0.1, 1 / 3, Math.PI, 1e-300, 5e-324, 1.7976931348623157e308, 1e21]) {
      expect(Number(formatNumber(x))).toBe(x);
      expect(formatNumber(x)).toBe(String(x));
    }
    expect(formatNumber(0.1)).toBe("0.1");
    expect(formatNumber(-0)).toBe("0");
  });

  it("writes missing values as empty fields and infinities as R does", () => {
    expect(formatNumber(Number.NaN)).toBe("");
    expect(formatNumber(undefined)).toBe("");
    expect(formatNumber(null)).toBe("");
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe("Inf");
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe("-Inf");
  });
});

describe("formatField", () => {
  it("quotes only when needed", () => {
    expect(formatField("plain")).toBe("plain");
    expect(formatField("")).toBe("");
    expect(formatField("1.5e-3")).toBe("1.5e-3");
    expect(formatField("a,b")).toBe('"a,b"');
    expect(formatField('say "hi"')).toBe('"say ""hi"""');
    expect(formatField("two\nlines")).toBe('"two\nlines"');
    expect(formatField("cr\r")).toBe('"cr\r"');
    expect(formatField(" padded")).toBe('" padded"');
  });
});

describe("writeCsvAtomic", () => {
  it("writes a file that reads back identically, leaving no temporary file", () => {
    const dir = temp.subdir("write");
    const file = join(dir, "out.csv");
    const rows = [
      ["g1", formatNumber(0.1), formatNumber(Number.NaN)],
      ["g,2", 'q"uote', "multi\nline"],
      [" lead", "trail ", "x"],
    ];
    writeCsvAtomic(file, ["gene", "value", "note"], rows);
    expect(readFileSync(file, "utf8")).toBe(
      'gene,value,note\ng1,0.1,\n"g,2","q""uote","multi\nline"\n" lead","trail ",x\n',
    );
    expect(readCsv(file).rows.map((r) => r.fields)).toEqual(rows);
    expect(readdirSync(dir)).toEqual(["out.csv"]);
  });

  it("accepts any iterable of rows, including a generator of many rows", () => {
    const dir = temp.subdir("generator");
    const file = join(dir, "big.csv");
    function* rows(): Generator<string[]> {
      for (let g = 0; g < 10_000; g++) yield [`gene${g}`, formatNumber(g / 7)];
    }
    writeCsvAtomic(file, ["gene", "x"], rows());
    const table = readCsv(file);
    expect(table.rows.length).toBe(10_000);
    expect(Number(table.rows[9_999].fields[1])).toBe(9_999 / 7);
  });

  it("replaces an existing file", () => {
    const dir = temp.subdir("replace");
    const file = join(dir, "out.csv");
    writeCsvAtomic(file, ["a"], [["1"]]);
    writeCsvAtomic(file, ["a"], [["2"]]);
    expect(readFileSync(file, "utf8")).toBe("a\n2\n");
    expect(readdirSync(dir)).toEqual(["out.csv"]);
  });

  it("leaves the old file intact and no temporary file when writing fails", () => {
    const dir = temp.subdir("fail");
    const file = join(dir, "out.csv");
    writeCsvAtomic(file, ["a", "b"], [["1", "2"]]);
    function* rows(): Generator<string[]> {
      yield ["3", "4"];
      throw new Error("producer failed");
    }
    expect(() => writeCsvAtomic(file, ["a", "b"], rows())).toThrow("producer failed");
    expect(() => writeCsvAtomic(file, ["a", "b"], [["1"]])).toThrow(
      /row 1 has 1 fields, the header has 2/,
    );
    expect(readFileSync(file, "utf8")).toBe("a,b\n1,2\n");
    expect(readdirSync(dir)).toEqual(["out.csv"]);
  });

  it("throws when the folder does not exist", () => {
    expect(() => writeCsvAtomic(join(temp.dir, "no", "such", "out.csv"), ["a"], [])).toThrow(
      /ENOENT/,
    );
  });
});

/**
 * What csv-parse, with the reader's options, makes of a text: the header and rows the readers
 * must return, or the message of the error they must throw (the reference of the quote-free fast
 * path, which papaparse splits).
 */
function csvParseReference(
  file: string,
  text: string,
): { header: string[]; rows: CsvRow[] } | string {
  const records = csvParse(text, {
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
    // The readers detect the delimiter in the first 64 KiB of the file's bytes.
    delimiter: delimiterOfHeader(
      Buffer.from(text)
        .subarray(0, 1 << 16)
        .toString("utf8"),
    ),
    // featureCounts' comment line: both readers hand such a file to csv-parse itself.
    ...(text.replace(/^\uFEFF/, "").startsWith("#")
      ? { comment: "#", comment_no_infix: true }
      : {}),
  }) as unknown as { record: string[]; info: { lines: number } }[];
  if (records.length === 0)
    return `${file}: the file is empty (expected a header line, then data rows)`;
  const header = records[0].record;
  const rows: CsvRow[] = [];
  for (const { record, info } of records.slice(1)) {
    if (record.length !== header.length) {
      return `${file}: line ${info.lines} has ${record.length} field${record.length === 1 ? "" : "s"}, but the header has ${header.length}`;
    }
    rows.push({ fields: record, line: info.lines });
  }
  if (rows.length === 0) return `${file}: the file has a header but no data rows`;
  return { header, rows };
}

/** What a reader returns, or the message of the InputError it throws. */
async function outcome<T>(read: () => T | Promise<T>): Promise<T | string> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return error.message;
  }
}

describe("files without quotes (read by papaparse) as csv-parse reads them", () => {
  const piece = fc.constantFrom(
    "a",
    "1",
    "é",
    "#",
    ",",
    ";",
    "\t",
    " ",
    "\f",
    "\r",
    "\n",
    "\r\n",
    "\uFEFF",
    "x.y",
  );
  it("the same header, fields, line numbers and errors on random texts, in both readers", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 40 }), async (pieces) => {
        const text = pieces.join("");
        // A first line starting with `#` is featureCounts' comment: csv-parse reads such files.
        const file = temp.write(`random${n++}.csv`, text);
        const expected = csvParseReference(file, text);
        const read = await outcome(() => readCsv(file));
        expect(typeof read === "string" ? read : { header: read.header, rows: read.rows }).toEqual(
          expected,
        );
        expect(await outcome(() => streamAll(file))).toEqual(expected);
      }),
      { numRuns: 600, seed: 20261205 },
    );
  });

  it("a UTF-16LE file with its byte-order mark (Excel's Unicode text) is csv-parse's to decode", async () => {
    // Found by a red team: read as UTF-8 by the fast path, its fields held U+FFFD and NULs.
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from("gene\ts1\ng1\t5\n", "utf16le"),
    ]);
    const file = temp.write("unicode.txt", "");
    writeFileSync(file, bytes);
    const expected = { header: ["gene", "s1"], rows: [{ fields: ["g1", "5"], line: 2 }] };
    const read = readCsv(file);
    expect({ header: read.header, rows: read.rows }).toEqual(expected);
    expect(await streamAll(file)).toEqual(expected);
  });

  it("a gzipped table's header longer than 64 KiB: both readers look at the same 64 KiB of text", async () => {
    // Found by a red team: streamCsv inflated 64 KiB of compressed bytes, far more text.
    const text = `${"a".repeat(70_000)}\tb\n1\t2\n`;
    const file = temp.write("longheader.csv.gz", "");
    writeFileSync(file, gzipSync(text));
    const read = readCsv(file);
    expect(read.header).toEqual([`${"a".repeat(70_000)}\tb`]);
    expect(await streamAll(file)).toEqual({ header: read.header, rows: read.rows });
  });

  it("a line ending across the stream's 1 MiB chunks, and a gzip-compressed copy", async () => {
    // Lines of 100 bytes with CRLF endings, the first chunk ending between a CR and its LF.
    const chunk = 1 << 20;
    const lines = ["gene,a,b"];
    let length = "gene,a,b\r\n".length;
    for (let g = 0; length + 100 <= chunk - 1; g++) {
      const line = `g${g},${g},`.padEnd(98, "7");
      lines.push(line);
      length += 100;
    }
    lines.push(`last,1,${"2".repeat(chunk - 1 - length - "last,1,".length)}`);
    const text = `${lines.join("\r\n")}\r\nafter,3,4\r\n`;
    expect(text.slice(chunk - 1, chunk + 1)).toBe("\r\n");
    const file = temp.write("straddle.csv", text);
    const expected = csvParseReference(file, text);
    expect(typeof expected).not.toBe("string");
    expect(readCsv(file)).toEqual({ file, delimiter: ",", spaced: [], ...(expected as object) });
    expect(await streamAll(file)).toEqual(expected);
    const zipped = temp.write("straddle.csv.gz", "");
    writeFileSync(zipped, gzipSync(text));
    expect((await streamAll(zipped)).rows).toEqual((expected as { rows: CsvRow[] }).rows);
  });
});

describe("a gzip file that is cut short or corrupt", () => {
  it("is refused by both readers saying so, naming the file", async () => {
    const whole = gzipSync("gene,a\ng1,1\ng2,2\n");
    const cut = temp.write("cut.csv.gz", "");
    writeFileSync(cut, whole.subarray(0, whole.length - 12));
    expect(() => readCsv(cut)).toThrow(
      `cannot read ${cut}: its gzip data is truncated (Z_BUF_ERROR)`,
    );
    await expect(streamAll(cut)).rejects.toThrow(/cut\.csv\.gz.*gzip data is truncated/);
    const corrupt = temp.write("corrupt.csv.gz", "");
    writeFileSync(corrupt, Buffer.concat([whole.subarray(0, 10), Buffer.alloc(30, 0xff)]));
    expect(() => readCsv(corrupt)).toThrow(
      `cannot read ${corrupt}: its gzip data is corrupt (Z_DATA_ERROR)`,
    );
  });
});

describe("text that is not UTF-8", () => {
  it("is refused by both readers, naming the file and the line; UTF-8 across the stream's chunks is not", async () => {
    // Latin-1 "contrôle" and "contrèle": decoded leniently, both were "contr\uFFFDle".
    const latin1 = Buffer.concat([
      Buffer.from("sample,condition\ns1,contr", "latin1"),
      Buffer.from([0xf4]),
      Buffer.from("le\ns2,B\n", "latin1"),
    ]);
    const want = /latin1\.csv(\.gz)?: line 2 is not UTF-8 text .*save the file as UTF-8/;
    for (const [name, bytes] of [
      ["latin1.csv", latin1],
      ["latin1.csv.gz", gzipSync(latin1)],
    ] as const) {
      const file = temp.write(name, "");
      writeFileSync(file, bytes);
      expect(() => readCsv(file)).toThrow(want);
      await expect(streamAll(file)).rejects.toThrow(want);
    }
    // With quotes (csv-parse reads it), the line of the byte, not of the record's start.
    const quoted = temp.write("latin1-quoted.csv", "");
    writeFileSync(
      quoted,
      Buffer.concat([Buffer.from('gene,"a"\ng1,1\ng2,2\n"g'), Buffer.from([0xe9, 0x0a])]),
    );
    await expect(streamAll(quoted)).rejects.toThrow(/line 4 is not UTF-8 text/);
    // Lines ending in a lone CR (a classic Mac "CSV") or CRLF are counted as the readers count them.
    for (const [name, newline] of [
      ["cr.csv", "\r"],
      ["crlf.csv", "\r\n"],
    ] as const) {
      const file = temp.write(name, "");
      const lines = ["gene,a", "g1,1", "g2,2", "g3,3", "g4,4"].join(newline);
      writeFileSync(
        file,
        Buffer.concat([Buffer.from(`${lines}${newline}g`), Buffer.from([0xe9]), Buffer.from(",5")]),
      );
      expect(() => readCsv(file)).toThrow(
        new RegExp(`${name.replace(".", "\\.")}: line 6 is not UTF-8`),
      );
      await expect(streamAll(file)).rejects.toThrow(/line 6 is not UTF-8/);
    }
    // UTF-16 big-endian (which csv-parse does not decode) is refused as such.
    const be = temp.write("be.csv", "");
    writeFileSync(be, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("\u0000g\u0000e")]));
    expect(() => readCsv(be)).toThrow(
      /be\.csv: UTF-16 big-endian text, which fedseq does not read/,
    );
    await expect(streamAll(be)).rejects.toThrow(/UTF-16 big-endian/);
    // A text cut inside a character.
    const cut = temp.write("cut.csv", "");
    writeFileSync(cut, Buffer.concat([Buffer.from("gene,a\ng1,"), Buffer.from([0xc3])]));
    expect(() => readCsv(cut)).toThrow(/cut\.csv: line 2 is not UTF-8 text/);
    // "é" (2 bytes), "€" (3) and "𝔸" (4) ending exactly across the 1 MiB chunk boundary.
    for (const char of ["é", "€", "𝔸"]) {
      const width = Buffer.byteLength(char);
      const head = "gene,a\n";
      const pad = (1 << 20) - head.length - 1;
      const text = `${head}${"x".repeat(pad)}${char},1\nlast,2\n`;
      // The character's first byte is the chunk's last.
      expect(Buffer.from(text).indexOf(Buffer.from(char))).toBe((1 << 20) - 1);
      const file = temp.write(`straddle-${width}.csv`, text);
      const streamed = await streamAll(file);
      expect(streamed.rows.map((r) => r.fields[0])).toEqual([`${"x".repeat(pad)}${char}`, "last"]);
    }
  });
});

describe("streamCsv's bound on the rows", () => {
  it("is given with the header for a file without quotes (its lines), not for one with quotes", async () => {
    const bound = async (name: string, text: string) => {
      let rowsAtMost: number | undefined = -1;
      let rows = 0;
      await streamCsv(temp.write(name, text), {
        header: (_, n) => {
          rowsAtMost = n;
        },
        row: () => {
          rows++;
        },
      });
      return { rowsAtMost, rows };
    };
    expect(await bound("plain.csv", "gene,a\r\ng1,1\r\n\r\ng2,2")).toEqual({
      rowsAtMost: 3,
      rows: 2,
    });
    expect(await bound("quoted.csv", 'gene,a\n"g1",1\n')).toEqual({
      rowsAtMost: undefined,
      rows: 1,
    });
  });
});

describe("gzip-compressed tables", () => {
  const folder = useTempFolder("fedseq-gz-");
  it("are detected by content, in both readers, and found as name.gz in a folder", async () => {
    const text = "gene,s1,s2\r\ng1,1,2\r\ng2,3,4\r\n";
    const plain = folder.write("plain.csv", text);
    const zipped = folder.write("zipped.csv", "");
    writeFileSync(zipped, gzipSync(`\ufeff${text}`));
    expect(readCsv(zipped).rows.map((r) => r.fields)).toEqual(
      readCsv(plain).rows.map((r) => r.fields),
    );
    const streamed: string[][] = [];
    await streamCsv(zipped, { header: () => {}, row: (f) => streamed.push(f) });
    expect(streamed).toEqual([
      ["g1", "1", "2"],
      ["g2", "3", "4"],
    ]);
    const dir = folder.subdir("table");
    writeFileSync(join(dir, "counts.csv.gz"), gzipSync(text));
    expect(tablePath(dir, "counts.csv")).toBe(join(dir, "counts.csv.gz"));
    expect(tablePath(dir, "metadata.csv")).toBe(join(dir, "metadata.csv"));
  });
});
