/**
 * `fedseq run`: DESeq2's whole analysis from counts and metadata (size factors, dispersions, log
 * fold changes, Wald tests, Cook's outliers, adjusted p-values), simulated in this process on a
 * dataset whose `center` column splits it between institutions (`--data`), or as the aggregator
 * of a real federation (`--listen`). Every flag is checked ({@link runSetupFromFlags}) and the
 * output folder claimed before the first round.
 */
import { randomUUID } from "node:crypto";
import { Command, Option } from "commander";
import type { ReadDatasetOptions } from "../io/dataset.js";
import { InputError } from "../io/errors.js";
import type { RunJob, RunJson } from "../pipeline/run.js";
import {
  readRunIdentity,
  removeRunIdentity,
  runFingerprint,
  writeRunIdentity,
} from "../pipeline/runIdentity.js";
import { checkFolder, checkLogFile, checkRunJob } from "../pipeline/runOptions.js";
import { parseContrast } from "../results/contrast.js";
import type { AltHypothesis } from "../stats/wald.js";
import { type FitFlags, hyperparametersFromFlags, withModelFlags } from "./fitFlags.js";
import {
  type ListenSetup,
  listenSetupFromFlags,
  MAX_MESSAGE_MB,
  startAggregator,
} from "./listenFlags.js";
import {
  centerList,
  givenOn,
  hostPort,
  integerOption,
  numberOption,
  refuseGiven,
  secondsOption,
} from "./options.js";
import { withOutputFolder } from "./outputFolder.js";
import { clearProgress, terminalProgress } from "./progress.js";
import { withThreadsFlag } from "./threadsFlag.js";

/** Parsed `run` flags. */
interface RunFlags extends Omit<FitFlags, "sizeFactors" | "dispersions" | "genes" | "fixedRounds"> {
  data?: string;
  listen?: string;
  centers?: string[];
  ca?: string;
  cert?: string;
  key?: string;
  joinTimeout: number;
  reconnectTimeout: number;
  roundTimeout: number;
  maxMessageMb?: number;
  transcript?: string;
  resume?: boolean;
  roundCounts?: boolean;
  layer?: string;
  contrast?: string;
  lfcNull: number;
  altHypothesis: AltHypothesis;
  alpha: number;
  independentFiltering: boolean;
  compare?: string;
  threads?: number;
}

/** Where a checked `run` finds its centers. */
export type RunFederation =
  | {
      readonly kind: "data";
      readonly dataDir: string;
      readonly read: ReadDatasetOptions;
      readonly threads?: number;
    }
  | { readonly kind: "listen"; readonly setup: ListenSetup; readonly resume: boolean };

/** A `run` whose flags are all checked: the job and where its centers are. */
export interface RunSetup {
  readonly job: RunJob;
  readonly federation: RunFederation;
}

/** Flags of `run --listen` only, and of `run --data` only. */
const LISTEN_ONLY = [
  "centers",
  "ca",
  "cert",
  "key",
  "joinTimeout",
  "reconnectTimeout",
  "roundTimeout",
  "maxMessageMb",
  "resume",
];
const DATA_ONLY = ["roundCounts", "layer", "threads"];

/**
 * Turn the parsed flags of `run` into a checked job, the same way for `--data` and `--listen`:
 * exactly one of them, the flags that go with each, the job ({@link checkRunJob}: design,
 * contrast, reference levels, test options, `--compare`), the data folder or the TLS files.
 * Nothing is read from the centers and nothing is written.
 * @param given - whether an option was given on the command line (by attribute name)
 * @throws InputError naming the flag at fault
 */
export function runSetupFromFlags(
  flags: RunFlags,
  given: (attribute: string) => boolean,
): RunSetup {
  if ((flags.data === undefined) === (flags.listen === undefined)) {
    throw new InputError(
      "run: give either --data (a simulated federation) or --listen (a real one)",
    );
  }
  if (flags.data !== undefined) refuseGiven(given, LISTEN_ONLY, "with --data", "--listen");
  else refuseGiven(given, DATA_ONLY, "with --listen (the centers read the data)", "--data");
  const job: RunJob = {
    design: flags.design,
    references: flags.reference ?? {},
    mode: flags.mode,
    solver: flags.solver,
    maxit: flags.maxit,
    hp: hyperparametersFromFlags(flags),
    outDir: flags.out,
    contrast: flags.contrast === undefined ? undefined : parseContrast(flags.contrast),
    wald: { lfcThreshold: flags.lfcNull, altHypothesis: flags.altHypothesis },
    alpha: flags.alpha,
    independentFiltering: flags.independentFiltering,
    compareFile: flags.compare,
  };
  checkRunJob(job);
  if (flags.data !== undefined) {
    checkFolder("--data", flags.data);
    return {
      job,
      federation: {
        kind: "data",
        dataDir: flags.data,
        read: { roundCounts: flags.roundCounts === true, layer: flags.layer },
        threads: flags.threads,
      },
    };
  }
  return {
    job,
    federation: {
      kind: "listen",
      setup: listenSetupFromFlags(flags, "run --listen"),
      resume: flags.resume === true,
    },
  };
}

/** The `run` command. */
export function runCommand(): Command {
  const cmd = new Command("run")
    .description(
      "DESeq2's analysis across centers (simulated in this process with --data, or as the aggregator of a real federation with --listen): size factors, dispersions, fold changes, Wald tests, Cook's outliers, adjusted p-values",
    )
    .option(
      "--data <dir>",
      "simulate the federation on this dataset: a folder with counts and metadata tables (center column), per-center folders, or .h5ad files",
    )
    .option(
      "--listen <host:port>",
      "instead of --data: be the aggregator of a real federation, listening here (gRPC, mutual TLS)",
      hostPort("--listen"),
    )
    .option(
      "--centers <names>",
      "with --listen: the centers that must join, comma-separated",
      centerList,
    )
    .option("--ca <file>", "with --listen: the federation's CA certificate (PEM)")
    .option("--cert <file>", "with --listen: this aggregator's certificate (PEM)")
    .option("--key <file>", "with --listen: this aggregator's private key (PEM)")
    .option(
      "--join-timeout <s>",
      "with --listen: seconds to wait for every center to join",
      secondsOption("--join-timeout"),
      600,
    )
    .option(
      "--reconnect-timeout <s>",
      "with --listen: seconds to wait for a center that dropped out",
      secondsOption("--reconnect-timeout"),
      600,
    )
    .option(
      "--round-timeout <s>",
      "with --listen: seconds a center may take to answer one request before the run ends",
      secondsOption("--round-timeout"),
      600,
    )
    .option(
      "--max-message-mb <n>",
      "with --listen: largest message accepted, in MiB (default: the transport's, 1024)",
      integerOption("--max-message-mb", 1, MAX_MESSAGE_MB),
    )
    .option(
      "--resume",
      "with --listen: continue the run started in --out after the aggregator crashed",
      false,
    )
    .requiredOption("--design <formula>", 'design formula, e.g. "~ batch + condition"')
    .requiredOption(
      "--out <dir>",
      "output folder: size_factors.csv, dispersions.csv, lfc.csv, results.csv, run.json, report.html",
    )
    .option(
      "--contrast <spec>",
      "factor,level,reference (e.g. condition,treated,control) or a continuous variable; default: the last coefficient, as DESeq2's results(dds)",
    )
    .option(
      "--lfc-null <x>",
      "log2 fold-change threshold of the test (DESeq2's lfcThreshold)",
      numberOption("--lfc-null", "non-negative"),
      0,
    )
    .addOption(
      new Option("--alt-hypothesis <h>", "alternative hypothesis, as DESeq2's altHypothesis")
        .choices(["greaterAbs", "lessAbs", "greater", "less"])
        .default("greaterAbs"),
    )
    .option(
      "--alpha <x>",
      "significance level of the independent filtering",
      numberOption("--alpha", "probability"),
      0.1,
    )
    .option("--no-independent-filtering", "adjust p-values without independent filtering")
    .option(
      "--compare <file>",
      "reference results for the report: DESeq2's results table (gene, log2FoldChange)",
    )
    .option(
      "--round-counts",
      "round non-integer counts (e.g. tximport estimates) instead of rejecting them",
      false,
    )
    .option("--layer <name>", "for .h5ad files: read counts from this layer instead of X")
    .option(
      "--transcript <file>",
      "write every message the centers send, as received, to this JSON Lines file (what the aggregator holds)",
    );
  withModelFlags(cmd);
  withThreadsFlag(cmd);
  cmd.addHelpText(
    "after",
    `
Example:
  fedseq run --data data/bodymap --design "~ tissue" --out results
  fedseq run --data data/bodymap --design "~ tissue" --contrast tissue,heart,adipose --out results`,
  );
  cmd.action(async (flags: RunFlags) => {
    const { job, federation } = runSetupFromFlags(flags, givenOn(cmd));
    if (flags.transcript !== undefined) checkLogFile("--transcript", flags.transcript);
    const report = await withOutputFolder(job.outDir, () =>
      federation.kind === "listen"
        ? runAsAggregator(job, federation.setup, federation.resume, flags.transcript)
        : runInProcess(job, federation, flags.transcript),
    );
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    process.stderr.write(
      `fedseq: ${report.contrast}: ${report.significant} of ${report.genes.fitted} genes with padj < ${report.alpha}, ${report.rounds.total} rounds (${report.seconds.toFixed(1)} s); results in ${flags.out}\n`,
    );
  });
  return cmd;
}

async function runInProcess(
  job: RunJob,
  federation: Extract<RunFederation, { kind: "data" }>,
  transcriptFile: string | undefined,
): Promise<RunJson> {
  const { runSimulated } = await import("../pipeline/run.js");
  const progress = terminalProgress();
  try {
    return await runSimulated(
      {
        ...job,
        dataDir: federation.dataDir,
        read: federation.read,
        threads: federation.threads,
        transcriptFile,
      },
      progress,
    );
  } finally {
    clearProgress();
  }
}

async function runAsAggregator(
  job: RunJob,
  setup: ListenSetup,
  resume: boolean,
  transcriptFile: string | undefined,
): Promise<RunJson> {
  const { runOverFederation, writeRunOutputs } = await import("../pipeline/run.js");
  const { JsonLinesLog, recordingTransport } = await import("../federation/transcript.js");
  const log = (line: string) => process.stderr.write(`fedseq run: ${line}\n`);
  const started = performance.now();
  const fingerprint = runFingerprint({ ...job, outDir: undefined }, setup.centers);
  const identity = resume
    ? readRunIdentity(job.outDir, fingerprint)
    : { runId: randomUUID(), fingerprint };
  if (resume) {
    log(
      `resuming run ${identity.runId}: the centers answer the rounds already done from their reply caches`,
    );
  }
  const aggregator = await startAggregator(setup, identity.runId, log);
  writeRunIdentity(job.outDir, identity);
  await aggregator.ready();
  const transcript = transcriptFile === undefined ? null : new JsonLinesLog(transcriptFile);
  try {
    let lastPhase = "";
    const transport = transcript === null ? aggregator : recordingTransport(aggregator, transcript);
    const outcome = await runOverFederation(transport, job, {
      runId: identity.runId,
      onRound: (e) => {
        if (e.phase !== lastPhase || e.activeGenes === 0)
          log(`${e.phase} round ${e.round}: ${e.activeGenes} genes active`);
        lastPhase = e.phase;
      },
    });
    const report = await writeRunOutputs(
      job.outDir,
      outcome,
      job,
      (performance.now() - started) / 1000,
    );
    removeRunIdentity(job.outDir);
    await aggregator.close({
      success: true,
      message: `results written by the aggregator to ${job.outDir}`,
    });
    return report;
  } catch (error) {
    await aggregator.close({ success: false, message: (error as Error).message });
    throw error;
  } finally {
    transcript?.close();
  }
}
