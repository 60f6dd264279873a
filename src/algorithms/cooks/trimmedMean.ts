/**
 * Federated order statistics and trimmed means (R's `mean(x, trim)`), exact, without any
 * center sharing a per-sample value.
 *
 * A *group* is a set of design cells (so every center knows which of its samples belong to
 * it) and a kind of per-sample value (normalised counts y/s, raw counts y, or squared errors
 * (y/s − c)² around a per-gene, per-cell centre c sent by the aggregator). For a group of N
 * pooled values R's `mean(x, trim)` drops k = ⌊N·trim⌋ values at each end and averages the
 * order statistics x₍lo₎ … x₍hi₎, lo = k + 1, hi = N − k.
 *
 * The aggregator locates x₍lo₎ and x₍hi₎ (two *targets* per group and gene) by a multi-way
 * bracket search. Each target has a bracket (A, U] known to contain it and the number of
 * values ≤ A. Every round the bracket is cut by K thresholds (a deterministic function of
 * A, U and a hint, {@link bracketThresholds}, evaluated identically by the centers, so only
 * A, U and the hint travel), and each center returns per gene and target:
 *
 * - the number of its values in each of the K+1 buckets (K+1 counts),
 * - the sum of its values inside the whole bracket (one sum),
 *
 * and per gene and group the sum of its values in (U_lo, A_hi] (between the two targets'
 * brackets). The aggregator keeps the bucket holding the target's rank. A target is
 * *settled* once its bracket is known to hold copies of one value only: the bracket holds a
 * single value (its value is then the bracket's sum, exactly: one non-zero addend), or the
 * bracket is one ulp wide (one integer wide for counts), or (A, 0] with A < 0. Ties (equal
 * values, e.g. zeros) are therefore resolved exactly; to settle them quickly, when a bracket
 * keeps all of its values the next cut puts thresholds on the ulps around their mean (the
 * hint). When both targets of a group were settled in the brackets of a round, the trimmed
 * sum is exact bookkeeping:
 *
 *   Σ_{lo ≤ i ≤ hi} x₍i₎ = v_lo·n_lo + Σ_{U_lo < x ≤ A_hi} x + v_hi·n_hi,
 *
 * with n_lo, n_hi the copies of v_lo, v_hi at ranks within [lo, hi], known from the counts.
 *
 * What the aggregator learns besides the trimmed means: counts of values between thresholds,
 * sums of the values inside the brackets, and so the two order statistics themselves (which
 * any exact trimmed mean reveals to within the precision it reaches).
 *
 * Shapes (G = groups, K = thresholds per round, all gene-major): request brackets
 * genes×G×2×3 (A, U, hint); share bucket counts genes×G×2×(K+1), bracket sums genes×G×2,
 * middle sums genes×G. Nothing has a per-sample axis.
 */
import { maskIndices } from "../masks.js";
import type { CellTable, CooksCenter } from "./center.js";
import { sampleCells } from "./center.js";
import { nextDown, nextUp, ordinalGap, ordinalStep } from "./doubleBits.js";

/** Kind of per-sample value a group ranks. */
export type TrimValues = "normalized" | "counts" | "squared-error";

const VALUE_CODES: Record<TrimValues, number> = {
  normalized: 0,
  counts: 1,
  "squared-error": 2,
};
const COUNTS = 1;
const SQUARED_ERROR = 2;

/** One group of a search: which samples, which values, which ranks. */
export interface TrimGroup {
  /** Cells of the group, 0/1 per cell of the table. */
  readonly cellMask: Uint8Array;
  /** The per-sample values ranked. */
  readonly values: TrimValues;
  /** Pooled samples in the group (N). */
  readonly size: number;
  /** 1-based rank of the lowest kept order statistic. */
  readonly lo: number;
  /** 1-based rank of the highest kept order statistic (lo = hi: one order statistic). */
  readonly hi: number;
}

/**
 * The ranks R's `mean(x, trim)` keeps for N values: lo = ⌊N·trim⌋ + 1, hi = N + 1 − lo
 * (trim < 0.5).
 */
export function trimRanks(size: number, trim: number): { lo: number; hi: number } {
  if (!(trim >= 0 && trim < 0.5)) throw new Error(`trim ${trim} outside [0, 0.5)`);
  const lo = Math.floor(size * trim) + 1;
  return { lo, hi: size + 1 - lo };
}

/** The default number of thresholds per target and round. */
export const DEFAULT_THRESHOLDS = 7;

/** What the aggregator sends each round of a search. */
export interface TrimRequest {
  readonly kind: "cooks-trim-request";
  /** Design columns. */
  readonly p: number;
  /** The federation's cells, cells×p (so that a center finds its samples' cells). */
  readonly cellRows: Float64Array;
  /** Number of groups G. */
  readonly groups: number;
  /** Cells of each group, G×cells (0/1). */
  readonly groupCells: Uint8Array;
  /** Value kind of each group (0 normalised, 1 counts, 2 squared error), length G. */
  readonly groupValues: Uint8Array;
  /** Thresholds per target K. */
  readonly thresholds: number;
  /**
   * The genes still searched (some group not done), 0/1 per gene: the arrays below and the
   * shares cover these A genes only, in increasing order.
   */
  readonly active: Uint8Array;
  /** Per active gene, group and target (lo, hi): bracket lower A, upper U, hint; A×G×2×3. */
  readonly brackets: Float64Array;
  /** Centres of the squared errors per active gene and cell, A×cells (empty without such group). */
  readonly centres: Float64Array;
}

/** What a center returns each round of a search (per-gene aggregates of the active genes only). */
export interface TrimShare {
  readonly kind: "cooks-trim-share";
  /** Values in each bucket of each target's bracket, A×G×2×(K+1). */
  readonly bucketCounts: Float64Array;
  /** Sum of the values in each target's bracket, A×G×2. */
  readonly bracketSums: Float64Array;
  /** Sum of the values in (U_lo, A_hi] per active gene and group, A×G. */
  readonly middleSums: Float64Array;
}

/** Specification of a search (aggregator side). */
export interface TrimSearchSpec {
  /** The federation's cells. */
  readonly table: CellTable;
  /** Genes. */
  readonly genes: number;
  /** The groups. */
  readonly groups: readonly TrimGroup[];
  /** Centres of squared errors, genes×cells (needed iff a group ranks squared errors). */
  readonly centres?: Float64Array;
  /** Thresholds per target and round (default {@link DEFAULT_THRESHOLDS}). */
  readonly thresholds?: number;
  /** Genes to search (0/1); the others finish at once with NaN. Default: all. */
  readonly active?: Uint8Array;
  /** Give up after this many rounds (default 200). */
  readonly maxRounds?: number;
}

/** The aggregator's state of a search (mutated by {@link trimAggregateStep}). */
export interface TrimSearch {
  readonly spec: TrimSearchSpec;
  readonly genes: number;
  readonly groupCount: number;
  readonly thresholds: number;
  /** Current brackets, genes×G×2×3 (A, U, hint). */
  readonly brackets: Float64Array;
  /** Values ≤ A per target. */
  readonly below: Float64Array;
  /** Values in the bracket per target. */
  readonly inBracket: Float64Array;
  /** The target's value once settled (NaN before). */
  readonly value: Float64Array;
  /** 1 once the target's bracket is known to hold copies of one value only. */
  readonly settled: Uint8Array;
  /** `settled` as it was when the last request was built. */
  readonly sentSettled: Uint8Array;
  /** 1 once the group's trimmed mean is known, genes×G. */
  readonly done: Uint8Array;
  /** Trimmed means (order statistic when lo = hi), genes×G (NaN until done). */
  readonly means: Float64Array;
  /** Sum of each group's values (from the first round), genes×G. */
  readonly totals: Float64Array;
  /** Rounds aggregated so far. */
  rounds: number;
  /** Row of each gene in the last request's arrays (−1: not sent, every group done). */
  readonly sentRow: Int32Array;
}

/**
 * The K thresholds that cut a bracket (A, U]: sorted, strictly inside (A, U), padded with U
 * (empty buckets). Deterministic, so that the centers and the aggregator compute the same.
 * Values are non-negative; `integer` for raw counts.
 *
 * - A < 0: 0 is a threshold (ties at zero settle at once);
 * - (0, +∞): a geometric grid 2^e, e between −20 and 45 (integers: a + 2^e, e up to 40);
 * - a finite hint inside the bracket (the mean of its values when the last cut kept them
 *   all): the 7 doubles from 3 ulps below to 3 ulps above it, so that a tie settles next
 *   round (with fewer than 8 thresholds: the hint and the double below it, or one of them);
 * - the rest evenly spaced in ordinal (bit-pattern) order: linear within a binade,
 *   logarithmic across binades; integers evenly spaced.
 * @param out - receives the K thresholds at `offset`
 */
export function bracketThresholds(
  lower: number,
  upper: number,
  hint: number,
  integer: boolean,
  k: number,
  out: Float64Array,
  offset: number,
): void {
  let n = 0;
  let a = lower;
  if (upper > lower) {
    if (a < 0) {
      if (upper > 0) out[offset + n++] = 0;
      a = 0;
    }
    let slots = k - n;
    if (upper > a && slots > 0) {
      if (integer) {
        if (upper === Number.POSITIVE_INFINITY) {
          for (let j = 0; j < slots; j++) {
            out[offset + n++] = a + Math.floor(2 ** ((40 * (j + 1)) / (slots + 1)));
          }
        } else {
          const span = upper - a;
          for (let j = 1; j <= slots; j++)
            out[offset + n++] = a + Math.floor((span * j) / (slots + 1));
        }
      } else {
        if (!Number.isNaN(hint)) {
          // The mean of tied values is the tie value to a few ulps, and may round out of the
          // bracket: bring it back in.
          if (hint <= a) hint = nextUp(a);
          else if (hint > upper) hint = upper;
          if (slots >= 8) {
            let t = hint;
            for (let j = 0; j < 3 && t > 0; j++) t = nextDown(t);
            for (let j = 0; j < 7; j++) {
              out[offset + n++] = t;
              t = nextUp(t);
            }
            slots -= 7;
          } else if (slots >= 3) {
            out[offset + n++] = nextDown(hint);
            out[offset + n++] = hint;
            slots -= 2;
          } else {
            out[offset + n++] = hint < upper ? hint : nextDown(hint);
            slots -= 1;
          }
        }
        if (upper === Number.POSITIVE_INFINITY && a === 0) {
          for (let j = 0; j < slots; j++) {
            out[offset + n++] = 2 ** (-20 + (65 * (j + 1)) / (slots + 1));
          }
        } else {
          const gap = ordinalGap(a, upper);
          for (let j = 1; j <= slots; j++) {
            const d = Math.floor((gap * j) / (slots + 1));
            if (d >= 1) out[offset + n++] = ordinalStep(a, d);
          }
        }
      }
    }
  }
  // Sort (insertion: K is small), keep distinct values strictly inside (lower, upper).
  for (let i = offset + 1; i < offset + n; i++) {
    const t = out[i];
    let j = i - 1;
    while (j >= offset && out[j] > t) {
      out[j + 1] = out[j];
      j--;
    }
    out[j + 1] = t;
  }
  let m = 0;
  for (let i = 0; i < n; i++) {
    const t = out[offset + i];
    if (t > lower && t < upper && (m === 0 || t > out[offset + m - 1])) out[offset + m++] = t;
  }
  for (; m < k; m++) out[offset + m] = upper;
}

/** Is a bracket known to hold copies of one value only, whatever its count? */
function narrow(lower: number, upper: number, integer: boolean): boolean {
  if (upper <= 0) return true; // (A, 0] with A < 0: zeros only (values are non-negative)
  if (lower < 0) return false;
  return integer ? upper - lower <= 1 : upper === nextUp(lower);
}

/** Start a search: every target's bracket is (−∞, +∞] (inactive genes finish at once). */
export function startTrimSearch(spec: TrimSearchSpec): TrimSearch {
  const { genes } = spec;
  const groupCount = spec.groups.length;
  const targets = genes * groupCount * 2;
  const brackets = new Float64Array(targets * 3);
  const inBracket = new Float64Array(targets);
  const done = new Uint8Array(genes * groupCount);
  const means = new Float64Array(genes * groupCount).fill(Number.NaN);
  for (let g = 0; g < genes; g++) {
    for (let q = 0; q < groupCount; q++) {
      const group = spec.groups[q];
      if (!(group.lo >= 1 && group.lo <= group.hi && group.hi <= group.size)) {
        throw new Error(`group ${q}: ranks ${group.lo}..${group.hi} outside 1..${group.size}`);
      }
      if (spec.active !== undefined && spec.active[g] !== 1) done[g * groupCount + q] = 1;
      for (let s = 0; s < 2; s++) {
        const t = (g * groupCount + q) * 2 + s;
        brackets[t * 3] = Number.NEGATIVE_INFINITY;
        brackets[t * 3 + 1] = Number.POSITIVE_INFINITY;
        brackets[t * 3 + 2] = Number.NaN;
        inBracket[t] = group.size;
      }
    }
  }
  if (spec.groups.some((group) => group.values === "squared-error")) {
    if (spec.centres?.length !== genes * spec.table.cells) {
      throw new Error("a squared-error group needs centres for every gene and cell");
    }
  }
  return {
    spec,
    genes,
    groupCount,
    thresholds: spec.thresholds ?? DEFAULT_THRESHOLDS,
    brackets,
    below: new Float64Array(targets),
    inBracket,
    value: new Float64Array(targets).fill(Number.NaN),
    settled: new Uint8Array(targets),
    sentSettled: new Uint8Array(targets),
    done,
    means,
    totals: new Float64Array(genes * groupCount).fill(Number.NaN),
    rounds: 0,
    sentRow: new Int32Array(genes).fill(-1),
  };
}

/**
 * The request of the search's next round (call once per round: it records which targets
 * were settled when it was built, which {@link trimAggregateStep} relies on).
 */
export function trimRequest(search: TrimSearch): TrimRequest {
  const { spec, groupCount } = search;
  const cells = spec.table.cells;
  const groupCells = new Uint8Array(groupCount * cells);
  spec.groups.forEach((group, q) => {
    groupCells.set(group.cellMask, q * cells);
  });
  search.sentSettled.set(search.settled);
  // Only the genes with a group still searched travel, in both directions.
  const active = new Uint8Array(search.genes);
  let count = 0;
  for (let g = 0; g < search.genes; g++) {
    let open = false;
    for (let q = 0; q < groupCount && !open; q++) open = search.done[g * groupCount + q] === 0;
    active[g] = open ? 1 : 0;
    search.sentRow[g] = open ? count++ : -1;
  }
  const width = groupCount * 6;
  const brackets = new Float64Array(count * width);
  const centres = new Float64Array(spec.centres === undefined ? 0 : count * cells);
  for (let g = 0; g < search.genes; g++) {
    const a = search.sentRow[g];
    if (a < 0) continue;
    brackets.set(search.brackets.subarray(g * width, (g + 1) * width), a * width);
    if (spec.centres !== undefined)
      centres.set(spec.centres.subarray(g * cells, (g + 1) * cells), a * cells);
  }
  return {
    kind: "cooks-trim-request",
    p: spec.table.p,
    cellRows: spec.table.rows,
    groups: groupCount,
    groupCells,
    groupValues: Uint8Array.from(spec.groups, (group) => VALUE_CODES[group.values]),
    thresholds: search.thresholds,
    active,
    brackets,
    centres,
  };
}

/**
 * Local step of a search round: per gene, group and target, the center's counts of values
 * in each bucket and their sum inside the bracket; per gene and group, the sum between the
 * two targets' brackets.
 */
export function trimLocalStep(center: CooksCenter, request: TrimRequest): TrimShare {
  const { n, sizeFactors, counts } = center;
  const { groups, groupCells, groupValues, brackets, centres } = request;
  const k = request.thresholds;
  const cellCount = request.cellRows.length / request.p;
  if (request.active.length !== center.genes)
    throw new Error(
      `trim request for ${request.active.length} genes, the center has ${center.genes}`,
    );
  const activeGenes = maskIndices(request.active);
  const genes = activeGenes.length;
  if (brackets.length !== genes * groups * 6) {
    throw new Error(`trim request: ${brackets.length} bracket values for ${genes} genes`);
  }
  const cellOf = sampleCells(center, {
    p: request.p,
    cells: cellCount,
    rows: request.cellRows,
    sizes: new Float64Array(cellCount),
    samples: 0,
  });
  const bucketCounts = new Float64Array(genes * groups * 2 * (k + 1));
  const bracketSums = new Float64Array(genes * groups * 2);
  const middleSums = new Float64Array(genes * groups);
  const cuts = new Float64Array(groups * 2 * k);
  for (let g = 0; g < genes; g++) {
    const row = activeGenes[g];
    const base = g * groups;
    for (let q = 0; q < groups; q++) {
      for (let s = 0; s < 2; s++) {
        const t = (base + q) * 2 + s;
        bracketThresholds(
          brackets[t * 3],
          brackets[t * 3 + 1],
          brackets[t * 3 + 2],
          groupValues[q] === COUNTS,
          k,
          cuts,
          (q * 2 + s) * k,
        );
      }
    }
    for (let i = 0; i < n; i++) {
      const cell = cellOf[i];
      const y = counts[row * n + i];
      for (let q = 0; q < groups; q++) {
        if (groupCells[q * cellCount + cell] !== 1) continue;
        const kind = groupValues[q];
        let x: number;
        if (kind === COUNTS) x = y;
        else if (kind === SQUARED_ERROR) {
          const d = y / sizeFactors[i] - centres[g * cellCount + cell];
          x = d * d;
        } else x = y / sizeFactors[i];
        const t0 = (base + q) * 2;
        for (let s = 0; s < 2; s++) {
          const t = t0 + s;
          if (x > brackets[t * 3] && x <= brackets[t * 3 + 1]) {
            const c = (q * 2 + s) * k;
            let j = 0;
            while (j < k && cuts[c + j] < x) j++;
            bucketCounts[t * (k + 1) + j] += 1;
            bracketSums[t] += x;
          }
        }
        if (x > brackets[t0 * 3 + 1] && x <= brackets[(t0 + 1) * 3]) middleSums[base + q] += x;
      }
    }
  }
  return { kind: "cooks-trim-share", bucketCounts, bracketSums, middleSums };
}

/**
 * Aggregate one round of a search: sum the shares (federation order), move every unsettled
 * target to the bucket holding its rank, settle what can be, and finish the groups whose two
 * targets were settled in this round's brackets.
 * @returns true when every group of every gene is done (then read {@link TrimSearch.means})
 * @throws when the centers' counts contradict the search (a center answered another request)
 */
export function trimAggregateStep(search: TrimSearch, shares: readonly TrimShare[]): boolean {
  const { genes, groupCount, brackets, below, inBracket, value, settled, sentSettled } = search;
  const k = search.thresholds;
  const groups = search.spec.groups;
  const cuts = new Float64Array(k);
  const bucket = new Float64Array(k + 1);
  const first = search.rounds === 0;
  search.rounds += 1;
  for (let g = 0; g < genes; g++) {
    for (let q = 0; q < groupCount; q++) {
      const gq = g * groupCount + q;
      if (search.done[gq] === 1) continue;
      const group = groups[q];
      const integer = group.values === "counts";
      // Where this gene's entries sit in the shares (only the searched genes travel).
      const rq = search.sentRow[g] * groupCount + q;
      let middle = 0;
      for (const share of shares) middle += share.middleSums[rq];
      let bothSettled = true;
      for (let s = 0; s < 2; s++) {
        const t = gq * 2 + s;
        const rt = rq * 2 + s;
        const rank = s === 0 ? group.lo : group.hi;
        let total = 0;
        let sum = 0;
        bucket.fill(0);
        for (const share of shares) {
          for (let j = 0; j <= k; j++) bucket[j] += share.bucketCounts[rt * (k + 1) + j];
          sum += share.bracketSums[rt];
        }
        for (let j = 0; j <= k; j++) total += bucket[j];
        if (total !== inBracket[t]) {
          throw new Error(
            `gene ${g}, group ${q}: the centers hold ${total} values in a bracket of ${inBracket[t]}`,
          );
        }
        if (first && s === 0) search.totals[gq] = sum;
        if (sentSettled[t] === 1) continue;
        if (total === 1) {
          value[t] = sum;
          settled[t] = 1;
          continue;
        }
        bothSettled = false;
        if (settled[t] === 1) continue;
        const lower = brackets[t * 3];
        const upper = brackets[t * 3 + 1];
        bracketThresholds(lower, upper, brackets[t * 3 + 2], integer, k, cuts, 0);
        let acc = below[t];
        let j = 0;
        while (acc + bucket[j] < rank) acc += bucket[j++];
        const a = j === 0 ? lower : cuts[j - 1];
        const u = j === k ? upper : cuts[j];
        below[t] = acc;
        inBracket[t] = bucket[j];
        brackets[t * 3] = a;
        // When the bucket kept every value of the bracket, their sum is known, and bounds
        // them all (non-negative values: a floating-point sum is ≥ each addend).
        const keptAll = bucket[j] === total;
        brackets[t * 3 + 1] = keptAll && sum < u ? sum : u;
        brackets[t * 3 + 2] = keptAll ? sum / total : Number.NaN;
        const top = brackets[t * 3 + 1];
        if (narrow(a, top, integer)) {
          settled[t] = 1;
          value[t] = Math.max(top, 0);
        }
      }
      if (bothSettled) {
        const lo = gq * 2;
        const hi = lo + 1;
        let mean: number;
        if (value[lo] === value[hi]) mean = value[lo];
        else {
          const nLo = below[lo] + inBracket[lo] - group.lo + 1;
          const nHi = group.hi - below[hi];
          mean = (value[lo] * nLo + middle + value[hi] * nHi) / (group.hi - group.lo + 1);
        }
        search.means[gq] = mean;
        search.done[gq] = 1;
      }
    }
  }
  const finished = search.done.every((d) => d === 1);
  const maxRounds = search.spec.maxRounds ?? 200;
  if (!finished && search.rounds >= maxRounds) {
    throw new Error(`trimmed-mean search unfinished after ${search.rounds} rounds`);
  }
  return finished;
}
