/**
 * Aggregator checkpoints: after every aggregation the state about to be sent (with the round
 * ledger) is written atomically next to the outputs, so that `aggregate --resume` after a crash
 * continues from the same round and ends with the same result.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type { LfcCheckpoint } from "../algorithms/lfc/computeLfc.js";
import type { RunLedger } from "../federation/runner.js";
import { writeFileAtomic } from "../io/atomic.js";
import { InputError } from "../io/errors.js";

/** File name of the checkpoint inside the output folder. */
export const CHECKPOINT_FILE = ".fedseq-checkpoint";

/** Everything needed to resume a run. */
export interface FitCheckpoint {
  readonly version: 1;
  readonly runId: string;
  /** Identifies the job (inputs and settings): a checkpoint resumes only its own job. */
  readonly fingerprint: string;
  readonly ledger: RunLedger;
  readonly lfc: LfcCheckpoint;
}

/** A fingerprint of a job: its settings, the contents of its input files, and its centers. */
export function jobFingerprint(
  settings: unknown,
  files: readonly (string | undefined)[],
  centers: readonly string[],
): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(settings));
  for (const f of files) hash.update(f === undefined ? "-" : readFileSync(f));
  hash.update(centers.join("\u0000"));
  return hash.digest("hex");
}

/** Write the checkpoint atomically (temp file, then rename). */
export function writeCheckpoint(outDir: string, checkpoint: FitCheckpoint): void {
  writeFileAtomic(join(outDir, CHECKPOINT_FILE), serialize(checkpoint));
}

/**
 * Read the checkpoint of `outDir`.
 * @throws InputError when there is none or it is not a fedseq checkpoint
 */
export function readCheckpoint(outDir: string): FitCheckpoint {
  const file = join(outDir, CHECKPOINT_FILE);
  if (!existsSync(file))
    throw new InputError(`--resume: no checkpoint in ${outDir} (nothing to resume)`);
  let value: unknown;
  try {
    value = deserialize(readFileSync(file));
  } catch {
    throw new InputError(`--resume: ${file} is not a readable fedseq checkpoint`);
  }
  const c = value as Partial<FitCheckpoint>;
  if (
    c?.version !== 1 ||
    typeof c.runId !== "string" ||
    c.lfc === undefined ||
    c.ledger === undefined
  ) {
    throw new InputError(`--resume: ${file} is not a fedseq checkpoint of this version`);
  }
  return c as FitCheckpoint;
}

/** Remove the checkpoint (the run finished). */
export function removeCheckpoint(outDir: string): void {
  rmSync(join(outDir, CHECKPOINT_FILE), { force: true });
}
