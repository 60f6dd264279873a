/**
 * A whole `fedseq run` in this process on part of a shared dataset, with the transcript (every
 * message the centers send, as received) recorded, and what an attacker holding the centers'
 * data needs to scan it.
 */
import { basename, isAbsolute, join } from "node:path";
import { localLevels, mergeLevels } from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { JsonLinesLog, recordingTransport } from "../../src/federation/transcript.js";
import { readDataset } from "../../src/io/dataset.js";
import { planFromRunJob } from "../../src/pipeline/analysisPlan.js";
import { runOverFederation, simulatedSizeFactors } from "../../src/pipeline/run.js";
import type { RunJob } from "../../src/pipeline/runJob.js";
import { type Exchange, recording } from "./recordedJobs.js";
import { deseq2Job } from "./runs.js";
import { sharedPath } from "./shared.js";
import {
  type PrivateCenter,
  privateCenters,
  readTranscript,
  type TranscriptRecord,
} from "./transcriptScan.js";

/** Which genes a recorded run keeps. */
export interface RecordedGenes {
  /** The first genes of the dataset. */
  readonly first: number;
  /** Of those, keep gene g only if this says so (g over the dataset's genes, n counts). */
  readonly keep?: (counts: Float64Array, g: number, n: number) => boolean;
  /**
   * Run under a plan (k = 3, pooled cells) that leaves sparse genes out (default: no plan).
   */
  readonly omitSparseGenes?: boolean;
}

/**
 * Record a run of the dataset's DESeq2 job (`deseq2Job`) on some of its genes into `dir`.
 * @param dataset - a shared dataset's name, or a dataset folder's absolute path (then give the
 *   design in `options`)
 * @returns the attacker's view of the centers and the transcript
 */
export async function recordedRun(
  dir: string,
  dataset: string,
  genes: RecordedGenes,
  secureAggregation = false,
  options: Partial<
    Pick<RunJob, "vst" | "contrast" | "lfcShrink" | "sizeFactorsType" | "design">
  > = {},
  /** In clear only: every request and the centers' replies, as the aggregator made and got them. */
  exchanges?: Exchange[],
): Promise<{ centers: PrivateCenter[]; records: TranscriptRecord[] }> {
  if (exchanges !== undefined && secureAggregation)
    throw new Error("recordedRun: requests are recorded in clear only");
  const full = await readDataset(isAbsolute(dataset) ? dataset : sharedPath("data", dataset));
  const n = full.samples.length;
  const rows: number[] = [];
  for (let g = 0; g < Math.min(genes.first, full.genes.length); g++)
    if (genes.keep === undefined || genes.keep(full.counts, g, n)) rows.push(g);
  const counts = new Float64Array(rows.length * n);
  rows.forEach((g, r) => {
    counts.set(full.counts.subarray(g * n, (g + 1) * n), r * n);
  });
  const subset = { ...full, genes: rows.map((g) => full.genes[g]), counts };
  const data = subset.centers.map((name) => centerDataFromDataset(subset, name));
  const file = join(
    dir,
    `${basename(dataset)}-${rows.length}-${secureAggregation ? "secure" : "clear"}${options.vst ? "-vst" : ""}${options.contrast ? "-contrast" : ""}${options.lfcShrink ? `-${options.lfcShrink}` : ""}${options.sizeFactorsType ? `-${options.sizeFactorsType}` : ""}.jsonl`,
  );
  const log = new JsonLinesLog(file);
  const sessions = data.map((d) => new CenterSession(d));
  const transport = new InProcessTransport(sessions, { secureAggregation });
  const job = { ...deseq2Job(dataset), ...options };
  const plan =
    genes.omitSparseGenes === true
      ? planFromRunJob(
          job,
          mergeLevels(data.map((d) => localLevels(d.metadata, parseFormula(job.design)))),
          subset.centers,
          { minCell: 3, secureAggregation, omitSparseGenes: true },
        )
      : undefined;
  let samples: readonly string[];
  try {
    const recorded = recordingTransport(transport, log);
    const over = exchanges === undefined ? recorded : recording(recorded, exchanges);
    ({ samples } = await runOverFederation(over, job, {
      runId: "scan",
      plan,
    }));
  } finally {
    log.close();
    await transport.close();
  }
  // The size factors each center computed (the run's size_factors.csv).
  const own = simulatedSizeFactors(sessions, "scan", transport.centers);
  const sizeFactors = new Map(samples.map((s, i) => [s, own[i]]));
  return {
    centers: privateCenters(data, job.design, sizeFactors),
    records: [...readTranscript(file)],
  };
}
