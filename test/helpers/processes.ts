/**
 * Running `bin/fedseq` as real processes in tests: start, watch stderr for a line, kill, wait.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { NODE_FLAGS } from "../setup/nodeFlags.js";
import { DESIGNS } from "./fits.js";
import { cachedRun, cacheFolder } from "./runCache.js";
import { root, sharedPath } from "./shared.js";

/** A running fedseq process. */
export interface FedseqProcess {
  readonly child: ChildProcess;
  /** Everything it wrote to stderr (and stdout) so far. */
  output(): string;
  /** Resolves when its output matches `pattern` (rejects after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Start `bin/fedseq args…`. */
export function startFedseq(args: string[]): FedseqProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(root, "bin", "fedseq"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!pattern.test(text) && listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before ${pattern}:\n${text}`));
          }
        });
        check();
      });
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Outcome of a finished `bin/fedseq` run. */
export interface FedseqResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `bin/fedseq args…` to completion. */
export function runFedseq(args: string[]): FedseqResult {
  const r = spawnSync(process.execPath, [...NODE_FLAGS, join(root, "bin", "fedseq"), ...args], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Run `bin/fedseq args…` to completion without blocking this process: for long runs, since a
 * test worker blocked for a minute (spawnSync) misses vitest's own messages.
 */
export function runFedseqAsync(args: string[], options: SpawnOptions = {}): Promise<FedseqResult> {
  return runCommand(
    process.execPath,
    [...NODE_FLAGS, join(root, "bin", "fedseq"), ...args],
    options,
  );
}

/** Run any command to completion without blocking this process (see {@link runFedseqAsync}). */
export function runCommand(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<FedseqResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `bin/fedseq args… --out <folder>` run once per `vitest run` (test/helpers/runCache.ts), for the
 * whole-dataset runs several test files check with the same arguments: its result and its
 * output folder, which callers only read.
 */
export function sharedFedseqRun(
  key: string,
  args: string[],
): Promise<FedseqResult & { readonly out: string }> {
  return cachedRun(`cli-${key}`, async () => {
    const out = cacheFolder(`cli-${key}`);
    return { ...(await runFedseqAsync([...args, "--out", out])), out };
  });
}

/**
 * `fedseq run --data <shared dataset> --design <its design>`, DESeq2's default analysis as a user
 * runs it (secure aggregation on), once per `vitest run` (sharedFedseqRun): run.deseq2 checks its
 * files against DESeq2's; run.cli its layout (li_lncap), secureAggregation.cli its bytes against
 * a clear run, grpc.processes a real federation's files against it (outliers_sim).
 */
export function sharedDefaultRun(
  dataset: string,
): Promise<FedseqResult & { readonly out: string }> {
  return sharedFedseqRun(`run-${dataset}`, defaultRunArgs(dataset));
}

/** The arguments of {@link sharedDefaultRun} (without `--out`). */
export function defaultRunArgs(dataset: string): string[] {
  return ["run", "--data", sharedPath("data", dataset), "--design", DESIGNS[dataset]];
}

/**
 * `fedseq demo` (bodymap `~ tissue` on the bundled copy, which is the shared copy byte for byte),
 * once per `vitest run` (sharedFedseqRun): demo.cli checks what it prints, its files and its
 * report; run.deseq2 checks its files as bodymap's default run against DESeq2's.
 */
export function sharedDemoRun(): Promise<FedseqResult & { readonly out: string }> {
  return sharedFedseqRun("demo", ["demo"]);
}

/**
 * `run` on bodymap's first 4,000 genes (`data`: cachedSubset("bodymap", 4000)) with the contrast
 * heart vs adipose: checked against DESeq2 by run.contrast.test.ts and compared with `results
 * --from` by results.cli.test.ts, one run for both (sharedFedseqRun).
 */
export function bodymap4000HeartVsAdipose(data: string): string[] {
  return [
    "run",
    "--data",
    data,
    "--design",
    "~ tissue",
    "--contrast",
    "tissue,heart,adipose",
    "--quiet",
  ];
}

/**
 * `run --test LRT` of `~ condition` against `~ 1` on outliers_sim, whose Cook's step refits
 * genes: checked against DESeq2 by run.lrt.test.ts and the base of `results --from` in
 * results.cli.test.ts, one run for both (sharedFedseqRun).
 */
export const OUTLIERS_LRT_VS_1 = [
  "run",
  "--data",
  sharedPath("data", "outliers_sim"),
  "--design",
  "~ condition",
  "--test",
  "LRT",
  "--reduced",
  "~ 1",
  "--quiet",
] as const;

/** `fit-lfc` arguments for a shared dataset with DESeq2's size factors and dispersions. */
export function sharedFitArgs(
  dataset: string,
  design: string,
  data = sharedPath("data", dataset),
): string[] {
  return [
    "fit-lfc",
    "--data",
    data,
    "--design",
    design,
    "--size-factors",
    sharedPath("data", dataset, "deseq2", "size_factors.csv"),
    "--dispersions",
    sharedPath("data", dataset, "deseq2", "fit.csv"),
  ];
}
