/**
 * The README tells the truth: its two set-up commands open it, and its library example runs.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { root } from "./helpers/shared.js";
import { useTempFolder } from "./helpers/tempFiles.js";

const readme = readFileSync(join(root, "README.md"), "utf8");
const tmp = useTempFolder("fedseq-readme-");

it("opens with the two set-up commands", () => {
  const first = /```sh\n([^`]*)```/.exec(readme);
  expect(first?.[1].trim().split("\n")).toEqual(["npm ci && bin/fedseq demo", "npm test"]);
  expect(readme.indexOf("```sh")).toBeLessThan(readme.indexOf("\n## "));
});

it("the library example runs against the built package", () => {
  const block = /### Library\n\n```js\n([\s\S]*?)\n```/.exec(readme);
  expect(block).not.toBeNull();
  const out = join(tmp.dir, "results");
  const code = (block?.[1] ?? "").replace('"fedseq-results"', JSON.stringify(out));
  // Inside the project so that `import "fedseq"` resolves to this package (self-reference).
  const file = join(root, `.readme-example-${process.pid}.mjs`);
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, [file], { cwd: root, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("34356 genes in 25 rounds");
  } finally {
    rmSync(file, { force: true });
  }
  expect(readFileSync(join(out, "lfc.csv"), "utf8").split("\n")[0]).toMatch(
    /^gene,Intercept,tissue_blood_vs_adipose/,
  );
});
