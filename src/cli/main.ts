/**
 * The `fedseq` command line. User mistakes ({@link InputError}, and commander's own: an unknown
 * or missing option, a value outside its choices) print one line `fedseq: …` and exit 2;
 * anything else is a bug and keeps its stack trace.
 */
import { Command, CommanderError } from "commander";
import { CenterError, FederationFailure } from "../federation/transport.js";
import { InputError } from "../io/errors.js";
import { aggregateCommand } from "./aggregateCommand.js";
import { cellsCommand } from "./cellsCommand.js";
import { centerCommand } from "./centerCommand.js";
import { certsCommand } from "./certsCommand.js";
import { demoCommand } from "./demoCommand.js";
import { fitLfcCommand } from "./fitLfcCommand.js";
import { planCommand } from "./planCommand.js";
import { resultsCommand } from "./resultsCommand.js";
import { runCommand } from "./runCommand.js";
import { simulateCommand } from "./simulateCommand.js";
import { installWarningFilter } from "./warnings.js";

/** Build the program (exported for tests). */
export function program(): Command {
  return new Command("fedseq")
    .description(
      "Federated differential-expression analysis of RNA-seq counts: DESeq2's model, data stays home",
    )
    .version("0.1.0")
    .addCommand(demoCommand())
    .addCommand(runCommand())
    .addCommand(resultsCommand())
    .addCommand(planCommand())
    .addCommand(fitLfcCommand())
    .addCommand(aggregateCommand())
    .addCommand(centerCommand())
    .addCommand(cellsCommand())
    .addCommand(certsCommand())
    .addCommand(simulateCommand());
}

/**
 * Once a command has ended with an error, nothing it started may keep the process alive (e.g. a
 * connection to a peer that stopped answering): exit with the status set, after a grace period
 * for open streams to flush (a timer that does not itself keep the process alive).
 */
function exitSoon(): void {
  setTimeout(() => process.exit(), 2000).unref();
}

/** Run the command line with `argv` (without node and script). */
export async function main(argv: string[]): Promise<void> {
  installWarningFilter();
  // `fedseq … | head` closes the pipe early: that is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const cmd = program();
  // commander's messages in fedseq's style: one line, "fedseq: " instead of "error: ".
  const output = {
    outputError: (text: string, write: (text: string) => void) =>
      write(
        `fedseq: ${text
          .replace(/^error: /, "")
          .trim()
          .replace(/\s*\n\s*/g, " ")}\n`,
      ),
  };
  for (const c of [cmd, ...cmd.commands]) c.exitOverride().configureOutput(output);
  try {
    await cmd.parseAsync(argv, { from: "user" });
  } catch (error) {
    exitSoon();
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof InputError || (error instanceof CenterError && error.userError)) {
      process.stderr.write(`fedseq: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof CenterError || error instanceof FederationFailure) {
      process.stderr.write(`fedseq: ${error.message}\n`);
      process.exitCode = 3;
      return;
    }
    throw error;
  }
}
