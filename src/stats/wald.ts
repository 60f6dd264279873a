/**
 * DESeq2's Wald test of one coefficient or contrast, as `nbinomWaldTest` and `results()`
 * (DESeq2 1.38) compute the columns `stat` and `pvalue` from `log2FoldChange` and `lfcSE`.
 *
 * Everything is on the log2 scale, as DESeq2 reports it: the fold change, its standard error
 * and `lfcThreshold` are all log2. Coefficients fitted on the natural-log scale are converted
 * with {@link lnToLog2}, which multiplies by `log2(exp(1))` exactly as DESeq2 does (for both
 * the coefficient and its SE, so that the statistic's doubles match DESeq2's).
 *
 * With lfcThreshold = 0 and altHypothesis = "greaterAbs" (the default) this is
 * `nbinomWaldTest`: stat = LFC/SE, pvalue = 2·P(Z > |stat|). Otherwise it is the block of
 * `results()` that replaces stat and pvalue (T = lfcThreshold, Q(q) = P(Z > q)):
 *
 * | altHypothesis | stat | pvalue |
 * | --- | --- | --- |
 * | greaterAbs | sign(LFC)·max((|LFC| − T)/SE, 0) | min(1, 2·Q((|LFC| − T)/SE)) |
 * | lessAbs | min(max((T − LFC)/SE, 0), max((LFC + T)/SE, 0)) | max(Q((T − LFC)/SE), Q((LFC + T)/SE)) |
 * | greater | max((LFC − T)/SE, 0) | Q((LFC − T)/SE) |
 * | less | min((LFC + T)/SE, 0) | Q((−T − LFC)/SE) |
 *
 * lessAbs thus takes the larger of the two one-sided p-values (|LFC| < T needs both
 * LFC < T and LFC > −T), and its stat is the smaller of the two clipped one-sided statistics.
 * NA (NaN) inputs give NaN outputs, as R's pmin/pmax do. Not covered here, as they happen after
 * the test in `results()`: p-values set to NA for Cook's outliers, and genes whose counts all
 * became zero after outlier replacement, which DESeq2 reports with stat 0 and pvalue 1.
 */
import { normalUpperTail } from "./normal.js";

/** DESeq2's alternative hypotheses for `results(altHypothesis = …)`. */
export type AltHypothesis = "greaterAbs" | "lessAbs" | "greater" | "less";

/** Options of {@link waldTest}, DESeq2's defaults when omitted. */
export interface WaldOptions {
  /** Non-negative log2 fold-change threshold T (default 0). */
  lfcThreshold?: number;
  /** Alternative hypothesis (default "greaterAbs"). */
  altHypothesis?: AltHypothesis;
}

/** Wald statistics and p-values, one per gene. */
export interface WaldResult {
  stat: Float64Array;
  pvalue: Float64Array;
}

/** log2(e) as R computes `log2(exp(1))` (the same double as Math.LOG2E). */
export const LOG2_E = Math.LOG2E;

/**
 * Convert natural-log coefficients (or their standard errors) to log2, as DESeq2 does
 * (`log2(exp(1)) * x`).
 * @param values - natural-log values
 * @returns a new array of log2 values
 */
export function lnToLog2(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = LOG2_E * values[i];
  return out;
}

const ALT_HYPOTHESES: readonly string[] = ["greaterAbs", "lessAbs", "greater", "less"];

/** R's sign(): 1, 0 or −1 (NaN for NaN). */
function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : Number.NaN;
}

/**
 * DESeq2's Wald test for one coefficient or contrast.
 * @param log2FoldChange - LFC per gene (log2; NaN = NA)
 * @param lfcSE - its standard error (log2)
 * @param options - `lfcThreshold` (log2, ≥ 0) and `altHypothesis`
 * @returns `stat` and `pvalue` as DESeq2's `results()` reports them
 * @throws RangeError for mismatched lengths, a negative or non-finite threshold, an unknown
 *   altHypothesis, or
 *   "lessAbs" with threshold 0 (DESeq2 refuses it too)
 */
export function waldTest(
  log2FoldChange: Float64Array,
  lfcSE: Float64Array,
  options: WaldOptions = {},
): WaldResult {
  const n = log2FoldChange.length;
  if (lfcSE.length !== n) throw new RangeError("waldTest: log2FoldChange and lfcSE lengths differ");
  const t = options.lfcThreshold ?? 0;
  const alt = options.altHypothesis ?? "greaterAbs";
  if (!(t >= 0) || !Number.isFinite(t)) {
    throw new RangeError(`waldTest: lfcThreshold must be finite and ≥ 0 (got ${t})`);
  }
  if (!ALT_HYPOTHESES.includes(alt)) {
    throw new RangeError(`waldTest: unknown altHypothesis ${String(alt)}`);
  }
  if (t === 0 && alt === "lessAbs") {
    throw new RangeError("waldTest: altHypothesis 'lessAbs' needs a positive lfcThreshold");
  }
  const stat = new Float64Array(n);
  const pvalue = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lfc = log2FoldChange[i];
    const se = lfcSE[i];
    if (t === 0 && alt === "greaterAbs") {
      const s = lfc / se;
      stat[i] = s;
      pvalue[i] = 2 * normalUpperTail(Math.abs(s));
    } else if (alt === "greaterAbs") {
      const q = (Math.abs(lfc) - t) / se;
      stat[i] = sign(lfc) * Math.max(0, q);
      pvalue[i] = Math.min(1, 2 * normalUpperTail(q));
    } else if (alt === "lessAbs") {
      const above = (t - lfc) / se;
      const below = (lfc + t) / se;
      stat[i] = Math.min(Math.max(0, above), Math.max(0, below));
      pvalue[i] = Math.max(normalUpperTail(above), normalUpperTail(below));
    } else if (alt === "greater") {
      const q = (lfc - t) / se;
      stat[i] = Math.max(0, q);
      pvalue[i] = normalUpperTail(q);
    } else {
      stat[i] = Math.min(0, (lfc + t) / se);
      pvalue[i] = normalUpperTail((-t - lfc) / se);
    }
  }
  return { stat, pvalue };
}
