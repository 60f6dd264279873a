/**
 * `run --test LRT` against DESeq2 1.38.3's `DESeq(test = "LRT", reduced = …)` on designs the shared
 * `deseq2_more/` files do not cover (fixtures/lrt.R): an intercept-only reduced model (DESeq2's
 * shortcut: β = log of the mean normalised count, no fit), whose 60 outlier genes go through
 * Cook's replacement and the refit's test — run as a user runs it (`fedseq run`, secure
 * aggregation and the plan's request policy on); a reduced model dropping the first variable,
 * whose columns are not a prefix of the full model's; and the test of an interaction. (`~ center + factor` against `~ center` on
 * every shared dataset: run.deseq2.test.ts.)
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { type RunOutcome, runOverFederation } from "../../src/pipeline/run.js";
import {
  type Deseq2Table,
  deseq2TableAt,
  type ResultColumns,
  resultColumns,
  resultsAgreementWithPvalues,
} from "../helpers/deseq2.js";
import {
  OUTLIERS_LRT_VS_1,
  runFedseqAsync,
  sharedDefaultRun,
  sharedFedseqRun,
} from "../helpers/processes.js";
import { deseq2Job, runShared } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-lrt-");

/** Shares of genes within 1% (and padj < 0.05 calls agreeing): each must be ≥ 99.9%. */
function expectAgreement(label: string, ours: ResultColumns, expected: Deseq2Table): void {
  const shares = resultsAgreementWithPvalues(label, ours, expected);
  for (const share of Object.values(shares)) expect(share).toBeGreaterThanOrEqual(0.999);
}

describe("run --test LRT against DESeq2's nbinomLRT on outliers_sim", () => {
  it('fedseq run --design "~ condition" --test LRT --reduced "~ 1": results.csv and run.json', async () => {
    // The same run as results.cli's base of `results --from` after an LRT: made once
    // (sharedFedseqRun).
    const run = await sharedFedseqRun("run-outliers_sim-lrt-vs-1", [...OUTLIERS_LRT_VS_1]);
    const out = run.out;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/fedseq: LRT against ~ 1 \(fold changes: condition B vs A\)/);
    const expected = deseq2TableAt(join(fixtures, "lrt_outliers_sim_condition_vs_1.csv.gz"));
    const ours = deseq2TableAt(join(out, "results.csv"));
    expect(ours.ids).toEqual(expected.ids);
    expect(ours.header).toEqual(expected.header);
    expectAgreement("outliers_sim ~ condition vs ~ 1 (fedseq run)", resultColumns(ours), expected);
    const report = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(report).toMatchObject({ test: "LRT", reduced: "~ 1", lrt_df: 1 });
    // The 60 outlier genes were refitted, and the refit ran its own test (DESeq2: nbinomLRT
    // again on the replaced counts).
    expect(report.cooks.refitted).toBe(60);
    expect(report.rounds["refit-lrt-loglik"]).toBeGreaterThan(0);
  });

  it("results --test Wald after it is DESeq2's results(dds, test = \"Wald\"): the Wald run's results.csv, byte for byte", async () => {
    // DESeq2's makeWaldTest: the full model's coefficients and standard errors, tested with
    // Wald tests; the LRT run fits the full model (and refits the outlier genes) as the Wald
    // run does. The Wald run: the default run of outliers_sim (~ condition), shared.
    const lrt = await sharedFedseqRun("run-outliers_sim-lrt-vs-1", [...OUTLIERS_LRT_VS_1]);
    const wald = await sharedDefaultRun("outliers_sim");
    expect(wald.code, wald.stderr).toBe(0);
    const out = join(tmp.dir, "lrt-then-wald");
    const r = await runFedseqAsync(["results", "--from", lrt.out, "--test", "Wald", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const ours = readFileSync(join(out, "results.csv"));
    expect(ours.equals(readFileSync(join(wald.out, "results.csv")))).toBe(true);
    // And the LRT's own results differ from it (the p-values are the test's).
    expect(ours.equals(readFileSync(join(lrt.out, "results.csv")))).toBe(false);
    // --test LRT after a Wald run: one line, exit 2, as DESeq2 stops.
    const refused = await runFedseqAsync([
      "results",
      "--from",
      wald.out,
      "--test",
      "LRT",
      "--out",
      join(tmp.dir, "wald-then-lrt"),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toMatch(/--test LRT: the run tested with Wald tests/);
  });

  it.each([
    // a reduced model dropping the first variable (its columns are not a prefix of the full's)
    ["~ center + condition", "~ condition", "center_condition_vs_condition", 2],
    // the test of an interaction
    ["~ center * condition", "~ center + condition", "interaction_vs_main", 2],
  ])("%s against %s", async (design, reduced, name, df) => {
    const outcome = await runShared(
      new InProcessTransport(await simulatedCenters(sharedPath("data", "outliers_sim"))),
      "outliers_sim",
      "run-lrt",
      design,
      "deseq2",
      reduced,
    );
    const expected = deseq2TableAt(join(fixtures, `lrt_outliers_sim_${name}.csv.gz`));
    expect(outcome.fit.genes).toEqual(expected.ids);
    expectAgreement(`outliers_sim ${design} vs ${reduced}`, outcome.results, expected);
    expect(outcome.lrt).toEqual({ reduced, df });
  });
});

describe("run --test LRT: Cook's distances from the gene-wise dispersion step's μ, as nbinomLRT's", () => {
  // test/algorithms/cooks/fixtures/make_lrt_cooks.R: sparse datasets, 24 samples over 3 centers.
  const cooksFixtures = join(fixtures, "..", "..", "algorithms", "cooks", "fixtures");
  const cases = [
    // A group design: the linear-model μ. g083's distances are above the cutoff at that μ, not
    // at the final fit's (the Wald test's maxCooks of g083 is below it).
    {
      data: "lrt",
      design: "~ condition",
      reduced: "~ 1",
      missing: 37,
      flip: { gene: "g083", na: true },
      within: 1e-8,
    },
    // Not a group design: the μ of an NB GLM fitted with alpha_init (to IRLS's tolerance, as
    // DESeq2 does; measured: stat within 8.1e-9, the rest closer). g266: below the cutoff at that
    // μ, above it at the final fit's.
    {
      data: "lrt_batch",
      design: "~ batch + condition",
      reduced: "~ batch",
      missing: 79,
      flip: { gene: "g266", na: false },
      within: 1e-7,
    },
  ];
  for (const c of cases) {
    it(`${c.design} against ${c.reduced}, without replacement: DESeq2's results, p-values NA where the LRT's distances are above the cutoff`, async () => {
      const transport = new InProcessTransport(await simulatedCenters(join(cooksFixtures, c.data)));
      let outcome: RunOutcome;
      try {
        outcome = await runOverFederation(
          transport,
          {
            ...deseq2Job("outliers_sim", c.design, "deseq2", c.reduced),
            minReplicatesForReplace: Number.POSITIVE_INFINITY,
          },
          { runId: `lrt-cooks-${c.data}` },
        );
      } finally {
        await transport.close();
      }
      const expected = deseq2TableAt(join(cooksFixtures, `${c.data}_results_no_refit.csv`));
      expect(outcome.fit.genes).toEqual(expected.ids);
      for (const column of [
        "baseMean",
        "log2FoldChange",
        "lfcSE",
        "stat",
        "pvalue",
        "padj",
      ] as const) {
        const ours = outcome.results[column];
        const theirs = expected.numbers(column);
        theirs.forEach((want, g) => {
          const label = `${expected.ids[g]} ${column}: ${ours[g]} vs ${want}`;
          expect(Number.isNaN(ours[g]), label).toBe(Number.isNaN(want));
          if (!Number.isNaN(want))
            expect(Math.abs(ours[g] - want), label).toBeLessThanOrEqual(c.within * Math.abs(want));
        });
      }
      const missing = expected.ids.filter((_, g) => Number.isNaN(outcome.results.pvalue[g]));
      expect(missing.length).toBe(c.missing);
      expect(Number.isNaN(outcome.results.pvalue[expected.ids.indexOf(c.flip.gene)])).toBe(
        c.flip.na,
      );
    });
  }
});
