import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // vitest's default is one worker per core but one (1 here, on two cores): two files at a time keep
    // both cores busy while a file waits on its processes (rounds over loopback, timeouts).
    maxWorkers: 2,
    setupFiles: ["test/setup/yieldBetweenTests.ts"],
    // A folder for whole-dataset runs several test files share (test/helpers/runCache.ts).
    globalSetup: ["test/setup/runCache.ts"],
  },
});
