import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    setupFiles: ["test/setup/yieldBetweenTests.ts"],
    // A folder for whole-dataset runs several test files share (test/helpers/runCache.ts).
    globalSetup: ["test/setup/runCache.ts"],
  },
});
