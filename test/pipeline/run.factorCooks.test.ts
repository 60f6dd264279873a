/**
 * DESeq2's Cook's filter spares a two-level factor's outliers only when the design variable is a
 * factor column (`~ condition`), not `factor(g)` of a numeric one (DESeq2 1.38.3,
 * fixtures/factorCooks.R): on the same data, 38 p-values NA with `~ factor(g)` (the 20 planted
 * genes among them) and 18 with `~ condition` (none of them).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { readCsv } from "../../src/io/csv.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../src/pipeline/run.js";
import { deseq2TableAt, resultsAgreementWithPvalues } from "../helpers/deseq2.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = useTempFolder("fedseq-factor-cooks-");

/** The fixture's data: outliers_sim's first 6 A and 6 B samples, 1,000 genes, 20 planted genes. */
function plantedData(): string {
  const source = sharedPath("data", "outliers_sim");
  const meta = readCsv(join(source, "metadata.csv"));
  const condition = meta.header.indexOf("condition");
  const pick = (level: string) =>
    meta.rows.filter((r) => r.fields[condition] === level).slice(0, 6);
  const rows = [...pick("A"), ...pick("B")];
  const samples = rows.map((r) => r.fields[0]);
  const counts = readFileSync(join(source, "counts.csv"), "utf8").trimEnd().split("\n");
  const header = counts[0].split(",");
  const columns = samples.map((s) => header.indexOf(s));
  const lines = [["gene", ...samples].join(",")];
  for (const line of counts.slice(1, 1001)) {
    const fields = line.split(",");
    lines.push([fields[0], ...columns.map((c) => fields[c])].join(","));
  }
  for (let k = 0; k < 20; k++)
    lines.push(
      [`planted${k}`, 60 + 3 * k, 1, 2, 3, 0, 0, 100 + k, 140, 149, 150, 140, 130].join(","),
    );
  tmp.write("planted/counts.csv", `${lines.join("\n")}\n`);
  const metadata = rows.map((r) =>
    [...r.fields, r.fields[condition] === "A" ? "1" : "2"].join(","),
  );
  tmp.write("planted/metadata.csv", `${[...meta.header, "g"].join(",")}\n${metadata.join("\n")}\n`);
  return join(tmp.dir, "planted");
}

it.each([
  ["~ factor(g)", "factor_g", 38, 20],
  ["~ condition", "condition", 18, 0],
] as const)(
  "%s: DESeq2's Cook's filter (%s: %i p-values NA, %i planted)",
  async (design, file, na, planted) => {
    const transport = new InProcessTransport(await simulatedCenters(plantedData()));
    try {
      const outcome = await runOverFederation(transport, deseq2Job("outliers_sim", design), {
        runId: `factor-cooks-${file}`,
      });
      const expected = deseq2TableAt(join(fixtures, `factorCooks_${file}.csv.gz`));
      expect(outcome.fit.genes).toEqual(expected.ids);
      const theirs = expected.numbers("pvalue");
      const missing = (p: ArrayLike<number>) => expected.ids.filter((_, g) => Number.isNaN(p[g]));
      expect(missing(theirs).length).toBe(na);
      expect(missing(theirs).filter((g) => g.startsWith("planted")).length).toBe(planted);
      expect(missing(outcome.results.pvalue)).toEqual(missing(theirs));
      const shares = resultsAgreementWithPvalues(`planted ${design}`, outcome.results, expected);
      for (const share of Object.values(shares)) expect(share).toBeGreaterThanOrEqual(0.999);
    } finally {
      await transport.close();
    }
  },
);
