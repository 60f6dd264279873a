/**
 * A dataset's content, for comparing datasets read from different layouts or formats.
 */
import type { Dataset } from "../../src/io/dataset.js";

/** Everything of a dataset but where its metadata was read from (`source`, for messages). */
export function datasetContent(d: Dataset) {
  return {
    genes: d.genes,
    samples: d.samples,
    counts: Array.from(d.counts),
    columns: d.metadata.columns,
    values: Object.fromEntries(d.metadata.values),
    metadataSamples: d.metadata.samples,
    centerOfSample: d.centerOfSample,
    centers: d.centers,
  };
}
