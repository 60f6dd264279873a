/**
 * What one center holds: its own samples' counts and metadata, nothing of the others'. The
 * runtime loads it (`federation/centerData.ts`); the local steps read it.
 */
import { InputError } from "../core/errors.js";
import { cellKeys } from "../design/factorCells.js";
import type { Metadata } from "../design/metadata.js";

/** One center's data, as loaded by the center itself. */
export interface CenterData {
  /** Center name. */
  readonly name: string;
  /** Gene ids, in the center's own row order. */
  readonly genes: readonly string[];
  /** Sample ids, in the center's column order. */
  readonly samples: readonly string[];
  /** Counts, gene-major (gene g's counts at g·n). */
  readonly counts: Float64Array;
  /** The samples' metadata, aligned with `samples`. */
  readonly metadata: Metadata;
}

/**
 * Each of the center's samples' cell key for these factors (metadata columns), as
 * {@link cellKeys} writes it.
 * @throws InputError naming the center when a factor is not a column of its metadata
 */
export function centerCellKeys(data: CenterData, factors: readonly string[]): string[] {
  const columns = factors.map((f) => {
    const values = data.metadata.values.get(f);
    if (values === undefined) throw new InputError(`center ${data.name}: no column ${f}`);
    return values;
  });
  return cellKeys(factors, columns, data.samples.length);
}
