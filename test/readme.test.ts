/**
 * The README tells the truth: its two set-up commands open it, and its library example runs from
 * the package as npm would install it.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { deseq2Table } from "./helpers/deseq2.js";
import { runCommand } from "./helpers/processes.js";
import { root } from "./helpers/shared.js";
import { useTempFolder } from "./helpers/tempFiles.js";
import { NODE_FLAGS } from "./setup/nodeFlags.js";

const readme = readFileSync(join(root, "README.md"), "utf8");
const tmp = useTempFolder("fedseq-readme-");

it("opens with the two set-up commands", () => {
  const first = /```sh\n([^`]*)```/.exec(readme);
  expect(first?.[1].trim().split("\n")).toEqual(["npm ci && bin/fedseq demo", "npm test"]);
  expect(readme.indexOf("```sh")).toBeLessThan(readme.indexOf("\n## "));
});

it("the library example runs from the package packed and installed in a folder of its own", async () => {
  const block = /### Library\n\n```js\n([\s\S]*?)\n```/.exec(readme);
  expect(block).not.toBeNull();
  // The package as npm publishes it (dist is built by the test command), installed elsewhere.
  // Waited for without blocking this worker: npm install and a whole bodymap run take long
  // enough, on a loaded machine, for vitest's worker RPC to time out on a synchronous wait.
  const packed = await runCommand(
    "npm",
    ["pack", "--ignore-scripts", "--pack-destination", tmp.dir],
    { cwd: root },
  );
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = join(tmp.dir, packed.stdout.trim().split("\n").pop() as string);
  const app = join(tmp.dir, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    '{ "name": "app", "private": true, "type": "module" }\n',
  );
  const installed = await runCommand(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball],
    { cwd: app },
  );
  expect(installed.code, installed.stderr).toBe(0);
  writeFileSync(join(app, "example.mjs"), block?.[1] ?? "");
  const r = await runCommand(process.execPath, [...NODE_FLAGS, "example.mjs"], { cwd: app });
  expect(r.code, r.stderr).toBe(0);
  // DESeq2's own results on the same data: its count of padj < 0.1 and its first fold change.
  const deseq2 = deseq2Table("bodymap", "results.csv");
  const padj = deseq2.numbers("padj");
  const significant = padj.filter((q) => q < 0.1).length;
  expect(r.stdout.trim().split("\n")).toEqual([
    `tissue skeletal_muscle vs adipose: ${significant} of ${deseq2.ids.length} genes with padj < 0.1`,
    `${deseq2.ids[0]}: log2 fold change ${deseq2.numbers("log2FoldChange")[0].toFixed(3)}`,
  ]);
});
