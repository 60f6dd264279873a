#!/usr/bin/env node
// Run npm scripts at the same time and fail if any fails: `node scripts/run-parallel.mjs typecheck
// build`. `npm test` type-checks (src, test, bench) and builds dist (src) before vitest; the two
// are independent single-threaded tsc processes, so on two cores they take the time of the longer
// one instead of the sum (measured: 14.8 s + 11.8 s one after the other). Each script's output is
// printed when it ends, whole, so that the two do not interleave.
import { spawn } from "node:child_process";

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  process.stderr.write("usage: node scripts/run-parallel.mjs <npm script>...\n");
  process.exit(2);
}

const npm = process.env.npm_execpath;
const runs = scripts.map(
  (name) =>
    new Promise((resolve) => {
      // Through the npm that runs us when there is one (npm_execpath), else `npm` on the PATH.
      const child =
        npm === undefined
          ? spawn("npm", ["run", name], { shell: process.platform === "win32" })
          : spawn(process.execPath, [npm, "run", name]);
      const output = [];
      child.stdout.on("data", (chunk) => output.push(chunk));
      child.stderr.on("data", (chunk) => output.push(chunk));
      child.on("error", (error) => {
        output.push(Buffer.from(`${error.message}\n`));
        resolve({ name, code: 1, output });
      });
      child.on("close", (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0), output }));
    }),
);

let failed = false;
for (const run of runs) {
  const { name, code, output } = await run;
  process.stdout.write(Buffer.concat(output));
  if (code !== 0) {
    process.stderr.write(`npm run ${name} failed (exit ${code})\n`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
