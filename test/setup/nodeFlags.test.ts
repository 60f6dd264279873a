/**
 * The README's Development section: the test workers, and the processes tests start, run with
 * test/setup/nodeFlags.ts's flags (V8 without background threads, a large initial old space).
 */
import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { NODE_FLAGS } from "./nodeFlags.js";

it("test workers and the processes they start run with --single-threaded and a 512 MB initial old space", () => {
  expect(NODE_FLAGS).toEqual(["--single-threaded", "--initial-old-space-size=512"]);
  for (const flag of NODE_FLAGS) expect(process.execArgv).toContain(flag);
  const child = spawnSync(
    process.execPath,
    [...NODE_FLAGS, "-e", "process.stdout.write(JSON.stringify(process.execArgv))"],
    { encoding: "utf8" },
  );
  expect(child.status, child.stderr).toBe(0);
  expect(JSON.parse(child.stdout).slice(0, NODE_FLAGS.length)).toEqual(NODE_FLAGS);
});
