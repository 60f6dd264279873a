/**
 * `fedseq run`: DESeq2's whole analysis from counts and metadata (size factors, dispersions, log
 * fold changes, Wald tests, Cook's outliers, adjusted p-values), simulated in this process on a
 * dataset whose `center` column splits it between institutions.
 */
import { randomUUID } from "node:crypto";
import { Command, Option } from "commander";
import { GrpcAggregator } from "../federation/grpc/aggregatorServer.js";
import { InputError } from "../io/errors.js";
import {
  type RunJob,
  type RunJson,
  runOverFederation,
  runSimulated,
  writeRunOutputs,
} from "../pipeline/run.js";
import {
  readRunIdentity,
  removeRunIdentity,
  runFingerprint,
  writeRunIdentity,
} from "../pipeline/runIdentity.js";
import { parseContrast } from "../results/contrast.js";
import type { AltHypothesis } from "../stats/wald.js";
import { type FitFlags, hyperparametersFromFlags, withModelFlags } from "./fitFlags.js";
import { centerList, numberOption } from "./options.js";
import { clearProgress, terminalProgress } from "./progress.js";
import { withThreadsFlag } from "./threadsFlag.js";
import { hostPort, readTlsFiles } from "./tlsFlags.js";

/** Parsed `run` flags. */
interface RunFlags extends Omit<FitFlags, "sizeFactors" | "dispersions" | "genes" | "fixedRounds"> {
  data?: string;
  listen?: string;
  centers?: string[];
  ca?: string;
  cert?: string;
  key?: string;
  joinTimeout: number;
  roundTimeout: number;
  resume?: boolean;
  roundCounts?: boolean;
  layer?: string;
  contrast?: string;
  lfcNull: number;
  altHypothesis: AltHypothesis;
  alpha: number;
  independentFiltering: boolean;
  compare?: string;
  threads: number;
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
      numberOption("--join-timeout", "positive"),
      600,
    )
    .option(
      "--round-timeout <s>",
      "with --listen: seconds a center may take to answer one request before the run ends",
      numberOption("--round-timeout", "positive"),
      600,
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
      numberOption("--alpha", "positive"),
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
    .option("--layer <name>", "for .h5ad files: read counts from this layer instead of X");
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
    if ((flags.data === undefined) === (flags.listen === undefined)) {
      throw new InputError(
        "run: give either --data (a simulated federation) or --listen (a real one)",
      );
    }
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
    const report =
      flags.listen !== undefined
        ? await runAsAggregator(job, flags, flags.listen)
        : await runInProcess(job, flags, flags.data as string);
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    process.stderr.write(
      `fedseq: ${report.contrast}: ${report.significant} of ${report.genes.fitted} genes with padj < ${report.alpha}, ${report.rounds.total} rounds (${report.seconds.toFixed(1)} s); results in ${flags.out}\n`,
    );
  });
  return cmd;
}

async function runInProcess(job: RunJob, flags: RunFlags, data: string): Promise<RunJson> {
  const progress = terminalProgress();
  try {
    return await runSimulated(
      {
        ...job,
        dataDir: data,
        read: { roundCounts: flags.roundCounts === true, layer: flags.layer },
        threads: flags.threads,
      },
      progress,
    );
  } finally {
    clearProgress();
  }
}

async function runAsAggregator(job: RunJob, flags: RunFlags, listen: string): Promise<RunJson> {
  const log = (line: string) => process.stderr.write(`fedseq run: ${line}\n`);
  const missing = (["centers", "ca", "cert", "key"] as const).filter((f) => flags[f] === undefined);
  if (missing.length > 0) {
    throw new InputError(`run --listen also needs ${missing.map((f) => `--${f}`).join(", ")}`);
  }
  const started = performance.now();
  const centers = flags.centers as string[];
  const fingerprint = runFingerprint({ ...job, outDir: undefined }, centers);
  const identity = flags.resume
    ? readRunIdentity(job.outDir, fingerprint)
    : { runId: randomUUID(), fingerprint };
  if (flags.resume) {
    log(
      `resuming run ${identity.runId}: the centers answer the rounds already done from their reply caches`,
    );
  }
  writeRunIdentity(job.outDir, identity);
  const aggregator = await GrpcAggregator.listen({
    listen,
    centers,
    tls: readTlsFiles(flags as { ca: string; cert: string; key: string }),
    runId: identity.runId,
    joinTimeoutMs: flags.joinTimeout * 1000,
    reconnectTimeoutMs: flags.joinTimeout * 1000,
    roundTimeoutMs: flags.roundTimeout * 1000,
    log,
  });
  await aggregator.ready();
  try {
    let lastPhase = "";
    const outcome = await runOverFederation(aggregator, job, {
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
  }
}
