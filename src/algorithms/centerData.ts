/**
 * What one center holds: its own samples' counts and metadata, nothing of the others'. The
 * runtime loads it (`federation/centerData.ts`); the local steps read it.
 */
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
