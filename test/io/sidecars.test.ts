import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readMetadata } from "../../src/io/dataset.js";
import { InputError } from "../../src/io/errors.js";
import { readDispersions, readGeneList, readSizeFactors } from "../../src/io/sidecars.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder();

/** First field of each data line of a simple (unquoted) CSV file. */
function firstColumn(file: string): string[] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(",")));
}

describe("readSizeFactors", () => {
  it("reads DESeq2's size factors of bodymap, in the requested sample order", () => {
    const file = sharedPath("data", "bodymap", "deseq2", "size_factors.csv");
    const samples = readMetadata(sharedPath("data", "bodymap", "metadata.csv")).samples;
    const sizeFactors = readSizeFactors(file, samples);
    expect(sizeFactors.length).toBe(16);
    expect(sizeFactors[0]).toBe(1.0567949395506);
    expect(sizeFactors[1]).toBe(1.05906380815161);
    const reversed = readSizeFactors(file, [...samples].reverse());
    expect(Array.from(reversed)).toEqual(Array.from(sizeFactors).reverse());
  });

  it("ignores other columns and rows of other samples", () => {
    const file = temp.write(
      "sf-extra.csv",
      "note,size_factor,sample\nx,0.5,S2\ny,2,S9\nz,1.25,S1\n",
    );
    expect(Array.from(readSizeFactors(file, ["S1", "S2"]))).toEqual([1.25, 0.5]);
  });

  it("requires a size factor for every sample", () => {
    const file = temp.write("sf-missing.csv", "sample,size_factor\nS1,1\n");
    expect(() => readSizeFactors(file, ["S1", "S2", "S3"])).toThrow(
      /sf-missing\.csv: no size factor for samples "S2" and "S3"$/,
    );
  });

  it("rejects non-positive, non-finite and non-numeric size factors, naming the row", () => {
    for (const [value, name] of [
      ["0", "zero"],
      ["-1.5", "negative"],
      ["NA", "na"],
      ["", "empty"],
      ["Inf", "inf"],
      ["abc", "text"],
    ]) {
      const file = temp.write(`sf-${name}.csv`, `sample,size_factor\nS1,1\nS2,${value}\n`);
      expect(() => readSizeFactors(file, ["S1", "S2"])).toThrow(InputError);
      expect(() => readSizeFactors(file, ["S1", "S2"])).toThrow(
        `sf-${name}.csv: line 3 (sample S2): size factor "${value}" is not a finite positive number`,
      );
    }
  });

  it("rejects a sample listed twice and missing columns", () => {
    const twice = temp.write("sf-twice.csv", "sample,size_factor\nS1,1\nS1,2\n");
    expect(() => readSizeFactors(twice, ["S1"])).toThrow(
      /line 3: sample "S1" is listed twice \(also on line 2\)/,
    );
    const noColumn = temp.write("sf-nocol.csv", "sample,sf\nS1,1\n");
    expect(() => readSizeFactors(noColumn, ["S1"])).toThrow(
      /sf-nocol\.csv: no column "size_factor" in the header/,
    );
  });
});

describe("readDispersions", () => {
  const fit = sharedPath("data", "bodymap", "deseq2", "fit.csv");
  let genes: string[];
  let allZero: Set<string>;
  beforeAll(() => {
    genes = firstColumn(sharedPath("data", "bodymap", "counts.csv"));
    allZero = new Set(
      readFileSync(fit, "utf8")
        .split("\n")
        .filter((line) => line.split(",")[1] === "TRUE")
        .map((line) => line.split(",")[0]),
    );
  });

  it("reads DESeq2's dispersions of bodymap; all-zero genes have none (NaN)", () => {
    const dispersions = readDispersions(fit, genes, (g) => !allZero.has(genes[g]));
    expect(dispersions.length).toBe(37653);
    expect(dispersions[genes.indexOf("NM_000014")]).toBe(2.95964418829967e-5);
    expect(dispersions[genes.indexOf("NM_000015")]).toBe(0.664613171129673);
    expect(allZero.size).toBe(3297);
    expect(Number.isNaN(dispersions[genes.indexOf("NM_000133")])).toBe(true);
    expect(dispersions.filter((d) => Number.isNaN(d)).length).toBe(3297);
  });

  it("names the first gene that needs a dispersion and has none", () => {
    // The first 300 genes of DESeq2's fit.csv (a full read takes most of a second).
    const head = readFileSync(fit, "utf8").split("\n").slice(0, 301);
    const file = temp.write("fit-head.csv", `${head.join("\n")}\n`);
    const headGenes = genes.slice(0, 300);
    const missing = headGenes.filter((gene) => allZero.has(gene));
    expect(missing[0]).toBe("NM_000133");
    expect(() => readDispersions(file, headGenes, () => true)).toThrow(
      `fit-head.csv: line 119 (gene NM_000133): dispersion "NA" is not a finite positive number, and this gene needs one (and ${missing.length - 1} more genes)`,
    );
  });

  it("accepts genes in any order and ignores other genes and columns", () => {
    const file = temp.write("disp-order.csv", "dispersion,x,gene\n0.5,a,G2\n0.1,b,G9\n0.25,c,G1\n");
    expect(Array.from(readDispersions(file, ["G1", "G2"], () => true))).toEqual([0.25, 0.5]);
  });

  it("gives NaN for genes without a usable value when they are not needed", () => {
    const file = temp.write(
      "disp-partial.csv",
      "gene,dispersion\nG1,0.5\nG2,NA\nG3,\nG4,0\nG5,-1\nG6,Inf\n",
    );
    const genesHere = ["G1", "G2", "G3", "G4", "G5", "G6", "G7"];
    const result = readDispersions(file, genesHere, (g) => g === 0);
    expect(result[0]).toBe(0.5);
    expect(Array.from(result.subarray(1)).every((d) => Number.isNaN(d))).toBe(true);
  });

  it("rejects a needed gene whose value is missing, empty, NA, non-finite or not positive", () => {
    const file = temp.write(
      "disp-bad.csv",
      "gene,dispersion\nG1,0.5\nG2,NA\nG3,\nG4,0\nG5,-1\nG6,Inf\n",
    );
    const genesHere = ["G1", "G2", "G3", "G4", "G5", "G6", "G7"];
    const cases: [number, string][] = [
      [1, 'line 3 (gene G2): dispersion "NA" is not a finite positive number'],
      [2, 'line 4 (gene G3): dispersion "" is not a finite positive number'],
      [3, 'line 5 (gene G4): dispersion "0" is not a finite positive number'],
      [4, 'line 6 (gene G5): dispersion "-1" is not a finite positive number'],
      [5, 'line 7 (gene G6): dispersion "Inf" is not a finite positive number'],
      [6, 'no dispersion for gene "G7"'],
    ];
    for (const [g, message] of cases) {
      expect(() => readDispersions(file, genesHere, (k) => k === g)).toThrow(InputError);
      expect(() => readDispersions(file, genesHere, (k) => k === g)).toThrow(message);
    }
  });

  it("rejects a value that is not a number at all, a gene listed twice and missing columns", () => {
    const text = temp.write("disp-text.csv", "gene,dispersion\nG1,high\n");
    expect(() => readDispersions(text, ["G1"], () => false)).toThrow(
      'disp-text.csv: line 2 (gene G1): dispersion "high" is not a number',
    );
    const twice = temp.write("disp-twice.csv", "gene,dispersion\nG1,1\nG2,1\nG1,2\n");
    expect(() => readDispersions(twice, ["G1"], () => true)).toThrow(
      /line 4: gene "G1" is listed twice \(also on line 2\)/,
    );
    const noColumn = temp.write("disp-nocol.csv", "gene,disp\nG1,1\n");
    expect(() => readDispersions(noColumn, ["G1"], () => true)).toThrow(
      /disp-nocol\.csv: no column "dispersion" in the header/,
    );
  });
});

describe("readGeneList", () => {
  it("reads one id per line, ignoring blank lines, spaces and a header", () => {
    const file = temp.write("genes.txt", "gene\nG1\n\n  G2  \nG3\n\n");
    expect(readGeneList(file)).toEqual(["G1", "G2", "G3"]);
  });

  it("accepts a byte-order mark, CRLF and no header", () => {
    const file = temp.write("genes-crlf.txt", "\uFEFFG1\r\nG2\r\n");
    expect(readGeneList(file)).toEqual(["G1", "G2"]);
  });

  it("only ignores `gene` on the first non-blank line", () => {
    const file = temp.write("genes-late.txt", "\nG1\ngene\n");
    expect(readGeneList(file)).toEqual(["G1", "gene"]);
  });

  it("rejects empty lists, duplicates, CSV lines and missing files", () => {
    expect(() => readGeneList(temp.write("genes-empty.txt", "\n\n"))).toThrow(
      /genes-empty\.txt: no gene ids/,
    );
    expect(() => readGeneList(temp.write("genes-header.txt", "gene\n"))).toThrow(
      /genes-header\.txt: no gene ids/,
    );
    expect(() => readGeneList(temp.write("genes-dup.txt", "G1\nG2\nG1\n"))).toThrow(
      /genes-dup\.txt: line 3: gene "G1" is listed twice \(also on line 1\)/,
    );
    expect(() => readGeneList(temp.write("genes-csv.txt", "gene,padj\nG1,0.1\n"))).toThrow(
      /genes-csv\.txt: line 1: "gene,padj" contains a comma/,
    );
    expect(() => readGeneList(join(temp.dir, "none.txt"))).toThrow(
      /cannot read .*none\.txt: no such file/,
    );
  });

  it("refuses a list that is not UTF-8, naming its line (Latin-1 g\u00e8ne1 and g\u00e9ne1 were one id)", () => {
    const file = temp.write("genes-latin1.txt", "");
    writeFileSync(file, Buffer.from("gene\nG1\ng\u00e8ne1\ng\u00e9ne1\n", "latin1"));
    expect(() => readGeneList(file)).toThrow(/genes-latin1\.txt: line 3 is not UTF-8 text/);
  });
});
