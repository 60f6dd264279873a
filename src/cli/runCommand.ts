/**
 * `fedseq run`: DESeq2's whole analysis from counts and metadata (size factors, dispersions, log
 * fold changes, Wald tests, Cook's outliers, adjusted p-values), simulated in this process on a
 * dataset whose `center` column splits it between institutions (`--data`), or as the aggregator
 * of a real federation (`--listen`). Every flag is checked ({@link runSetupFromFlags}) and the
 * output folder claimed before the first round.
 */

import { randomUUID } from "node:crypto";
import { Command, Option } from "commander";
import { MIN_OUTLIER_REPLICATES } from "../algorithms/cooks/cells.js";
import { FIT_TYPES, type FitType } from "../algorithms/dispersions/trend.js";
import { SIZE_FACTORS_TYPES, type SizeFactorsType } from "../algorithms/sizeFactors/state.js";
import { type AnalysisPlan, planHash, readPlanFile } from "../federation/plan.js";
import type { ReadDatasetOptions } from "../io/dataset.js";
import { InputError } from "../io/errors.js";
import { checkPlanAnalysis, runJobFromPlan } from "../pipeline/analysisPlan.js";
import type { RunJob, RunJson } from "../pipeline/run.js";
import {
  readRunIdentity,
  removeRunIdentity,
  runFingerprint,
  writeRunIdentity,
} from "../pipeline/runIdentity.js";
import { checkFolder, checkLogFile, checkRunJob, forOption } from "../pipeline/runOptions.js";
import { type ContrastSpec, parseContrast, parseContrastVector } from "../results/contrast.js";
import { LFC_SHRINK_TYPES, type LfcShrinkType } from "../results/lfcShrink.js";
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
  flagOf,
  givenOn,
  hostPort,
  integerOption,
  numberOption,
  refuseGiven,
  secondsOption,
} from "./options.js";
import { type OutputFolder, withOutputFolder } from "./outputFolder.js";
import { clearProgress, runProgress } from "./progress.js";
import { type ReadFlags, readOptionsOf, withReadFlags } from "./readFlags.js";
import { withThreadsFlag } from "./threadsFlag.js";
import { printRunWarnings } from "./warnings.js";

/** Parsed flags of the analysis ({@link withAnalysisFlags}). */
export interface AnalysisFlags
  extends Omit<FitFlags, "sizeFactors" | "dispersions" | "genes" | "fixedRounds" | "out"> {
  contrast?: string;
  lfcNull: number;
  altHypothesis: AltHypothesis;
  alpha: number;
  independentFiltering: boolean;
  fitType: FitType;
  sizeFactorsType: SizeFactorsType;
  test: "Wald" | "LRT";
  reduced?: string;
  name?: string;
  contrastVector?: string;
  minReplicatesForReplace?: number;
  refitCooks: boolean;
  cooksFilter: boolean;
  cooksCutoff?: number;
  vst?: boolean;
  pcaCoordinates?: boolean;
  vstMaxCount?: boolean;
  lfcShrink?: string;
  levelPresence: boolean;
}

/** Parsed `run` flags. */
interface RunFlags extends Omit<AnalysisFlags, "design">, ReadFlags {
  design?: string;
  plan?: string;
  out: string;
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
  secureAggregation: boolean;
  minCell?: number;
  omitSparseGenes?: boolean;
  verifyRequests?: boolean;
  resume?: boolean;
  quiet?: boolean;
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
  /** The analysis plan (`--plan`; a simulated run without one makes it from its data). */
  readonly plan?: AnalysisPlan;
  readonly federation: RunFederation;
  /** Secure aggregation on (the plan's, or `--no-secure-aggregation` off). */
  readonly secureAggregation: boolean;
  /** k of the plan a simulated run makes (`--min-cell`; the plan's own with `--plan`). */
  readonly minCell?: number;
  /** Whether the plan a simulated run makes leaves sparse genes out (`--omit-sparse-genes`). */
  readonly omitSparseGenes?: boolean;
  /** Whether the plan a simulated run makes has the centers verify requests (default: yes). */
  readonly verifyRequests?: boolean;
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
const DATA_ONLY = ["roundCounts", "layer", "stripVersion", "threads"];

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
  const plan = flags.plan === undefined ? undefined : planFromFlags(flags, flags.plan, given);
  if (plan === undefined && flags.listen !== undefined) {
    throw new InputError(
      "--plan: required with --listen: the analysis plan every center approved (make it with fedseq plan)",
    );
  }
  if (plan === undefined && flags.design === undefined)
    throw new InputError("--design: required (or --plan)");
  const job =
    plan === undefined
      ? runJobFromFlags(flags)
      : checkedJob(runJobFromPlan(plan, flags.out, flags.compare));
  const secureAggregation = plan?.secureAggregation ?? flags.secureAggregation !== false;
  if (flags.data !== undefined) {
    checkFolder("--data", flags.data);
    return {
      job,
      plan,
      secureAggregation,
      minCell: flags.minCell,
      omitSparseGenes: flags.omitSparseGenes,
      verifyRequests: flags.verifyRequests,
      federation: {
        kind: "data",
        dataDir: flags.data,
        read: readOptionsOf(flags),
        threads: flags.threads,
      },
    };
  }
  return {
    job,
    plan,
    secureAggregation,
    federation: {
      kind: "listen",
      setup: listenSetupFromFlags(
        {
          ...flags,
          secureAggregation,
          centers: flags.centers ?? (plan === undefined ? undefined : [...plan.centers]),
        },
        "run --listen",
      ),
      resume: flags.resume === true,
    },
  };
}

/** The flags that choose the analysis: with `--plan`, the plan chooses them. */
const ANALYSIS_FLAGS = [
  "design",
  "contrast",
  "lfcNull",
  "altHypothesis",
  "alpha",
  "independentFiltering",
  "mode",
  "solver",
  "maxit",
  "fitType",
  "sizeFactorsType",
  "reference",
  "maxBeta",
  "irlsIters",
  "pqnIters",
  "pqnLsIters",
  "pqnC1",
  "pqnFtol",
  "pqnMinMu",
  "minMu",
  "betaTol",
  "secureAggregation",
  "minCell",
  "omitSparseGenes",
  "verifyRequests",
  "test",
  "reduced",
  "name",
  "contrastVector",
  "minReplicatesForReplace",
  "refitCooks",
  "cooksFilter",
  "cooksCutoff",
  "vst",
  "pcaCoordinates",
  "vstMaxCount",
  "lfcShrink",
];

/**
 * The plan of `--plan`: read and checked; the analysis flags are then the plan's and may not be
 * given; `--centers`, if given, must be the plan's.
 * @throws InputError naming the flag or the plan's field at fault
 */
function planFromFlags(
  flags: RunFlags,
  file: string,
  given: (attribute: string) => boolean,
): AnalysisPlan {
  const fixed = ANALYSIS_FLAGS.filter(given);
  if (fixed.length > 0) {
    throw new InputError(
      `${fixed.map((a) => (a === "secureAggregation" || a === "verifyRequests" ? `--no-${flagOf(a).slice(2)}` : flagOf(a))).join(", ")}: not with --plan (the plan fixes the design, levels, contrast, test, fit options, k and secure aggregation)`,
    );
  }
  const plan = forOption("--plan", () => {
    const read = readPlanFile(file);
    checkPlanAnalysis(read);
    return read;
  });
  if (
    flags.centers !== undefined &&
    [...flags.centers].sort().join(",") !== plan.centers.join(",")
  ) {
    throw new InputError(
      `--centers: ${flags.centers.join(", ")} are not the plan's centers (${plan.centers.join(", ")})`,
    );
  }
  return plan;
}

/** A job made from a plan, checked as one made from flags. */
function checkedJob(job: RunJob): RunJob {
  checkRunJob(job);
  return job;
}

/**
 * The analysis a `run` (or a `plan`) describes, checked ({@link checkRunJob}: design, contrast,
 * reference levels, test options, `--compare`).
 * @throws InputError naming the flag at fault
 */
export function runJobFromFlags(
  flags: Omit<AnalysisFlags, "design"> & { design?: string; out: string; compare?: string },
): RunJob {
  if (flags.design === undefined) throw new InputError("--design: required");
  if (flags.cooksCutoff !== undefined && flags.cooksFilter === false)
    throw new InputError(
      "--cooks-cutoff, --no-cooks-filter: give one (the filter's cutoff, or no filter)",
    );
  if (flags.test === "LRT" && flags.reduced === undefined)
    throw new InputError(
      '--reduced: required with --test LRT (the reduced design, e.g. "~ batch")',
    );
  if (flags.test !== "LRT" && flags.reduced !== undefined)
    throw new InputError("--reduced: only with --test LRT");
  const job: RunJob = {
    design: flags.design,
    references: flags.reference ?? {},
    mode: flags.mode,
    solver: flags.solver,
    maxit: flags.maxit,
    fitType: flags.fitType,
    sizeFactorsType: flags.sizeFactorsType,
    hp: hyperparametersFromFlags(flags),
    outDir: flags.out,
    contrast: contrastFromFlags(flags),
    wald: { lfcThreshold: flags.lfcNull, altHypothesis: flags.altHypothesis },
    alpha: flags.alpha,
    independentFiltering: flags.independentFiltering,
    ...(flags.test === "LRT" ? { reduced: flags.reduced } : {}),
    minReplicatesForReplace: minReplicatesFromFlags(flags),
    cooksFilter: flags.cooksFilter !== false,
    ...(flags.cooksCutoff === undefined ? {} : { cooksCutoff: flags.cooksCutoff }),
    ...(flags.vst === true ? { vst: true } : {}),
    ...vstConsentsFromFlags(flags),
    ...lfcShrinkFromFlags(flags.lfcShrink),
    levelPresence: flags.levelPresence !== false,
    compareFile: flags.compare,
  };
  checkRunJob(job);
  return job;
}

/** DESeq's `minReplicatesForReplace` of `--min-replicates-for-replace` or `--no-refit-cooks`. */
function minReplicatesFromFlags(
  flags: Pick<AnalysisFlags, "minReplicatesForReplace" | "refitCooks">,
): number {
  if (flags.refitCooks === false) {
    if (flags.minReplicatesForReplace !== undefined)
      throw new InputError(
        "--no-refit-cooks, --min-replicates-for-replace: give one (--no-refit-cooks never replaces)",
      );
    return Number.POSITIVE_INFINITY;
  }
  return flags.minReplicatesForReplace ?? 7;
}

/** The contrast of `--contrast`, `--name` or `--contrast-vector` (at most one of them). */
export function contrastFromFlags(
  flags: Pick<AnalysisFlags, "contrast" | "name" | "contrastVector">,
): ContrastSpec | undefined {
  const given = (
    [
      ["--contrast", flags.contrast],
      ["--name", flags.name],
      ["--contrast-vector", flags.contrastVector],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (given.length > 1)
    throw new InputError(
      `${given.map(([f]) => f).join(", ")}: give one contrast (factor,level,reference or a variable; a coefficient's name; or one weight per coefficient)`,
    );
  if (flags.contrast !== undefined) return parseContrast(flags.contrast);
  if (flags.name !== undefined) return { kind: "coefficient", name: flags.name };
  if (flags.contrastVector !== undefined) return parseContrastVector(flags.contrastVector);
  return undefined;
}

/**
 * Add the flags of DESeq2's `results()`: the contrast (`--contrast`, `--name`,
 * `--contrast-vector`), the test's threshold and alternative, and the adjustment: shared by
 * `run`, `plan` and `results`.
 */
export function withResultsFlags(cmd: Command): Command {
  return cmd
    .option(
      "--contrast <spec>",
      "factor,level,reference (e.g. condition,treated,control) or a continuous variable; default: the last coefficient, as DESeq2's results(dds)",
    )
    .option(
      "--name <coefficient>",
      "instead of --contrast: one coefficient, as DESeq2's results(name = …) (e.g. condition_B_vs_A, centerlab_2.conditionB: the columns of lfc.csv)",
    )
    .option(
      "--contrast-vector <weights>",
      "instead of --contrast: a numeric contrast, one weight per coefficient in design order (e.g. 0,1,-1), as DESeq2's results(contrast = c(…))",
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
    .option("--no-independent-filtering", "adjust p-values without independent filtering");
}

/** `--pca-coordinates` and `--vst-max-count`, which need `--vst`. */
function vstConsentsFromFlags(flags: {
  vst?: boolean;
  pcaCoordinates?: boolean;
  vstMaxCount?: boolean;
}): { pcaCoordinates?: boolean; vstMaxCount?: boolean } {
  if (flags.vst !== true) {
    if (flags.pcaCoordinates === true)
      throw new InputError("--pca-coordinates needs --vst (the PCA is of the transformed counts)");
    if (flags.vstMaxCount === true)
      throw new InputError("--vst-max-count needs --vst (it is for the transformed counts)");
    return {};
  }
  return {
    ...(flags.pcaCoordinates === true ? { pcaCoordinates: true } : {}),
    ...(flags.vstMaxCount === true ? { vstMaxCount: true } : {}),
  };
}

/** `--lfc-shrink normal|apeglm`. */
function lfcShrinkFromFlags(type: string | undefined): { lfcShrink?: LfcShrinkType } {
  if (type === undefined) return {};
  const known = LFC_SHRINK_TYPES.find((t) => t === type);
  if (known === undefined)
    throw new InputError(`--lfc-shrink ${type}: one of ${LFC_SHRINK_TYPES.join(", ")}`);
  return { lfcShrink: known };
}

/**
 * Add the flags that choose the analysis (design, contrast, test, fit): shared by `run` and
 * `plan`, whose plan file fixes exactly these choices.
 */
export function withAnalysisFlags(cmd: Command): Command {
  withResultsFlags(cmd.option("--design <formula>", 'design formula, e.g. "~ batch + condition"'))
    .option(
      "--min-replicates-for-replace <n>",
      "replace Cook's outlier counts (and refit their genes) in design cells of at least n samples, as DESeq2's minReplicatesForReplace: at least 3, as DESeq2 requires to call a count an outlier (default: 7)",
      integerOption("--min-replicates-for-replace", MIN_OUTLIER_REPLICATES),
    )
    .option(
      "--no-refit-cooks",
      "never replace outlier counts nor refit (DESeq2's minReplicatesForReplace = Inf); outliers' p-values are still set to NA",
    )
    .option(
      "--vst",
      "DESeq2's variance-stabilising transformation (blind = FALSE): each center transforms its own samples (run --data writes vst.csv; over the network, fedseq center --vst-out), and DESeq2's PCA of the 500 most variable genes (the report; pca.csv)",
    )
    .option(
      "--vst-max-count",
      "with --vst: if the dispersion trend is DESeq2's local fit (asked for, or its fallback), let the federation's largest normalised count (one sample's value) be found, by a bisection that reveals nothing else: DESeq2's vst of a local trend integrates up to it; without it such a run writes no vst",
    )
    .option(
      "--pca-coordinates",
      "with --vst: the centers send their samples' PC1 and PC2 coordinates (two numbers per sample), so that the aggregator's report plots them; without it each center keeps its own (fedseq center --pca-out)",
    )
    .addOption(
      new Option(
        "--lfc-shrink <type>",
        "also write shrunk.csv: DESeq2's lfcShrink(coef = the results' coefficient, type): MAP fold changes and their standard errors under DESeq2's normal prior (normal) or apeglm's adaptive Cauchy prior (apeglm); p-values are the results'",
      ).choices([...LFC_SHRINK_TYPES]),
    )
    .option(
      "--no-level-presence",
      "do not keep, per gene and factor level, whether a sample of the level has a count (one bit per level, OR-ed over the centers; kept by default for fedseq results --from, which then tests other contrasts of two levels as DESeq2 does)",
    )
    .option(
      "--cooks-cutoff <x>",
      "Cook's distance above which a gene's p-value is set to NA, as DESeq2's results(cooksCutoff = x) (default: qf(0.99, p, m - p); the replacement keeps that one)",
      numberOption("--cooks-cutoff", "positive"),
    )
    .option(
      "--no-cooks-filter",
      "keep the p-values of Cook's outlier genes (DESeq2's results(cooksCutoff = FALSE))",
    )
    .addOption(
      new Option(
        "--test <test>",
        "Wald, or LRT: DESeq2's likelihood-ratio test of the design against --reduced (stat and pvalue are the test's; log2FoldChange and lfcSE the contrast's)",
      )
        .choices(["Wald", "LRT"])
        .default("Wald"),
    )
    .option(
      "--reduced <formula>",
      'with --test LRT: the reduced design, some of the design\'s variables or "~ 1" (e.g. "~ batch")',
    )
    .addOption(
      new Option(
        "--fit-type <type>",
        "DESeq2's fitType: the dispersion trend (parametric falls back to local, as DESeq2, when its fit fails)",
      )
        .choices([...FIT_TYPES])
        .default("parametric"),
    )
    .addOption(
      new Option(
        "--size-factors-type <type>",
        "DESeq2's estimateSizeFactors type: ratio (median of ratios), poscounts (for sparse data: geometric means over positive counts) or iterate (DESeq2's iterative likelihood fit, for data where every gene has a zero; needs verified requests)",
      )
        .choices([...SIZE_FACTORS_TYPES])
        .default("ratio"),
    );
  return withModelFlags(cmd);
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
    .requiredOption(
      "--out <dir>",
      "output folder: results.csv, dispersions.csv, lfc.csv, run.json, saved_fit.json, report.html, and size_factors.csv (with --data; over the network they stay at the centers)",
    )
    .option(
      "--compare <file>",
      "reference results for the report: DESeq2's results table (gene, log2FoldChange)",
    );
  withReadFlags(cmd);
  cmd
    .option(
      "--transcript <file>",
      "write every message the centers send, as received, to this JSON Lines file (what the aggregator holds)",
    )
    .option(
      "--no-secure-aggregation",
      "let the centers send their sums in clear (default: masked, the aggregator sees only sums over centers)",
    )
    .option(
      "--min-cell <k>",
      "with --data and no --plan: the fewest samples any value a simulated center sends may come from (default 3; see fedseq plan)",
      integerOption("--min-cell", 1),
    )
    .option("--quiet", "no progress lines on stderr (warnings and the final line stay)", false)
    .option(
      "--omit-sparse-genes",
      "with --data and no --plan: leave out every gene with 1 to k - 1 non-zero counts in a design cell (their sums, and DESeq2's results for them, are those samples' values; see fedseq plan)",
    )
    .option(
      "--no-verify-requests",
      "with --data and no --plan: the plan made does not have the centers verify the aggregator's requests (see fedseq plan)",
    )
    .option(
      "--plan <file>",
      "the analysis plan every center approved (fedseq plan): it fixes the design, levels, contrast, test and fit options; required with --listen; with --data, default: made from the flags and the data",
    );
  withAnalysisFlags(cmd);
  withThreadsFlag(cmd);
  cmd.addHelpText(
    "after",
    `
Example:
  fedseq run --data data/bodymap --design "~ tissue" --out results
  fedseq run --data data/bodymap --design "~ tissue" --contrast tissue,heart,adipose --out results`,
  );
  cmd.action(async (flags: RunFlags) => {
    const { job, plan, federation, secureAggregation, minCell, omitSparseGenes, verifyRequests } =
      runSetupFromFlags(flags, givenOn(cmd));
    if (flags.transcript !== undefined) checkLogFile("--transcript", flags.transcript);
    const report = await withOutputFolder(job.outDir, (folder) =>
      federation.kind === "listen"
        ? runAsAggregator(
            job,
            plan as AnalysisPlan,
            federation.setup,
            federation.resume,
            flags.transcript,
            folder,
          )
        : runInProcess(job, plan, federation, flags.transcript, secureAggregation, {
            minCell,
            omitSparseGenes,
            verifyRequests,
            quiet: flags.quiet === true,
          }),
    );
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    printRunWarnings(report);
    process.stderr.write(
      `fedseq: ${report.test === "LRT" ? `LRT against ${report.reduced} (fold changes: ${report.contrast})` : report.contrast}: ${report.significant} of ${report.genes.fitted} genes with padj < ${report.alpha}, ${report.rounds.total} rounds (${report.seconds.toFixed(1)} s); results in ${flags.out}\n`,
    );
  });
  return cmd;
}

async function runInProcess(
  job: RunJob,
  plan: AnalysisPlan | undefined,
  federation: Extract<RunFederation, { kind: "data" }>,
  transcriptFile: string | undefined,
  secureAggregation: boolean,
  planned: {
    readonly minCell?: number;
    readonly omitSparseGenes?: boolean;
    readonly verifyRequests?: boolean;
    readonly quiet: boolean;
  },
): Promise<RunJson> {
  const { runSimulated } = await import("../pipeline/run.js");
  const progress = runProgress(process.stderr, planned.quiet);
  try {
    return await runSimulated(
      {
        ...job,
        dataDir: federation.dataDir,
        read: federation.read,
        threads: federation.threads,
        transcriptFile,
        plan,
        secureAggregation,
        minCell: planned.minCell,
        omitSparseGenes: planned.omitSparseGenes,
        verifyRequests: planned.verifyRequests,
        reportThread: true,
      },
      progress.onRound,
      progress.onPhase,
    );
  } finally {
    clearProgress();
  }
}

async function runAsAggregator(
  job: RunJob,
  plan: AnalysisPlan,
  setup: ListenSetup,
  resume: boolean,
  transcriptFile: string | undefined,
  folder: OutputFolder,
): Promise<RunJson> {
  const { kSampleRule, reportThreadOfRun, runOverFederation, writeRunOutputs } = await import(
    "../pipeline/run.js"
  );
  const { JsonLinesLog, recordingTransport } = await import("../federation/transcript.js");
  const log = (line: string) => process.stderr.write(`fedseq run: ${line}\n`);
  const fingerprint = runFingerprint({ ...job, outDir: undefined }, setup.centers);
  const identity = resume
    ? readRunIdentity(job.outDir, fingerprint)
    : { runId: randomUUID(), fingerprint };
  if (resume) {
    log(
      `resuming run ${identity.runId}: the centers answer the rounds already done from their reply caches`,
    );
  }
  const aggregator = await startAggregator(setup, identity.runId, log, {
    hash: planHash(plan),
    verifyRequests: plan.verifyRequests,
  });
  writeRunIdentity(job.outDir, identity);
  // A run that ends before its first round (its input refused, exit 2, a center refusing to
  // take part, exit 3, a join timeout, or SIGINT/SIGTERM/SIGHUP while the centers join) leaves
  // no run to resume: its identity goes (and with it the output folder, when the claim made it
  // and it is empty). A resumed run keeps the identity it resumes.
  const forgetRefused = (error: unknown) => {
    if (!resume && error instanceof InputError) removeRunIdentity(job.outDir);
  };
  const keepOnSignal = resume ? () => {} : folder.onSignalStop(() => removeRunIdentity(job.outDir));
  try {
    await aggregator.ready();
  } catch (error) {
    if (!resume) removeRunIdentity(job.outDir);
    throw error;
  } finally {
    // Every center has joined (or the run ends): from round 1 on, a stopped run can be resumed.
    keepOnSignal();
  }
  // The run's time starts when every center has joined: the wait for them is not the analysis'.
  const started = performance.now();
  const transcript = transcriptFile === undefined ? null : new JsonLinesLog(transcriptFile);
  const reportThread = reportThreadOfRun();
  try {
    let lastPhase = "";
    const transport = transcript === null ? aggregator : recordingTransport(aggregator, transcript);
    const outcome = await runOverFederation(transport, job, {
      runId: identity.runId,
      plan,
      onPhase: reportThread.onPhase,
      onDispersions: reportThread.onDispersions,
      onRound: (e) => {
        if (e.phase !== lastPhase || e.activeGenes === 0)
          log(`${e.phase} round ${e.round}: ${e.activeGenes} genes active`);
        lastPhase = e.phase;
      },
    });
    // Every center checked its cells before round 1 (a real center refuses; none is waived).
    const report = await writeRunOutputs(
      job.outDir,
      outcome,
      job,
      (performance.now() - started) / 1000,
      {
        kSampleRule: kSampleRule(plan),
        cellSizes: plan.cellSizes,
        reportThread: reportThread.thread(),
      },
    );
    removeRunIdentity(job.outDir);
    await aggregator.close({
      success: true,
      message: `results written by the aggregator to ${job.outDir}`,
    });
    return report;
  } catch (error) {
    forgetRefused(error);
    await aggregator.close({ success: false, message: (error as Error).message });
    throw error;
  } finally {
    reportThread.close();
    transcript?.close();
  }
}
