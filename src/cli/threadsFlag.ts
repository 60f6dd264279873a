/**
 * `--threads N`: how many threads a center's heavy local steps split their genes over (shared by
 * the commands that run centers).
 */
import type { Command } from "commander";
import { defaultThreads } from "../federation/genePool.js";
import { integerOption } from "./options.js";

/** Add `--threads <n>` (default: the cores this process may use). */
export function withThreadsFlag(cmd: Command): Command {
  return cmd.option(
    "--threads <n>",
    "threads each center's IRLS/PQN/Newton steps split their genes over (1 = no worker threads)",
    integerOption("--threads", 1),
    defaultThreads(),
  );
}
