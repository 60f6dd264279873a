// One process that runs bin/fedseq's entry point, `main` of the built dist/bundle/main.js
// (scripts/bundle.mjs), for many argument lists, one after another (test/helpers/cliHost.ts
// sends them over IPC): the ~0.5 s of loading the command line is paid once instead of once per
// case. For each list it reports what a process running `bin/fedseq …` would exit with (main's
// process.exitCode; a bug main rethrows is exit 1 with its stack) and what it wrote. The
// process-wide things main touches are put back after each list: stdout/stderr, listeners it
// added, the exit code; main's `exitSoon` (a timer calling process.exit once a command has
// failed) must not end this process, so process.exit only ends it when the parent is gone.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = process.argv[2];
const { main } = await import(pathToFileURL(join(root, "dist", "bundle", "main.js")).href);

const exit = process.exit.bind(process);
process.exit = () => undefined;
process.on("disconnect", () => exit(0));

const EVENTS = ["exit", "SIGINT", "SIGTERM", "SIGHUP", "uncaughtException", "unhandledRejection"];

async function runOne(args) {
  const out = [];
  const err = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const before = new Map(EVENTS.map((e) => [e, process.listeners(e)]));
  const stdoutErrors = process.stdout.listeners("error");
  process.stdout.write = (chunk) => out.push(String(chunk)) > 0;
  process.stderr.write = (chunk) => err.push(String(chunk)) > 0;
  process.exitCode = undefined;
  let code;
  try {
    await main(args);
    code = process.exitCode ?? 0;
  } catch (error) {
    err.push(`${error?.stack ?? error}\n`);
    code = 1;
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.exitCode = undefined;
    for (const e of EVENTS) {
      for (const l of process.listeners(e)) if (!before.get(e).includes(l)) process.off(e, l);
    }
    for (const l of process.stdout.listeners("error")) {
      if (!stdoutErrors.includes(l)) process.stdout.off("error", l);
    }
  }
  return { code: Number(code), stdout: out.join(""), stderr: err.join("") };
}

let queue = Promise.resolve();
process.on("message", ({ id, args }) => {
  queue = queue.then(async () => process.send({ id, ...(await runOne(args)) }));
});
process.send({ ready: true });
