/**
 * Input formats of readDataset beyond one CSV pair: TSV (detected by content), gzip, one
 * folder per center, AnnData `.h5ad` (dense, CSR, CSC; per center or pooled; layers), and
 * rounding of estimated counts. Every layout of the same numbers gives the same Dataset.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { centerDataByCenter, centerDataFromDataset } from "../../src/federation/centerData.js";
import { roundHalfEven } from "../../src/io/counts.js";
import { delimiterOfHeader, detectDelimiter, findTable, readCsv } from "../../src/io/csv.js";
import {
  type Dataset,
  type ReadDatasetOptions,
  readDataset,
  readDatasetByCenter,
} from "../../src/io/dataset.js";
import { InputError } from "../../src/io/errors.js";
import { readDispersions, readSizeFactors } from "../../src/io/sidecars.js";
import { datasetContent } from "../helpers/datasets.js";
import { h5adFromDataset, writeH5ad } from "../helpers/h5ad.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-formats-");
const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

/** Genes × samples, the numbers of `fixtures/anndata/data.h5ad`. */
const COUNTS = [
  ["G1", 0, 5, 10, 3, 0, 8],
  ["G2", 7, 0, 1, 2, 9, 4],
  ["G3", 100, 250, 0, 13, 42, 17],
  ["G4", 0, 0, 0, 0, 0, 0],
  ["G5", 1, 2, 3, 4, 5, 6],
] as const;
const SAMPLES = ["S1", "S2", "S3", "S4", "S5", "S6"];
/** sample, condition, age, smoker, center. */
const METADATA = [
  ["S1", "a", "30", "True", "alpha"],
  ["S2", "b", "41", "False", "alpha"],
  ["S3", "a", "52", "False", "beta"],
  ["S4", "b", "28", "True", "beta"],
  ["S5", "a", "35", "False", "beta"],
  ["S6", "b", "60", "True", "beta"],
];
const META_HEADER = ["sample", "condition", "age", "smoker", "center"];

/** A table as text with the given delimiter. */
function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  sep = ",",
): string {
  return `${[header, ...rows].map((r) => r.join(sep)).join("\n")}\n`;
}

/** Write `text` to `dir/name`, gzip-compressed when the name ends in `.gz`. */
function put(dir: string, name: string, text: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), name.endsWith(".gz") ? gzipSync(text) : text);
}

/** The samples of one center: their column indices in COUNTS (1-based) and metadata rows. */
function centerRows(center: string) {
  const rows = METADATA.filter((r) => r[4] === center);
  return { rows, columns: rows.map((r) => SAMPLES.indexOf(r[0]) + 1) };
}

/**
 * `dir` reads as the reference dataset, pooled (readDataset) and center by center
 * (readDatasetByCenter: each center's counts, samples and metadata those of its slice of the
 * pooled table, in an array of its own in shared memory).
 */
async function expectReference(dir: string, options?: ReadDatasetOptions): Promise<void> {
  const pooled = await readDataset(dir, options);
  expect(datasetContent(pooled)).toEqual(datasetContent(reference));
  const byCenter = await readDatasetByCenter(dir, options);
  const { centerCounts, ...rest } = byCenter;
  expect(datasetContent({ ...rest, counts: pooled.counts })).toEqual(datasetContent(pooled));
  expect([...centerCounts.keys()]).toEqual(pooled.centers);
  for (const name of pooled.centers) {
    const expected = centerDataFromDataset(pooled, name);
    const center = centerDataByCenter(byCenter, name);
    expect(center.samples).toEqual(expected.samples);
    expect(Object.fromEntries(center.metadata.values)).toEqual(
      Object.fromEntries(expected.metadata.values),
    );
    expect(Array.from(center.counts)).toEqual(Array.from(expected.counts));
    expect(center.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(center.counts.buffer).not.toBe(pooled.counts.buffer);
  }
}

async function expectInputError(
  dir: string,
  pattern: RegExp,
  options: ReadDatasetOptions = {},
): Promise<void> {
  const reading = readDataset(dir, options);
  await expect(reading).rejects.toThrow(InputError);
  await expect(reading).rejects.toThrow(pattern);
}

let reference: Dataset;
let referenceDir: string;
beforeAll(async () => {
  const dir = temp.subdir("csv");
  referenceDir = dir;
  put(dir, "counts.csv", table(["gene", ...SAMPLES], COUNTS));
  // Metadata rows in another order than the counts' columns: aligned by id.
  put(dir, "metadata.csv", table(META_HEADER, [...METADATA].reverse()));
  reference = await readDataset(dir);
});

describe("the reference CSV dataset", () => {
  it("reads center by center straight into each center's array, as cut from the pooled table", async () => {
    await expectReference(referenceDir);
  });

  it("has the numbers written", () => {
    expect(reference.genes).toEqual(["G1", "G2", "G3", "G4", "G5"]);
    expect(reference.samples).toEqual(SAMPLES);
    expect(Array.from(reference.counts.subarray(12, 18))).toEqual([100, 250, 0, 13, 42, 17]);
    expect(reference.metadata.columns).toEqual(["condition", "age", "smoker", "center"]);
    expect(reference.metadata.values.get("age")).toEqual(["30", "41", "52", "28", "35", "60"]);
    expect(reference.centerOfSample).toEqual(["alpha", "alpha", "beta", "beta", "beta", "beta"]);
    expect(reference.centers).toEqual(["alpha", "beta"]);
  });
});

describe("every layout of the same numbers gives the same Dataset", () => {
  it("TSV, gzip-compressed or not, found under any of the four names", async () => {
    const dir = temp.subdir("tsv-gz");
    put(dir, "counts.tsv.gz", table(["gene", ...SAMPLES], COUNTS, "\t"));
    put(dir, "metadata.tsv.gz", table(META_HEADER, METADATA, "\t"));
    await expectReference(dir);

    const mixed = temp.subdir("tsv-csv-gz");
    put(mixed, "counts.tsv", table(["gene", ...SAMPLES], COUNTS, "\t"));
    put(mixed, "metadata.csv.gz", table(META_HEADER, METADATA));
    expect(datasetContent(await readDataset(mixed))).toEqual(datasetContent(reference));

    // The delimiter comes from the content, not the name.
    const misnamed = temp.subdir("misnamed");
    put(misnamed, "counts.csv", table(["gene", ...SAMPLES], COUNTS, "\t"));
    put(misnamed, "metadata.tsv", table(META_HEADER, METADATA));
    expect(datasetContent(await readDataset(misnamed))).toEqual(datasetContent(reference));
  });

  it("semicolon-separated CSV, as spreadsheets save it in locales with a decimal comma", async () => {
    const dir = temp.subdir("semicolons");
    put(dir, "counts.csv", table(["gene", ...SAMPLES], COUNTS, ";"));
    put(dir, "metadata.csv", table(META_HEADER, METADATA, ";"));
    await expectReference(dir);
  });

  it("decimal commas in a semicolon-separated table: numbers, as R's read.csv2 reads them", async () => {
    // age written 30,5 and so on: read as 30.5, the same Dataset as the decimal-point file's.
    const withDecimals = METADATA.map(([s, c, age, ...rest]) => [s, c, `${age}.5`, ...rest]);
    const points = temp.subdir("decimal-points");
    put(points, "counts.csv", table(["gene", ...SAMPLES], COUNTS));
    put(points, "metadata.csv", table(META_HEADER, withDecimals));
    const commas = temp.subdir("decimal-commas");
    put(commas, "counts.csv", table(["gene", ...SAMPLES], COUNTS, ";"));
    put(
      commas,
      "metadata.csv",
      table(
        META_HEADER,
        withDecimals.map(([s, c, age, ...rest]) => [s, c, age.replace(".", ","), ...rest]),
        ";",
      ),
    );
    const read = datasetContent(await readDataset(commas));
    expect(read).toEqual(datasetContent(await readDataset(points)));
    // A column with a value that is not such a number stays text, as it was written.
    const mixed = temp.subdir("decimal-commas-mixed");
    put(mixed, "counts.csv", table(["gene", ...SAMPLES], COUNTS, ";"));
    const mixedRows = withDecimals.map(([s, c, age, ...rest], i) => [
      s,
      c,
      i === 0 ? "unknown" : age.replace(".", ","),
      ...rest,
    ]);
    put(mixed, "metadata.csv", table(META_HEADER, mixedRows, ";"));
    const { metadata } = await readDataset(mixed);
    expect(metadata.values.get("age")?.slice(0, 2)).toEqual(["unknown", "41,5"]);
    // A missing value (empty or NA) leaves the column numbers, for the design to refuse it.
    const missing = temp.subdir("decimal-commas-missing");
    put(missing, "counts.csv", table(["gene", ...SAMPLES], COUNTS, ";"));
    const missingRows = mixedRows.map(([s, c, age, ...rest], i) => [
      s,
      c,
      i === 0 ? "NA" : i === 1 ? "" : age,
      ...rest,
    ]);
    put(missing, "metadata.csv", table(META_HEADER, missingRows, ";"));
    const withMissing = (await readDataset(missing)).metadata.values.get("age");
    expect(withMissing?.slice(0, 3)).toEqual(["NA", "", "52.5"]);
    // 1.200 in such a table: that locale's 1200, or 1.2? Refused (it was read as 1.2, exit 0).
    const grouped = temp.subdir("dot-grouped");
    put(grouped, "counts.csv", table(["gene", ...SAMPLES], COUNTS, ";"));
    const weights = ["1.200", "950", "1.050", "2.400", "875", "1.300"];
    const groupedRows = METADATA.map(([s, c, , ...rest], i) => [s, c, weights[i], ...rest]);
    put(grouped, "metadata.csv", table(META_HEADER, groupedRows, ";"));
    await expect(readDataset(grouped)).rejects.toThrow(
      /metadata\.csv: line 2, column age: "1\.200" in a semicolon-separated table .* may be 1200 with a thousands separator or 1\.200/,
    );
    // A point that cannot be a separator (0.5) shows the column writes decimal points: read.
    const points2 = temp.subdir("dot-decimals");
    put(points2, "counts.csv", table(["gene", ...SAMPLES], COUNTS, ";"));
    const decimals = ["1.200", "0.5", "1.050", "2.4", "875", "1.3"];
    const decimalRows = METADATA.map(([s, c, , ...rest], i) => [s, c, decimals[i], ...rest]);
    put(points2, "metadata.csv", table(META_HEADER, decimalRows, ";"));
    expect((await readDataset(points2)).metadata.values.get("age")).toEqual(decimals);
    // Size factors and dispersions in such a table too.
    put(commas, "sf.csv", "sample;size_factor\nS1;0,5\nS2;1,25\n");
    expect(Array.from(readSizeFactors(join(commas, "sf.csv"), ["S2", "S1"]))).toEqual([1.25, 0.5]);
    put(commas, "disp.csv", "gene;dispersion\nG1;0,125\nG2;2,5e-2\n");
    expect(Array.from(readDispersions(join(commas, "disp.csv"), ["G2", "G1"], () => true))).toEqual(
      [0.025, 0.125],
    );
  });

  it("featureCounts output: its command line, Geneid and annotation columns, BAM paths as samples", async () => {
    const dir = temp.subdir("featureCounts");
    const header = ["Geneid", "Chr", "Start", "End", "Strand", "Length"];
    const text =
      '# Program:featureCounts v2.0.3; Command:"featureCounts" "-T" "8" "-a" "genes.gtf" "-o" "counts.txt" ' +
      `${SAMPLES.map((s) => `"/data/bam/${s}.bam"`).join(" ")}\n` +
      table(
        [...header, ...SAMPLES.map((s) => `/data/bam/${s}.bam`)],
        COUNTS.map(([gene, ...values], k) => [
          gene,
          "chr1",
          100 * k + 1,
          100 * k + 90,
          "+",
          90,
          ...values,
        ]),
        "\t",
      );
    put(dir, "counts.tsv", text);
    put(dir, "metadata.csv", table(META_HEADER, METADATA));
    await expectReference(dir);
    // BAM names that are not the metadata's samples: the reader says what the file looks like.
    const other = temp.subdir("featureCounts-other-names");
    put(other, "counts.tsv", text.replaceAll("/S1.bam", "/sample_one.bam"));
    put(other, "metadata.csv", table(META_HEADER, METADATA));
    await expect(readDataset(other)).rejects.toThrow(
      /counts\.tsv: looks like featureCounts output .* sample "sample_one" \(BAM file names without \.bam\) is not in .*metadata\.csv/,
    );
  });

  it("PyDESeq2's samples × genes layout (counts_df.to_csv(): sample ids first, genes across)", async () => {
    const dir = temp.subdir("samples-by-genes");
    const rows = SAMPLES.map((sample, i) => [sample, ...COUNTS.map((r) => r[i + 1])]);
    put(dir, "counts.csv", table(["", ...COUNTS.map((r) => r[0])], rows));
    put(dir, "metadata.csv", table(META_HEADER, METADATA));
    await expectReference(dir);
  });

  it("a tab at the end of every line (an empty last column)", async () => {
    const dir = temp.subdir("trailing-tab");
    const text = table(["gene", ...SAMPLES], COUNTS, "\t").replaceAll("\n", "\t\n");
    put(dir, "counts.tsv", text);
    put(dir, "metadata.csv", table(META_HEADER, METADATA));
    await expectReference(dir);
    const filled = temp.subdir("trailing-tab-filled");
    put(filled, "counts.tsv", text.replace("\t\nG2", "\t7\nG2"));
    put(filled, "metadata.csv", table(META_HEADER, METADATA));
    await expect(readDataset(filled)).rejects.toThrow(
      /counts\.tsv: line 2 has a value in the header's empty last column/,
    );
  });

  it("one folder per center, genes in another order, metadata without a center column", async () => {
    const dir = temp.subdir("per-center");
    const { rows: alpha, columns: ca } = centerRows("alpha");
    put(
      join(dir, "alpha"),
      "counts.csv",
      table(
        ["gene", ...alpha.map((r) => r[0])],
        COUNTS.map((r) => [r[0], ...ca.map((c) => r[c])]),
      ),
    );
    put(
      join(dir, "alpha"),
      "metadata.csv",
      table(
        META_HEADER.slice(0, 4),
        alpha.map((r) => r.slice(0, 4)),
      ),
    );
    const { rows: beta, columns: cb } = centerRows("beta");
    const shuffled = [COUNTS[3], COUNTS[0], COUNTS[4], COUNTS[2], COUNTS[1]];
    put(
      join(dir, "beta"),
      "counts.tsv.gz",
      table(
        ["gene", ...beta.map((r) => r[0])],
        shuffled.map((r) => [r[0], ...cb.map((c) => r[c])]),
        "\t",
      ),
    );
    put(
      join(dir, "beta"),
      "metadata.tsv",
      table(
        META_HEADER.slice(0, 4),
        beta.map((r) => r.slice(0, 4)),
        "\t",
      ),
    );
    // A folder with neither table, holding other files (a run's outputs), is not a center.
    put(join(dir, "notes"), "results.csv", "gene,log2FoldChange\nG1,0.5\n");
    const pooled = await readDataset(dir);
    expect(datasetContent(pooled)).toEqual(datasetContent(reference));
    expect(pooled.metadata.source).toBe(join(dir, "<center>", "metadata.csv"));
    // An empty one, or one whose counts are misnamed, is a center missing its tables: refused
    // (it was left out, and the run went on one center short).
    mkdirSync(join(dir, "gamma"));
    await expect(readDataset(dir)).rejects.toThrow(
      `${join(dir, "gamma")}: an empty folder beside the center folders alpha and beta`,
    );
    put(join(dir, "gamma"), "counts.txt", "gene,g1\nG1,1\n");
    await expect(readDataset(dir)).rejects.toThrow(
      `${join(dir, "gamma", "counts.txt")}: beside the center folders alpha and beta, a center's tables are named counts.csv`,
    );
    // A center one folder too deep.
    rmSync(join(dir, "gamma"), { recursive: true });
    put(join(dir, "batch2", "gamma"), "counts.csv", "gene,g1\nG1,1\n");
    put(join(dir, "batch2"), "notes.txt", "second batch\n");
    await expect(readDataset(dir)).rejects.toThrow(
      `${join(dir, "batch2", "gamma")}: a center's tables one folder too deep: the centers are the folders directly in ${dir} (alpha and beta)`,
    );
  });

  it("AnnData: one .h5ad per center (dense and CSR, genes reordered)", async () => {
    const dir = temp.subdir("h5ad-centers");
    await writeH5ad(join(dir, "alpha.h5ad"), h5adFromDataset(reference, { center: "alpha" }));
    await writeH5ad(
      join(dir, "beta.h5ad"),
      h5adFromDataset(reference, {
        center: "beta",
        format: "csr",
        countType: "int32",
        genes: ["G5", "G3", "G1", "G4", "G2"],
        categorical: ["condition"],
      }),
    );
    await expectReference(dir);
  });

  it.each([
    ["dense", "float32"],
    ["dense", "int64"],
    ["csr", "float32"],
    ["csr", "float64"],
    ["csc", "int32"],
  ] as const)("AnnData: a single data.h5ad with a center column (%s %s)", async (format, type) => {
    const dir = temp.subdir(`h5ad-${format}-${type}`);
    await writeH5ad(
      join(dir, "data.h5ad"),
      h5adFromDataset(reference, { format, countType: type, categorical: ["center"] }),
    );
    await expectReference(dir);
  });

  it("AnnData written by anndata 0.8 itself: CSR X, categoricals, int64 and bool columns, layers", async () => {
    const dir = join(fixtures, "anndata");
    await expectReference(dir);
    await expectReference(dir, { layer: "counts" });
  });
});

describe("rounding estimated counts", () => {
  it("roundHalfEven rounds as R's round()", () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001, 7, 1e15 + 0.5].map(roundHalfEven)).toEqual([
      0, 2, 2, 4, 2, 3, 7, 1e15,
    ]);
  });

  it("rejects non-integers with a hint at --round-counts, or rounds them when asked", async () => {
    const dir = temp.subdir("estimated");
    put(dir, "counts.csv", "gene,S1,S2,S3\nG1,0.5,5.5,10.4\nG2,2.5,3.5,7.6\n");
    put(dir, "metadata.csv", "sample,center\nS1,c\nS2,c\nS3,c\n");
    await expectInputError(
      dir,
      /counts\.csv: line 2 \(gene G1\), column S1: count "0\.5" is not an integer: counts must be integer read counts \(round estimated counts first, e\.g\. tximport's, or pass --round-counts\)$/,
    );
    const rounded = await readDataset(dir, { roundCounts: true });
    expect(Array.from(rounded.counts)).toEqual([0, 6, 10, 2, 4, 8]);
    // Rounding does not excuse negative or non-numeric counts.
    put(dir, "counts.csv", "gene,S1,S2,S3\nG1,0.5,-5.5,10.4\n");
    await expectInputError(dir, /column S2: count "-5\.5" is negative$/, { roundCounts: true });
    // Estimated counts with decimal commas in a semicolon-separated table: the same numbers.
    const commas = temp.subdir("estimated-commas");
    put(commas, "counts.csv", "gene;S1;S2;S3\nG1;0,5;5,5;10,4\nG2;2,5;3,5;7,6\n");
    put(commas, "metadata.csv", "sample;center\nS1;c\nS2;c\nS3;c\n");
    expect(Array.from((await readDataset(commas, { roundCounts: true })).counts)).toEqual([
      0, 6, 10, 2, 4, 8,
    ]);
    await expectInputError(commas, /column S1: count "0\.5" is not an integer: .*--round-counts/);
  });

  it("AnnData: the same message, and the same rounding", async () => {
    const dir = join(fixtures, "anndata");
    await expectInputError(
      dir,
      /data\.h5ad: layers\/estimated\[0, 0\] \(sample S1, gene G1\): count "0\.5" is not an integer: .*--round-counts/,
      { layer: "estimated" },
    );
    const rounded = await readDataset(dir, { layer: "estimated", roundCounts: true });
    expect(Array.from(rounded.counts)).toEqual(
      Array.from(reference.counts, (x) => roundHalfEven(x + 0.5)),
    );
    expect(Array.from(rounded.counts.subarray(0, 6))).toEqual([0, 6, 10, 4, 0, 8]);
  });
});

describe("delimiter detection", () => {
  it("reads the header line only", () => {
    expect(delimiterOfHeader("gene\tS1\tS2\nG1,1,2")).toBe("\t");
    expect(delimiterOfHeader("gene,S1,S2\nG1\t1\t2")).toBe(",");
    expect(delimiterOfHeader("gene\tS,1\tS,2")).toBe("\t");
    expect(delimiterOfHeader('gene,"S\t1","S\t2",S3')).toBe(",");
    expect(delimiterOfHeader('"a\nb"\tc\nd,e,f')).toBe("\t");
    expect(delimiterOfHeader("gene")).toBe(",");
    expect(delimiterOfHeader("gene;S1;S2\nG1;1;2")).toBe(";");
    // A comma inside quotes does not count; more commas than semicolons: comma.
    expect(delimiterOfHeader('gene;"S,1";S2')).toBe(";");
    expect(delimiterOfHeader("gene,S1;a,S2;b")).toBe(",");
  });

  it("sees through gzip, and the sidecar readers take TSV too", () => {
    const dir = temp.subdir("sidecars");
    put(dir, "sf.tsv.gz", "sample\tsize_factor\nS1\t0.5\nS2\t2\n");
    expect(detectDelimiter(join(dir, "sf.tsv.gz"))).toBe("\t");
    expect(Array.from(readSizeFactors(join(dir, "sf.tsv.gz"), ["S2", "S1"]))).toEqual([2, 0.5]);
    put(dir, "empty.tsv", "gene\tS1\tS2\nG1\t\t3\n");
    expect(readCsv(join(dir, "empty.tsv")).rows[0].fields).toEqual(["G1", "", "3"]);
  });

  it("names TSV in a malformed-file message", () => {
    const dir = temp.subdir("malformed");
    put(dir, "bad.tsv", 'gene\tS1\nG1\t"1\n');
    expect(() => readCsv(join(dir, "bad.tsv"))).toThrow(/bad\.tsv: .*malformed TSV/);
  });

  it("findTable prefers counts.csv, then .csv.gz, .tsv, .tsv.gz", () => {
    const dir = temp.subdir("names");
    expect(findTable(dir, "counts")).toBeUndefined();
    put(dir, "counts.tsv.gz", "x");
    expect(findTable(dir, "counts")).toBe(join(dir, "counts.tsv.gz"));
    put(dir, "counts.tsv", "x");
    expect(findTable(dir, "counts")).toBe(join(dir, "counts.tsv"));
    put(dir, "counts.csv", "x");
    expect(findTable(dir, "counts")).toBe(join(dir, "counts.csv"));
  });
});

describe("mistakes in per-center layouts", () => {
  /** A per-center folder with the given counts text and metadata text per center. */
  function centers(spec: Record<string, [string, string]>): string {
    const dir = temp.subdir("centers");
    for (const [center, [counts, metadata]] of Object.entries(spec)) {
      put(join(dir, center), "counts.csv", counts);
      put(join(dir, center), "metadata.csv", metadata);
    }
    return dir;
  }
  const A: [string, string] = [
    "gene,S1,S2\ng1,1,2\ng2,3,4\ng3,5,6\ng4,7,8\n",
    "sample,condition\nS1,a\nS2,b\n",
  ];

  it("names the genes a center lacks, or has in addition", async () => {
    await expectInputError(
      centers({ a: A, b: ["gene,S3\ng2,1\n", "sample,condition\nS3,a\n"] }),
      /b[/\\]counts\.csv: center b lacks 3 genes that center a has: g1, g3 and g4$/,
    );
    await expectInputError(
      centers({
        a: A,
        b: ["gene,S3\ng4,1\ng3,1\ng2,1\ng1,1\ng9,2\n", "sample,condition\nS3,a\n"],
      }),
      /center b has 1 gene that center a lacks: g9$/,
    );
  });

  it("rejects a sample id held by two centers", async () => {
    await expectInputError(
      centers({ a: A, b: ["gene,S2\ng1,1\ng2,1\ng3,1\ng4,1\n", "sample,condition\nS2,a\n"] }),
      /sample "S2" is in two centers: a \(.*a[/\\]counts\.csv\) and b \(.*b[/\\]counts\.csv\)/,
    );
  });

  it("rejects centers whose metadata columns differ", async () => {
    await expectInputError(
      centers({
        a: A,
        b: ["gene,S3\ng1,1\ng2,1\ng3,1\ng4,1\n", "sample,batch\nS3,x\n"],
      }),
      /b[/\\]metadata\.csv: metadata columns differ from center a's \(.*\): lacks "condition" and has "batch" in addition$/,
    );
  });

  it("accepts a center column that agrees with the folder, rejects one that does not", async () => {
    const ok = centers({ a: [A[0], "sample,condition,center\nS1,a,a\nS2,b,a\n"] });
    expect((await readDataset(ok)).centers).toEqual(["a"]);
    await expectInputError(
      centers({ a: [A[0], "sample,condition,center\nS1,a,a\nS2,b,z\n"] }),
      /a[/\\]metadata\.csv: line 3 \(sample "S2"\): center "z" is not this center's name "a" \(its folder's name, or --name\)$/,
    );
  });

  it("reports a center folder's missing file, and a stray top-level metadata file", async () => {
    const dir = centers({ a: A });
    put(join(dir, "b"), "metadata.csv", "sample,condition\nS3,a\n");
    await expectInputError(dir, /cannot read .*b[/\\]counts\.csv: no such file/);
    const stray = centers({ a: A });
    put(stray, "metadata.csv", "sample,center\nS1,a\n");
    await expectInputError(stray, /metadata\.csv: found beside per-center folders \(a\)/);
  });
});

describe("mistakes in .h5ad layouts", () => {
  it("a single data.h5ad needs a center column", async () => {
    const dir = temp.subdir("no-center");
    const content = h5adFromDataset(reference);
    await writeH5ad(join(dir, "data.h5ad"), {
      ...content,
      obs: content.obs.filter((c) => c.name !== "center"),
    });
    await expectInputError(
      dir,
      /data\.h5ad: obs has no column "center" \(found: "condition", "age" and "smoker"\); a single data\.h5ad must say which center holds each sample/,
    );
  });

  it("data.h5ad cannot share the folder with per-center files", async () => {
    const dir = temp.subdir("both");
    await writeH5ad(join(dir, "data.h5ad"), h5adFromDataset(reference));
    await writeH5ad(join(dir, "alpha.h5ad"), h5adFromDataset(reference, { center: "alpha" }));
    await expectInputError(
      dir,
      /data\.h5ad holds every center, but there are other \.h5ad files beside it \(alpha\.h5ad\)/,
    );
  });

  it("rejects a fractional, negative or NaN count in X as CSV does", async () => {
    const cases: [number, RegExp][] = [
      [
        2.5,
        /X\[1, 2\] \(sample S2, gene G3\): count "2\.5" is not an integer: .*--round-counts\)$/,
      ],
      [-3, /X\[1, 2\] \(sample S2, gene G3\): count "-3" is negative$/],
      [Number.NaN, /X\[1, 2\] \(sample S2, gene G3\): count "NaN" is missing$/],
    ];
    for (const [value, pattern] of cases) {
      const dir = temp.subdir("bad-count");
      const content = h5adFromDataset(reference, { countType: "float64" });
      const matrix = Float64Array.from(content.matrix);
      matrix[1 * 5 + 2] = value;
      await writeH5ad(join(dir, "data.h5ad"), { ...content, matrix });
      await expectInputError(dir, pattern);
    }
  });

  it("names the layers when the one asked for is missing, and --layer needs .h5ad files", async () => {
    await expectInputError(
      join(fixtures, "anndata"),
      /data\.h5ad: no layer "raw" \(layers: counts and estimated\)/,
      { layer: "raw" },
    );
    const dir = temp.subdir("csv-layer");
    put(dir, "counts.csv", table(["gene", ...SAMPLES], COUNTS));
    put(dir, "metadata.csv", table(META_HEADER, METADATA));
    await expectInputError(dir, /--layer "counts": only \.h5ad files have layers/, {
      layer: "counts",
    });
  });

  it("rejects a file that is not HDF5, duplicate ids, and a center column contradicting the name", async () => {
    const notHdf5 = temp.subdir("not-hdf5");
    put(notHdf5, "alpha.h5ad", "gene,S1\n");
    await expectInputError(notHdf5, /alpha\.h5ad: not an HDF5 file/);

    const dup = temp.subdir("dup");
    const content = h5adFromDataset(reference);
    await writeH5ad(join(dup, "data.h5ad"), {
      ...content,
      genes: ["G1", "G2", "G3", "G1", "G5"],
    });
    await expectInputError(dup, /var index: gene "G1" is listed twice \(entries 1 and 4\)/);

    const wrong = temp.subdir("wrong-center");
    copyFileSync(join(fixtures, "anndata", "data.h5ad"), join(wrong, "alpha.h5ad"));
    await expectInputError(
      wrong,
      /alpha\.h5ad: obs "center" of sample "S3" is "beta", but the file's name says center "alpha"/,
    );
  });
});
