/**
 * bin/fedseq, the command as a user runs it: an executable whose first two lines, a POSIX shell
 * script, start Node on the same file with glibc's malloc on transparent huge pages
 * (GLIBC_TUNABLES, the user's own tunables kept) and a 256 MB old generation to start with, and
 * which Node reads as a hashbang, a string
 * and a comment (`node bin/fedseq`, as the tests start it, skips the shell).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { root } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const launcher = join(root, "bin", "fedseq");
const [hashbang, relaunch] = readFileSync(launcher, "utf8").split("\n");
const tmp = useTempFolder("fedseq-bin-");

/** What a script with bin/fedseq's first two lines sees, run with `tunables` set (or not). */
function seen(tunables: string | undefined): {
  tunables: string;
  args: string[];
  nodeFlags: string[];
} {
  const script = join(tmp.dir, "seen.mjs");
  writeFileSync(
    script,
    `${hashbang}\n${relaunch}\nprocess.stdout.write(JSON.stringify({ tunables: process.env.GLIBC_TUNABLES ?? "unset", args: process.argv.slice(2), nodeFlags: process.execArgv }));\n`,
  );
  chmodSync(script, 0o755);
  const env = { ...process.env };
  if (tunables === undefined) delete env.GLIBC_TUNABLES;
  else env.GLIBC_TUNABLES = tunables;
  const r = spawnSync(script, ["~ tissue", "a'b\"c", ""], { encoding: "utf8", env });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

it("runs as an executable through its first lines, and as `node bin/fedseq`", () => {
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const [command, args] of [
    [launcher, ["--version"]],
    [process.execPath, [launcher, "--version"]],
  ] as const) {
    const r = spawnSync(command, args, { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  }
});

it("starts Node with glibc's malloc on huge pages (the user's tunables kept before it) and a 256 MB old generation, every argument as given", () => {
  expect(hashbang).toBe("#!/bin/sh");
  // Unset or empty: only the huge-pages tunable.
  expect(seen(undefined).tunables).toBe("glibc.malloc.hugetlb=1");
  expect(seen("").tunables).toBe("glibc.malloc.hugetlb=1");
  const kept = seen("glibc.malloc.arena_max=2");
  expect(kept.tunables).toBe("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
  expect(kept.args).toEqual(["~ tissue", "a'b\"c", ""]);
  expect(kept.nodeFlags).toEqual(["--initial-old-space-size=256"]);
});
