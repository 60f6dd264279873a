/**
 * `--threads N`: how many threads a center's heavy local steps split their genes over (shared by
 * the commands that run centers).
 */
import type { Command } from "commander";
import { integerOption } from "./options.js";

/** The most threads `--threads` accepts. */
export const MAX_THREADS = 1024;

/**
 * Add `--threads <n>` (from 1 to {@link MAX_THREADS}). Left undefined when not given: the gene
 * pool's own default applies (the cores this process may use), and the heavy module that knows
 * it is loaded only when a command runs.
 */
export function withThreadsFlag(cmd: Command): Command {
  return cmd.option(
    "--threads <n>",
    "threads each center's IRLS/PQN/Newton steps, dispersion evaluations and Cook's counts and sums split their genes over; with 2 or more, a simulation also masks its centers' replies on a thread of its own (1 = no worker threads; default: the cores this process may use)",
    integerOption("--threads", 1, MAX_THREADS),
  );
}
