/**
 * DESeq2's `contrastAllZero` for a contrast of two levels (`results(dds, contrast = c(factor,
 * level, reference))`): a gene whose counts are all zero in the samples of both levels (but not
 * everywhere) is reported with a log fold change and statistic of 0 and a p-value of 1. Each
 * center says, per gene, whether it holds a non-zero count among its samples of the two levels;
 * the bits are OR-ed over the centers (under secure aggregation the aggregator reads only the
 * OR: exactly what DESeq2's results table shows).
 */
import type { CenterData } from "../centerData.js";
import type { GeneMask } from "../masks.js";
import { countsOfRows, geneRows } from "./local.js";

/** Ask, per gene, for a non-zero count among the samples of a factor's two contrasted levels. */
export interface ContrastPresenceRequest {
  readonly kind: "contrast-presence-request";
  /** Gene ids, in the federation's order. */
  readonly genes: readonly string[];
  /** The contrast's factor. */
  readonly factor: string;
  /** Its level and reference level. */
  readonly levels: readonly string[];
}

/** One bit per requested gene: 1 when the center has a non-zero count in those samples. */
export interface ContrastPresenceShare {
  readonly kind: "contrast-presence-share";
  readonly present: GeneMask;
}

/** A center's step: its bits, over its samples whose `factor` is one of `levels`. */
export function contrastPresenceLocalStep(
  data: CenterData,
  request: ContrastPresenceRequest,
): ContrastPresenceShare {
  const rows = geneRows(data, request.genes);
  const counts = countsOfRows(data, rows);
  const n = data.samples.length;
  const values = data.metadata.values.get(request.factor);
  if (values === undefined)
    throw new Error(`center ${data.name}: no column ${request.factor} for the contrast`);
  const inContrast = values.map((v) => request.levels.includes(v));
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
