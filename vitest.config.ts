import { defineConfig } from "vitest/config";
import { NODE_FLAGS, withMallocHugePages } from "./test/setup/nodeFlags.js";
import LongestFirst from "./test/setup/sequencer.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A generous bound only against a hang: no test depends on the machine's speed (a test with
    // its own 120 s budget failed on a loaded 2-core machine while passing on a quiet one). Every
    // wait in fedseq has its own deadline, which the tests exercise.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: "forks",
    // V8 flags for the two workers, as for the processes they start (test/setup/nodeFlags.ts).
    poolOptions: { forks: { execArgv: [...NODE_FLAGS] } },
    // The workers' environment (at their start, so glibc reads it; the processes they start
    // inherit it): malloc on transparent huge pages (test/setup/nodeFlags.ts).
    env: { GLIBC_TUNABLES: withMallocHugePages(process.env.GLIBC_TUNABLES) },
    // vitest's default is one worker per core but one (1 here, on two cores): two files at a time keep
    // both cores busy while a file waits on its processes (rounds over loopback, timeouts). Three
    // left the cores idle less (0.5% of a run instead of 4.2%) but once lost two files in a whole
    // run (a worker ended, "Terminating worker thread"), which two never did.
    maxWorkers: 2,
    // And never fewer: tinypool ends a worker left idle beyond its minimum (vitest's default
    // minimum here is 1), and with it the module graph it keeps (isolate: false, below).
    minWorkers: 2,
    // A worker runs file after file in one module graph: the project's modules are loaded and
    // transformed once per worker, not once per file (measured on the 62 small files: 118 s ->
    // 66 s wall, 225 s -> 128 s CPU). Files share no state they rely on (each writes its own temp
    // folder; the shared caches are read-only).
    isolate: false,
    setupFiles: ["test/setup/yieldBetweenTests.ts"],
    // A folder for whole-dataset runs several test files share (test/helpers/runCache.ts).
    globalSetup: ["test/setup/runCache.ts"],
    // Longest files first, also without vitest's cache of durations (CI's npm ci removes it):
    // the two workers then end together (test/setup/sequencer.ts).
    sequence: { sequencer: LongestFirst },
  },
});
