/**
 * The shape of a pooled dataset, shared by the readers (`dataset.ts`) and the pooling of
 * per-center parts (`centers.ts`).
 */
import type { Metadata } from "../design/metadata.js";

/** A dataset as read by `readDataset` (`dataset.ts`): all centers' samples pooled. */
export interface Dataset {
  /** Gene ids, in `counts.csv` row order. */
  genes: string[];
  /** Sample ids, in `counts.csv` column order. */
  samples: string[];
  /**
   * Counts, gene-major: gene g's counts for samples 0..n-1 are at `g * n + i`,
   * n = `samples.length`. Non-negative integers.
   */
  counts: Float64Array;
  /** Sample annotations aligned with `samples`. */
  metadata: Metadata;
  /** The center of each sample, aligned with `samples`. */
  centerOfSample: string[];
  /** The distinct centers, sorted. Each has at least one sample. */
  centers: string[];
}

/**
 * A dataset whose counts are held center by center (`readDatasetByCenter`): what a simulation's
 * centers hold, without the pooled table beside them.
 */
export interface DatasetByCenter extends Omit<Dataset, "counts"> {
  /** Each center's counts, gene-major over its samples (in `samples` order). */
  readonly centerCounts: ReadonlyMap<string, Float64Array>;
}
