/**
 * `fedseq run --lfc-shrink normal|apeglm`: the contract (shrunk.csv's columns, run.json's
 * prior), and the refusals before any round (exit 2, one line): an unknown estimator, a contrast
 * that is not a coefficient, a design DESeq2 does not shrink with the normal prior. (apeglm's
 * numbers against R: test/algorithms/apeglm, test/pydeseq2.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useCliHost } from "../helpers/cliHost.js";
import { sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder();
/** bin/fedseq's entry point in one host process (cliHost.ts): the same exit code, output and files. */
const hosted = useCliHost();

/**
 * `fedseq run --data <300 genes of outliers_sim> FLAGS`: shrunk.csv has the contract's columns,
 * one row per gene, gene, baseMean, pvalue and padj the results' (DESeq2's lfcShrink keeps them),
 * and the fold change pulled towards 0 by the prior for most genes.
 * @returns run.json
 */
async function shrinkRun(name: string, flags: string[]) {
  const data = sharedSubset(tmp, "outliers_sim", 300);
  const out = join(tmp.dir, name);
  const r = await hosted(["run", "--data", data, ...flags, "--out", out]);
  expect(r.code, r.stderr).toBe(0);
  const shrunk = readFileSync(join(out, "shrunk.csv"), "utf8").trimEnd().split("\n");
  expect(shrunk[0]).toBe("gene,baseMean,log2FoldChange,lfcSE,pvalue,padj");
  const results = readFileSync(join(out, "results.csv"), "utf8").trimEnd().split("\n");
  expect(shrunk).toHaveLength(results.length);
  let pulled = 0;
  shrunk.slice(1).forEach((line, i) => {
    const s = line.split(",");
    const t = results[i + 1].split(",");
    expect([s[0], s[1], s[4], s[5]]).toEqual([t[0], t[1], t[5], t[6]]);
    if (Math.abs(Number(s[2])) < Math.abs(Number(t[2]))) pulled++;
  });
  expect(pulled).toBeGreaterThan(0.9 * (shrunk.length - 1));
  return JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
}

describe("fedseq run --lfc-shrink", () => {
  it("a later run into the same folder without --lfc-shrink and --vst leaves none of their tables behind", async () => {
    // A sweep found the earlier run's shrunk.csv (B vs A) kept beside a new results.csv of
    // A vs B, and its vst.csv and pca.csv.
    const data = sharedSubset(tmp, "outliers_sim", 300);
    const out = join(tmp.dir, "reused");
    const first = await hosted([
      "run",
      ...["--data", data, "--design", "~ condition", "--lfc-shrink", "normal", "--vst"],
      ...["--out", out],
    ]);
    expect(first.code, first.stderr).toBe(0);
    for (const file of ["shrunk.csv", "vst.csv", "pca.csv", "size_factors.csv"])
      expect(existsSync(join(out, file)), file).toBe(true);
    const second = await hosted([
      "run",
      ...["--data", data, "--design", "~ condition", "--contrast", "condition,A,B"],
      ...["--out", out],
    ]);
    expect(second.code, second.stderr).toBe(0);
    for (const file of ["shrunk.csv", "vst.csv", "pca.csv"])
      expect(existsSync(join(out, file)), file).toBe(false);
    for (const file of ["results.csv", "size_factors.csv", "run.json", "report.html"])
      expect(existsSync(join(out, file)), file).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).contrast).toBe(
      "condition A vs B",
    );
  });

  it("normal: writes shrunk.csv (gene,baseMean,log2FoldChange,lfcSE,pvalue,padj) and the prior in run.json", async () => {
    const run = await shrinkRun("shrunk", [
      "--design",
      "~ center + condition",
      "--lfc-shrink",
      "normal",
    ]);
    expect(run.lfc_shrink.type).toBe("normal");
    expect(run.lfc_shrink.coefficient).toBe("condition_B_vs_A");
    expect(Object.keys(run.lfc_shrink.prior_variance)).toEqual([
      "Intercept",
      "center_lab_2_vs_lab_1",
      "center_lab_3_vs_lab_1",
      "condition_B_vs_A",
    ]);
    expect(run.lfc_shrink.prior_variance.Intercept).toBe(1e6);
  });

  it("apeglm: the whole analysis under the default plan (secure aggregation, verified requests) writes shrunk.csv and the adaptive prior", async () => {
    const run = await shrinkRun("apeglm", [
      "--design",
      "~ center * condition",
      "--name",
      "condition_B_vs_A",
      "--lfc-shrink",
      "apeglm",
    ]);
    expect(run.lfc_shrink).toMatchObject({
      type: "apeglm",
      coefficient: "condition_B_vs_A",
      not_converged: 0,
    });
    // apeglm's scale: √(prior variance), capped at 1.
    expect(run.lfc_shrink.prior_scale).toBe(Math.min(Math.sqrt(run.lfc_shrink.prior_variance), 1));
    expect(run.k_sample_rule.verified_requests).toBe(true);
  });

  const refusals: [string, string[], RegExp][] = [
    ["an unknown estimator", ["--lfc-shrink", "ashr"], /^fedseq: .*ashr/],
    [
      "a contrast of two non-reference levels",
      ["--design", "~ center", "--contrast", "center,lab_3,lab_2", "--lfc-shrink", "normal"],
      /^fedseq: --lfc-shrink normal: DESeq2 shrinks one coefficient \(lfcShrink coef =\), and the contrast center lab_3 vs lab_2 is not one/,
    ],
    [
      "a design without an intercept",
      ["--design", "~ 0 + condition", "--lfc-shrink", "normal"],
      /^fedseq: --lfc-shrink normal: DESeq2's normal prior needs a design with an intercept/,
    ],
    [
      "a design with interactions",
      ["--design", "~ center * condition", "--lfc-shrink", "normal"],
      /^fedseq: --lfc-shrink normal: DESeq2 does not shrink with type "normal" in a design with interactions/,
    ],
  ];
  for (const [what, flags, message] of refusals) {
    it(`refuses ${what} before any round (exit 2, one line, nothing written)`, async () => {
      const data = sharedSubset(tmp, "outliers_sim", 300);
      const out = join(tmp.dir, `refused-${what.replace(/\W+/g, "-")}`);
      const args = ["run", "--data", data, "--out", out, ...flags];
      if (!flags.includes("--design")) args.push("--design", "~ condition");
      // Each refusal ends before any round: run in the CLI host process, not one process each.
      const r = await hosted(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(existsSync(join(out, "results.csv"))).toBe(false);
    });
  }
});
