/**
 * `fedseq center`: one institution's agent. It reads only its own samples, dials out to the
 * aggregator (gRPC, mutual TLS: outgoing connections only) and answers its step requests.
 */

import { Command } from "commander";
import {
  cellsOpenToEquations,
  equationsWarning,
  unverifiedWarning,
} from "../federation/cellRule.js";
import type { CenterSource } from "../federation/centerData.js";
import type { TlsFiles } from "../federation/grpc/proto.js";
import { readPlanFile } from "../federation/plan.js";
import { sharedRefusal } from "../federation/requestPolicy.js";
import type { MessageRecord } from "../federation/transcript.js";
import { FederationFailure } from "../federation/transport.js";
import { InputError, quote } from "../io/errors.js";
import { checkFolder, checkLogFile, checkReadableFile, forOption } from "../pipeline/runOptions.js";
import { hostPort, integerOption, secondsOption } from "./options.js";
import { type ReadFlags, readOptionsOf, withReadFlags } from "./readFlags.js";
import { withThreadsFlag } from "./threadsFlag.js";
import { readTlsFiles } from "./tlsFlags.js";

/** What a center whose data cannot be read tells the aggregator: that, not the reason. */
export const DATA_REFUSAL = "its data could not be read (the reason is in its own log)";

interface CenterFlags extends CenterSourceFlags {
  requireSecureAggregation?: boolean;
  aggregator: string;
  ca: string;
  cert: string;
  key: string;
  minSamples: number;
  retryDelay: number;
  giveUpAfter: number;
  threads?: number;
  audit?: string;
  plan?: string;
  sizeFactorsOut?: string;
  vstOut?: string;
  pcaOut?: string;
  aggregateFit?: boolean;
}

/** A center's checked settings: where its data is and its TLS files. */
export interface CenterSetup {
  readonly source: CenterSource;
  readonly tls: TlsFiles;
}

/** Where a center's data is, as the flags give it (`center` and `cells`). */
export interface CenterSourceFlags extends ReadFlags {
  data?: string;
  counts?: string;
  metadata?: string;
  name: string;
}

/**
 * Where the flags say a center's data is: `--data DIR`, or `--counts FILE` with `--metadata FILE`,
 * for the center `--name` (not empty). The files are checked when read ({@link checkSource}).
 * @throws InputError naming the flag at fault
 */
export function centerSourceFromFlags(flags: CenterSourceFlags, command: string): CenterSource {
  const options = readOptionsOf(flags, `fedseq ${command}: ${flags.name}: `);
  const either = "give either --data DIR, or both --counts FILE and --metadata FILE";
  if (flags.name.trim() === "") throw new InputError("--name: must not be empty");
  // The names a plan can list (`plan --centers` and `certs --centers` split at commas and trim).
  if (flags.name.includes(",") || flags.name !== flags.name.trim())
    throw new InputError(
      `--name: a center's name holds no comma and no spaces around it (plan --centers lists the names separated by commas), got ${quote(flags.name)}`,
    );
  if (flags.counts !== undefined || flags.metadata !== undefined) {
    if (flags.data !== undefined)
      throw new InputError(`--data with --counts/--metadata: ${either}`);
    if (flags.counts === undefined) throw new InputError(`--metadata without --counts: ${either}`);
    if (flags.metadata === undefined)
      throw new InputError(`--counts without --metadata: ${either}`);
    return {
      kind: "files",
      counts: flags.counts,
      metadata: flags.metadata,
      name: flags.name,
      options,
    };
  }
  if (flags.data !== undefined)
    return { kind: "dataset", dir: flags.data, name: flags.name, options };
  throw new InputError(`${command}: ${either}`);
}

/**
 * Check the flags of `center` before it reads its data or dials: where its data is
 * ({@link centerSourceFromFlags}), `--plan` or `--aggregate-fit` (exactly one), and the TLS files.
 * @throws InputError naming the flag at fault
 */
export function centerSetupFromFlags(flags: CenterFlags): CenterSetup {
  // A center runs under the plan its data protection officer approved; serving a fit without
  // one trusts the aggregator with the counts, so it takes an explicit flag.
  if ((flags.plan === undefined) === (flags.aggregateFit !== true))
    throw new InputError(
      flags.plan === undefined
        ? "--plan: required (the analysis plan this center approved, made with fedseq plan); --aggregate-fit serves a fit without one, trusting the aggregator with the counts"
        : "--plan, --aggregate-fit: give one (a center under a plan answers only that plan)",
    );
  return { source: centerSourceFromFlags(flags, "center"), tls: readTlsFiles(flags, flags.name) };
}

/**
 * The center's data files are there ({@link centerSourceFromFlags} has the flags right): checked
 * with its data, so that a center whose files are missing tells the aggregator it refuses.
 * @throws InputError naming the flag and the file
 */
export function checkSource(source: CenterSource): void {
  if (source.kind === "files") {
    checkReadableFile("--counts", source.counts);
    checkReadableFile("--metadata", source.metadata);
  } else if (source.kind === "dataset") {
    checkFolder("--data", source.dir);
  }
}

/**
 * Add the flags of {@link CenterSourceFlags}: `--data`, `--counts`, `--metadata`, the reading
 * flags and `--name`.
 */
export function withCenterSourceFlags(cmd: Command): Command {
  cmd
    .option(
      "--data <dir>",
      "this center's data folder, in any layout fit-lfc reads (samples of other centers are ignored)",
    )
    .option("--counts <file>", "this center's counts table (instead of --data)")
    .option(
      "--metadata <file>",
      "this center's metadata table (with --counts; no center column needed)",
    );
  withReadFlags(cmd);
  return cmd.requiredOption(
    "--name <name>",
    "this center's name (its certificate's common name; the `center` value of its samples)",
  );
}

/** The `center` command. */
export function centerCommand(): Command {
  const cmd = new Command("center").description(
    "serve one center's data to a federation's aggregator (dials out; only sums over its samples leave it, and what those still disclose is in docs/privacy.md)",
  );
  withCenterSourceFlags(cmd)
    .requiredOption(
      "--aggregator <host:port>",
      "the aggregator's address",
      hostPort("--aggregator"),
    )
    .requiredOption("--ca <file>", "the federation's CA certificate (PEM)")
    .requiredOption("--cert <file>", "this center's certificate (PEM)")
    .requiredOption("--key <file>", "this center's private key (PEM)")
    .option(
      "--min-samples <n>",
      "refuse to take part with fewer samples (disclosure control)",
      integerOption("--min-samples", 1),
      3,
    )
    .option(
      "--retry-delay <s>",
      "seconds between connection attempts",
      secondsOption("--retry-delay"),
      2,
    )
    .option(
      "--give-up-after <s>",
      "stop when the aggregator is unreachable this long",
      secondsOption("--give-up-after"),
      600,
    )
    .option(
      "--plan <file>",
      "the analysis plan this center approved (fedseq plan): it answers only that plan's requests",
    )
    .option(
      "--aggregate-fit",
      "instead of --plan: serve an aggregate fit (fedseq aggregate), whose size factors, dispersions and design the aggregator chooses: only for an aggregator trusted with the counts (it could rebuild them)",
    )
    .option(
      "--require-secure-aggregation",
      "refuse to take part unless the aggregator runs secure aggregation (default: follow the aggregator, warning when sums travel in clear)",
      false,
    )
    .option(
      "--audit <file>",
      "write every message this center sends, as it sends it, to this JSON Lines file, for the data protection officer: steps, field names and sizes, and the values of fields sent in clear; under secure aggregation the summed fields are masked (random bytes that only the sum over the centers unmasks)",
    )
    .option(
      "--size-factors-out <file>",
      "when a run ends well, write this center's own size factors (sample,size_factor) here: they never leave the center",
    )
    .option(
      "--vst-out <file>",
      "when a run whose plan asks for vst ends well, write this center's own variance-stabilised counts (gene, then one column per sample) here: they never leave the center",
    )
    .option(
      "--pca-out <file>",
      "when a run whose plan asks for vst ends well, write this center's own samples' coordinates on the federation's two principal components (sample,center,PC1,PC2) here: they leave the center only under a plan with pca_coordinates",
    )
    .addHelpText(
      "after",
      `
Example:
  fedseq center --data /data/rnaseq --name hospital_a --aggregator aggregator.example.org:7443 \\
    --ca certs/ca.pem --cert certs/hospital_a.pem --key certs/hospital_a.key --plan plan.json`,
    )
    .action(async (flags: CenterFlags) => {
      const log = (line: string) => process.stderr.write(`fedseq center: ${line}\n`);
      const { source, tls } = centerSetupFromFlags(flags);
      if (flags.audit !== undefined) checkLogFile("--audit", flags.audit);
      if (flags.sizeFactorsOut !== undefined)
        checkLogFile("--size-factors-out", flags.sizeFactorsOut);
      if (flags.vstOut !== undefined) checkLogFile("--vst-out", flags.vstOut);
      if (flags.pcaOut !== undefined) checkLogFile("--pca-out", flags.pcaOut);
      const plan =
        flags.plan === undefined
          ? undefined
          : forOption("--plan", () => readPlanFile(flags.plan as string));
      const [
        { loadCenterData },
        { CenterSession },
        { GenePool, defaultThreads },
        { runCenterAgent, withoutDirectories },
        { JsonLinesLog },
        { planPipeline },
      ] = await Promise.all([
        import("../federation/centerData.js"),
        import("../federation/centerSession.js"),
        import("../compute/genePool.js"),
        import("../federation/grpc/centerAgent.js"),
        import("../federation/transcript.js"),
        import("../pipeline/run.js"),
      ]);
      const audit = flags.audit === undefined ? null : new JsonLinesLog(flags.audit);
      const agent = {
        aggregator: flags.aggregator,
        tls,
        minSamples: flags.minSamples,
        retryDelayMs: flags.retryDelay * 1000,
        giveUpAfterMs: flags.giveUpAfter * 1000,
        audit: audit === null ? undefined : (record: MessageRecord) => audit.write(record),
        log,
      };
      let data: Awaited<ReturnType<typeof loadCenterData>>;
      try {
        checkSource(source);
        data = await loadCenterData(source);
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        // The aggregator is told that this center refuses, not why (the reason quotes its
        // files): the run ends at once, naming it, instead of waiting out its --join-timeout.
        // Silently, in one attempt: bad input is one line on stderr, exit 2, at once.
        await runCenterAgent({
          ...agent,
          log: () => {},
          session: null,
          name: flags.name,
          refusal: DATA_REFUSAL,
        })
          .catch(() => undefined)
          .finally(() => audit?.close());
        throw error;
      }
      const pool = new GenePool({ threads: flags.threads ?? defaultThreads() });
      // A center whose data does not meet its plan stops with that reason (exit 2: its input is
      // at fault), whether or not the aggregator is up. Its operator reads the reason at once,
      // in full; the aggregator is told that it refuses, in its own name, before round 1, in the
      // shared form that leaves its data out (sharedRefusal), so that the run ends at once
      // instead of waiting out its --join-timeout. That is dialled until delivered, within
      // --give-up-after; not delivered, the exit is still 2 (the log says so).
      let session: InstanceType<typeof CenterSession>;
      let refusal: string | undefined;
      let shared: string | undefined;
      try {
        // Under a plan whose centers verify requests, this center replays the aggregator's
        // pipeline and answers only the requests it makes (federation/verifiedRequests.ts).
        session = new CenterSession(data, {
          kernels: pool,
          plan,
          fitOnlyWithoutPlan: true,
          ...(plan === undefined ? {} : { replay: planPipeline(plan) }),
        });
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        refusal = error.message;
        // What the aggregator is told, where the reason itself would disclose the data.
        shared = sharedRefusal(error);
        session = new CenterSession(data, { kernels: pool, fitOnlyWithoutPlan: true });
      }
      if (refusal === undefined) {
        log(
          `${flags.name}: ${data.samples.length} samples, ${data.genes.length} genes; dialling ${flags.aggregator}`,
        );
      } else {
        log(`${flags.name}: refusing to take part: ${refusal}`);
        log(
          `${flags.name}: telling the aggregator at ${flags.aggregator} that it refuses (it is told only: ${withoutDirectories(shared ?? refusal)}), dialling until it is reached or for --give-up-after ${flags.giveUpAfter} s; then exit 2`,
        );
      }
      if (plan === undefined) {
        log(
          `${flags.name}: --aggregate-fit: serving only an aggregate fit, whose size factors, dispersions and design come from the aggregator (it is trusted with the counts)`,
        );
      } else if (refusal === undefined) {
        log(
          `${flags.name}: answering only plan ${session.planHash}${session.verifiesRequests ? ", each request checked against this center's replay of the plan" : ""}`,
        );
        const unverified = unverifiedWarning(plan);
        if (unverified !== null) log(`${flags.name}: ${unverified}`);
        const open = cellsOpenToEquations(plan);
        if (open.length > 0) log(`${flags.name}: ${equationsWarning(plan, open)}`);
      }
      const served = runCenterAgent({
        ...agent,
        session,
        refusal: shared,
        // A plan under secure aggregation is only served masked (its k-sample rule may count
        // pooled cells, which holds only if no center's sums travel in clear).
        requireSecureAggregation:
          flags.requireSecureAggregation === true || plan?.secureAggregation === true,
      }).finally(() => {
        audit?.close();
        return pool.close();
      });
      if (refusal !== undefined) {
        try {
          const told = await served;
          log(
            told.refusalNotTaken === undefined
              ? `${flags.name}: the aggregator was told that this center refuses`
              : `${flags.name}: the aggregator did not take this center's refusal: ${told.refusalNotTaken}`,
          );
        } catch (error) {
          if (!(error instanceof FederationFailure)) throw error;
          log(
            `${flags.name}: the aggregator was not told that this center refuses: ${error.message}`,
          );
        }
        throw new InputError(refusal);
      }
      const outcome = await served;
      if (!outcome.success) {
        throw new FederationFailure(
          outcome.refused
            ? `${flags.name} refused to take part: ${outcome.message}`
            : `run ended with an error: ${outcome.message}`,
        );
      }
      const runId = session.heldRun;
      const own = runId === null ? null : session.ownSizeFactors(runId);
      if (flags.sizeFactorsOut !== undefined && own !== null) {
        const { writeSizeFactorsCsv } = await import("../pipeline/run.js");
        writeSizeFactorsCsv(flags.sizeFactorsOut, data.samples, own);
        log(`${flags.name}: its size factors written to ${flags.sizeFactorsOut}`);
      }
      /** Write one of the center's own outputs, or say why the run left none to write. */
      const writeOwn = async <T>(
        file: string | undefined,
        value: T | null,
        none: string,
        what: string,
        write: (file: string, value: T, run: typeof import("../pipeline/run.js")) => void,
      ) => {
        if (file === undefined) return;
        if (value === null) {
          log(`${flags.name}: ${none}: ${file} not written`);
          return;
        }
        write(file, value, await import("../pipeline/run.js"));
        log(`${flags.name}: ${what} written to ${file}`);
      };
      await writeOwn(
        flags.vstOut,
        runId === null ? null : session.ownVst(runId),
        "the run transformed no counts (its plan asks for no vst, or its trend is local and the plan has no vst_max_count)",
        "its variance-stabilised counts",
        (file, values, run) =>
          run.writeVstCsv(file, { genes: data.genes, samples: data.samples, values }),
      );
      await writeOwn(
        flags.pcaOut,
        runId === null ? null : session.ownPcaCoordinates(runId),
        "the run made no PCA (its plan asks for no vst, or its trend is local and the plan has no vst_max_count)",
        "its samples' principal components",
        (file, pca, run) =>
          run.writePcaCsv(file, {
            samples: data.samples,
            centers: data.samples.map(() => flags.name),
            pc1: pca.filter((_, k) => k % 2 === 0),
            pc2: pca.filter((_, k) => k % 2 === 1),
          }),
      );
    });
  return withThreadsFlag(cmd);
}
