/**
 * Progress on stderr while a fit runs: one self-overwriting line when stderr is a terminal,
 * nothing otherwise (logs and pipes stay clean).
 */
import type { RoundEvent } from "../federation/runner.js";

/** A progress callback for the runner, or undefined when stderr is not a terminal. */
export function terminalProgress(
  stream: NodeJS.WriteStream = process.stderr,
): ((e: RoundEvent) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return (e) => {
    stream.write(`\r\x1b[K${e.phase} round ${e.round}: ${e.activeGenes} genes active`);
  };
}

/** Clear the progress line (call when the run ends). */
export function clearProgress(stream: NodeJS.WriteStream = process.stderr): void {
  if (stream.isTTY) stream.write("\r\x1b[K");
}
