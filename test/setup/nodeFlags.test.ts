/**
 * The README's Development section: the test workers, and the processes tests start, run V8
 * without background threads (`--single-threaded`).
 */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { NODE_FLAGS } from "../helpers/processes.js";

it("test workers and the processes they start run with --single-threaded", () => {
  expect(process.execArgv).toContain("--single-threaded");
  expect(NODE_FLAGS).toContain("--single-threaded");
  const child = spawnSync(
    process.execPath,
    [...NODE_FLAGS, "-e", "process.stdout.write(JSON.stringify(process.execArgv))"],
    { encoding: "utf8" },
  );
  expect(child.status, child.stderr).toBe(0);
  expect(JSON.parse(child.stdout)).toContain("--single-threaded");
});
