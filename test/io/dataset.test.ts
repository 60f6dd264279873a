import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { centerSlice, type Dataset, readDataset, readMetadata } from "../../src/io/dataset.js";
import { InputError } from "../../src/io/errors.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder();

/** Write a dataset folder with the given files' text; `null` leaves a file out. */
function datasetDir(counts: string | null, metadata: string | null): string {
  const dir = temp.subdir("dataset");
  if (counts !== null) writeFileSync(join(dir, "counts.csv"), counts);
  if (metadata !== null) writeFileSync(join(dir, "metadata.csv"), metadata);
  return dir;
}

const GOOD_COUNTS = "gene,S1,S2,S3\nG1,0,5,10\nG2,7,0,1\n";
const GOOD_METADATA = "sample,condition,center\nS1,a,c1\nS2,b,c1\nS3,a,c2\n";

/** The count of `gene` in `sample`. */
function count(dataset: Dataset, gene: string, sample: string): number {
  const g = dataset.genes.indexOf(gene);
  const i = dataset.samples.indexOf(sample);
  expect(g).toBeGreaterThanOrEqual(0);
  expect(i).toBeGreaterThanOrEqual(0);
  return dataset.counts[g * dataset.samples.length + i];
}

function total(counts: Float64Array): number {
  let sum = 0;
  for (const x of counts) sum += x;
  return sum;
}

/** readDataset must reject with an InputError whose message matches `pattern`. */
async function expectInputError(dir: string, pattern: RegExp): Promise<void> {
  const reading = readDataset(dir);
  await expect(reading).rejects.toThrow(InputError);
  await expect(reading).rejects.toThrow(pattern);
}

describe("readDataset on the shared datasets", () => {
  let bodymap: Dataset;
  beforeAll(async () => {
    bodymap = await readDataset(sharedPath("data", "bodymap"));
  });

  it("bodymap: genes, samples and centers", () => {
    expect(bodymap.genes.length).toBe(37653);
    expect(bodymap.genes.slice(0, 2)).toEqual(["NM_000014", "NM_000015"]);
    expect(bodymap.genes[37652]).toBe("NR_045494");
    expect(bodymap.samples).toEqual([
      ...[1, 2, 3, 4].map((k) => `adipose.${k}`),
      ...[1, 2, 3, 4].map((k) => `blood.${k}`),
      ...[1, 2, 3, 4].map((k) => `heart.${k}`),
      ...[1, 2, 3, 4].map((k) => `skeletal_muscle.${k}`),
    ]);
    expect(bodymap.centers).toEqual(["hospital_a", "hospital_b", "hospital_c"]);
    expect(bodymap.centerOfSample.slice(0, 5)).toEqual([
      "hospital_a",
      "hospital_a",
      "hospital_b",
      "hospital_c",
      "hospital_a",
    ]);
    expect(bodymap.metadata.columns).toEqual(["tissue", "center"]);
    expect(bodymap.metadata.values.get("tissue")?.slice(3, 6)).toEqual([
      "adipose",
      "blood",
      "blood",
    ]);
    expect(bodymap.metadata.samples).toEqual(bodymap.samples);
  });

  it("bodymap: known counts, gene-major layout and total", () => {
    expect(bodymap.counts.length).toBe(37653 * 16);
    expect(Array.from(bodymap.counts.subarray(0, 16))).toEqual([
      91717, 91406, 91667, 91788, 290, 310, 300, 283, 67285, 66471, 67355, 67318, 15609, 15273,
      15573, 15880,
    ]);
    expect(count(bodymap, "NM_000015", "heart.3")).toBe(8);
    expect(count(bodymap, "NM_000016", "heart.1")).toBe(15851);
    expect(count(bodymap, "NR_045494", "skeletal_muscle.4")).toBe(2461);
    const allZero = bodymap.genes.indexOf("NM_000133");
    expect(Array.from(bodymap.counts.subarray(allZero * 16, allZero * 16 + 16))).toEqual(
      new Array(16).fill(0),
    );
    expect(total(bodymap.counts)).toBe(1287459754);
  });

  it("li_lncap and outliers_sim", async () => {
    const li = await readDataset(sharedPath("data", "li_lncap"));
    expect(li.genes.length).toBe(22743);
    expect(li.samples).toEqual(["lane1", "lane2", "lane3", "lane4", "lane5", "lane6", "lane8"]);
    expect(count(li, "ENSG00000124208", "lane8")).toBe(40);
    expect(count(li, "ENSG00000198695", "lane1")).toBe(5045);
    expect(total(li.counts)).toBe(11134256);
    expect(li.centers).toEqual(["site_1", "site_2"]);
    expect(li.centerOfSample.filter((c) => c === "site_1").length).toBe(4);

    const sim = await readDataset(sharedPath("data", "outliers_sim"));
    expect([sim.genes.length, sim.samples.length]).toEqual([2998, 18]);
    expect(count(sim, "gene3", "s10")).toBe(728);
    expect(total(sim.counts)).toBe(6368391);
    expect(sim.centers).toEqual(["lab_1", "lab_2", "lab_3"]);
  });

  it("centerSlice gives one center's sample indices and metadata", () => {
    const slice = centerSlice(bodymap, "hospital_b");
    expect(slice.sampleIndices).toEqual([2, 5, 6, 9, 14]);
    expect(slice.metadata.samples).toEqual([
      "adipose.3",
      "blood.2",
      "blood.3",
      "heart.2",
      "skeletal_muscle.3",
    ]);
    expect(slice.metadata.values.get("tissue")).toEqual([
      "adipose",
      "blood",
      "blood",
      "heart",
      "skeletal_muscle",
    ]);
    expect(slice.metadata.values.get("center")).toEqual(new Array(5).fill("hospital_b"));
    expect(() => centerSlice(bodymap, "hospital_z")).toThrow(
      'unknown center "hospital_z" (centers: hospital_a, hospital_b and hospital_c)',
    );
  });
});

describe("readDataset on small files", () => {
  it("aligns metadata rows given in any order with the count columns", async () => {
    const dir = datasetDir(
      GOOD_COUNTS,
      "center,sample,condition,age\nc2,S3,a,40\nc1,S1,a,30\nc1,S2,b,35\n",
    );
    const dataset = await readDataset(dir);
    expect(dataset.samples).toEqual(["S1", "S2", "S3"]);
    expect(dataset.metadata.columns).toEqual(["center", "condition", "age"]);
    expect(dataset.metadata.values.get("condition")).toEqual(["a", "b", "a"]);
    expect(dataset.metadata.values.get("age")).toEqual(["30", "35", "40"]);
    expect(dataset.centerOfSample).toEqual(["c1", "c1", "c2"]);
    expect(dataset.centers).toEqual(["c1", "c2"]);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1]);
  });

  it("drops spaces around ids and levels (a spreadsheet's `a ` is `a`, where R's read.csv keeps it)", async () => {
    const dir = datasetDir(
      "gene , S1 ,S2,S3\nG1 ,0, 5,10\nG2,7,0,1 \n",
      "sample,condition,center\n S1,a ,c1\nS2, b,c1 \nS3,a,c2\n",
    );
    const warnings: string[] = [];
    const dataset = await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    expect(dataset.samples).toEqual(["S1", "S2", "S3"]);
    expect(dataset.genes).toEqual(["G1", "G2"]);
    expect(dataset.metadata.values.get("condition")).toEqual(["a", "b", "a"]);
    expect(dataset.centers).toEqual(["c1", "c2"]);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1]);
    // R would read them otherwise: said once, naming the first (` S1`, line 2) and the count
    // (`a `, ` b`, `c1 `).
    expect(warnings).toEqual([
      `${join(dir, "metadata.csv")}: spaces around values dropped (line 2, column "sample": " S1" and 3 more): R's read.csv keeps them, and DESeq2 would read " S1" as another value than "S1"`,
    ]);
  });

  it("names a spaced number in a column of text (R keeps it as text there), with TSV's reader", async () => {
    const warnings: string[] = [];
    const dir = datasetDir(
      GOOD_COUNTS,
      "sample\tbatch\tcenter\nS1\t 1\tc1\nS2\tb\tc1\nS3\t2\tc2\n",
    );
    await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      `${join(dir, "metadata.csv")}: spaces around values dropped (line 2, column "batch": " 1"): R's read.delim keeps them, and DESeq2 would read " 1" as another value than "1"`,
    ]);
  });

  it("says nothing of spaces around numbers (R reads ` 5` as 5), nor where there are none", async () => {
    const warnings: string[] = [];
    await readDataset(
      datasetDir(
        GOOD_COUNTS,
        "sample,condition,center,age\nS1,a,c1, 30\nS2,b,c1,35 \nS3,a,c2,40\n",
      ),
      { onWarning: (m) => warnings.push(m) },
    );
    await readDataset(datasetDir(GOOD_COUNTS, GOOD_METADATA), {
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([]);
  });

  it("leaves HTSeq's summary rows out, saying so once (DESeqDataSetFromHTSeqCount's rows)", async () => {
    const dir = datasetDir(
      `${GOOD_COUNTS}__no_feature,9,8,7\n__ambiguous,1,2,3\nno_feature,4,4,4\n_G3,1,1,1\n`,
      GOOD_METADATA,
    );
    const warnings: string[] = [];
    const dataset = await readDataset(dir, { onWarning: (m) => warnings.push(m) });
    // Only HTSeq's names: another id starting with "_" is a gene, and so is a bare `no_feature`
    // (older HTSeq's name, but in another table it could be a gene's).
    expect(dataset.genes).toEqual(["G1", "G2", "no_feature", "_G3"]);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1, 4, 4, 4, 1, 1, 1]);
    expect(warnings).toEqual([
      `${join(dir, "counts.csv")}: "__no_feature" and "__ambiguous" are HTSeq's summary rows (reads counted in no gene), not genes: left out, as DESeq2's DESeqDataSetFromHTSeqCount leaves them out`,
    ]);
    // A table of nothing else has no genes: said so.
    await expectInputError(
      datasetDir("gene,S1,S2,S3\n__no_feature,9,8,7\n", GOOD_METADATA),
      /counts\.csv: no gene rows \(only HTSeq's summary rows\)$/,
    );
  });

  it("reads a spreadsheet's export: columns without a name or a value, rows of empty fields", async () => {
    const dir = datasetDir(
      "gene,S1,S2,S3\nG1,0,5,10\n,,,\nG2,7,0,1\n,,,\n",
      "sample,condition,center,,\nS1,a,c1,,\nS2,b,c1,,\n,,,,\nS3,a,c2,,\n,,,,\n",
    );
    const dataset = await readDataset(dir);
    expect(dataset.samples).toEqual(["S1", "S2", "S3"]);
    expect(dataset.genes).toEqual(["G1", "G2"]);
    expect(dataset.metadata.columns).toEqual(["condition", "center"]);
    expect(dataset.metadata.values.get("condition")).toEqual(["a", "b", "a"]);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1]);
    // R's write.csv layout (row names under "") exported with a trailing empty column.
    const written = await readDataset(
      datasetDir(GOOD_COUNTS, ',condition,center,\n"S1",a,c1,\n"S2",b,c1,\n"S3",a,c2,\n'),
    );
    expect(written.samples).toEqual(["S1", "S2", "S3"]);
    expect(written.metadata.columns).toEqual(["condition", "center"]);
    // Tables whose rows are all empty say so.
    await expectInputError(
      datasetDir("gene,S1,S2,S3\n,,,\n", GOOD_METADATA),
      /counts\.csv: no gene rows \(only empty ones\)$/,
    );
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center\n,,\n,,\n"),
      /metadata\.csv: the file has a header but no data rows \(only empty ones\)$/,
    );
    // A column without a name that holds a value is a column the user meant: named, not guessed.
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center,\nS1,a,c1,\nS2,b,c1,x\nS3,a,c2,\n"),
      /metadata\.csv: header field 4 is empty, and line 3 has a value there: name the column/,
    );
  });

  it("accepts the gene column anywhere, BOM, CRLF and integers written as 3.0 or 1e3", async () => {
    const dir = datasetDir(
      "\uFEFFS1,gene,S2,S3\r\n3.0,G1,1e3,0\r\n4,G2,5,6\r\n",
      "\uFEFFsample,condition,center\r\nS1,a,c1\r\nS2,b,c1\r\nS3,a,c2\r\n",
    );
    const dataset = await readDataset(dir);
    expect(dataset.samples).toEqual(["S1", "S2", "S3"]);
    expect(dataset.genes).toEqual(["G1", "G2"]);
    expect(Array.from(dataset.counts)).toEqual([3, 1000, 0, 4, 5, 6]);
  });

  it("reports missing files", async () => {
    await expectInputError(
      datasetDir(GOOD_COUNTS, null),
      /cannot read .*metadata\.csv: no such file/,
    );
    await expectInputError(
      datasetDir(null, GOOD_METADATA),
      /cannot read .*counts\.csv: no such file$/,
    );
    // featureCounts' own name for its output, beside the metadata: named, with what to call it.
    const featureCounts = datasetDir(null, GOOD_METADATA);
    writeFileSync(join(featureCounts, "counts.txt"), GOOD_COUNTS);
    await expectInputError(
      featureCounts,
      /cannot read .*counts\.csv: no such file; .* holds "counts\.txt": a counts table is named counts\.csv, counts\.csv\.gz, counts\.tsv or counts\.tsv\.gz \(comma, tab or semicolon inside, whatever the name\): rename it$/,
    );
  });

  it('reads R\'s write.csv output: the ids in a first column headed "" (row names), fields quoted', async () => {
    // As R 4.2 writes them: write.csv(counts) and write.csv(metadata) of data frames whose row
    // names are the gene and the sample ids.
    const dir = datasetDir(
      '"","S1","S2","S3"\n"G1",0,5,10\n"G2",7,0,1\n',
      '"","condition","center"\n"S1","a","c1"\n"S2","b","c1"\n"S3","a","c2"\n',
    );
    const dataset = await readDataset(dir);
    expect(dataset.samples).toEqual(["S1", "S2", "S3"]);
    expect(dataset.genes).toEqual(["G1", "G2"]);
    expect(Array.from(dataset.counts)).toEqual([0, 5, 10, 7, 0, 1]);
    expect(dataset.metadata.columns).toEqual(["condition", "center"]);
    expect(dataset.centerOfSample).toEqual(["c1", "c1", "c2"]);
  });

  it("rejects counts.csv without a gene column", async () => {
    await expectInputError(
      datasetDir("id,S1,S2,S3\nG1,0,5,10\n", GOOD_METADATA),
      /counts\.csv: no column "gene" in the header \(found: "id", "S1", "S2" and "S3"\): if "id" holds the gene ids, name it "gene"$/,
    );
    // Two empty header fields: not R's row names.
    await expectInputError(
      datasetDir(",S1,,S3\nG1,0,5,10\n", GOOD_METADATA),
      /counts\.csv: no column "gene" in the header/,
    );
  });

  it("rejects counts.csv with no sample column", async () => {
    await expectInputError(
      datasetDir("gene\nG1\n", GOOD_METADATA),
      /counts\.csv: no sample columns/,
    );
  });

  it("rejects metadata.csv without a sample or a center column", async () => {
    await expectInputError(
      datasetDir(GOOD_COUNTS, "id,condition,center\nS1,a,c1\nS2,b,c1\nS3,a,c2\n"),
      /metadata\.csv: no column "sample" in the header \(found: "id", "condition" and "center"\)/,
    );
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,site\nS1,a,c1\nS2,b,c1\nS3,a,c2\n"),
      /metadata\.csv: no column "center" in the header \(found: "sample", "condition" and "site"\): add one naming the center that holds each sample, or put each center's tables in a folder of its own/,
    );
  });

  it("names nf-core's columns for what they are: the gene id column, a gene annotation column", async () => {
    // salmon.merged.gene_counts.tsv: gene_id, gene_name, then one column per sample.
    const salmon = "gene_id\tgene_name\tS1\tS2\tS3\nG1\tTP53\t0\t5\t10\n";
    await expectInputError(
      datasetDir(salmon.replaceAll("\t", ","), GOOD_METADATA),
      /counts\.csv: no column "gene" in the header \(found: "gene_id", "gene_name", "S1", "S2" and "S3"\): if "gene_id" holds the gene ids, name it "gene"$/,
    );
    await expectInputError(
      datasetDir(salmon.replace("gene_id", "gene").replaceAll("\t", ","), GOOD_METADATA),
      /counts\.csv: sample "gene_name" has no row in .*metadata\.csv \("gene_name" looks like a gene annotation column: a counts table holds one gene id column and one column per sample; remove the others\)$/,
    );
  });

  it("rejects a counts sample missing from metadata, naming it", async () => {
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center\nS1,a,c1\nS3,a,c2\n"),
      /counts\.csv: sample "S2" has no row in .*metadata\.csv$/,
    );
  });

  it("rejects a metadata sample missing from counts, naming it", async () => {
    await expectInputError(
      datasetDir(GOOD_COUNTS, `${GOOD_METADATA}S4,b,c2\nS5,b,c2\n`),
      /metadata\.csv: samples "S4" and "S5" have no column in .*counts\.csv$/,
    );
  });

  it("rejects duplicate gene ids", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,5,10\nG2,1,1,1\nG1,7,0,1\n", GOOD_METADATA),
      /counts\.csv: line 4: gene "G1" is listed twice \(also on line 2\)/,
    );
  });

  it("rejects an empty gene id", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S3\n,0,5,10\n", GOOD_METADATA),
      /counts\.csv: line 2: empty gene id/,
    );
  });

  it("rejects duplicate sample ids in counts.csv", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S1\nG1,0,5,10\n", GOOD_METADATA),
      /counts\.csv: sample column "S1" appears more than once in the header/,
    );
  });

  it("rejects duplicate sample ids in metadata.csv", async () => {
    await expectInputError(
      datasetDir(GOOD_COUNTS, `${GOOD_METADATA}S2,a,c2\n`),
      /metadata\.csv: line 5: sample "S2" is listed twice \(also on line 3\)/,
    );
  });

  it("rejects an empty sample id and an empty center name", async () => {
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center\nS1,a,c1\n,b,c1\nS3,a,c2\n"),
      /metadata\.csv: line 3: empty sample id/,
    );
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center\nS1,a,c1\nS2,b,\nS3,a,c2\n"),
      /metadata\.csv: line 3 \(sample "S2"\): empty center name/,
    );
  });

  it("rejects a negative count, naming line, gene and column", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,5,10\nG2,7,-4,1\n", GOOD_METADATA),
      /counts\.csv: line 3 \(gene G2\), column S2: count "-4" is negative$/,
    );
  });

  it("rejects a count above R's largest integer, as DESeq2 does, naming line, gene and column", async () => {
    // DESeq2 1.38.3: DESeqDataSetFromMatrix on 3e9 stops ("NA values are not allowed in the
    // count matrix": R's integers end at 2^31 - 1). fedseq once took it and stopped mid-run
    // with exit 3 on counts of 1e12 (a secure sum beyond its public bound).
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,5,10\nG2,7,2147483648,1\n", GOOD_METADATA),
      /counts\.csv: line 3 \(gene G2\), column S2: count "2147483648" is too large: DESeq2 takes counts up to 2147483647 \(R's largest integer\)$/,
    );
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,1e12,10\n", GOOD_METADATA),
      /column S2: count "1e12" is too large/,
    );
    const largest = await readDataset(
      datasetDir("gene,S1,S2,S3\nG1,0,5,10\nG2,7,2147483647,1\n", GOOD_METADATA),
    );
    expect(largest.counts[1 * 3 + 1]).toBe(2147483647);
  });

  it("rejects a non-integer count and suggests rounding", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,5,2.5\n", GOOD_METADATA),
      /counts\.csv: line 2 \(gene G1\), column S3: count "2\.5" is not an integer: .*round.*tximport/,
    );
  });

  it("rejects non-numeric and missing counts", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,five,1\n", GOOD_METADATA),
      /line 2 \(gene G1\), column S2: count "five" is not a number$/,
    );
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,0x10,1\n", GOOD_METADATA),
      /column S2: count "0x10" is not a number$/,
    );
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,1,NA\n", GOOD_METADATA),
      /column S3: count "NA" is missing$/,
    );
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,,1,2\n", GOOD_METADATA),
      /column S1: count is missing \(empty field\)$/,
    );
  });

  it("rejects a row with a wrong number of fields, naming its line", async () => {
    await expectInputError(
      datasetDir("gene,S1,S2,S3\nG1,0,5,10\nG2,7,0\n", GOOD_METADATA),
      /counts\.csv: line 3 has 3 fields, but the header has 4$/,
    );
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center\nS1,a,c1,x\n"),
      /metadata\.csv: line 2 has 4 fields, but the header has 3$/,
    );
  });

  it("rejects empty and header-only files", async () => {
    await expectInputError(datasetDir("", GOOD_METADATA), /counts\.csv: the file is empty/);
    await expectInputError(
      datasetDir("gene,S1,S2,S3\n", GOOD_METADATA),
      /counts\.csv: the file has a header but no data rows/,
    );
    await expectInputError(datasetDir(GOOD_COUNTS, ""), /metadata\.csv: the file is empty/);
    await expectInputError(
      datasetDir(GOOD_COUNTS, "sample,condition,center\n"),
      /metadata\.csv: the file has a header but no data rows/,
    );
  });
});

describe("readMetadata", () => {
  it("keeps the file order and the line numbers", () => {
    const file = temp.write("meta.csv", "sample,center,x\nB,c1,1\n\nA,c2,2\n");
    const meta = readMetadata(file);
    expect(meta.samples).toEqual(["B", "A"]);
    expect(meta.lines).toEqual([2, 4]);
    expect(meta.metadata.columns).toEqual(["center", "x"]);
    expect(meta.metadata.values.get("x")).toEqual(["1", "2"]);
    expect(meta.metadata.source).toBe(file);
  });

  it("rejects duplicate or empty column names", () => {
    expect(() => readMetadata(temp.write("dup.csv", "sample,center,x,x\nA,c,1,2\n"))).toThrow(
      /dup\.csv: column "x" appears more than once in the header/,
    );
    expect(() => readMetadata(temp.write("dup2.csv", "sample,center,center\nA,c,d\n"))).toThrow(
      /dup2\.csv: column "center" appears more than once in the header/,
    );
    expect(() => readMetadata(temp.write("emptycol.csv", "sample,center,\nA,c,1\n"))).toThrow(
      /emptycol\.csv: header field 3 is empty/,
    );
  });
});

describe("gene ids with version suffixes (centers on different annotation releases)", () => {
  // Two hospitals' own folders: the same genes, one annotated with Ensembl 104, one with 109.
  const folders = () => {
    const dir = temp.subdir("versions");
    temp.write(
      `${dir.slice(temp.dir.length + 1)}/hospital_x/counts.csv`,
      "gene,X1,X2,X3\nENSG00000141510.16,5,0,7\nENSG00000012048.20,1,2,3\n",
    );
    temp.write(
      `${dir.slice(temp.dir.length + 1)}/hospital_x/metadata.csv`,
      "sample,condition\nX1,a\nX2,b\nX3,a\n",
    );
    temp.write(
      `${dir.slice(temp.dir.length + 1)}/hospital_y/counts.csv`,
      "gene,Y1,Y2,Y3\nENSG00000012048.23,4,5,6\nENSG00000141510.17,9,8,0\n",
    );
    temp.write(
      `${dir.slice(temp.dir.length + 1)}/hospital_y/metadata.csv`,
      "sample,condition\nY1,b\nY2,a\nY3,b\n",
    );
    return dir;
  };

  it("a center lacking genes that differ only by version: the error says so and names the option", async () => {
    await expectInputError(
      folders(),
      /center hospital_y lacks 2 genes that center hospital_x has: ENSG00000141510\.16 and ENSG00000012048\.20 \(the ids differ only by their version suffix, e\.g\. ENSG00000141510\.16 and ENSG00000141510\.17: pass --strip-version\)/,
    );
  });

  it("with stripVersion the genes align by their unversioned ids", async () => {
    const dataset = await readDataset(folders(), { stripVersion: true });
    expect(dataset.genes).toEqual(["ENSG00000141510", "ENSG00000012048"]);
    expect(dataset.samples).toEqual(["X1", "X2", "X3", "Y1", "Y2", "Y3"]);
    expect(Array.from(dataset.counts)).toEqual([5, 0, 7, 9, 8, 0, 1, 2, 3, 4, 5, 6]);
  });

  it("two versions of one gene in one file are one gene twice: rejected, naming both lines", async () => {
    const dir = datasetDir(
      "gene,S1,S2,S3\nENSG00000141510.16,0,5,10\nENSG00000141510.17,7,0,1\n",
      "sample,condition,center\nS1,a,c1\nS2,b,c1\nS3,a,c2\n",
    );
    await expect(readDataset(dir, { stripVersion: true })).rejects.toThrow(
      /gene "ENSG00000141510" is listed twice \(also on line 2\)/,
    );
  });
});
