#!/usr/bin/env node
// Run npm scripts at the same time and fail if any fails: `node scripts/run-parallel.mjs vitest
// typecheck`. `npm test` runs the build and lint side by side (about 3 s and 1.5 s, each on one
// core), then Vitest and the type check (src, test, bench): the suite keeps both cores busy for
// minutes, and the type check, about 15 s on one core before it, costs about half that beside
// it. The first script's output is shown as it comes (Vitest's progress); each other script's is
// printed whole when it ends, so that the two do not interleave line by line.
import { spawn } from "node:child_process";

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  process.stderr.write("usage: node scripts/run-parallel.mjs <npm script>...\n");
  process.exit(2);
}

const npm = process.env.npm_execpath;
const runs = scripts.map(
  (name, index) =>
    new Promise((resolve) => {
      // Through the npm that runs us when there is one (npm_execpath), else `npm` on the PATH.
      const child =
        npm === undefined
          ? spawn("npm", ["run", name], { shell: process.platform === "win32" })
          : spawn(process.execPath, [npm, "run", name]);
      const live = index === 0;
      const output = [];
      child.stdout.on("data", (chunk) => (live ? process.stdout.write(chunk) : output.push(chunk)));
      child.stderr.on("data", (chunk) => (live ? process.stderr.write(chunk) : output.push(chunk)));
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
