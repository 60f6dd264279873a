import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  checkFullRank,
  checkMixedNumeric,
  type DesignLevels,
  type DesignMatrix,
  designColumns,
  designMatrix,
  localGram,
  localLevels,
  makeRName,
  mergeLevels,
  requireLevel,
  rNumberLabel,
  sortLevels,
} from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import type { Metadata } from "../../src/design/metadata.js";
import { readCsv } from "../../src/io/csv.js";
import { readMetadata } from "../../src/io/dataset.js";
import { InputError } from "../../src/io/errors.js";
import { sharedPath } from "../helpers/shared.js";

/** Metadata from columns of values (all of the same length). */
function metadata(columns: Record<string, string[]>): Metadata {
  const names = Object.keys(columns);
  const n = columns[names[0]].length;
  return {
    columns: names,
    values: new Map(Object.entries(columns)),
    samples: Array.from({ length: n }, (_, i) => `S${i + 1}`),
    source: "meta.csv",
  };
}

/** The rows of `meta` at the given indices (what one center holds). */
function subset(meta: Metadata, rows: number[]): Metadata {
  return {
    columns: meta.columns,
    values: new Map([...meta.values].map(([c, v]) => [c, rows.map((i) => v[i])])),
    samples: rows.map((i) => meta.samples![i]),
    source: meta.source,
  };
}

/** The federated path: levels shared per center, merged, then each center's rows. */
function federatedDesign(
  meta: Metadata,
  formulaText: string,
  centerColumn = "center",
  references: Record<string, string> = {},
): { levels: DesignLevels; designs: Map<string, { rows: number[]; design: DesignMatrix }> } {
  const formula = parseFormula(formulaText);
  const centerOf = meta.values.get(centerColumn)!;
  const centers = [...new Set(centerOf)].sort();
  const rowsOf = new Map(
    centers.map((c) => [c, centerOf.flatMap((x, i) => (x === c ? [i] : []))] as const),
  );
  const levels = mergeLevels(
    centers.map((c) => localLevels(subset(meta, rowsOf.get(c)!), formula)),
  );
  const designs = new Map(
    centers.map((c) => {
      const rows = rowsOf.get(c)!;
      return [c, { rows, design: designMatrix(subset(meta, rows), formula, levels, references) }];
    }),
  );
  return { levels, designs };
}

/** Row `i` of an n×p row-major matrix. */
function row(design: DesignMatrix, i: number): number[] {
  const p = design.columns.length;
  return Array.from(design.matrix.subarray(i * p, (i + 1) * p));
}

describe("design matrices of the shared datasets equal DESeq2's model matrix", () => {
  const expectedColumns: Record<string, string[]> = {
    bodymap: [
      "Intercept",
      "tissue_blood_vs_adipose",
      "tissue_heart_vs_adipose",
      "tissue_skeletal_muscle_vs_adipose",
    ],
    li_lncap: ["Intercept", "treatment_dht_vs_control"],
    outliers_sim: ["Intercept", "condition_B_vs_A"],
  };
  for (const dataset of ["bodymap", "li_lncap", "outliers_sim"]) {
    it(dataset, () => {
      const readme = readFileSync(sharedPath("data", dataset, "README.txt"), "utf8");
      const formulaText = /^design: (.*)$/m.exec(readme)![1];
      const meta = readMetadata(sharedPath("data", dataset, "metadata.csv"));
      const { levels, designs } = federatedDesign(
        { ...meta.metadata, samples: meta.samples },
        formulaText,
      );
      const deseq2 = readCsv(sharedPath("data", dataset, "deseq2", "design_matrix.csv"));
      const [term] = parseFormula(formulaText).terms;

      // Column names: DESeq2's `(Intercept)`, `tissueblood` are our `Intercept`,
      // `tissue_blood_vs_adipose`.
      const reference = levels[term][0];
      const renamed = deseq2.header
        .slice(1)
        .map((name) =>
          name === "(Intercept)"
            ? "Intercept"
            : `${term}_${name.slice(term.length)}_vs_${reference}`,
        );
      for (const { design } of designs.values()) {
        expect(design.columns).toEqual(expectedColumns[dataset]);
        expect(design.columns).toEqual(renamed);
      }

      // Values: every sample's row, exactly.
      const rowOfSample = new Map<string, number[]>();
      for (const { rows, design } of designs.values()) {
        rows.forEach((r, i) => {
          rowOfSample.set(meta.samples[r], row(design, i));
        });
      }
      expect(rowOfSample.size).toBe(deseq2.rows.length);
      for (const { fields } of deseq2.rows) {
        expect(rowOfSample.get(fields[0])).toEqual(fields.slice(1).map(Number));
      }

      // The centers' Gram matrices sum to a full-rank global one.
      const p = renamed.length;
      const gram = new Float64Array(p * p);
      for (const { design } of designs.values()) {
        localGram(design).forEach((x, k) => {
          gram[k] += x;
        });
      }
      expect(gram[0]).toBe(deseq2.rows.length);
      expect(() => checkFullRank(gram, p, renamed)).not.toThrow();
    });
  }

  it("bodymap: each center's rows and its shared levels", () => {
    const meta = readMetadata(sharedPath("data", "bodymap", "metadata.csv"));
    const formula = parseFormula("~ tissue");
    const hospitalB = subset(
      { ...meta.metadata, samples: meta.samples },
      meta.metadata.values.get("center")!.flatMap((c, i) => (c === "hospital_b" ? [i] : [])),
    );
    expect(localLevels(hospitalB, formula)).toEqual({
      tissue: ["adipose", "blood", "heart", "skeletal_muscle"],
    });
    const design = designMatrix(hospitalB, formula, localLevels(hospitalB, formula));
    expect(hospitalB.samples).toEqual([
      "adipose.3",
      "blood.2",
      "blood.3",
      "heart.2",
      "skeletal_muscle.3",
    ]);
    expect(Array.from(design.matrix)).toEqual([
      1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1,
    ]);
  });
});

describe("the order of levels", () => {
  it("is R's factor() order (ICU collation, R 4.2 with DESeq2 1.38.3 in C.UTF-8 or en_US.UTF-8): the reference of control and Treated is control", () => {
    // R: sort(c(...)) and levels(factor(c("Treated", "control"))) printed by R itself.
    const r = ["_x", "a", "a_b", "a-b", "A.1", "a1", "a10", "a2", "ab", "b", "B", "control"].concat(
      ["ctl", "Ctl", "T1", "t2", "Treated", "x y", "xy"],
    );
    const shuffled = [...r].reverse();
    shuffled.push(shuffled.shift() as string);
    expect(sortLevels(shuffled)).toEqual(r);
    expect(sortLevels(["Treated", "control"])).toEqual(["control", "Treated"]);
    expect(mergeLevels([{ condition: ["Treated"] }, { condition: ["control"] }])).toEqual({
      condition: ["control", "Treated"],
    });
    // factor(x) of numbers: numeric order.
    expect(sortLevels(["10", "2", "1"])).toEqual(["1", "2", "10"]);
  });
});

describe("levels across centers", () => {
  const meta = metadata({
    condition: ["a", "b", "b", "c", "b"],
    center: ["A", "A", "B", "B", "B"],
  });

  it("are the union of the centers' levels, and every center gets all columns", () => {
    const { levels, designs } = federatedDesign(meta, "~ condition");
    expect(levels).toEqual({ condition: ["a", "b", "c"] });
    const a = designs.get("A")!.design;
    expect(a.columns).toEqual(["Intercept", "condition_b_vs_a", "condition_c_vs_a"]);
    expect(Array.from(a.matrix)).toEqual([1, 0, 0, 1, 1, 0]);
    const b = designs.get("B")!.design;
    expect(Array.from(b.matrix)).toEqual([1, 1, 0, 1, 0, 1, 1, 1, 0]);
  });

  it("a center shares only its own levels; a center without samples shares empty lists", () => {
    const formula = parseFormula("~ condition");
    expect(localLevels(subset(meta, [0, 1]), formula)).toEqual({ condition: ["a", "b"] });
    const empty = localLevels(subset(meta, []), formula);
    expect(empty).toEqual({ condition: [] });
    expect(mergeLevels([empty, { condition: ["x", "w"] }])).toEqual({ condition: ["w", "x"] });
    // With numeric values elsewhere, the variable stays continuous.
    expect(mergeLevels([empty, {}])).toEqual({});
  });

  it("sort as R's factor() does (R 4.2, ICU collation)", () => {
    const levels = localLevels(
      metadata({ dose: ["b", "B", "10", "9", "a"], center: ["A", "A", "A", "A", "A"] }),
      parseFormula("~ dose"),
    );
    // Not all numbers ("b"): a factor; "10" < "9" as strings. R: levels(factor(c("b", "B",
    // "10", "9", "a"))) is "10" "9" "a" "b" "B".
    expect(levels).toEqual({ dose: ["10", "9", "a", "b", "B"] });
  });
});

describe("continuous variables", () => {
  it("get one column named as the variable, with their values", () => {
    const meta = metadata({
      age: ["30", "41.5", "-2", "1e2"],
      condition: ["x", "y", "x", "y"],
      center: ["A", "A", "B", "B"],
    });
    const { levels, designs } = federatedDesign(meta, "~ age + condition");
    expect(levels).toEqual({ condition: ["x", "y"] });
    const a = designs.get("A")!.design;
    expect(a.columns).toEqual(["Intercept", "age", "condition_y_vs_x"]);
    expect(Array.from(a.matrix)).toEqual([1, 30, 0, 1, 41.5, 1]);
    expect(Array.from(designs.get("B")!.design.matrix)).toEqual([1, -2, 0, 1, 100, 1]);
  });

  it("must be numeric at all centers or at none", () => {
    const meta = metadata({ batch: ["1", "2", "b3", "b4"], center: ["A", "A", "B", "B"] });
    expect(() => federatedDesign(meta, "~ batch")).toThrow(InputError);
    expect(() => federatedDesign(meta, "~ batch")).toThrow(
      /design variable "batch" has only numbers at 1 center\(s\) but not at the others/,
    );
  });

  it("name the values that are not numbers when numeric at some centers only", () => {
    const meta = metadata({ age: ["30", "31", "32", "abc"], center: ["A", "A", "B", "B"] });
    expect(() => federatedDesign(meta, "~ age")).toThrow(
      /has only numbers at 1 center\(s\) but not at the others \(not numbers: "abc"\)/,
    );
  });

  it("checkMixedNumeric (run --data) names the file, sample and value", () => {
    const meta = metadata({ age: ["30", "31", "32", "abc"], center: ["A", "A", "B", "B"] });
    const formula = parseFormula("~ age");
    expect(() => checkMixedNumeric([subset(meta, [0, 1]), subset(meta, [2, 3])], formula)).toThrow(
      'meta.csv: sample S4, column age: "abc" is not a number, but age holds only numbers at 1 center(s)',
    );
    // Not numbers at every center: a factor, as R's read.csv makes it; not refused here.
    const factorMeta = metadata({ age: ["x", "31", "32", "abc"], center: ["A", "A", "B", "B"] });
    expect(() =>
      checkMixedNumeric([subset(factorMeta, [0, 1]), subset(factorMeta, [2, 3])], formula),
    ).not.toThrow();
  });

  it("reject a value that is not a number when the merged levels say continuous", () => {
    const meta = metadata({ age: ["30", "old"], center: ["A", "A"] });
    expect(() => designMatrix(meta, parseFormula("~ age"), {})).toThrow(
      'meta.csv: sample S2, column age: "old" is not a number, but age is a continuous variable',
    );
  });
});

describe("column names", () => {
  it("replace characters other than letters, digits, _ and . by . as DESeq2 does", () => {
    const meta = metadata({
      "cell type": ["B cell", "T-cell", "NK/cell", "B cell"],
      center: ["A", "A", "A", "A"],
    });
    const design = designMatrix(meta, parseFormula("~ `cell type`"), {
      "cell type": ["B cell", "NK/cell", "T-cell"],
    });
    expect(design.columns).toEqual([
      "Intercept",
      "cell.type_NK.cell_vs_B.cell",
      "cell.type_T.cell_vs_B.cell",
    ]);
    expect(Array.from(design.matrix)).toEqual([1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0]);
  });

  it("makeRName follows R's make.names", () => {
    expect(makeRName("tissue_skeletal muscle_vs_adipose")).toBe(
      "tissue_skeletal.muscle_vs_adipose",
    );
    expect(makeRName("1st")).toBe("X1st");
    expect(makeRName(".5x")).toBe("X.5x");
    expect(makeRName(".ok")).toBe(".ok");
    expect(makeRName("if")).toBe("if.");
    expect(makeRName("a+b")).toBe("a.b");
    // R 4.2 in a UTF-8 locale (C.UTF-8), make.names(c(...)) printed by R itself: any script's
    // letters are kept; a superscript digit, a combining accent and a hyphen are not.
    const given = ["é", "ü", "日本", "x y", "1a", "ñandú", "a²", "e\u0301", "Ω-1", ".5a", "._b"];
    const r = ["é", "ü", "日本", "x.y", "X1a", "ñandú", "a.", "e.", "Ω.1", "X.5a", "._b"];
    expect(given.map(makeRName)).toEqual(r);
    expect(makeRName("condition_日本_vs_ctl")).toBe("condition_日本_vs_ctl");
  });

  it("reject two levels that would give the same column name", () => {
    expect(() => designColumns(parseFormula("~ group"), { group: ["a", "x y", "x-y"] })).toThrow(
      /two coefficients would both be named group_x.y_vs_a/,
    );
  });
});

describe("reference levels", () => {
  const meta = metadata({
    tissue: ["adipose", "blood", "heart", "blood"],
    center: ["A", "A", "B", "B"],
  });
  const formula = parseFormula("~ tissue");
  const levels = { tissue: ["adipose", "blood", "heart"] };

  it("default to the first level in sorted order", () => {
    expect(designColumns(formula, levels)).toEqual([
      "Intercept",
      "tissue_blood_vs_adipose",
      "tissue_heart_vs_adipose",
    ]);
  });

  it("can be overridden", () => {
    const design = designMatrix(meta, formula, levels, { tissue: "blood" });
    expect(design.columns).toEqual([
      "Intercept",
      "tissue_adipose_vs_blood",
      "tissue_heart_vs_blood",
    ]);
    expect(Array.from(design.matrix)).toEqual([1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0]);
  });

  it("must be a level present in some center", () => {
    expect(() => designMatrix(meta, formula, levels, { tissue: "liver" })).toThrow(
      'reference level "liver" of tissue is present in no center (levels: adipose, blood and heart)',
    );
  });

  it("must be given for a factor of the design", () => {
    expect(() => designColumns(formula, levels, { condition: "a" })).toThrow(
      /reference level "a" is given for "condition", which is not a factor of the design "~ tissue" \(factors: tissue\)/,
    );
    const withAge = parseFormula("~ age + tissue");
    expect(() => designColumns(withAge, levels, { age: "30" })).toThrow(
      /reference level "30" is given for "age", which is not a factor of the design/,
    );
  });

  it("requireLevel checks a level of a factor (e.g. of a contrast)", () => {
    expect(() => requireLevel(levels, "tissue", "heart")).not.toThrow();
    expect(() => requireLevel(levels, "tissue", "liver", "contrast level")).toThrow(
      'contrast level "liver" of tissue is present in no center (levels: adipose, blood and heart)',
    );
    expect(() => requireLevel(levels, "batch", "b1")).toThrow(
      'level "b1" is given for "batch", which is not a factor of the design (factors: tissue)',
    );
  });
});

describe("design errors", () => {
  const meta = metadata({
    tissue: ["adipose", "blood", "heart"],
    center: ["A", "A", "B"],
  });

  it("an unknown design variable is named, with the available columns", () => {
    expect(() => localLevels(meta, parseFormula("~ tisue"))).toThrow(
      'design variable "tisue" is not a column of meta.csv (columns: tissue and center)',
    );
    expect(() => designMatrix(meta, parseFormula("~ tisue"), {})).toThrow(
      /design variable "tisue" is not a column of meta\.csv/,
    );
  });

  it("a missing value in a design variable is named", () => {
    const withNa = metadata({ tissue: ["adipose", "NA", ""], center: ["A", "A", "B"] });
    expect(() => localLevels(withNa, parseFormula("~ tissue"))).toThrow(
      'meta.csv: sample S2, column tissue: missing value "NA" in a design variable',
    );
  });

  it("a factor with a single level in all centers cannot be estimated", () => {
    const single = metadata({ tissue: ["blood", "blood"], center: ["A", "B"] });
    expect(() => federatedDesign(single, "~ tissue")).toThrow(
      /design factor tissue has a single level "blood" across all centers/,
    );
  });

  it("a sample's level must be among the merged levels", () => {
    expect(() =>
      designMatrix(meta, parseFormula("~ tissue"), { tissue: ["adipose", "blood"] }),
    ).toThrow(
      'meta.csv: sample S3, column tissue: level "heart" is not among the design\'s levels (adipose and blood)',
    );
  });
});

describe("checkFullRank", () => {
  /** Gram matrix of a whole (one-center) design built from columns of values. */
  function gramOf(
    formulaText: string,
    columns: Record<string, string[]>,
  ): [Float64Array, string[]] {
    const meta = metadata(columns);
    const formula = parseFormula(formulaText);
    const design = designMatrix(meta, formula, localLevels(meta, formula));
    return [localGram(design), design.columns];
  }

  it("accepts a full-rank design, including a continuous variable with a large offset", () => {
    const [gram, columns] = gramOf("~ year + condition", {
      year: ["2001", "2002", "2003", "2001", "2004"],
      condition: ["a", "b", "a", "b", "b"],
    });
    expect(() => checkFullRank(gram, columns.length, columns)).not.toThrow();
  });

  it("names two confounded factors", () => {
    const [gram, columns] = gramOf("~ batch + condition", {
      batch: ["x", "x", "y", "y"],
      condition: ["a", "a", "b", "b"],
    });
    expect(() => checkFullRank(gram, columns.length, columns)).toThrow(InputError);
    expect(() => checkFullRank(gram, columns.length, columns)).toThrow(
      /^design is rank-deficient: columns batch_y_vs_x and condition_b_vs_a are confounded \(/,
    );
  });

  it("names every column of a dependency involving the intercept", () => {
    // other_q_vs_p = 1 - condition_b_vs_a = Intercept - condition_b_vs_a.
    const [gram, columns] = gramOf("~ condition + other", {
      condition: ["a", "b", "a", "b"],
      other: ["q", "p", "q", "p"],
    });
    expect(() => checkFullRank(gram, columns.length, columns)).toThrow(
      /columns Intercept, condition_b_vs_a and other_q_vs_p are confounded/,
    );
  });

  it("names every column of a dependency among several levels", () => {
    // other_q_vs_p = group_b_vs_a + group_c_vs_a.
    const [gram, columns] = gramOf("~ group + other", {
      group: ["a", "b", "c", "a", "b"],
      other: ["p", "q", "q", "p", "q"],
    });
    expect(() => checkFullRank(gram, columns.length, columns)).toThrow(
      /columns group_b_vs_a, group_c_vs_a and other_q_vs_p are confounded/,
    );
  });

  it("finds proportional continuous variables and all-zero columns", () => {
    const [gram, columns] = gramOf("~ age + months + zero", {
      age: ["1", "2", "3", "5"],
      months: ["12", "24", "36", "60"],
      zero: ["0", "0", "0", "0"],
    });
    expect(() => checkFullRank(gram, columns.length, columns)).toThrow(
      /^design is rank-deficient: columns age and months are confounded; column zero is all zero \(/,
    );
  });
});

/** A fixture of fixtures/modelMatrix.R: its metadata (as text, as a metadata file holds it) and cases. */
function modelMatrixFixture(file: string): {
  metadata: Metadata;
  cases: { formula: string; columns: string[]; matrix: number[] }[];
} {
  const fixture = JSON.parse(
    readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures", file), "utf8"),
  ) as {
    metadata: Record<string, (string | number)[]>;
    cases: { formula: string; columns: string[]; matrix: number[] }[];
  };
  const names = Object.keys(fixture.metadata);
  return {
    metadata: {
      columns: names,
      values: new Map(names.map((n) => [n, fixture.metadata[n].map(String)])),
    },
    cases: fixture.cases,
  };
}

describe("designMatrix with interactions, against R's model.matrix (fixtures/modelMatrix.R)", () => {
  const { metadata, cases } = modelMatrixFixture("modelMatrix.json");
  it.each(cases.map((c) => [c.formula, c] as const))(
    "%s: R's values, and R's interaction column names",
    (_, expected) => {
      const formula = parseFormula(expected.formula);
      const levels = localLevels(metadata, formula);
      const design = designMatrix(metadata, formula, levels);
      expect(design.columns.length).toBe(expected.columns.length);
      // Main effects carry DESeq2's names (a_a2_vs_a1); interactions R's, through make.names.
      const mainColumns = 1 + formula.terms.reduce((k, t) => k + (levels[t]?.length ?? 2) - 1, 0);
      expect(design.columns.slice(mainColumns)).toEqual(expected.columns.slice(mainColumns));
      // (−0 and 0 are the same value here: both sides may hold either.)
      expect(Array.from(design.matrix, (v) => v + 0)).toEqual(expected.matrix.map((v) => v + 0));
    },
  );
});

describe("designMatrix without an intercept and with factor(n), against R's model.matrix (fixtures/modelMatrix.R)", () => {
  const { metadata, cases } = modelMatrixFixture("modelMatrixNoIntercept.json");
  it.each(cases.map((c) => [c.formula, c] as const))(
    "%s: R's values and R's column names (DESeq2's resultsNames), factor(n)'s levels in numeric order",
    (_, expected) => {
      const formula = parseFormula(expected.formula);
      const levels = localLevels(metadata, formula);
      if (formula.factors !== undefined) expect(levels.n).toEqual(["1", "2", "10"]);
      const design = designMatrix(metadata, formula, levels);
      // DESeq2 renames a factor's columns a_a2_vs_a1 only with an intercept; factor(n)'s and a
      // design without an intercept keep R's names.
      const renamed = (c: string) => /^[ab][ab][0-9]$/.test(c) && expected.columns[0] !== "aa1";
      expect(
        design.columns.map((c, j) => (renamed(expected.columns[j]) ? expected.columns[j] : c)),
      ).toEqual(expected.columns.map((c) => (c === "X.Intercept." ? "Intercept" : c)));
      expect(Array.from(design.matrix, (v) => v + 0)).toEqual(expected.matrix.map((v) => v + 0));
    },
  );
});

describe("factor(x) of numbers: R's level labels", () => {
  it("labels numbers as R's as.character does (R 4.2.2: 1 | 2 | 10 | 2.5 | 10 | -1 | 1e+05 | 123456 | 1e-04 | 0.001 | 0.1 | 1234567 | 1e-20 | 0.3 | 0.333333333333333 | 1e+15)", () => {
    const xs = [
      1,
      2,
      10,
      2.5,
      1e1,
      -1,
      100000,
      123456,
      0.0001,
      0.001,
      0.1,
      1234567,
      1e-20,
      0.3,
      1 / 3,
      1e15,
    ];
    expect(xs.map(rNumberLabel).join(" | ")).toBe(
      "1 | 2 | 10 | 2.5 | 10 | -1 | 1e+05 | 123456 | 1e-04 | 0.001 | 0.1 | 1234567 | 1e-20 | 0.3 | 0.333333333333333 | 1e+15",
    );
  });

  it("refuses a value written otherwise than R's label (1.0 for 1: one level in R), naming it", () => {
    const metadata = {
      columns: ["x", "a"],
      values: new Map([
        ["x", ["1", "2", "10", "1.0"]],
        ["a", ["u", "v", "u", "v"]],
      ]),
      samples: ["s1", "s2", "s3", "s4"],
      source: "metadata.csv",
    };
    expect(() => localLevels(metadata, parseFormula("~ factor(x) + a"))).toThrow(
      'metadata.csv: sample s4, column x: factor(x) reads "1.0" as the number R labels "1": write it "1" (or give the levels as text)',
    );
    // Not a factor(): a continuous covariate, as written.
    expect(localLevels(metadata, parseFormula("~ x + a"))).toEqual({ a: ["u", "v"] });
  });
});
