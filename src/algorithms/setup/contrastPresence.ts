/**
 * DESeq2's `contrastAllZero`: a gene whose counts are all zero in the samples a contrast compares
 * (but not everywhere) is reported with a log fold change and statistic of 0 and a p-value of 1.
 * The samples: for `contrast = c(factor, level, reference)`, those of the two levels; for a
 * numeric contrast with weights of both signs, those whose design row has a non-zero entry in a
 * column the contrast weighs (DESeq2's `contrastAllZeroNumeric`). Each center says, per gene,
 * whether it holds a non-zero count among those samples; the bits are OR-ed over the centers
 * (under secure aggregation the aggregator reads only the OR: exactly what DESeq2's results
 * table shows).
 */
import type { CenterData } from "../centerData.js";
import type { GeneMask } from "../masks.js";
import { countsOfRows, geneRows } from "./local.js";

/** Ask, per gene, for a non-zero count among the samples of a factor's two contrasted levels. */
export interface ContrastPresenceRequest {
  readonly kind: "contrast-presence-request";
  /** Gene ids, in the federation's order. */
  readonly genes: readonly string[];
  /** The contrast's factor ("" for a numeric contrast). */
  readonly factor: string;
  /** Its level and reference level (none for a numeric contrast). */
  readonly levels: readonly string[];
  /** For a numeric contrast: 1 for each design column it weighs (none for two levels). */
  readonly columns: GeneMask;
}

/** One bit per requested gene: 1 when the center has a non-zero count in those samples. */
export interface ContrastPresenceShare {
  readonly kind: "contrast-presence-share";
  readonly present: GeneMask;
}

/**
 * A center's step: its bits, over its samples whose `factor` is one of `levels`, or whose row of
 * `design` (the center's prepared n×p design matrix, for a numeric contrast) is non-zero in one
 * of `columns`.
 */
export function contrastPresenceLocalStep(
  data: CenterData,
  request: ContrastPresenceRequest,
  design?: { readonly matrix: Float64Array; readonly p: number },
): ContrastPresenceShare {
  const rows = geneRows(data, request.genes);
  const counts = countsOfRows(data, rows);
  const n = data.samples.length;
  const inContrast = comparedSamples(data, request, design);
  const present = new Uint8Array(rows.length);
  for (let g = 0; g < rows.length; g++) {
    for (let i = 0; i < n; i++) {
      if (inContrast[i] && counts[g * n + i] > 0) {
        present[g] = 1;
        break;
      }
    }
  }
  return { kind: "contrast-presence-share", present };
}

/** Which of the center's samples the contrast compares. */
function comparedSamples(
  data: CenterData,
  request: ContrastPresenceRequest,
  design: { readonly matrix: Float64Array; readonly p: number } | undefined,
): boolean[] {
  const n = data.samples.length;
  if (request.columns.length > 0) {
    if (design === undefined || design.p !== request.columns.length)
      throw new Error(
        `center ${data.name}: a numeric contrast over ${request.columns.length} columns, the fit has ${design?.p ?? "none"}`,
      );
    const { matrix, p } = design;
    return Array.from({ length: n }, (_, i) => {
      let row = 0;
      for (let k = 0; k < p; k++) if (request.columns[k]) row += matrix[i * p + k];
      return row !== 0;
    });
  }
  const values = data.metadata.values.get(request.factor);
  if (values === undefined)
    throw new Error(`center ${data.name}: no column ${request.factor} for the contrast`);
  return values.map((v) => request.levels.includes(v));
}

/**
 * Ask, per gene and level of one factor, for a non-zero count among the samples of that level:
 * the bits from which DESeq2's `contrastAllZero` follows for any contrast of two of its levels
 * (`fedseq results --from`), as {@link contrastPresenceLocalStep} would give them one level at a
 * time.
 */
export interface LevelPresenceRequest {
  readonly kind: "level-presence-request";
  /** Gene ids, in the federation's order. */
  readonly genes: readonly string[];
  /** The factor. */
  readonly factor: string;
  /** Its levels, in the plan's order. */
  readonly levels: readonly string[];
}

/** Gene-major bits, genes × levels: 1 when the center has a non-zero count at that level. */
export interface LevelPresenceShare {
  readonly kind: "level-presence-share";
  readonly present: GeneMask;
}

/** A center's step: per level, {@link contrastPresenceLocalStep}'s bits for that level alone. */
export function levelPresenceLocalStep(
  data: CenterData,
  request: LevelPresenceRequest,
): LevelPresenceShare {
  const L = request.levels.length;
  const present = new Uint8Array(request.genes.length * L);
  request.levels.forEach((level, l) => {
    const bits = contrastPresenceLocalStep(data, {
      kind: "contrast-presence-request",
      genes: request.genes,
      factor: request.factor,
      levels: [level],
      columns: new Uint8Array(0),
    }).present;
    for (let g = 0; g < bits.length; g++) present[g * L + l] = bits[g];
  });
  return { kind: "level-presence-share", present };
}
