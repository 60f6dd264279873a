/**
 * The set-up's local steps: the counts of a run's genes are the center's own array when the run
 * asks for all its genes in its order (no second copy), and no step of a whole run (Cook's
 * replacement and refit included) changes them.
 */
import { describe, expect, it } from "vitest";
import type { CenterData } from "../../../src/algorithms/centerData.js";
import { countsOfRows, geneRows } from "../../../src/algorithms/setup/local.js";
import { InProcessTransport } from "../../../src/federation/inProcess.js";
import { simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../../src/pipeline/run.js";
import { smallOutliersSim } from "../../helpers/recordedJobs.js";
import { deseq2Job } from "../../helpers/runs.js";
import { useTempFolder } from "../../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-setup-");

describe("countsOfRows", () => {
  const data = {
    name: "a",
    genes: ["g1", "g2", "g3"],
    samples: ["s1", "s2"],
    counts: Float64Array.of(1, 2, 3, 4, 5, 6),
  } as unknown as CenterData;

  it("all the center's genes in its order: its own array, not a copy", () => {
    expect(countsOfRows(data, geneRows(data, ["g1", "g2", "g3"]))).toBe(data.counts);
  });

  it("other rows: a copy of them, gene-major", () => {
    const rows = geneRows(data, ["g3", "g1"]);
    const out = countsOfRows(data, rows);
    expect(out).not.toBe(data.counts);
    expect(Array.from(out)).toEqual([5, 6, 1, 2]);
  });

  it("a whole run with Cook's replacement and refit leaves every center's counts as read", async () => {
    const sessions = await simulatedCenters(smallOutliersSim(tmp));
    const before = sessions.map((s) => s.data.counts.slice());
    const outcome = await runOverFederation(
      new InProcessTransport(sessions),
      deseq2Job("outliers_sim", "~ condition"),
      { runId: "counts" },
    );
    expect(outcome.cooks.refitted).toBeGreaterThan(0);
    sessions.forEach((s, c) => {
      expect(s.data.counts).toEqual(before[c]);
    });
  });
});
