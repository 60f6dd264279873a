/**
 * vitest's file order: the longest files first, so that the workers, each taking the next
 * file when it is done with one, end at about the same time (a long file started last keeps one
 * core busy while the other idles).
 *
 * vitest's own sequencer orders by the durations it cached in the previous run, but that cache
 * lives in node_modules/.vite, which `npm ci` (CI's install) removes: without it vitest orders by
 * file size, and short files that run long (a whole dataset in a few lines: run.fitType, the
 * README's example, the demo) come last. Here a file's duration is the cached one when there is
 * one, else its seconds in {@link SECONDS} (measured on two cores). Files that failed in the
 * cached run go first, as vitest does.
 */
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds of the files that take 5 s or more, as one `vitest run` measured them on two cores in
 * this order (without vitest's cache of durations, as in CI; only their order matters). A file
 * that reads a run another file made in the shared run cache (test/helpers/runCache.ts) takes
 * less than alone: these are the times in this order. Files not listed count as
 * {@link OTHER_SECONDS}; a new long file belongs here (its seconds from `npx vitest run <file>`):
 * one left out runs among the short files at the end, while the other worker waits for it (the
 * 14 s of privateEndToEnd, unlisted, ended a run alone).
 */
const SECONDS: Record<string, number> = {
  "test/pipeline/run.deseq2.test.ts": 90,
  "test/federation/grpc.processes.test.ts": 72,
  "test/reports/agreement.test.ts": 28,
  "test/pipeline/run.fitType.test.ts": 23,
  "test/readme.test.ts": 22,
  "test/federation/secureAggregation/layer.test.ts": 19,
  "test/cli/results.cli.test.ts": 18,
  "test/algorithms/cooks/privateEndToEnd.test.ts": 14,
  "test/pipeline/run.formulas.test.ts": 12,
  "test/pipeline/run.sizeFactorsIterate.test.ts": 11,
  "test/pipeline/run.sizeFactorsType.test.ts": 11,
  "test/algorithms/dispersions/shared.test.ts": 9,
  "test/privacy/transcriptScan.test.ts": 9,
  "test/pipeline/run.vst.test.ts": 9,
  "test/cli/secureAggregation.cli.test.ts": 8,
  "test/cli/run.cli.test.ts": 8,
  "test/federation/transports.test.ts": 8,
  "test/cli/fitLfc.cli.test.ts": 7,
  "test/federation/registry.test.ts": 7,
  "test/federation/verifiedRequests.test.ts": 7,
  "test/compute/genePool.test.ts": 7,
  "test/setup/testCommand.test.ts": 6,
  "test/reports/html.browser.test.ts": 6,
  "test/pipeline/run.sparseGenes.test.ts": 6,
  "test/pydeseq2/pydeseq2.test.ts": 6,
  "test/pipeline/run.cooksSwitches.test.ts": 6,
  "test/federation/grpc.faults.test.ts": 6,
  "test/cli/options.cli.test.ts": 5,
};

/** Seconds of a file in neither vitest's cache nor {@link SECONDS}. */
const OTHER_SECONDS = 2;

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cache = this.ctx.cache;
    const root = this.ctx.config.root;
    const known = (file: TestSpecification) => {
      const path = relative(root, file.moduleId).split("\\").join("/");
      const cached = cache.getFileTestResults(`${file.project.name}:${path}`);
      if (cached !== undefined) return { failed: cached.failed, ms: cached.duration };
      const listed = SECONDS[path];
      return { failed: false, ms: 1000 * (listed ?? OTHER_SECONDS) };
    };
    const rank = new Map(files.map((f) => [f, known(f)]));
    return [...files].sort((a, b) => {
      const [ra, rb] = [rank.get(a), rank.get(b)] as { failed: boolean; ms: number }[];
      if (ra.failed !== rb.failed) return ra.failed ? -1 : 1;
      return rb.ms - ra.ms;
    });
  }
}
