/**
 * What one center holds: its own samples' counts and metadata, nothing of the others'
 * ({@link CenterData}, declared with the algorithms that read it), and where it is loaded from.
 */
import type { CenterData } from "../algorithms/centerData.js";
import { findTable, readCsv } from "../io/csv.js";
import {
  CENTER_COLUMN,
  centerSlice,
  countsOfSamples,
  type Dataset,
  type DatasetByCenter,
  FILE_NAME_COLUMN,
  type ReadDatasetOptions,
  readCenterFiles,
  readCenterFolder,
  readDataset,
} from "../io/dataset.js";

export type { CenterData } from "../algorithms/centerData.js";

/** The part of a pooled dataset (with a `center` column) that center `name` holds. */
export function centerDataFromDataset(dataset: Dataset, name: string): CenterData {
  const { sampleIndices, metadata } = centerSlice(dataset, name);
  return {
    name,
    genes: dataset.genes,
    samples: sampleIndices.map((i) => dataset.samples[i]),
    counts: countsOfSamples(dataset.counts, dataset.samples.length, sampleIndices),
    metadata,
  };
}

/** What center `name` holds of a dataset read center by center: its counts as read. */
export function centerDataByCenter(dataset: DatasetByCenter, name: string): CenterData {
  const { sampleIndices, metadata } = centerSlice(dataset, name);
  const counts = dataset.centerCounts.get(name);
  if (counts === undefined) throw new Error(`no counts read for center ${name}`);
  return {
    name,
    genes: dataset.genes,
    samples: sampleIndices.map((i) => dataset.samples[i]),
    counts,
    metadata,
  };
}

/** Where a center process finds its data. */
export type CenterSource =
  | {
      readonly kind: "dataset";
      readonly dir: string;
      readonly name: string;
      readonly options?: ReadDatasetOptions;
    }
  | {
      readonly kind: "files";
      readonly counts: string;
      readonly metadata: string;
      readonly name: string;
      readonly options?: ReadDatasetOptions;
    }
  | { readonly kind: "memory"; readonly data: CenterData };

/**
 * Load a center's data from its source (a center reads only what it holds). A dataset folder
 * whose metadata has no `center` column is the center's own: every sample is this center's.
 */
export async function loadCenterData(source: CenterSource): Promise<CenterData> {
  if (source.kind === "memory") return source.data;
  if (source.kind === "files") {
    const dataset = await readCenterFiles(
      source.counts,
      source.metadata,
      source.name,
      source.options,
    );
    return centerDataFromDataset(dataset, source.name);
  }
  // A hospital's own folder: counts (a table, or HTSeq-count files the metadata names) and
  // metadata of its samples only, no `center` column.
  const counts = findTable(source.dir, "counts");
  const metadata = findTable(source.dir, "metadata");
  if (metadata !== undefined) {
    const { header } = readCsv(metadata);
    if (
      !header.includes(CENTER_COLUMN) &&
      (counts !== undefined || header.includes(FILE_NAME_COLUMN))
    ) {
      const own = await readCenterFolder(source.dir, source.name, source.options);
      return centerDataFromDataset(own, source.name);
    }
  }
  return centerDataFromDataset(await readDataset(source.dir, source.options), source.name);
}
