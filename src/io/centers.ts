/**
 * Pooling datasets that arrive one per center (per-center folders, per-center `.h5ad`
 * files) into one {@link Dataset}: genes aligned by id (each center may list them in its own
 * order), samples concatenated center after center, metadata columns checked to agree.
 */
import { CENTER_COLUMN } from "./columns.js";
import type { Dataset } from "./datasetTypes.js";
import { InputError, listForMessage, quote } from "./errors.js";
import { versionSuffixHint } from "./geneIds.js";

/** One center's share of a dataset, as read from its own files. */
export interface CenterPart {
  /** The center's name (its folder or file name). */
  readonly center: string;
  /** Gene ids in the center's order. */
  readonly genes: string[];
  /** Sample ids in the center's order. */
  readonly samples: string[];
  /** Counts, gene-major: gene g, sample i at `g * samples.length + i`. */
  readonly counts: Float64Array;
  /** Metadata column names, including `center`. */
  readonly columns: string[];
  /** Metadata values per column, in sample order (`center` holds the center's name). */
  readonly values: Map<string, string[]>;
  /** Where the counts come from (for messages). */
  readonly countsSource: string;
  /** Where the metadata comes from (for messages). */
  readonly metadataSource: string;
}

/** How many genes to name in a message about missing genes. */
const GENES_NAMED = 5;

/**
 * Pool the centers' parts: genes in the first part's order, samples center after center in
 * the order of `parts`, metadata columns in the first part's order.
 * @param metadataSource - the `source` of the pooled metadata (for later messages)
 * @throws InputError when the centers' gene sets differ (naming a few missing genes), a
 *   sample id appears in two centers, or the metadata columns differ
 */
export function poolCenters(parts: readonly CenterPart[], metadataSource: string): Dataset {
  if (parts.length === 0) throw new Error("poolCenters: no center");
  const first = parts[0];
  const geneIndex = new Map(first.genes.map((g, k) => [g, k]));
  const firstColumns = new Set(first.columns);

  const centerOfId = new Map<string, CenterPart>();
  for (const part of parts) {
    // Same gene set as the first center.
    const own = new Set(part.genes);
    const lacking = first.genes.filter((g) => !own.has(g));
    if (lacking.length > 0) {
      throw new InputError(
        `${part.countsSource}: center ${part.center} lacks ${lacking.length} gene${lacking.length > 1 ? "s" : ""} that center ${first.center} has: ${listForMessage(lacking, GENES_NAMED)}${versionSuffixHint(lacking, part.genes)}`,
      );
    }
    const extra = part.genes.filter((g) => !geneIndex.has(g));
    if (extra.length > 0) {
      throw new InputError(
        `${part.countsSource}: center ${part.center} has ${extra.length} gene${extra.length > 1 ? "s" : ""} that center ${first.center} lacks: ${listForMessage(extra, GENES_NAMED)}`,
      );
    }
    // Same metadata columns.
    const columns = new Set(part.columns);
    const missing = first.columns.filter((c) => !columns.has(c));
    const added = part.columns.filter((c) => !firstColumns.has(c));
    if (missing.length > 0 || added.length > 0) {
      const what = [
        missing.length > 0 ? `lacks ${listForMessage(missing.map((c) => quote(c)))}` : "",
        added.length > 0 ? `has ${listForMessage(added.map((c) => quote(c)))} in addition` : "",
      ].filter((s) => s !== "");
      throw new InputError(
        `${part.metadataSource}: metadata columns differ from center ${first.center}'s (${first.metadataSource}): ${what.join(" and ")}`,
      );
    }
    // Sample ids unique across centers.
    for (const sample of part.samples) {
      const other = centerOfId.get(sample);
      if (other !== undefined) {
        throw new InputError(
          `sample ${quote(sample)} is in two centers: ${other.center} (${other.countsSource}) and ${part.center} (${part.countsSource})`,
        );
      }
      centerOfId.set(sample, part);
    }
  }

  const nGenes = first.genes.length;
  const total = parts.reduce((sum, p) => sum + p.samples.length, 0);
  const counts = new Float64Array(nGenes * total);
  let offset = 0;
  for (const part of parts) {
    const n = part.samples.length;
    part.genes.forEach((gene, row) => {
      const g = geneIndex.get(gene) as number;
      counts.set(part.counts.subarray(row * n, row * n + n), g * total + offset);
    });
    offset += n;
  }
  const samples = parts.flatMap((p) => p.samples);
  const values = new Map<string, string[]>(
    first.columns.map((c) => [c, parts.flatMap((p) => p.values.get(c) as string[])]),
  );
  const centerOfSample = values.get(CENTER_COLUMN) as string[];
  return {
    genes: first.genes.slice(),
    samples,
    counts,
    metadata: { columns: first.columns.slice(), values, samples, source: metadataSource },
    centerOfSample,
    centers: [...new Set(centerOfSample)].sort(),
  };
}
