/**
 * HTSeq-count's files, one per sample, named by the metadata's `fileName` column (DESeq2's
 * `DESeqDataSetFromHTSeqCount`): read into the very counts a counts table gives, summary rows
 * left out with one warning, every problem one line naming the file, line and sample; in a
 * dataset folder (layout 1), per-center folders (layout 3) and a center's own folder; and
 * outliers_sim written as HTSeq files analysed as its table is, byte for byte.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { loadCenterData } from "../../src/federation/centerData.js";
import { readDataset, readDatasetByCenter, readMetadata } from "../../src/io/dataset.js";
import { InputError } from "../../src/io/errors.js";
import { analyseSimulated, runSimulated } from "../../src/pipeline/run.js";
import { datasetContent } from "../helpers/datasets.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-htseq-");

const GENES = ["G1", "G2", "G3"];
/** Counts of S1, S2, S3 (one array per sample, genes in GENES order). */
const COUNTS: Record<string, number[]> = { S1: [0, 7, 3], S2: [5, 0, 2], S3: [10, 1, 0] };
const TABLE = "gene,S1,S2,S3\nG1,0,5,10\nG2,7,0,1\nG3,3,2,0\n";
const SUMMARY = "__no_feature\t9\n__ambiguous\t1\n__too_low_aQual\t0\n";

/** HTSeq-count's output for a sample's counts (summary rows at the end, as HTSeq writes them). */
function htseqText(counts: readonly number[], genes = GENES, summary = SUMMARY): string {
  return `${genes.map((g, i) => `${g}\t${counts[i]}`).join("\n")}\n${summary}`;
}

/**
 * A dataset folder of HTSeq files: `metadata.csv` (sample, fileName, condition, center) and one
 * file per sample under `files/`, or the texts given in `files` (by sample; null: no file).
 */
function htseqDir(files: Record<string, string | null> = {}, gzip = false): string {
  const dir = temp.subdir("htseq");
  mkdirSync(join(dir, "files"));
  const centers: Record<string, string> = { S1: "c1", S2: "c1", S3: "c2" };
  const conditions: Record<string, string> = { S1: "a", S2: "b", S3: "a" };
  const rows = ["S1", "S2", "S3"].map((s) => {
    const name = `files/${s}.counts.txt${gzip ? ".gz" : ""}`;
    const text = s in files ? files[s] : htseqText(COUNTS[s]);
    if (text !== null) writeFileSync(join(dir, name), gzip ? gzipSync(text) : text);
    return `${s},${name},${conditions[s]},${centers[s]}`;
  });
  writeFileSync(
    join(dir, "metadata.csv"),
    `sample,fileName,condition,center\n${rows.join("\n")}\n`,
  );
  return dir;
}

/** The same dataset as a counts table. */
function tableDir(): string {
  const dir = temp.subdir("table");
  writeFileSync(join(dir, "counts.csv"), TABLE);
  writeFileSync(join(dir, "metadata.csv"), "sample,condition,center\nS1,a,c1\nS2,b,c1\nS3,a,c2\n");
  return dir;
}

/** readDataset must reject with an InputError whose message is exactly `message`. */
async function expectError(dir: string, message: string, options = {}): Promise<void> {
  const reading = readDataset(dir, options);
  await expect(reading).rejects.toThrow(InputError);
  await expect(reading).rejects.toThrow(message);
  const error = await reading.catch((e: Error) => e);
  expect((error as Error).message).toBe(message);
}

describe("HTSeq-count files named by the metadata (layout 1)", () => {
  it("reads the counts a counts table gives, fileName no metadata column", async () => {
    const dir = htseqDir();
    const warnings: string[] = [];
    const dataset = await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    expect(datasetContent(dataset)).toEqual(datasetContent(await readDataset(tableDir())));
    expect(dataset.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(dataset.metadata.columns).toEqual(["condition", "center"]);
    expect(dataset.metadata.values.has("fileName")).toBe(false);
    // The summary rows of every file: one warning.
    expect(warnings).toEqual([
      `${join(dir, "metadata.csv")} (the HTSeq-count files of its column fileName): "__no_feature", "__ambiguous" and "__too_low_aQual" are HTSeq's summary rows (reads counted in no gene), not genes: left out, as DESeq2's DESeqDataSetFromHTSeqCount leaves them out`,
    ]);
    // readMetadata keeps the names apart from the variables.
    const meta = readMetadata(join(dir, "metadata.csv"));
    expect(meta.fileNames).toEqual(["S1", "S2", "S3"].map((s) => `files/${s}.counts.txt`));
    expect(meta.metadata.columns).toEqual(["condition", "center"]);
  });

  it("reads the centers' counts apart, as a counts table's", async () => {
    const files = await readDatasetByCenter(htseqDir());
    const table = await readDatasetByCenter(tableDir());
    expect(files.centers).toEqual(["c1", "c2"]);
    for (const center of table.centers) {
      const own = files.centerCounts.get(center) as Float64Array;
      expect(Array.from(own)).toEqual(Array.from(table.centerCounts.get(center) as Float64Array));
      expect(own.buffer).toBeInstanceOf(SharedArrayBuffer);
    }
    expect(files.metadata.columns).toEqual(table.metadata.columns);
  });

  it("reads gzipped files, CRLF lines, and files without summary rows, without a warning", async () => {
    const gz = await readDataset(htseqDir({}, true));
    expect(Array.from(gz.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
    const crlf = htseqText(COUNTS.S2, GENES, "").replaceAll("\n", "\r\n");
    const warnings: string[] = [];
    const plain = await readDataset(
      htseqDir({
        S1: htseqText(COUNTS.S1, GENES, ""),
        S2: crlf,
        S3: htseqText(COUNTS.S3, GENES, ""),
      }),
      { onWarning: (m) => warnings.push(m) },
    );
    expect(Array.from(plain.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
    expect(warnings).toEqual([]);
  });

  it("strips version suffixes with stripVersion, and rounds with roundCounts", async () => {
    const versioned = ["G1.3", "G2.1", "G3.7"];
    const dir = htseqDir({
      S1: htseqText(COUNTS.S1, versioned),
      S2: htseqText([5, 0, 2.5], ["G1.4", "G2.1", "G3.7"]),
      S3: htseqText(COUNTS.S3, versioned),
    });
    const dataset = await readDataset(dir, { stripVersion: true, roundCounts: true });
    expect(dataset.genes).toEqual(GENES);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
    // Without stripVersion the ids differ; without roundCounts 2.5 is no count.
    await expectError(
      dir,
      `${join(dir, "files/S2.counts.txt")}: line 1 (sample "S2"): gene "G1.4", where ${join(dir, "files/S1.counts.txt")} has gene "G1.3" (line 1): every HTSeq-count file must list the same genes in the same order`,
      { roundCounts: true },
    );
    await expectError(
      dir,
      `${join(dir, "files/S2.counts.txt")}: line 3 (sample "S2", gene G3): count "2.5" is not an integer: counts must be integer read counts (round estimated counts first, e.g. tximport's, or pass --round-counts)`,
      { stripVersion: true },
    );
    // Two versions of one gene in one file are one gene listed twice once stripped.
    const twice = htseqDir({ S1: htseqText([1, 2, 3], ["G1.1", "G1.2", "G3"]) });
    await expectError(
      twice,
      `${join(twice, "files/S1.counts.txt")}: line 2 (sample "S1"): gene "G1" is listed twice (also on line 1)`,
      { stripVersion: true },
    );
  });
});

describe("the fileName column", () => {
  it("takes an absolute path as it is", async () => {
    const dir = htseqDir();
    const elsewhere = temp.write("elsewhere/S2.txt", htseqText(COUNTS.S2));
    writeFileSync(
      join(dir, "metadata.csv"),
      `sample,fileName,condition,center\nS1,files/S1.counts.txt,a,c1\nS2,${elsewhere},b,c1\nS3,files/S3.counts.txt,a,c2\n`,
    );
    const dataset = await readDataset(dir);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
  });

  it("is no design variable", async () => {
    await expect(
      analyseSimulated({ dataDir: htseqDir(), design: "~ fileName", threads: 1 }),
    ).rejects.toThrow(
      /design variable "fileName" is not a column of .*metadata\.csv \(columns: condition and center\)/,
    );
  });
});

describe("HTSeq-count files: every problem one line naming the file, line and sample", () => {
  /** The path of sample `s`'s file in a folder made by htseqDir. */
  const fileOf = (dir: string, s: string) => join(dir, "files", `${s}.counts.txt`);
  const SAME_ORDER = "every HTSeq-count file must list the same genes in the same order";

  it("a file that does not exist: the sample, the metadata file and the path tried", async () => {
    const dir = htseqDir({ S2: null });
    await expectError(
      dir,
      `${join(dir, "metadata.csv")}: line 3 (sample "S2"): fileName "files/S2.counts.txt": cannot read ${fileOf(dir, "S2")}: no such file`,
    );
    // An empty name, and a folder's.
    const empty = htseqDir();
    writeFileSync(
      join(empty, "metadata.csv"),
      "sample,fileName,condition,center\nS1,files/S1.counts.txt,a,c1\nS2,,b,c1\n",
    );
    await expectError(
      empty,
      `${join(empty, "metadata.csv")}: line 3 (sample "S2"): empty fileName`,
    );
    const folder = htseqDir();
    writeFileSync(
      join(folder, "metadata.csv"),
      "sample,fileName,condition,center\nS1,files/S1.counts.txt,a,c1\nS2,files,b,c1\n",
    );
    await expectError(
      folder,
      `${join(folder, "metadata.csv")}: line 3 (sample "S2"): fileName "files": cannot read ${join(folder, "files")}: it is a folder`,
    );
  });

  it("a line without exactly two fields", async () => {
    const three = htseqDir({ S2: "G1\t5\nG2\t0\textra\nG3\t2\n" });
    await expectError(
      three,
      `${fileOf(three, "S2")}: line 2 (sample "S2"): 3 fields, expected 2 (a gene id, a tab, its count: HTSeq-count's output)`,
    );
    const one = htseqDir({ S3: "G1\t10\nG2\nG3\t0\n" });
    await expectError(
      one,
      `${fileOf(one, "S3")}: line 2 (sample "S3"): 1 field, expected 2 (a gene id, a tab, its count: HTSeq-count's output)`,
    );
  });

  it("a bad count, with the table's checks", async () => {
    const cases: [string, string][] = [
      ["-1", `count "-1" is negative`],
      ["abc", `count "abc" is not a number`],
      ["", "count is missing (empty field)"],
      ["NA", `count "NA" is missing`],
      [
        "3000000000",
        `count "3000000000" is too large: DESeq2 takes counts up to 2147483647 (R's largest integer)`,
      ],
    ];
    for (const [text, problem] of cases) {
      const dir = htseqDir({ S2: `G1\t5\nG2\t${text}\nG3\t2\n` });
      await expectError(dir, `${fileOf(dir, "S2")}: line 2 (sample "S2", gene G2): ${problem}`, {
        roundCounts: true,
      });
    }
    // Estimated counts are refused with the hint, or rounded half to even.
    const estimated = htseqDir({ S1: "G1\t0.5\nG2\t6.5\nG3\t3.4\n" });
    await expectError(
      estimated,
      `${fileOf(estimated, "S1")}: line 1 (sample "S1", gene G1): count "0.5" is not an integer: counts must be integer read counts (round estimated counts first, e.g. tximport's, or pass --round-counts)`,
    );
    const rounded = await readDataset(estimated, { roundCounts: true });
    expect(Array.from(rounded.counts)).toEqual([0, 5, 10, 6, 0, 1, 3, 2, 0]);
  });

  it("a gene listed twice, or an empty gene id", async () => {
    const dir = htseqDir({ S1: "G1\t0\nG2\t7\nG1\t3\n" });
    await expectError(
      dir,
      `${fileOf(dir, "S1")}: line 3 (sample "S1"): gene "G1" is listed twice (also on line 1)`,
    );
    const empty = htseqDir({ S1: "G1\t0\n\t7\nG3\t3\n" });
    await expectError(empty, `${fileOf(empty, "S1")}: line 2 (sample "S1"): empty gene id`);
  });

  it("a file with no gene rows", async () => {
    const empty = htseqDir({ S3: "" });
    await expectError(
      empty,
      `${fileOf(empty, "S3")} (sample "S3"): no gene rows (the file is empty)`,
    );
    const summary = htseqDir({ S1: SUMMARY });
    await expectError(
      summary,
      `${fileOf(summary, "S1")} (sample "S1"): no gene rows (only HTSeq's summary rows)`,
    );
  });

  it("genes not in the first file's order: both files, the line and both gene ids", async () => {
    const swapped = htseqDir({ S3: htseqText([10, 1, 0], ["G1", "G3", "G2"]) });
    await expectError(
      swapped,
      `${fileOf(swapped, "S3")}: line 2 (sample "S3"): gene "G3", where ${fileOf(swapped, "S1")} has gene "G2" (line 2): ${SAME_ORDER}`,
    );
    const longer = htseqDir({ S2: htseqText([5, 0, 2, 4], [...GENES, "G4"]) });
    await expectError(
      longer,
      `${fileOf(longer, "S2")}: line 4 (sample "S2"): gene "G4", where ${fileOf(longer, "S1")} ends after gene "G3" (line 3): ${SAME_ORDER}`,
    );
    const shorter = htseqDir({ S2: htseqText([5, 0], ["G1", "G2"]) });
    await expectError(
      shorter,
      `${fileOf(shorter, "S2")}: line 2 (sample "S2"): the file ends after gene "G2", where ${fileOf(shorter, "S1")} has gene "G3" next (line 3): ${SAME_ORDER}`,
    );
  });

  it("without a counts table nor a fileName column, the missing table is named", async () => {
    const dir = temp.subdir("neither");
    writeFileSync(join(dir, "metadata.csv"), "sample,condition,center\nS1,a,c1\n");
    await expectError(dir, `cannot read ${join(dir, "counts.csv")}: no such file`);
  });
});

describe("a counts table beside a fileName column", () => {
  it("reads the table, leaves the column out of the metadata, and says so", async () => {
    const dir = htseqDir({ S1: "not read\n" });
    writeFileSync(join(dir, "counts.csv"), TABLE);
    const warnings: string[] = [];
    const dataset = await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    expect(datasetContent(dataset)).toEqual(datasetContent(await readDataset(tableDir())));
    expect(warnings).toEqual([
      `${join(dir, "metadata.csv")}: column fileName (HTSeq-count files) is not read: the counts come from ${join(dir, "counts.csv")}, and the column is left out of the metadata`,
    ]);
  });
});

describe("HTSeq-count files in per-center folders (layout 3) and a center's own folder", () => {
  /** DIR/<center>/metadata.csv (no center column) naming files in DIR/<center>/. */
  function centerFolders(gzip: boolean, order: Record<string, string[]> = {}): string {
    const dir = temp.subdir("centers");
    const samples: Record<string, string[]> = { c1: ["S1", "S2"], c2: ["S3"] };
    const conditions: Record<string, string> = { S1: "a", S2: "b", S3: "a" };
    for (const [center, own] of Object.entries(samples)) {
      mkdirSync(join(dir, center));
      const genes = order[center] ?? GENES;
      const rows = own.map((s) => {
        const name = `${s}.htseq${gzip ? ".gz" : ""}`;
        const text = htseqText(
          genes.map((g) => COUNTS[s][GENES.indexOf(g)]),
          genes,
        );
        writeFileSync(join(dir, center, name), gzip ? gzipSync(text) : text);
        return `${s},${conditions[s]},${name}`;
      });
      writeFileSync(
        join(dir, center, "metadata.tsv"),
        `sample\tcondition\tfileName\n${rows.join("\n").replaceAll(",", "\t")}\n`,
      );
    }
    return dir;
  }

  it("reads each center's files, genes aligned by id across centers", async () => {
    const warnings: string[] = [];
    const dir = centerFolders(true, { c2: ["G3", "G1", "G2"] });
    const dataset = await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    expect(datasetContent(dataset)).toEqual(datasetContent(await readDataset(tableDir())));
    // One warning per center's metadata, as one per counts table.
    expect(warnings.map((w) => w.slice(0, w.indexOf(" ")))).toEqual([
      join(dir, "c1", "metadata.tsv"),
      join(dir, "c2", "metadata.tsv"),
    ]);
    const byCenter = await readDatasetByCenter(dir);
    expect(Array.from(byCenter.centerCounts.get("c1") as Float64Array)).toEqual([0, 5, 7, 0, 3, 2]);
  });

  it("a center lacking a gene is named with its metadata's files", async () => {
    const dir = centerFolders(false, { c2: ["G1", "G2"] });
    await expectError(
      dir,
      `${join(dir, "c2", "metadata.tsv")} (the HTSeq-count files of its column fileName): center c2 lacks 1 gene that center c1 has: G3`,
    );
  });

  it("a center's own folder (`fedseq center --data`) reads its files", async () => {
    const dir = join(centerFolders(false), "c1");
    const data = await loadCenterData({ kind: "dataset", dir, name: "c1" });
    expect(data.samples).toEqual(["S1", "S2"]);
    expect(data.genes).toEqual(GENES);
    expect(Array.from(data.counts)).toEqual([0, 5, 7, 0, 3, 2]);
    expect(data.metadata.columns).toEqual(["condition", "center"]);
  });
});

describe("outliers_sim as one HTSeq-count file per sample", () => {
  it("gives the very outputs of its counts table (results.csv byte for byte)", async () => {
    const source = sharedPath("data", "outliers_sim");
    const lines = readFileSync(join(source, "counts.csv"), "utf8").trimEnd().split("\n");
    const samples = lines[0].split(",").slice(1);
    const rows = lines.slice(1).map((l) => l.split(","));
    const dir = temp.subdir("outliers-htseq");
    mkdirSync(join(dir, "htseq"));
    samples.forEach((sample, j) => {
      const text = `${rows.map((r) => `${r[0]}\t${r[j + 1]}`).join("\n")}\n${SUMMARY}`;
      writeFileSync(join(dir, "htseq", `${sample}.htseq-count.txt`), text);
    });
    // DESeq2's sample table: sample, fileName, then the variables.
    const metadata = readFileSync(join(source, "metadata.csv"), "utf8").trimEnd().split("\n");
    writeFileSync(
      join(dir, "metadata.csv"),
      `${metadata
        .map((line, i) => {
          const [sample, ...rest] = line.split(",");
          return [sample, i === 0 ? "fileName" : `htseq/${sample}.htseq-count.txt`, ...rest].join(
            ",",
          );
        })
        .join("\n")}\n`,
    );

    const outputs: Record<string, string>[] = [];
    for (const dataDir of [source, dir]) {
      const outDir = temp.subdir("outliers-out");
      await runSimulated({ dataDir, design: "~ condition", outDir, threads: 2 });
      outputs.push(
        Object.fromEntries(
          readdirSync(outDir).map((f) => [f, readFileSync(join(outDir, f), "utf8")]),
        ),
      );
    }
    const [table, files] = outputs;
    expect(Object.keys(files).sort()).toEqual(Object.keys(table).sort());
    expect(table["results.csv"].trimEnd().split("\n").length).toBe(2999);
    const csvs = Object.keys(table).filter((f) => f.endsWith(".csv"));
    expect(csvs.sort()).toEqual(["dispersions.csv", "lfc.csv", "results.csv", "size_factors.csv"]);
    for (const name of csvs) expect(files[name], name).toBe(table[name]);
    // run.json too, but for the time taken.
    const untimed = (text: string) => ({ ...JSON.parse(text), seconds: undefined });
    expect(untimed(files["run.json"])).toEqual(untimed(table["run.json"]));
    // The files' names travel nowhere: no output holds them.
    for (const text of Object.values(files)) {
      expect(text).not.toContain("htseq-count.txt");
      expect(text).not.toContain("fileName");
    }
  });
});

describe("red team: HTSeq-count files as users bring them", () => {
  /** htseqDir with sample S3's fileName replaced by `name`. */
  function withS3Named(name: string): string {
    const dir = htseqDir();
    writeFileSync(
      join(dir, "metadata.csv"),
      `sample,fileName,condition,center\nS1,files/S1.counts.txt,a,c1\nS2,files/S2.counts.txt,b,c1\nS3,${name},a,c2\n`,
    );
    return dir;
  }

  it("a fileName naming a FIFO or a device is refused, never read (reading one hangs)", async () => {
    const fifoDir = withS3Named("files/pipe");
    const fifo = join(fifoDir, "files", "pipe");
    spawn("mkfifo", [fifo]).on("error", () => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A writer opening and closing the FIFO over and over, so that each time a reader opens it
    // the reader is let through and reads an empty file (without one, opening it for reading
    // blocks the whole process for good: this test would hang, where it should fail).
    const writer = spawn("sh", ["-c", `while :; do : > '${fifo}'; done`]);
    try {
      await expectError(
        fifoDir,
        `${join(fifoDir, "metadata.csv")}: line 4 (sample "S3"): fileName "files/pipe": cannot read ${fifo}: not a regular file (a pipe, a device or a socket)`,
      );
    } finally {
      if (writer.pid !== undefined) process.kill(writer.pid);
    }
    const zero = withS3Named("/dev/zero");
    await expectError(
      zero,
      `${join(zero, "metadata.csv")}: line 4 (sample "S3"): fileName "/dev/zero": cannot read /dev/zero: not a regular file (a pipe, a device or a socket)`,
    );
  });

  it("leaves out the summary rows older HTSeq-count versions wrote without underscores, as DESeq2 does", async () => {
    // HTSeq-count up to 0.5.4 named them no_feature, ambiguous, …; DESeq2's
    // DESeqDataSetFromHTSeqCount leaves those names out too (its oldSpecialNames).
    const old =
      "no_feature\t9\nambiguous\t1\ntoo_low_aQual\t0\nnot_aligned\t0\nalignment_not_unique\t4\n";
    const dir = htseqDir({
      S1: htseqText(COUNTS.S1, GENES, old),
      S2: htseqText(COUNTS.S2, GENES, old),
      S3: htseqText(COUNTS.S3, GENES, old),
    });
    const warnings: string[] = [];
    const dataset = await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    expect(dataset.genes).toEqual(GENES);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
    expect(warnings).toEqual([
      `${join(dir, "metadata.csv")} (the HTSeq-count files of its column fileName): "no_feature", "ambiguous", "too_low_aQual", "not_aligned" and "alignment_not_unique" are HTSeq's summary rows (reads counted in no gene), not genes: left out, as DESeq2's DESeqDataSetFromHTSeqCount leaves them out`,
    ]);
  });

  it("reads gene ids holding commas or semicolons: HTSeq-count's files are tab-separated whatever their first line", async () => {
    for (const first of ["G1,a,b", "G1;a;b", "G1, a, b; c; d"]) {
      const genes = [first, "G2", "G3"];
      const dir = htseqDir({
        S1: htseqText(COUNTS.S1, genes),
        S2: htseqText(COUNTS.S2, genes),
        S3: htseqText(COUNTS.S3, genes),
      });
      const dataset = await readDataset(dir);
      expect(dataset.genes, first).toEqual(genes);
      expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
    }
  });

  it("two samples naming one file are refused (a copied row, not two samples)", async () => {
    const dir = withS3Named("./files/../files/S2.counts.txt");
    await expectError(
      dir,
      `${join(dir, "metadata.csv")}: line 4 (sample "S3"): fileName "./files/../files/S2.counts.txt" names the file of sample "S2" (line 3) too: each sample has its own HTSeq-count file`,
    );
    // Also through a symbolic link to it.
    const linked = withS3Named("files/S3.link.txt");
    symlinkSync(join(linked, "files", "S2.counts.txt"), join(linked, "files", "S3.link.txt"));
    await expectError(
      linked,
      `${join(linked, "metadata.csv")}: line 4 (sample "S3"): fileName "files/S3.link.txt" names the file of sample "S2" (line 3) too: each sample has its own HTSeq-count file`,
    );
  });

  it("reads htseq-count --additional-attr output (gene id, attributes, count), as DESeq2 reads its last column", async () => {
    const attr = (counts: number[]) =>
      `${GENES.map((g, i) => `${g}\tname_${g}\t${counts[i]}`).join("\n")}\n__no_feature\t\t9\n`;
    const dir = htseqDir({ S1: attr(COUNTS.S1), S2: attr(COUNTS.S2), S3: attr(COUNTS.S3) });
    const dataset = await readDataset(dir);
    expect(dataset.genes).toEqual(GENES);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1, 3, 2, 0]);
    // A line of another width than the file's first gene line is still refused.
    const ragged = htseqDir({ S2: "G1\tn1\t5\nG2\t0\nG3\tn3\t2\n" });
    await expectError(
      ragged,
      `${join(ragged, "files", "S2.counts.txt")}: line 2 (sample "S2"): 2 fields, expected 3 as on line 1 (a gene id, its --additional-attr values, its count: HTSeq-count's output)`,
    );
  });
});

describe("a DESeq2 user's sample table", () => {
  it("a sample-id column named as other tools name it (sampleName, Sample, sample_id) is named in the message", async () => {
    for (const name of ["sampleName", "Sample", "sample_id"]) {
      const dir = htseqDir();
      const text = readFileSync(join(dir, "metadata.csv"), "utf8").replace(/^sample,/, `${name},`);
      writeFileSync(join(dir, "metadata.csv"), text);
      await expectError(
        dir,
        `${join(dir, "metadata.csv")}: no column "sample" in the header (found: "${name}", "fileName", "condition" and "center"): if "${name}" holds the sample ids, name it "sample"`,
      );
    }
  });

  it("a fileName column spelt otherwise (filename, file_name) is named in the message", async () => {
    for (const name of ["filename", "file_name", "FileName"]) {
      const dir = htseqDir();
      const text = readFileSync(join(dir, "metadata.csv"), "utf8").replace(
        ",fileName,",
        `,${name},`,
      );
      writeFileSync(join(dir, "metadata.csv"), text);
      await expectError(
        dir,
        `cannot read ${join(dir, "counts.csv")}: no such file; ${join(dir, "metadata.csv")} has a column "${name}": to read each sample's HTSeq-count file from it, name it "fileName"`,
      );
    }
  });
});
