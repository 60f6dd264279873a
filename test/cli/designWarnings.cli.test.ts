/**
 * DESeq2 warns when a numeric design variable has whole-number values ("did you mean for this
 * to be a factor?"): a batch coded 1, 2, 3 is fitted as one continuous covariate. `run --data`
 * says so on stderr and in run.json (`design_warnings`), and fits it as DESeq2 does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { integerCovariates } from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import { covariateCellsWarning } from "../../src/pipeline/run.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-design-warnings-");

describe("numeric design variables with whole-number values", () => {
  it("integerCovariates lists them with their values; decimals and text are not listed", () => {
    const metadata = {
      columns: ["batch", "age", "condition"],
      values: new Map([
        ["batch", ["3", "1", "2", "1"]],
        ["age", ["30.5", "41", "52", "60"]],
        ["condition", ["A", "B", "A", "B"]],
      ]),
      samples: ["s1", "s2", "s3", "s4"],
      source: "metadata.csv",
    };
    expect(integerCovariates(metadata, parseFormula("~ batch + age + condition"))).toEqual([
      { variable: "batch", values: [1, 2, 3] },
    ]);
  });

  it("covariateCellsWarning counts the samples DESeq2 would group into Cook's cells (equal design rows, 3 or more)", () => {
    const metadata = (age: string[], condition: string[]) => ({
      columns: ["age", "condition"],
      values: new Map([
        ["age", age],
        ["condition", condition],
      ]),
    });
    const formula = parseFormula("~ age + condition");
    // 41, 41.0 and 4.1e1 are one value (DESeq2 compares the model matrix's numbers).
    const shared = metadata(
      ["41", "41.0", "4.1e1", "52", "52", "30.5", "52"],
      ["B", "B", "B", "A", "A", "A", "B"],
    );
    expect(covariateCellsWarning([shared], formula)).toMatch(
      /^3 of 7 samples share their design row with 2 or more others \(1 such rows, e\.g\. age = 41, condition = B: 3 samples\): DESeq2 takes each such group as a Cook's cell .*fedseq takes every sample of a design with a continuous covariate \(age\) as its own cell/,
    );
    // Over the centers: two samples here and one there make a row of 3.
    expect(
      covariateCellsWarning(
        [metadata(["52", "52"], ["A", "A"]), metadata(["52", "60"], ["A", "A"])],
        formula,
      ),
    ).toMatch(/^3 of 4 samples share .*age = 52, condition = A: 3 samples/);
    expect(covariateCellsWarning([metadata(["52", "52", "52"], ["A", "B", "A"])], formula)).toBe(
      null,
    );
    // No continuous covariate: the cells are the factors' level combinations, as DESeq2's.
    expect(covariateCellsWarning([metadata(["x", "x", "x"], ["A", "A", "A"])], formula)).toBe(null);
  });

  it("run --data warns of a batch coded 1/2/3 (stderr and run.json), and of nothing for a factor", async () => {
    const dir = sharedSubset(tmp, "outliers_sim", 200);
    const metadata = readFileSync(join(dir, "metadata.csv"), "utf8").trimEnd().split("\n");
    // A batch column coded 1, 2, 3 (by sample order), as such columns often come.
    const withBatch = metadata.map((line, i) =>
      i === 0 ? `${line},batch` : `${line},${((i - 1) % 3) + 1}`,
    );
    tmp.write("outliers_sim-200-genes/metadata.csv", `${withBatch.join("\n")}\n`);
    const out = join(tmp.dir, "out");
    const run = await runFedseqAsync([
      "run",
      "--data",
      dir,
      "--design",
      "~ batch + condition",
      "--min-cell",
      "1",
      "--out",
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /fedseq: warning: design variable "batch" is numeric with whole-number values \(1, 2, 3\): it is fitted as one continuous covariate/,
    );
    // Coded as numbers, batch and condition still put outliers_sim's 18 samples in 6 rows of 3
    // (samples in turn to batches 1, 2, 3; 9 per condition): DESeq2's Cook's cells, which fedseq
    // does not form with a continuous covariate.
    expect(run.stderr).toMatch(
      /fedseq: warning: 18 of 18 samples share their design row with 2 or more others \(6 such rows, e\.g\. batch = 1, condition = A: 3 samples\)/,
    );
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(report.design_warnings).toHaveLength(2);
    expect(report.design_columns).toEqual(["Intercept", "batch", "condition_B_vs_A"]);

    const plain = join(tmp.dir, "plain");
    const factorRun = await runFedseqAsync([
      "run",
      "--data",
      dir,
      "--design",
      "~ condition",
      "--out",
      plain,
    ]);
    expect(factorRun.code, factorRun.stderr).toBe(0);
    expect(factorRun.stderr).not.toMatch(/design variable/);
    expect(JSON.parse(readFileSync(join(plain, "run.json"), "utf8")).design_warnings).toBe(
      undefined,
    );
  });
});
