/**
 * What lets `run --listen --resume` continue a run after the aggregator crashed: the run id the
 * centers know it by, and a fingerprint of the job, written in the output folder before the
 * first round. The aggregator's state is a deterministic function of the centers' replies, so a
 * resumed aggregator asks again from the start under the same run id; the centers still hold
 * their state for it and answer the rounds already done from their reply caches.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { InputError } from "../io/errors.js";
import { makeFolders } from "../io/folders.js";

/** File name of the run's identity inside the output folder. */
export const RUN_IDENTITY_FILE = ".fedseq-run";

/** The identity of a networked run. */
export interface RunIdentity {
  readonly runId: string;
  /** Hash of the job's settings and centers: a resume continues only the same job. */
  readonly fingerprint: string;
}

/** The fingerprint of a job: its settings (as JSON) and its centers. */
export function runFingerprint(settings: unknown, centers: readonly string[]): string {
  return createHash("sha256")
    .update(JSON.stringify(settings))
    .update("\u0000")
    .update(centers.join("\u0000"))
    .digest("hex");
}

/** Record the run's identity in `outDir` (atomically), before its first round. */
export function writeRunIdentity(outDir: string, identity: RunIdentity): void {
  makeFolders(outDir);
  writeFileAtomic(join(outDir, RUN_IDENTITY_FILE), `${JSON.stringify(identity)}\n`);
}

/**
 * The identity of the run to resume in `outDir`.
 * @throws InputError when there is none, or it belongs to another job
 */
export function readRunIdentity(outDir: string, fingerprint: string): RunIdentity {
  const file = join(outDir, RUN_IDENTITY_FILE);
  if (!existsSync(file)) throw new InputError(`--resume: no run to resume in ${outDir}`);
  let value: Partial<RunIdentity>;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new InputError(`--resume: ${file} is not a fedseq run record`);
  }
  if (typeof value.runId !== "string" || typeof value.fingerprint !== "string")
    throw new InputError(`--resume: ${file} is not a fedseq run record`);
  if (value.fingerprint !== fingerprint) {
    throw new InputError(
      `--resume: the run in ${outDir} was started with other settings or centers`,
    );
  }
  return { runId: value.runId, fingerprint };
}

/** Forget the run's identity (it finished). */
export function removeRunIdentity(outDir: string): void {
  rmSync(join(outDir, RUN_IDENTITY_FILE), { force: true });
}
