/**
 * bin/fedseq, the command as a user runs it: an executable whose first line starts Node with
 * glibc's malloc on transparent huge pages (GLIBC_TUNABLES, the user's own tunables kept).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { root } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const launcher = join(root, "bin", "fedseq");
const firstLine = readFileSync(launcher, "utf8").split("\n")[0];
const tmp = useTempFolder("fedseq-bin-");

/** GLIBC_TUNABLES as a script with bin/fedseq's first line sees it, run with `tunables` set (or not). */
function tunablesSeen(tunables: string | undefined): string {
  const script = join(tmp.dir, "tunables.mjs");
  writeFileSync(
    script,
    `${firstLine}\nprocess.stdout.write(process.env.GLIBC_TUNABLES ?? "unset");\n`,
  );
  chmodSync(script, 0o755);
  const env = { ...process.env };
  if (tunables === undefined) delete env.GLIBC_TUNABLES;
  else env.GLIBC_TUNABLES = tunables;
  const r = spawnSync(script, [], { encoding: "utf8", env });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

it("runs as an executable through its first line", () => {
  const r = spawnSync(launcher, ["--version"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  expect(r.stdout.trim()).toBe(version);
});

it("starts Node with glibc's malloc on huge pages, the user's tunables kept before it", () => {
  expect(firstLine).toMatch(/^#!\/usr\/bin\/env -S .* node$/);
  // Unset or empty: only the huge-pages tunable (glibc skips the empty entry before it).
  expect(tunablesSeen(undefined).split(":").filter(Boolean)).toEqual(["glibc.malloc.hugetlb=1"]);
  expect(tunablesSeen("").split(":").filter(Boolean)).toEqual(["glibc.malloc.hugetlb=1"]);
  expect(tunablesSeen("glibc.malloc.arena_max=2")).toBe(
    "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1",
  );
});
