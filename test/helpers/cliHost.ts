/**
 * Many `bin/fedseq` argument lists through one process (test/helpers/cliHost.mjs), for a test
 * file's cases, whole runs included: the same entry point as `bin/fedseq`, the same exit code,
 * output and files, without loading the command line once per case (about 0.5 s of CPU, plus
 * forking the test worker, whose memory makes a fork slow). The cases of one file run one after
 * another. Tests that prove how a real process ends (exit codes, signals, locks), and a first
 * case of each command's files, spawn `bin/fedseq` itself.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { afterAll } from "vitest";
import { root } from "./shared.js";

/** What a `bin/fedseq` process would have exited with and written. */
export interface HostedResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Start a host process (stopped after the calling test file) and return a function running
 * `bin/fedseq args…` in it; calls queue up and run one at a time.
 */
export function useCliHost(): (args: string[]) => Promise<HostedResult> {
  let host: ChildProcess | null = null;
  let ready: Promise<void> | null = null;
  let next = 0;
  const pending = new Map<number, (r: HostedResult) => void>();
  afterAll(() => {
    host?.disconnect();
  });
  const start = () => {
    const child = fork(join(root, "test", "helpers", "cliHost.mjs"), [root], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    host = child;
    ready = new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => {
        const error = new Error(`fedseq CLI host exited (${code})`);
        reject(error);
        for (const r of pending.values())
          r({ code: null, stdout: "", stderr: String(error.message) });
        pending.clear();
      });
      child.on("message", (m: { ready?: true; id?: number } & HostedResult) => {
        if (m.ready) resolve();
        else if (m.id !== undefined) {
          pending.get(m.id)?.({ code: m.code, stdout: m.stdout, stderr: m.stderr });
          pending.delete(m.id);
        }
      });
    });
  };
  return async (args) => {
    if (ready === null) start();
    await ready;
    const id = next++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      host?.send({ id, args });
    });
  };
}
