/**
 * The README's Development section on `npm test`: an incremental build (its build info in dist/,
 * left out of the package) with lint beside it, then Vitest with the type check beside it; a
 * failure of any fails the command.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { root } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder("fedseq-test-command-");

const json = (file: string) => JSON.parse(readFileSync(join(root, file), "utf8"));

it("npm test: the build and lint side by side, then Vitest and the type check side by side", () => {
  const pkg = json("package.json");
  expect(pkg.scripts.test).toBe(
    "node scripts/run-parallel.mjs build lint && node scripts/run-parallel.mjs vitest typecheck",
  );
  expect(pkg.scripts.vitest).toBe("vitest run");
});

it("the build is incremental, and its build info stays out of the package", () => {
  const build = json("tsconfig.build.json");
  expect(build.compilerOptions).toMatchObject({
    incremental: true,
    tsBuildInfoFile: "dist/.tsbuildinfo",
  });
  const packed = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
  });
  expect(packed.status, packed.stderr).toBe(0);
  const files: string[] = JSON.parse(packed.stdout)[0].files.map((f: { path: string }) => f.path);
  expect(files).toContain("dist/index.js");
  expect(files.filter((f) => f.includes("tsbuildinfo"))).toEqual([]);
});

it("run-parallel fails when one of its scripts fails, first or second, and names it", () => {
  // In a package of its own whose one script succeeds at once (this project's lint took ~1.5 s
  // a run, twice, for the same check).
  const dir = temp.subdir("package");
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "p", private: true, scripts: { ok: "node -e 0" } }),
  );
  for (const order of [
    ["no-such-script", "ok"],
    ["ok", "no-such-script"],
  ]) {
    const r = spawnSync(process.execPath, [join(root, "scripts", "run-parallel.mjs"), ...order], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("npm run no-such-script failed");
    expect(r.stderr).not.toContain("npm run ok failed");
  }
  // And succeeds when every script does.
  const both = spawnSync(
    process.execPath,
    [join(root, "scripts", "run-parallel.mjs"), "ok", "ok"],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  expect(both.status, both.stderr).toBe(0);
});
