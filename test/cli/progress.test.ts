/**
 * Progress on stderr: a line per step when stderr is not a terminal (a log, a pipe), the
 * self-overwriting round line on a terminal, nothing with --quiet.
 */
import { describe, expect, it } from "vitest";
import { phaseLabel, runProgress } from "../../src/cli/progress.js";

/** A stderr stand-in that keeps what is written. */
function stream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = "";
  const fake = {
    isTTY,
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream: fake, text: () => text };
}

describe("run's progress", () => {
  it("not on a terminal: one line each time the run enters another step, in words (none for the set-up rounds)", () => {
    const s = stream(false);
    const progress = runProgress(s.stream);
    expect(progress.onRound).toBeUndefined();
    for (const phase of [
      "setup",
      "size-factors",
      "size-factors",
      "dispersions",
      "genewise-dispersions",
      "irls",
      "optim",
      "wald",
      "cooks",
      "cooks-trimmed-means",
      "cooks",
      "refit-dispersions",
    ])
      progress.onPhase?.(phase);
    expect(s.text().split("\n")).toEqual([
      "fedseq: dispersions: gene-wise estimates",
      "fedseq: fold changes: the negative binomial GLM fit",
      "fedseq: Wald tests",
      "fedseq: Cook's distances and outliers",
      "fedseq: refit after outlier replacement: dispersions: moments",
      "",
    ]);
  });

  it("on a terminal: the round line only; with --quiet: nothing", () => {
    const tty = stream(true);
    const progress = runProgress(tty.stream);
    expect(progress.onPhase).toBeUndefined();
    progress.onRound?.({ phase: "genewise-dispersions", round: 3, activeGenes: 120 });
    expect(tty.text()).toBe("\r\x1b[Kdispersions: gene-wise estimates, round 3: 120 genes active");
    const quiet = stream(false);
    expect(runProgress(quiet.stream, true)).toEqual({});
  });

  it("writes one line for the iterative size factors' phases, however many iterations", () => {
    const log = stream(false);
    const progress = runProgress(log.stream);
    for (let i = 0; i < 3; i++)
      for (const phase of [
        "size-factors-dispersions",
        "size-factors-genewise-dispersions",
        "size-factors",
        "size-factors-map-dispersions",
      ])
        progress.onPhase?.(phase);
    progress.onPhase?.("genewise-dispersions");
    expect(log.text()).toBe(
      "fedseq: size factors: DESeq2's iterative fit (intercept-only dispersions, then the likelihood; up to 10 times)\nfedseq: dispersions: gene-wise estimates\n",
    );
  });

  it("names an unknown phase by itself", () => {
    expect(phaseLabel("something-new")).toBe("something-new");
  });
});
