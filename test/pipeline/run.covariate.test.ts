/**
 * Continuous covariates as users give them, against DESeq2 1.38.3 (fixtures/covariate.R: two
 * simulated datasets of 60 samples over 3 centers, 100 genes each).
 *
 * - `~ age + condition`, age 20–80 uncentred: IRLS converges slowly on such a design and the
 *   `deseq2` solver refits some rows with R's L-BFGS-B, whose trial points make μ overflow at
 *   some samples: a center's likelihood there is +∞, as R's is. Under secure aggregation (the
 *   default) that +∞ travels as a count beside the masked sum; it was once refused as beyond the
 *   field's bound, and every such run ended with exit 3.
 * - `~ age_days + condition`, the age in days (7,000–30,000), gene means up to 1e5: the fit's
 *   information sums and the dispersion search's Cox–Reid slopes (x²·W, x²·W²) reach 1e19–1e20,
 *   beyond the public bound of 1e18 they once had (exit 3 again).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { deseq2TableAt, shareWithin } from "../helpers/deseq2.js";
import { runFedseqAsync } from "../helpers/processes.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-covariate-");

// Largest relative differences measured: 2.1e-9 (covariate), 4.2e-11 (covariate_days).
it.each([
  ["covariate", "~ age + condition"],
  ["covariate_days", "~ age_days + condition"],
] as const)(
  "run --data %s --design '%s' with its defaults (secure aggregation on): exit 0, DESeq2's results within 1e-7",
  async (fixture, design) => {
    const out = join(tmp.dir, fixture);
    const run = await runFedseqAsync([
      "run",
      ...["--data", join(fixtures, fixture), "--design", design, "--out", out, "--quiet"],
    ]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    // The first dataset reaches L-BFGS-B (the +∞ likelihoods).
    if (fixture === "covariate") expect(report.rounds.optim).toBeGreaterThan(0);
    const ours = deseq2TableAt(join(out, "results.csv"));
    const theirs = deseq2TableAt(join(fixtures, `${fixture}_results.csv.gz`));
    expect(ours.ids).toEqual(theirs.ids);
    for (const column of ["baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]) {
      expect(shareWithin(ours.numbers(column), theirs.numbers(column), 1e-7), column).toBe(1);
    }
  },
);
