/**
 * The README's Development section: two test workers; they and the processes tests start run
 * with test/setup/nodeFlags.ts's flags (V8 without background threads, a large initial old
 * space) and with glibc's malloc on transparent huge pages.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import config from "../../vitest.config.js";
import { MALLOC_HUGE_PAGES, NODE_FLAGS, withMallocHugePages } from "./nodeFlags.js";

it("Vitest runs two workers", () => {
  expect(config.test?.maxWorkers).toBe(2);
  expect(config.test?.minWorkers).toBe(2);
});

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

it("GLIBC_TUNABLES gains the huge-pages tunable, keeping the others", () => {
  expect(MALLOC_HUGE_PAGES).toBe("glibc.malloc.hugetlb=1");
  expect(withMallocHugePages(undefined)).toBe("glibc.malloc.hugetlb=1");
  expect(withMallocHugePages("")).toBe("glibc.malloc.hugetlb=1");
  expect(withMallocHugePages("glibc.malloc.arena_max=2")).toBe(
    "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1",
  );
  expect(withMallocHugePages("glibc.malloc.hugetlb=0:glibc.malloc.tcache_count=0")).toBe(
    "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1",
  );
});

/** Kilobytes of a child's anonymous memory on huge pages once it filled a 64 MB array. */
function hugePagesOfChild(env: NodeJS.ProcessEnv): number {
  const script = [
    "const a = new Float64Array(8 << 20).fill(1);",
    'const m = require("node:fs").readFileSync("/proc/self/smaps_rollup", "utf8").match(/AnonHugePages:\\s+(\\d+) kB/);',
    // a[0] − 1 is 0: it reads the array after smaps, so the array is still held when it is read.
    "process.stdout.write(String(Number(m[1]) + a[0] - 1));",
  ].join("\n");
  const child = spawnSync(process.execPath, [...NODE_FLAGS, "-e", script], {
    encoding: "utf8",
    env,
  });
  expect(child.status, child.stderr).toBe(0);
  return Number(child.stdout);
}

it("test workers and the processes they start have malloc's large blocks on transparent huge pages where the kernel gives them on request", () => {
  expect(process.env.GLIBC_TUNABLES?.split(":")).toContain(MALLOC_HUGE_PAGES);
  const inherited = hugePagesOfChild(process.env);
  const without = hugePagesOfChild({ ...process.env, GLIBC_TUNABLES: "" });
  // The kernel's policy: [always] (every process), [madvise] (on request) or [never].
  const policy = /\[(\w+)\]/.exec(
    readFileSync("/sys/kernel/mm/transparent_hugepage/enabled", "utf8"),
  )?.[1];
  if (policy === "madvise") {
    // Only malloc's request puts the array on huge pages: at least half of its 64 MB.
    expect(inherited).toBeGreaterThanOrEqual(32 * 1024);
    expect(without).toBe(0);
  } else {
    // Every process, or none: the tunable changes nothing.
    expect(policy === "always" || policy === "never").toBe(true);
    expect(inherited > 0).toBe(without > 0);
  }
});
