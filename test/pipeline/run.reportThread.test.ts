/**
 * A run's report thread (src/pipeline/run.ts `reportThreadOfRun`): none before the first round
 * (a command stopping on bad input starts none), one from it on, and the run's progress still
 * told of every phase; a simulated run on bad input starts none at all.
 */
import { describe, expect, it, vi } from "vitest";
import { reportThreadOfRun, runSimulated } from "../../src/pipeline/run.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-run-report-thread-");

describe("a run's report thread", () => {
  it("starts with the first phase, once, and passes every phase on", () => {
    const phases: string[] = [];
    const report = reportThreadOfRun((phase) => phases.push(phase));
    expect(report.thread()).toBeUndefined();
    // Before any round, dispersions (none come then) and close are no-ops.
    report.close();
    report.onPhase("setup");
    const thread = report.thread();
    expect(thread).toBeDefined();
    report.onPhase("size-factors");
    expect(report.thread()).toBe(thread);
    expect(phases).toEqual(["setup", "size-factors"]);
    report.close();
  });

  it("a simulated run that stops on bad input before round 1 starts none", async () => {
    const { ReportThread } = await import("../../src/reports/reportThread.js");
    const start = vi.spyOn(ReportThread, "start");
    try {
      await expect(
        runSimulated({
          dataDir: sharedPath("data", "li_lncap"),
          design: "~ treatment",
          contrast: { kind: "levels", factor: "treatment", level: "nope", reference: "control" },
          outDir: temp.subdir("bad"),
          secureAggregation: true,
          reportThread: true,
        }),
      ).rejects.toThrow(/nope/);
      expect(start).not.toHaveBeenCalled();
    } finally {
      start.mockRestore();
    }
  });
});
