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
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(report.design_warnings).toHaveLength(1);
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
