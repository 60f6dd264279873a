/**
 * Agreement of our per-gene values with DESeq2's, as shares of genes within a relative
 * tolerance.
 */

/** Agreement over the genes compared. */
export interface Agreement {
  /** Genes compared. */
  readonly genes: number;
  /** Genes within the tolerance. */
  readonly within: number;
  /** Largest relative difference, and its gene index. */
  readonly max: number;
  readonly worst: number;
  /** Indices of the genes beyond the tolerance. */
  readonly exceptions: number[];
}

/**
 * Compare `ours` with `theirs` on the genes `include` selects (NaN = NaN counts as equal).
 * @param tolerance - relative
 */
export function agreement(
  ours: Float64Array,
  theirs: Float64Array,
  include: (g: number) => boolean,
  tolerance: number,
): Agreement {
  let genes = 0;
  let within = 0;
  let max = 0;
  let worst = -1;
  const exceptions: number[] = [];
  for (let g = 0; g < ours.length; g++) {
    if (!include(g)) continue;
    genes++;
    const both = Number.isNaN(ours[g]) && Number.isNaN(theirs[g]);
    const r = both ? 0 : Math.abs(ours[g] - theirs[g]) / Math.abs(theirs[g]);
    if (r <= tolerance) within++;
    else exceptions.push(g);
    if (!(r <= max)) {
      max = r;
      worst = g;
    }
  }
  return { genes, within, max, worst, exceptions };
}

/** "within/genes (share%), max m" for logs. */
export function describeAgreement(a: Agreement): string {
  return `${a.within}/${a.genes} (${((100 * a.within) / a.genes).toFixed(3)}%), max ${a.max.toExponential(2)}`;
}
