/**
 * Progress on stderr while a fit runs: on a terminal, one self-overwriting line with the round
 * and the genes still active; elsewhere (a log, a pipe, a batch job), one line each time the
 * analysis enters a new step, so that a long run is never silent. `--quiet` silences both.
 */
import type { RoundEvent } from "../federation/runner.js";

/** What each phase of the ledger is, for people (phases not listed: their own name). */
const PHASE_LABELS: Readonly<Record<string, string>> = {
  setup: "setting up (genes with counts, the design)",
  "size-factors": "size factors",
  dispersions: "dispersions: moments",
  "genewise-dispersions": "dispersions: gene-wise estimates",
  "map-dispersions": "dispersions: final (MAP) estimates",
  init: "fold changes: the negative binomial GLM fit",
  irls: "fold changes: the negative binomial GLM fit",
  optim: "fold changes: the negative binomial GLM fit",
  pqn: "fold changes: the negative binomial GLM fit",
  newton: "fold changes: the negative binomial GLM fit",
  wald: "Wald tests",
  cooks: "Cook's distances and outliers",
  "cooks-trimmed-means": "Cook's distances and outliers",
  refit: "refit of the genes whose outlier counts were replaced",
};

/** The quick set-up phases `run` reports no line for (they end with the design's checks). */
const SETUP_PHASES: ReadonlySet<string> = new Set(["setup", "size-factors", "dispersions"]);

/**
 * A phase's label: its entry above, refits ("refit-…") as the refit of that step, the iterative
 * size factors' phases ("size-factors-…") as one.
 */
export function phaseLabel(phase: string): string {
  // DESeq2's iterative size factors estimate intercept-only dispersions in each iteration.
  if (phase.startsWith("size-factors-"))
    return "size factors: DESeq2's iterative fit (intercept-only dispersions, then the likelihood; up to 10 times)";
  if (phase.startsWith("refit-"))
    return `refit after outlier replacement: ${phaseLabel(phase.slice("refit-".length))}`;
  return PHASE_LABELS[phase] ?? phase;
}

/** A progress callback for the runner (undefined when `quiet`). */
export function terminalProgress(
  stream: NodeJS.WriteStream = process.stderr,
  quiet = false,
): ((e: RoundEvent) => void) | undefined {
  if (quiet) return undefined;
  if (stream.isTTY) {
    return (e) => {
      stream.write(
        `\r\x1b[K${phaseLabel(e.phase)}, round ${e.round}: ${e.activeGenes} genes active`,
      );
    };
  }
  const line = phaseLines(stream);
  return (e) => line(e.phase);
}

/** A callback writing a phase's label as a line each time the label changes. */
function phaseLines(
  stream: NodeJS.WriteStream,
  skipped: ReadonlySet<string> = new Set(),
): (phase: string) => void {
  let last = "";
  return (phase) => {
    if (skipped.has(phase)) return;
    const label = phaseLabel(phase);
    if (label === last) return;
    last = label;
    stream.write(`fedseq: ${label}\n`);
  };
}

/**
 * The progress of a whole `run`: on a terminal the self-overwriting round line; elsewhere a line
 * each time the run enters another step (every round counts, not only the iterative phases').
 */
export function runProgress(
  stream: NodeJS.WriteStream = process.stderr,
  quiet = false,
): { onRound?: (e: RoundEvent) => void; onPhase?: (phase: string) => void } {
  if (quiet) return {};
  if (stream.isTTY) return { onRound: terminalProgress(stream) };
  // The set-up rounds take seconds and end with the design's checks: a run stopped there by
  // bad input says so in one line, with no progress before it.
  return { onPhase: phaseLines(stream, SETUP_PHASES) };
}

/** Clear the progress line (call when the run ends). */
export function clearProgress(stream: NodeJS.WriteStream = process.stderr): void {
  if (stream.isTTY) stream.write("\r\x1b[K");
}
