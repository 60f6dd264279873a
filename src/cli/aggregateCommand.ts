/**
 * `fedseq aggregate`: the aggregator of a real federation. It listens (gRPC, mutual TLS), waits
 * for the named centers to dial in, runs the same job as `fit-lfc`, checkpoints after every
 * aggregation, and writes the same outputs.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { makeFolders } from "../io/folders.js";
import {
  CHECKPOINT_FILE,
  type FitCheckpoint,
  jobFingerprint,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
} from "../pipeline/checkpoint.js";
import { type FitFlags, fitJobFromFlags, withFitFlags } from "./fitFlags.js";
import { listenSetupFromFlags, MAX_MESSAGE_MB, startAggregator } from "./listenFlags.js";
import { centerList, hostPort, integerOption, secondsOption } from "./options.js";
import { withOutputFolder } from "./outputFolder.js";

interface AggregateFlags extends FitFlags {
  listen: string;
  centers: string[];
  ca: string;
  cert: string;
  key: string;
  resume?: boolean;
  verbose?: boolean;
  joinTimeout: number;
  reconnectTimeout: number;
  roundTimeout: number;
  maxMessageMb?: number;
}

/** The `aggregate` command. */
export function aggregateCommand(): Command {
  const cmd = new Command("aggregate")
    .description(
      "run a fit as the aggregator of a real federation: centers dial in over gRPC with mutual TLS",
    )
    .requiredOption(
      "--listen <host:port>",
      "address to listen on, e.g. 0.0.0.0:7443",
      hostPort("--listen"),
    )
    .requiredOption(
      "--centers <names>",
      "the centers that must join, comma-separated (their certificates' names)",
      centerList,
    )
    .requiredOption("--ca <file>", "the federation's CA certificate (PEM)")
    .requiredOption("--cert <file>", "this aggregator's certificate (PEM)")
    .requiredOption("--key <file>", "this aggregator's private key (PEM)")
    .option("--resume", "continue the run checkpointed in --out (after a crash)", false)
    .option("--verbose", "log every round", false)
    .option(
      "--no-secure-aggregation",
      "let the centers send their sums in clear (default: masked, the aggregator sees only sums over centers)",
    )
    .option(
      "--join-timeout <s>",
      "seconds to wait for every center to join",
      secondsOption("--join-timeout"),
      600,
    )
    .option(
      "--reconnect-timeout <s>",
      "seconds to wait for a center that dropped out",
      secondsOption("--reconnect-timeout"),
      600,
    )
    .option(
      "--round-timeout <s>",
      "seconds a center may take to answer one request before the run ends",
      secondsOption("--round-timeout"),
      600,
    )
    .option(
      "--max-message-mb <n>",
      "largest message accepted, in MiB (default: the transport's, 1024)",
      integerOption("--max-message-mb", 1, MAX_MESSAGE_MB),
    );
  withFitFlags(cmd);
  cmd.addHelpText(
    "after",
    `
Example (see the README's "Run a real federation"):
  fedseq aggregate --listen 0.0.0.0:7443 --centers hospital_a,hospital_b,hospital_c \\
    --ca certs/ca.pem --cert certs/aggregator.pem --key certs/aggregator.key \\
    --design "~ tissue" --size-factors size_factors.csv --dispersions dispersions.csv --out results`,
  );
  cmd.action(async (flags: AggregateFlags) => {
    const log = (line: string) => process.stderr.write(`fedseq aggregate: ${line}\n`);
    // Every flag is checked, and the output folder claimed, before anything listens.
    const job = fitJobFromFlags(flags);
    const setup = listenSetupFromFlags(flags, "aggregate");
    await withOutputFolder(job.outDir, async () => {
      const [{ fitOverFederation, runReport, writeFitOutputs }, { readReferenceLfc }] =
        await Promise.all([import("../pipeline/fitLfc.js"), import("../reports/reference.js")]);
      let resume: FitCheckpoint | undefined;
      if (flags.resume) {
        resume = readCheckpoint(flags.out);
        log(`resuming run ${resume.runId}`);
      } else if (existsSync(join(flags.out, CHECKPOINT_FILE))) {
        log(
          `a checkpoint of an earlier run is in ${flags.out}; starting afresh (use --resume to continue it)`,
        );
      }
      const aggregator = await startAggregator(setup, resume?.runId ?? randomUUID(), log);
      await aggregator.ready();
      // The fit's time starts when every center has joined (the wait for them is not the fit's).
      const started = performance.now();
      try {
        const fingerprint = jobFingerprint(
          {
            design: job.design,
            mode: job.mode,
            references: job.references,
            hp: job.hp,
            fixedRounds: job.fixedRounds,
          },
          [job.sizeFactorsFile, job.dispersionsFile, job.genesFile],
          aggregator.centers.map((c) => c.name),
        );
        let lastPhase = "";
        const outcome = await fitOverFederation(aggregator, job, {
          runId: resume?.runId,
          resume,
          fingerprint,
          onCheckpoint: (c) => {
            makeFolders(job.outDir);
            writeCheckpoint(job.outDir, c);
          },
          onRound: (e) => {
            if (flags.verbose || e.phase !== lastPhase || e.activeGenes === 0) {
              log(`${e.phase} round ${e.round}: ${e.activeGenes} genes active`);
            }
            lastPhase = e.phase;
          },
        });
        const report = runReport(outcome, job, (performance.now() - started) / 1000);
        const reference =
          job.compareFile === undefined ? undefined : readReferenceLfc(job.compareFile, outcome);
        await writeFitOutputs(job.outDir, outcome, report, reference);
        if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        removeCheckpoint(job.outDir);
        log(
          `fitted ${report.genes.fitted} genes in ${report.rounds.total} rounds; results in ${job.outDir}`,
        );
        await aggregator.close({
          success: true,
          message: `results written by the aggregator to ${job.outDir}`,
        });
      } catch (error) {
        await aggregator.close({ success: false, message: (error as Error).message });
        throw error;
      }
    });
  });
  return cmd;
}
