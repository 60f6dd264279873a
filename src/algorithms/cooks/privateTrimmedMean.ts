/**
 * Trimmed means (R's `mean(x, trim)`) and order-statistic buckets from pooled COUNTS on a
 * public grid and pooled SUMS over ranges holding ≥ k pooled values (issue [11]'s k-sample
 * rule), approximately, with a per-gene error bound. Every reply field is a per-gene,
 * per-group sum or count over the center's samples (reduction = sum), so under secure
 * aggregation (issue [12]) the aggregator sees the pooled values only.
 *
 * Why not exact: an exact trimmed mean needs the order statistics x₍lo₎, x₍hi₎, each one
 * sample's value; the exact search of `trimmedMean.ts` finds them by sums over brackets
 * that end up holding a single value. Here no sum is ever requested over fewer than k
 * values, and values are located only to buckets of a fixed public grid.
 *
 * The grid (public, data-independent, {@link PrivateGrid}): thresholds τ₀ = 0 and
 * τⱼ = 2^(e_min + (j − 1)/D), j = 1..J, cutting [0, ∞) into buckets b₀ = {0} (values are
 * ≥ 0), bⱼ = (τⱼ₋₁, τⱼ] and b_{J+1} = (τ_J, ∞). Each positive bucket spans a ratio
 * r = 2^(1/D) (D = 16: r − 1 = 4.4 %).
 *
 * Protocol per pass (G groups, as in `trimmedMean.ts`: a set of design cells and a value
 * kind: y/s, y, or (y/s − c)²):
 *
 * 1. counts rounds ({@link privateTrimRequest} → {@link privateTrimLocalStep} →
 *    {@link privateTrimAggregateStep}): per gene, group and target rank (lo, hi), the
 *    aggregator sends a bracket of bucket indices (only for the targets still searched: see
 *    {@link OpenTargets}); each center returns how many of its values
 *    fall in each of K + 1 sub-ranges (cut at public bucket indices). The aggregator keeps
 *    the sub-range holding the rank, until the bracket is one bucket: x₍lo₎ ∈ b_lo,
 *    x₍hi₎ ∈ b_hi, with the number of values below and in each.
 * 2. one sums round ({@link privateSumRequest} → {@link privateSumLocalStep} →
 *    {@link privateTrimEstimates}): the buckets b_lo and b_hi cut the values into five
 *    atoms (below b_lo, b_lo, between, b_hi, above b_hi) whose pooled counts are known
 *    from step 1, and so are their pooled numbers of zeros (b₀ has a sub-range of its own
 *    in the first round). Each center returns its sum over each atom holding ≥ k NON-ZERO
 *    values, and over the union of the others when it holds ≥ k ({@link atomSlots}; zeros
 *    add nothing to a sum: an atom of two zeros and one count would release that count).
 *    The trimmed sum T is then bounded: per summed slot M, its kept values are in
 *    [Σ lower, Σ upper bucket bounds] and equal S_M − (its trimmed values), which are in
 *    [S_M − Σ upper, S_M − Σ lower]; T is the midpoint of the intersection, and the
 *    half-width is returned as the error bound.
 *
 * Error bound. Always: |T̂ − T| ≤ the returned bound (T lies in the interval by
 * construction). A priori: a kept value in b_lo or b_hi (bucket (t, rt]) is off by at most
 * (r − 1)t/2 ≤ (r − 1)v/2, and values between b_lo and b_hi are summed exactly when their
 * atom holds ≥ k non-zero values, else each is located to one bucket (the extra targets);
 * so the relative error of the trimmed mean is ≤ (r − 1)/2 (2.2 % for D = 16), plus τ₁/2
 * absolute per value in the underflow bucket (0, τ₁]. The group's total is exact (and
 * returned) only when every atom holding non-zero values is summed.
 *
 * What the aggregator learns, per gene and group: the pooled counts of values in the
 * buckets of the grid ranges the search visits (a coarse histogram, refined down to one
 * grid bucket around the two trim points: so x₍lo₎ and x₍hi₎ are known to within a factor
 * r, and, where a bucket holds fewer than k values, those values are known to that bucket;
 * counts, never sums, of those buckets), and the pooled sums over the released atoms, each
 * over ≥ k non-zero values. Within a group every linear combination of released sums is a
 * sum over a union of released atoms, hence over ≥ k non-zero values or none. Across the groups of one
 * pass (cell groups and the all-samples group over the same y/s), differences of atom sums
 * are sums over (cell × range) pieces: the searched groups are cells of ≥ 3 pooled samples
 * and the union of all cells; {@link privateGroupsSafe} states when that is safe (no samples
 * outside the robust cells, or ≥ k of them).
 */
import { maskCount, maskIndices } from "../masks.js";
import { isPooledZero } from "../shares.js";
import type { CellTable, CooksCenter } from "./center.js";
import { sampleCells } from "./center.js";
import type { TrimGroup, TrimValues } from "./trimmedMean.js";

/** The public grid of thresholds (see the module's TSDoc). */
export interface PrivateGrid {
  /** Buckets per doubling D (r = 2^(1/D)). */
  readonly binsPerOctave: number;
  /** Lowest positive threshold 2^minExponent. */
  readonly minExponent: number;
  /** Highest threshold 2^maxExponent. */
  readonly maxExponent: number;
}

/** Default grid: 16 buckets per doubling from 2⁻⁴⁰ to 2⁷⁰ (r − 1 = 4.4 %). */
export const DEFAULT_PRIVATE_GRID: PrivateGrid = {
  binsPerOctave: 16,
  minExponent: -40,
  maxExponent: 70,
};

/** Number J of positive thresholds (bucket indices run 0..J+1). */
export function gridThresholdCount(grid: PrivateGrid): number {
  return (grid.maxExponent - grid.minExponent) * grid.binsPerOctave + 1;
}

/** A grid's thresholds and what locating a value among them reads. */
interface GridTable {
  /** τ₀ … τ_J. */
  readonly tau: Float64Array;
  readonly minExponent: number;
  readonly binsPerOctave: number;
  /**
   * τ strictly increasing (every sane grid): a value's bucket is then the one j with
   * τⱼ₋₁ < x ≤ τⱼ, which {@link bucketOf}'s corrections reach from any first guess.
   */
  readonly increasing: boolean;
}

/**
 * Each grid's thresholds τ₀ … τ_J, computed once per grid (the search reads them per sample
 * and round). Keyed by the grid's numbers: every request carries its own copy of the grid.
 */
const gridTables = new Map<string, GridTable>();
/** The last grid's numbers and table: the hot paths ask for one grid over and over. */
let lastGrid: { d: number; lo: number; hi: number; table: GridTable } | null = null;

function gridTable(grid: PrivateGrid): GridTable {
  const last = lastGrid;
  if (
    last !== null &&
    last.d === grid.binsPerOctave &&
    last.lo === grid.minExponent &&
    last.hi === grid.maxExponent
  )
    return last.table;
  const key = `${grid.binsPerOctave} ${grid.minExponent} ${grid.maxExponent}`;
  let table = gridTables.get(key);
  if (table === undefined) {
    const tau = new Float64Array(gridThresholdCount(grid) + 1);
    for (let j = 1; j < tau.length; j++)
      tau[j] = 2 ** (grid.minExponent + (j - 1) / grid.binsPerOctave);
    let increasing = true;
    for (let j = 1; j < tau.length; j++) if (!(tau[j] > tau[j - 1])) increasing = false;
    table = {
      tau,
      minExponent: grid.minExponent,
      binsPerOctave: grid.binsPerOctave,
      increasing,
    };
    // A run uses one grid; requests naming many would otherwise grow the cache without bound.
    if (gridTables.size >= 4) gridTables.clear();
    gridTables.set(key, table);
  }
  lastGrid = { d: grid.binsPerOctave, lo: grid.minExponent, hi: grid.maxExponent, table };
  return table;
}

function thresholds(grid: PrivateGrid): Float64Array {
  return gridTable(grid).tau;
}

/** Threshold τⱼ: 0 for j = 0, 2^(e_min + (j−1)/D) for 1 ≤ j ≤ J, −∞ below, +∞ above. */
export function gridThreshold(grid: PrivateGrid, j: number): number {
  if (j < 0) return Number.NEGATIVE_INFINITY;
  const table = thresholds(grid);
  if (j >= table.length) return Number.POSITIVE_INFINITY;
  return table[j];
}

/** Bucket index of a value: 0 for x ≤ 0, j for τⱼ₋₁ < x ≤ τⱼ, J + 1 above τ_J. */
export function gridBucket(grid: PrivateGrid, x: number): number {
  if (!(x > 0)) return 0;
  return bucketOf(gridTable(grid), x);
}

/** A double's bits, to read its binary exponent and mantissa. */
const bitsOf = new Float64Array(1);
const wordsOf = new Uint32Array(bitsOf.buffer);
/** Index of the word holding the sign, exponent and top 20 mantissa bits. */
const HIGH_WORD = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;

/**
 * log₂ x to within 0.005, for x > 0, from its bits: the exponent e and the mantissa's top 20
 * bits f ∈ [0, 1), log₂(1 + f) ≈ f + 0.34·f(1 − f). Only a first guess of the bucket.
 */
function roughLog2(x: number): number {
  bitsOf[0] = x;
  const high = wordsOf[HIGH_WORD];
  const f = (high & 0xfffff) / 0x100000;
  return ((high >>> 20) & 0x7ff) - 1023 + f + 0.34 * f * (1 - f);
}

/**
 * {@link gridBucket} of a positive x on the grid's table. The first guess is j₀ = ⌈(log₂ x −
 * e_min)·D⌉ + 1 clamped to 1..J + 1, then moved down while x ≤ τ_{j−1} and up while x > τⱼ:
 * with τ strictly increasing that ends at the one j with τⱼ₋₁ < x ≤ τⱼ whatever j₀, so a
 * rough log₂ (a step or two away) gives the exact log₂'s bucket, without its cost.
 */
function bucketOf(table: GridTable, x: number): number {
  const { tau, minExponent, binsPerOctave } = table;
  const top = tau.length - 1;
  const log2 = table.increasing ? roughLog2(x) : Math.log2(x);
  let j = Math.ceil((log2 - minExponent) * binsPerOctave) + 1;
  if (j < 1) j = 1;
  if (j > top + 1) j = top + 1;
  // Correct the guess (or the rounding of log2) against the thresholds themselves.
  while (j > 1 && x <= tau[j - 1]) j--;
  while (j <= top && x > tau[j]) j++;
  return j;
}

/** {@link gridThreshold} on the grid's thresholds τ. */
function thresholdOf(tau: Float64Array, j: number): number {
  if (j < 0) return Number.NEGATIVE_INFINITY;
  if (j >= tau.length) return Number.POSITIVE_INFINITY;
  return tau[j];
}

/** Lower bound of the values of bucket j (0 for bucket 0), on the grid's thresholds τ. */
function bucketLower(tau: Float64Array, j: number): number {
  return j === 0 ? 0 : thresholdOf(tau, j - 1);
}

/** Upper bound of the values of bucket j (0 for bucket 0; +∞ above τ_J). */
function bucketUpper(tau: Float64Array, j: number): number {
  return j === 0 ? 0 : thresholdOf(tau, j);
}

/**
 * The K cut points splitting the bucket range [from, to] (each cut c starts a sub-range;
 * sub-range of bucket b = number of cuts ≤ b). Deterministic: centers and aggregator agree.
 * Bucket 0 (zeros) gets a sub-range of its own, so ties at zero settle at once.
 */
export function gridCuts(
  from: number,
  to: number,
  k: number,
  out: Int32Array,
  offset: number,
): number {
  let n = 0;
  let start = from;
  if (from === 0 && to > 0 && k > 0) {
    out[offset + n++] = 1;
    start = 1;
  }
  const slots = k - n;
  const span = to - start + 1;
  if (span <= slots + 1) {
    for (let b = start + 1; b <= to; b++) out[offset + n++] = b;
  } else {
    for (let j = 1; j <= slots; j++)
      out[offset + n++] = start + Math.floor((span * j) / (slots + 1));
  }
  for (let j = n; j < k; j++) out[offset + j] = to + 1; // padding: empty sub-ranges
  return n;
}

/** Spans above this are located by the cuts themselves, not by {@link gridSubRange}'s division. */
const EXACT_SPAN = 1 << 20;

/**
 * The sub-range of bucket b ∈ [from, to] among {@link gridCuts}(from, to, k): the number of
 * cuts ≤ b, without listing them. The cuts past bucket 0's own are start + 1 … to when the
 * span to − start + 1 is at most slots + 1, else start + ⌊span·j/(slots + 1)⌋, j = 1..slots,
 * of which those ≤ b are the j with span·j < (b − start + 1)(slots + 1): ⌊(that − 1)/span⌋
 * of them (whole numbers far below 2⁵³, the division's rounding never crosses an integer).
 */
export function gridSubRange(from: number, to: number, k: number, b: number): number {
  let n = 0;
  let start = from;
  if (from === 0 && to > 0 && k > 0) {
    if (b < 1) return 0;
    n = 1;
    start = 1;
  }
  const slots = k - n;
  const span = to - start + 1;
  if (span <= slots + 1) return n + (b - start);
  if (span > EXACT_SPAN) {
    let below = 0;
    for (let j = 1; j <= slots; j++) if (start + Math.floor((span * j) / (slots + 1)) <= b) below++;
    return n + below;
  }
  return n + Math.min(slots, Math.floor(((b - start + 1) * (slots + 1) - 1) / span));
}

/** Cut `j` (0-based) of {@link gridCuts}(from, to, k), padding included, without the others. */
export function gridCut(from: number, to: number, k: number, j: number): number {
  let n = 0;
  let start = from;
  if (from === 0 && to > 0 && k > 0) {
    if (j === 0) return 1;
    n = 1;
    start = 1;
  }
  const slots = k - n;
  const span = to - start + 1;
  if (span <= slots + 1) return j - n < to - start ? start + 1 + (j - n) : to + 1;
  return start + Math.floor((span * (j - n + 1)) / (slots + 1));
}

/** A group of a private search: `TrimGroup` plus whether sums are released. */
export interface PrivateTrimGroup extends TrimGroup {
  /** Request atom sums after the counts (false: counts only, e.g. an order statistic). */
  readonly sums: boolean;
}

/** Specification of a private search. */
export interface PrivateTrimSpec {
  readonly table: CellTable;
  readonly genes: number;
  readonly groups: readonly PrivateTrimGroup[];
  /** Centres of squared errors, genes×cells (needed iff a group ranks squared errors). */
  readonly centres?: Float64Array;
  /** Cuts per target and round K (default 7). */
  readonly cuts?: number;
  /** The grid (default {@link DEFAULT_PRIVATE_GRID}). */
  readonly grid?: PrivateGrid;
  /** k: no sum over fewer pooled values (default 3). */
  readonly minCell?: number;
  /** Genes searched (0/1; default all). */
  readonly active?: Uint8Array;
}

const VALUE_CODES: Record<TrimValues, number> = { normalized: 0, counts: 1, "squared-error": 2 };

/** The aggregator's state of a private search. */
export interface PrivateTrimSearch {
  readonly spec: PrivateTrimSpec;
  readonly grid: PrivateGrid;
  readonly cuts: number;
  readonly minCell: number;
  readonly genes: number;
  readonly groupCount: number;
  /**
   * Targets per group T = 2 + 3(k − 1): lo, hi, then extra targets, activated once lo and
   * hi are found, for the values of the atoms below, between and above their buckets that
   * hold 1..k − 1 values (their sums are never released on their own), in rank order.
   */
  readonly targets: number;
  /** Rank of each target (0: inactive slot), genes×G×T. */
  readonly ranks: Float64Array;
  /** Per gene, group and target: first and last bucket of the bracket, genes×G×T×2. */
  readonly brackets: Int32Array;
  /** Values in buckets below the bracket, genes×G×T. */
  readonly below: Float64Array;
  /** Values in the bracket, genes×G×T. */
  readonly inBracket: Float64Array;
  /**
   * Pooled number of values exactly 0 (bucket b₀), genes×G: known from the first counts round,
   * which gives b₀ a sub-range of its own. Zeros add nothing to a sum, so they never count
   * towards the k values a released sum must hold.
   */
  readonly zeros: Float64Array;
  /** 1 once every target of the gene is one bucket (or the gene is inactive), genes. */
  readonly settled: Uint8Array;
  /** Rows of the genes in the last request (−1: not sent). */
  readonly sentRow: Int32Array;
  rounds: number;
}

/** What the aggregator sends each counts round. */
export interface PrivateTrimRequest {
  readonly kind: "cooks-private-trim-request";
  readonly p: number;
  readonly cellRows: Float64Array;
  readonly groups: number;
  /** G×cells, 0/1. */
  readonly groupCells: Uint8Array;
  /** Value kind per group (0 y/s, 1 y, 2 squared error). */
  readonly groupValues: Uint8Array;
  readonly cuts: number;
  readonly grid: PrivateGrid;
  /** Targets per group T. */
  readonly targets: number;
  /** Genes in this round (0/1 per gene); the arrays cover these A genes only. */
  readonly active: Uint8Array;
  /** First and last bucket of each target's bracket (−1, −1: inactive), A×G×T×2. */
  readonly brackets: Int32Array;
  /** Centres of the squared errors, A×cells (empty without such a group). */
  readonly centres: Float64Array;
}

/** A center's reply to a counts round: counts only. */
export interface PrivateTrimShare {
  readonly kind: "cooks-private-trim-share";
  /**
   * Values in each sub-range of each OPEN target's bracket (active, wider than one bucket), in
   * (gene, group, target) order, O×(K+1) ({@link openTargets}): the targets still one bucket
   * wide or inactive are not counted (nothing would be learnt; they would only cost bytes).
   */
  readonly counts: Float64Array;
}

/**
 * The reply blocks of one gene and group's T targets (their brackets at from[first …
 * first + 2T − 1], −1 for an inactive target), into blocks[blocksAt …]: −1 for a target not
 * counted, else its block, numbered on from `next`. A target is counted when open (active and
 * its bracket wider than one bucket); one whose bracket an earlier target of the group has reads
 * that target's block (the same values, the same counts: counted once). The one rule the
 * request's builders and the aggregation share.
 * @returns the next free block
 */
export function groupBlocks(
  from: Int32Array,
  first: number,
  targets: number,
  blocks: Int32Array,
  blocksAt: number,
  next: number,
): number {
  for (let t = 0; t < targets; t++) {
    const b = first + 2 * t;
    let own = -1;
    if (isOpen(from[b], from[b + 1])) {
      for (let e = 0; e < t && own < 0; e++) {
        const earlier = blocks[blocksAt + e];
        if (
          earlier >= 0 &&
          from[first + 2 * e] === from[b] &&
          from[first + 2 * e + 1] === from[b + 1]
        )
          own = earlier;
      }
      if (own < 0) own = next++;
    }
    blocks[blocksAt + t] = own;
  }
  return next;
}

/** Start a private search: the lo and hi brackets are the whole range [0, J+1]. */
export function startPrivateTrimSearch(spec: PrivateTrimSpec): PrivateTrimSearch {
  const grid = spec.grid ?? DEFAULT_PRIVATE_GRID;
  const top = gridThresholdCount(grid) + 1;
  const minCell = spec.minCell ?? 3;
  const targets = 2 + 3 * Math.max(minCell - 1, 0);
  const { genes } = spec;
  const groupCount = spec.groups.length;
  const slots = genes * groupCount * targets;
  const brackets = new Int32Array(slots * 2).fill(-1);
  const inBracket = new Float64Array(slots);
  const ranks = new Float64Array(slots);
  const settled = new Uint8Array(genes);
  for (const [q, group] of spec.groups.entries()) {
    if (!(group.lo >= 1 && group.lo <= group.hi && group.hi <= group.size)) {
      throw new Error(`group ${q}: ranks ${group.lo}..${group.hi} outside 1..${group.size}`);
    }
  }
  if (spec.groups.some((group) => group.values === "squared-error")) {
    if (spec.centres?.length !== genes * spec.table.cells) {
      throw new Error("a squared-error group needs centres for every gene and cell");
    }
  }
  for (let g = 0; g < genes; g++) {
    if (spec.active !== undefined && spec.active[g] !== 1) settled[g] = 1;
    for (let q = 0; q < groupCount; q++) {
      for (let s = 0; s < 2; s++) {
        const i = (g * groupCount + q) * targets + s;
        brackets[i * 2] = 0;
        brackets[i * 2 + 1] = top;
        inBracket[i] = spec.groups[q].size;
        ranks[i] = s === 0 ? spec.groups[q].lo : spec.groups[q].hi;
      }
    }
  }
  return {
    spec,
    grid,
    cuts: spec.cuts ?? 7,
    minCell,
    genes,
    groupCount,
    targets,
    ranks,
    brackets,
    below: new Float64Array(slots),
    inBracket,
    zeros: new Float64Array(genes * groupCount),
    settled,
    sentRow: new Int32Array(genes).fill(-1),
    rounds: 0,
  };
}

/** Is the counts search over (every target one bucket)? */
export function privateTrimSettled(search: PrivateTrimSearch): boolean {
  const { settled } = search;
  for (let g = 0; g < settled.length; g++) if (settled[g] !== 1) return false;
  return true;
}

/** The groups' cells and value codes as a request carries them. */
export function groupArrays(spec: PrivateTrimSpec): {
  groupCells: Uint8Array;
  groupValues: Uint8Array;
} {
  const cells = spec.table.cells;
  const groupCells = new Uint8Array(spec.groups.length * cells);
  spec.groups.forEach((group, q) => {
    groupCells.set(group.cellMask, q * cells);
  });
  return { groupCells, groupValues: Uint8Array.from(spec.groups, (g) => VALUE_CODES[g.values]) };
}

/** The next counts round's request (genes not yet settled only). */
export function privateTrimRequest(search: PrivateTrimSearch): PrivateTrimRequest {
  const { spec, groupCount } = search;
  const { active, brackets, centres } = trimRequestArrays(search);
  return {
    kind: "cooks-private-trim-request",
    p: spec.table.p,
    cellRows: spec.table.rows,
    groups: groupCount,
    ...groupArrays(spec),
    cuts: search.cuts,
    grid: search.grid,
    targets: search.targets,
    active,
    brackets,
    centres,
  };
}

/**
 * The next counts round's genes (`sentRow` set), their brackets (A×G×T×2, −1 for an inactive
 * target) and their centres: {@link privateTrimRequest}'s arrays.
 */
function trimRequestArrays(search: PrivateTrimSearch): {
  readonly active: Uint8Array;
  readonly brackets: Int32Array;
  readonly centres: Float64Array;
} {
  const { groupCount } = search;
  const active = sentGenes(search);
  const count = maskCount(active);
  const width = groupCount * search.targets * 2;
  const brackets = new Int32Array(count * width);
  const from = search.brackets;
  for (let g = 0; g < search.genes; g++) {
    const a = search.sentRow[g];
    if (a >= 0) brackets.set(from.subarray(g * width, (g + 1) * width), a * width);
  }
  return { active, brackets, centres: sentCentres(search, count) };
}

/** The genes of the next counts round (not settled), their rows set in `sentRow`. */
function sentGenes(search: PrivateTrimSearch): Uint8Array {
  const active = new Uint8Array(search.genes);
  let count = 0;
  for (let g = 0; g < search.genes; g++) {
    active[g] = search.settled[g] === 1 ? 0 : 1;
    search.sentRow[g] = active[g] === 1 ? count++ : -1;
  }
  return active;
}

/** The centres of the genes sent (`sentRow`), A×cells (empty without a squared-error group). */
function sentCentres(search: PrivateTrimSearch, count: number): Float64Array {
  const { centres } = search.spec;
  const cells = search.spec.table.cells;
  const out = new Float64Array(centres === undefined ? 0 : count * cells);
  if (centres === undefined) return out;
  for (let g = 0; g < search.genes; g++) {
    const a = search.sentRow[g];
    if (a >= 0) out.set(centres.subarray(g * cells, (g + 1) * cells), a * cells);
  }
  return out;
}

/**
 * A counts round's open targets, as they travel: per sent gene and group, how many of its
 * targets are counted (active, wider than one bucket, and each bracket once: a target whose
 * bracket an earlier one of the gene and group has reads that one's counts; A×G), and the first
 * and last bucket of each counted target's bracket (O×2), in (gene, group, target) order: the
 * order of the reply's blocks. Settled and inactive targets are not sent: a center counts
 * nothing for them ({@link openTargets}).
 */
export interface OpenTargets {
  readonly openTargets: Float64Array;
  readonly brackets: Float64Array;
}

/** Is the target with bracket [from, to] open (active, −1 marking inactive, and wider than one bucket)? */
function isOpen(from: number, to: number): boolean {
  return from >= 0 && from < to;
}

/**
 * The counted targets ({@link groupBlocks}) of brackets laid out A×G×T×2 in `from`, gene `a`'s
 * G·T·2 values starting at `offsets[a]`. One pass numbers every block (kept in a scratch of
 * A×G×T block numbers); the brackets are then read off it.
 */
function compactOpenTargets(
  from: Int32Array,
  offsets: Int32Array,
  groups: number,
  targets: number,
): OpenTargets {
  const genes = offsets.length;
  const openTargets = new Float64Array(genes * groups);
  const blocks = new Int32Array(genes * groups * targets);
  let open = 0;
  for (let a = 0; a < genes; a++) {
    for (let q = 0; q < groups; q++) {
      const gq = a * groups + q;
      const next = groupBlocks(
        from,
        offsets[a] + q * targets * 2,
        targets,
        blocks,
        gq * targets,
        open,
      );
      openTargets[gq] = next - open;
      open = next;
    }
  }
  // New blocks are numbered in their first targets' order: the first target of the next block
  // is the one holding its number (a repeated bracket holds an earlier one).
  const brackets = new Float64Array(open * 2);
  let block = 0;
  for (let a = 0; a < genes; a++) {
    for (let t = 0; t < groups * targets; t++) {
      if (blocks[a * groups * targets + t] !== block) continue;
      const b = offsets[a] + 2 * t;
      brackets[2 * block] = from[b];
      brackets[2 * block + 1] = from[b + 1];
      block++;
    }
  }
  return { openTargets, brackets };
}

/** The open targets of an in-memory request's brackets (A×G×T×2, −1: inactive). */
export function requestOpenTargets(
  request: Pick<PrivateTrimRequest, "brackets" | "groups" | "targets">,
): OpenTargets {
  const width = request.groups * request.targets * 2;
  const offsets = Int32Array.from({ length: request.brackets.length / width }, (_, a) => a * width);
  return compactOpenTargets(request.brackets, offsets, request.groups, request.targets);
}

/**
 * The next counts round as it travels (privateWire.ts): its genes (`sentRow` set), its open
 * targets and its centres, read from the search without building {@link privateTrimRequest}'s
 * brackets first.
 */
export function trimRequestOpenTargets(search: PrivateTrimSearch): {
  readonly active: Uint8Array;
  readonly open: OpenTargets;
  readonly centres: Float64Array;
} {
  const active = sentGenes(search);
  const count = maskCount(active);
  // Where each sent gene's brackets start in the search's (genes × G·T·2).
  const width = search.groupCount * search.targets * 2;
  const offsets = new Int32Array(count);
  for (let g = 0; g < search.genes; g++)
    if (search.sentRow[g] >= 0) offsets[search.sentRow[g]] = g * width;
  const open = compactOpenTargets(search.brackets, offsets, search.groupCount, search.targets);
  return { active, open, centres: sentCentres(search, count) };
}

function localCells(center: CooksCenter, p: number, rows: Float64Array): Int32Array {
  const cells = rows.length / p;
  return sampleCells(center, { p, cells, rows, sizes: new Float64Array(cells), samples: 0 });
}

/** Local step of a counts round: per target, the counts of values in each sub-range. */
export function privateTrimLocalStep(
  center: CooksCenter,
  request: PrivateTrimRequest,
): PrivateTrimShare {
  return trimCountsLocal(center, request, request.grid, requestOpenTargets(request));
}

/** The fields of a counts request the local step reads (as built, or as sent). */
export type TrimCountsFields = Pick<
  PrivateTrimRequest,
  | "p"
  | "cellRows"
  | "groups"
  | "groupCells"
  | "groupValues"
  | "cuts"
  | "targets"
  | "active"
  | "centres"
>;

/**
 * The value kind a group code ranks: 0 y/s, 1 y, 2 squared error (y/s − c)² around its cell's
 * centre c (other codes read as y/s). A sample's value depends on its kind only.
 */
function kindOf(code: number): number {
  return code === 1 || code === 2 ? code : 0;
}

/**
 * {@link privateTrimLocalStep} on the open targets as given ({@link OpenTargets}: the wire's,
 * read in place).
 *
 * Per gene, the open targets (in the reply's block order) and their cuts are listed once; each sample's value and bucket are computed
 * once per value kind (a value depends on the sample and kind only, its cell fixing the centre),
 * and only the open targets of the sample's groups are visited.
 * @param out - where to count (zeros, O×(K+1)): a slice of a whole reply (the gene pool's);
 *   a new array when absent
 */
export function trimCountsLocal(
  center: CooksCenter,
  request: TrimCountsFields,
  grid: PrivateGrid,
  open: OpenTargets,
  out?: Float64Array,
): PrivateTrimShare {
  const { groups, groupCells, groupValues } = request;
  const { openTargets, brackets } = open;
  const k = request.cuts;
  if (request.active.length !== center.genes)
    throw new Error(
      `private trim request for ${request.active.length} genes, center has ${center.genes}`,
    );
  const cellCount = request.cellRows.length / request.p;
  const cellOf = localCells(center, request.p, request.cellRows);
  const activeGenes = maskIndices(request.active);
  const tq = request.targets;
  const width = groups * tq;
  if (openTargets.length !== activeGenes.length * groups)
    throw new Error(
      `private trim request: ${openTargets.length} open-target counts for ${activeGenes.length} genes × ${groups} groups`,
    );
  let targetCount = 0;
  for (let i = 0; i < openTargets.length; i++) {
    if (!(openTargets[i] <= tq)) throw new Error(`private trim request: more than ${tq} targets`);
    targetCount += openTargets[i];
  }
  if (brackets.length !== targetCount * 2)
    throw new Error(
      `private trim request: ${brackets.length} bracket ends for ${targetCount} targets`,
    );
  if (out !== undefined && out.length !== targetCount * (k + 1))
    throw new Error(`private trim counts: ${out.length} slots for ${targetCount * (k + 1)} counts`);
  const counts = out ?? new Float64Array(targetCount * (k + 1));
  const { n } = center;
  // The groups each sample's cell belongs to, and their value kinds.
  const sampleGroups = new Int32Array(n * groups);
  const sampleGroupCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < groups; q++)
      if (groupCells[q * cellCount + cellOf[i]] === 1)
        sampleGroups[i * groups + sampleGroupCount[i]++] = q;
  }
  const kinds = new Int32Array(groups);
  for (let q = 0; q < groups; q++) kinds[q] = kindOf(groupValues[q]);
  const context: TrimCountContext = {
    openTargets,
    brackets,
    counts,
    k,
    groups,
    tq,
    width,
    n,
    values: center.counts,
    sizeFactors: center.sizeFactors,
    centres: request.centres,
    cellOf,
    cellCount,
    sampleGroups,
    sampleGroupCount,
    kinds,
    table: gridTable(grid),
    openOf: new Int32Array(groups),
    openFrom: new Int32Array(width),
    openTo: new Int32Array(width),
    openBlock: new Int32Array(width),
    bucketOfKind: new Int32Array(3),
  };
  let block = 0;
  for (let a = 0; a < activeGenes.length; a++) block = countGene(context, a, activeGenes[a], block);
  return { kind: "cooks-private-trim-share", counts };
}

/** What {@link countGene} reads and fills: the request, the center's data, scratch. */
interface TrimCountContext {
  /** Per sent gene and group, its open targets (A×G). */
  readonly openTargets: Float64Array;
  /** The open targets' first and last buckets (O×2). */
  readonly brackets: Float64Array;
  /** The reply, O×(K+1). */
  readonly counts: Float64Array;
  readonly k: number;
  readonly groups: number;
  readonly tq: number;
  /** Targets per gene G×T. */
  readonly width: number;
  readonly n: number;
  readonly values: Float64Array;
  readonly sizeFactors: Float64Array;
  readonly centres: Float64Array;
  readonly cellOf: Int32Array;
  readonly cellCount: number;
  /** Per sample, the groups holding its cell (n×G, the first `sampleGroupCount[i]`). */
  readonly sampleGroups: Int32Array;
  readonly sampleGroupCount: Int32Array;
  readonly kinds: Int32Array;
  readonly table: GridTable;
  /** Per group, its open targets this gene (at G×T offsets q·T …). */
  readonly openOf: Int32Array;
  readonly openFrom: Int32Array;
  readonly openTo: Int32Array;
  readonly openBlock: Int32Array;
  readonly bucketOfKind: Int32Array;
}

/**
 * Count gene `row` (row `a` of the request) into its open targets' blocks, the first of which
 * is `block`. One call per gene keeps the hot loop in a small function V8 optimises whole.
 * @returns the next gene's first block
 */
function countGene(c: TrimCountContext, a: number, row: number, block: number): number {
  const { openTargets, brackets, counts, k, groups, tq, n, values, sizeFactors } = c;
  const { openOf, openFrom, openTo, openBlock, bucketOfKind, sampleGroups } = c;
  let any = false;
  for (let q = 0; q < groups; q++) {
    const m = openTargets[a * groups + q];
    for (let j = 0; j < m; j++) {
      const o = q * tq + j;
      openFrom[o] = brackets[2 * block];
      openTo[o] = brackets[2 * block + 1];
      openBlock[o] = block++;
    }
    openOf[q] = m;
    if (m > 0) any = true;
  }
  if (!any) return block;
  for (let i = 0; i < n; i++) {
    const y = values[row * n + i];
    bucketOfKind[0] = -1;
    bucketOfKind[1] = -1;
    bucketOfKind[2] = -1;
    for (let e = 0; e < c.sampleGroupCount[i]; e++) {
      const q = sampleGroups[i * groups + e];
      const m = openOf[q];
      if (m === 0) continue;
      const kind = c.kinds[q];
      let bucket = bucketOfKind[kind];
      if (bucket < 0) {
        let x = y;
        if (kind !== 1) {
          x = y / sizeFactors[i];
          if (kind === 2) {
            const centre = c.centres[a * c.cellCount + c.cellOf[i]];
            x = (x - centre) * (x - centre);
          }
        }
        bucket = x > 0 ? bucketOf(c.table, x) : 0;
        bucketOfKind[kind] = bucket;
      }
      for (let o = q * tq; o < q * tq + m; o++) {
        const from = openFrom[o];
        const to = openTo[o];
        if (bucket < from || bucket > to) continue;
        counts[openBlock[o] * (k + 1) + gridSubRange(from, to, k, bucket)] += 1;
      }
    }
  }
  return block;
}

/**
 * Aggregate a counts round: sum the shares, move each target to the sub-range holding its
 * rank. @returns true once every target is one bucket.
 * @throws when the pooled counts contradict the bracket (a center answered another request)
 */
export function privateTrimAggregateStep(
  search: PrivateTrimSearch,
  shares: readonly PrivateTrimShare[],
): boolean {
  search.rounds += 1;
  const replies = nonZeroCounts(shares);
  let shortest = Number.POSITIVE_INFINITY;
  for (const counts of replies) shortest = Math.min(shortest, counts.length);
  const round: CountsRound = {
    replies,
    shortest,
    bucket: new Float64Array(search.cuts + 1),
    blocks: new Int32Array(search.groupCount * search.targets),
    scratch: newAtoms(),
  };
  // The reply's blocks follow the request's counted targets in (gene, group, target) order
  // (groupBlocks, on the brackets as sent: a gene's are read before any is narrowed, and
  // targets activated below belong to a gene already past). One call per gene: small
  // functions V8 compiles once with the feedback of many genes, where one function over every
  // gene was compiled on the first round's loop and again each time a branch was first taken.
  let block = 0;
  for (let g = 0; g < search.genes; g++) {
    if (search.sentRow[g] >= 0) block = narrowGene(search, round, g, block);
  }
  checkCountsLength(shares, block * (search.cuts + 1), block);
  if (search.rounds > 64) throw new Error("private trimmed-mean search unfinished after 64 rounds");
  return privateTrimSettled(search);
}

/** What every gene of a counts round reads: the non-zero replies and scratch arrays. */
interface CountsRound {
  readonly replies: readonly Float64Array[];
  /** The shortest reply's length. */
  readonly shortest: number;
  /** The pooled counts of one target's k + 1 sub-ranges. */
  readonly bucket: Float64Array;
  /** Each of a gene's targets' block in the replies (−1: not counted). */
  readonly blocks: Int32Array;
  readonly scratch: Atoms;
}

/**
 * Narrow gene g's targets to the sub-ranges holding their ranks (its blocks from `block`), and
 * once its lo and hi are found, start locating the values of its small atoms.
 * @returns the next gene's first block
 */
function narrowGene(
  search: PrivateTrimSearch,
  round: CountsRound,
  g: number,
  block: number,
): number {
  const { groupCount, brackets, below, inBracket, ranks, targets } = search;
  const k = search.cuts;
  const { replies, shortest, bucket, blocks } = round;
  let next = block;
  for (let q = 0; q < groupCount; q++) {
    const first = (g * groupCount + q) * targets * 2;
    next = groupBlocks(brackets, first, targets, blocks, q * targets, next);
  }
  let all = true;
  for (let t = 0; t < groupCount * targets; t++) {
    const i = g * groupCount * targets + t;
    const own = blocks[t];
    if (ranks[i] === 0 || own < 0) continue;
    const from = brackets[i * 2];
    const to = brackets[i * 2 + 1];
    const base = own * (k + 1);
    if (shortest < base + k + 1) {
      const short = replies.find((counts) => counts.length < base + k + 1);
      throw new Error(`a center's counts end at ${short?.length}: another request`);
    }
    for (let j = 0; j <= k; j++) bucket[j] = 0;
    for (let c = 0; c < replies.length; c++) {
      const counts = replies[c];
      for (let j = 0; j <= k; j++) bucket[j] += counts[base + j];
    }
    let total = 0;
    for (let j = 0; j <= k; j++) total += bucket[j];
    if (total !== inBracket[i]) {
      throw new Error(
        `gene ${g}: the centers hold ${total} values in a bracket of ${inBracket[i]}`,
      );
    }
    // Only the lo target's first bracket, the whole range, starts at b₀ while wider than one
    // bucket (b₀ is its first sub-range; later brackets holding b₀ are b₀ alone).
    if (from === 0 && t % targets === 0) search.zeros[g * groupCount + t / targets] = bucket[0];
    let acc = below[i];
    let j = 0;
    while (acc + bucket[j] < ranks[i]) acc += bucket[j++];
    // gridCuts(from, to, k)[j − 1] and [j], the sub-range's bounds.
    const start = j === 0 ? from : gridCut(from, to, k, j - 1);
    const end = j === k ? to : Math.min(gridCut(from, to, k, j) - 1, to);
    below[i] = acc;
    inBracket[i] = bucket[j];
    brackets[i * 2] = start;
    brackets[i * 2 + 1] = end;
    if (start !== end) all = false;
  }
  if (all && !locateSmallAtoms(search, g, round.scratch)) all = false;
  if (all) search.settled[g] = 1;
  return next;
}

/**
 * Gene g's lo and hi found: locate one by one the values of the atoms below, between and above
 * their buckets that hold 1..k−1 values (their sums are never released on their own). A
 * counts-only group (an order statistic) releases no sum: its few extreme values are not
 * located (that would place single samples' values to a bucket for nothing).
 * @returns whether every target of the gene is one bucket (no value left to locate)
 */
function locateSmallAtoms(search: PrivateTrimSearch, g: number, scratch: Atoms): boolean {
  const { groupCount, brackets, below, inBracket, ranks, targets } = search;
  let all = true;
  for (let q = 0; q < groupCount; q++) {
    const i = (g * groupCount + q) * targets;
    if (ranks[i + 2] !== 0 || targets <= 2 || !search.spec.groups[q].sums) continue;
    const { starts, ends, counts, positive } = atoms(search, g, q, scratch);
    let slot = i + 2;
    let rank = 0;
    for (let j = 0; j < 5; j++) {
      // An atom's zeros (b₀) are known; its positive values are located.
      const c = positive[j];
      const zeros = counts[j] - c;
      if ((j === 0 || j === 2 || j === 4) && c > 0 && c < search.minCell) {
        const from = zeros > 0 ? Math.max(starts[j], 1) : starts[j];
        for (let e = 0; e < c; e++) {
          ranks[slot] = rank + zeros + e + 1;
          brackets[slot * 2] = from;
          brackets[slot * 2 + 1] = ends[j];
          below[slot] = rank + zeros;
          inBracket[slot] = c;
          if (from !== ends[j]) all = false;
          slot++;
        }
      }
      rank += counts[j];
    }
  }
  return all;
}

/**
 * The shares' counts, but the pooled runtime's zero vectors (they add nothing to whole-number
 * counts). Shares come in several shapes (local, decoded, pooled): read here, in a function of
 * their own, they leave {@link privateTrimAggregateStep} one kind of array to optimise for,
 * which V8 otherwise recompiled for each new shape (16 times in an outliers_sim run).
 */
function nonZeroCounts(shares: readonly PrivateTrimShare[]): Float64Array[] {
  const out: Float64Array[] = [];
  for (const share of shares) if (!isPooledZero(share.counts)) out.push(share.counts);
  return out;
}

/** Every share has `expected` counts (the open targets' `blocks`), else which one. */
function checkCountsLength(
  shares: readonly PrivateTrimShare[],
  expected: number,
  blocks: number,
): void {
  for (const share of shares) {
    if (share.counts.length !== expected)
      throw new Error(`a center sent ${share.counts.length} counts for ${blocks} open targets`);
  }
}

/** Sum slots per gene and group: the five atoms, then the union of the small atoms. */
export const SUM_SLOTS = 6;

/** The sums round's request: per gene and group, the atoms and which of them are summed. */
export interface PrivateSumRequest {
  readonly kind: "cooks-private-sum-request";
  readonly p: number;
  readonly cellRows: Float64Array;
  readonly groups: number;
  readonly groupCells: Uint8Array;
  readonly groupValues: Uint8Array;
  readonly grid: PrivateGrid;
  /** Genes in this round (0/1 per gene). */
  readonly active: Uint8Array;
  /** Per active gene and group, the first buckets of atoms 1..4 (atom 0 starts at 0), A×G×4. */
  readonly boundaries: Int32Array;
  /**
   * Per active gene, group and atom, the sum slot its values go to: the atom's own (0..4)
   * when it holds ≥ k pooled non-zero values, 5 (the union of the small atoms) when it holds
   * 1..k−1 and the small atoms hold ≥ k together, −1 (not summed) otherwise
   * ({@link atomSlots}). A×G×5.
   */
  readonly atomSlots: Int8Array;
  readonly centres: Float64Array;
}

/** A center's reply to the sums round: per gene, group and slot, a sum. A×G×6. */
export interface PrivateSumShare {
  readonly kind: "cooks-private-sum-share";
  readonly sums: Float64Array;
}

/** The five atoms of a target pair: their bucket ranges and pooled counts (all and non-zero). */
interface Atoms {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly counts: Float64Array;
  readonly positive: Float64Array;
}

function newAtoms(): Atoms {
  return {
    starts: new Int32Array(5),
    ends: new Int32Array(5),
    counts: new Float64Array(5),
    positive: new Float64Array(5),
  };
}

/** The five atoms of a target pair, their pooled counts and bucket ranges, into `out`. */
function atoms(search: PrivateTrimSearch, g: number, q: number, out: Atoms): Atoms {
  const top = gridThresholdCount(search.grid) + 1;
  const i = (g * search.groupCount + q) * search.targets;
  const fLo = search.brackets[i * 2];
  const fHi = search.brackets[(i + 1) * 2];
  const size = search.spec.groups[q].size;
  const b1 = fLo;
  const b2 = fLo + 1;
  const b3 = Math.max(fHi, b2);
  const b4 = Math.max(fHi + 1, b3);
  const { starts, ends, counts, positive } = out;
  starts[0] = 0;
  starts[1] = b1;
  starts[2] = b2;
  starts[3] = b3;
  starts[4] = b4;
  ends[0] = b1 - 1;
  ends[1] = b2 - 1;
  ends[2] = b3 - 1;
  ends[3] = b4 - 1;
  ends[4] = top;
  const c0 = search.below[i];
  const c1 = search.inBracket[i];
  const distinct = fHi > fLo;
  const c3 = distinct ? search.inBracket[i + 1] : 0;
  const c2 = distinct ? search.below[i + 1] - c0 - c1 : 0;
  const c4 = size - c0 - c1 - c2 - c3;
  counts[0] = c0;
  counts[1] = c1;
  counts[2] = c2;
  counts[3] = c3;
  counts[4] = c4;
  // The pooled zeros lie in the atom holding b₀ (atom 0, or atom 1 when b_lo is b₀).
  positive.set(counts);
  const zeroAtom = b1 === 0 ? 1 : 0;
  positive[zeroAtom] -= search.zeros[g * search.groupCount + q];
  return out;
}

/**
 * The sum slot of each atom from its pooled number of NON-ZERO values (zeros add nothing to
 * a sum, so an atom of two zeros and one count would release that count: they never count
 * towards k):
 *
 * - an atom of ≥ k non-zero values: its own slot;
 * - atoms of 1..k−1 ("small": each is b_lo or b_hi, one grid bucket wide, or its values are
 *   located one bucket each by the extra targets): together in slot 5 when they hold ≥ k
 *   non-zero values together, else not summed. A small atom never joins an atom of ≥ k,
 *   whose own sum would then mix in a value known only to its bucket.
 *
 * So every released sum holds ≥ k non-zero values and the slots are disjoint: any
 * combination of them is a sum over ≥ k non-zero values or none. A small atom left out costs
 * no precision, only the group's exact total (then not released).
 */
export function atomSlots(nonZero: readonly number[], k: number): number[] {
  let small = 0;
  for (const c of nonZero) if (c > 0 && c < k) small += c;
  return nonZero.map((c, j) => (c >= k ? j : c > 0 && small >= k ? 5 : -1));
}

/** {@link atomSlots} of the five atoms, written to `out` from `offset`. */
function atomSlotsInto(nonZero: Float64Array, k: number, out: Int8Array, offset: number): void {
  let small = 0;
  for (let j = 0; j < 5; j++) {
    const c = nonZero[j];
    if (c > 0 && c < k) small += c;
  }
  for (let j = 0; j < 5; j++) {
    const c = nonZero[j];
    out[offset + j] = c >= k ? j : c > 0 && small >= k ? 5 : -1;
  }
}

/** The sums round's request (call once the counts search is settled). */
export function privateSumRequest(search: PrivateTrimSearch): PrivateSumRequest {
  const { spec, groupCount } = search;
  const cells = spec.table.cells;
  const active = new Uint8Array(search.genes);
  let count = 0;
  for (let g = 0; g < search.genes; g++) {
    const on = spec.active === undefined || spec.active[g] === 1;
    active[g] = on ? 1 : 0;
    search.sentRow[g] = on ? count++ : -1;
  }
  const boundaries = new Int32Array(count * groupCount * 4);
  const slots = new Int8Array(count * groupCount * 5).fill(-1);
  const centres = new Float64Array(spec.centres === undefined ? 0 : count * cells);
  const scratch = newAtoms();
  for (let g = 0; g < search.genes; g++) {
    const a = search.sentRow[g];
    if (a < 0) continue;
    if (spec.centres !== undefined)
      for (let c = 0; c < cells; c++) centres[a * cells + c] = spec.centres[g * cells + c];
    for (let q = 0; q < groupCount; q++) {
      const { starts, positive } = atoms(search, g, q, scratch);
      for (let j = 1; j < 5; j++) boundaries[(a * groupCount + q) * 4 + j - 1] = starts[j];
      if (!spec.groups[q].sums) continue;
      atomSlotsInto(positive, search.minCell, slots, (a * groupCount + q) * 5);
    }
  }
  return {
    kind: "cooks-private-sum-request",
    p: spec.table.p,
    cellRows: spec.table.rows,
    groups: groupCount,
    ...groupArrays(spec),
    grid: search.grid,
    active,
    boundaries,
    atomSlots: slots,
    centres,
  };
}

/** Local step of the sums round: per gene, group and slot, the sum of the slot's values. */
export function privateSumLocalStep(
  center: CooksCenter,
  request: PrivateSumRequest,
): PrivateSumShare {
  const { groups, groupCells, groupValues, boundaries, centres, grid } = request;
  const slots = request.atomSlots;
  const cellCount = request.cellRows.length / request.p;
  const cellOf = localCells(center, request.p, request.cellRows);
  const activeGenes = maskIndices(request.active);
  const sums = new Float64Array(activeGenes.length * groups * SUM_SLOTS);
  const { n, sizeFactors } = center;
  const values = center.counts;
  const table = gridTable(grid);
  const kinds = new Int32Array(groups);
  for (let q = 0; q < groups; q++) kinds[q] = kindOf(groupValues[q]);
  // A sample's value and bucket per value kind (its cell fixes the centre), once per gene.
  const valueOfKind = new Float64Array(3);
  const bucketOfKind = new Int32Array(3);
  for (let a = 0; a < activeGenes.length; a++) {
    const row = activeGenes[a];
    for (let i = 0; i < n; i++) {
      const cell = cellOf[i];
      const y = values[row * n + i];
      bucketOfKind[0] = -1;
      bucketOfKind[1] = -1;
      bucketOfKind[2] = -1;
      for (let q = 0; q < groups; q++) {
        if (groupCells[q * cellCount + cell] !== 1) continue;
        const gq = a * groups + q;
        const kind = kinds[q];
        let bucket = bucketOfKind[kind];
        let x = valueOfKind[kind];
        if (bucket < 0) {
          x = y;
          if (kind !== 1) {
            x = y / sizeFactors[i];
            if (kind === 2) {
              const centre = centres[a * cellCount + cell];
              x = (x - centre) * (x - centre);
            }
          }
          bucket = x > 0 ? bucketOf(table, x) : 0;
          valueOfKind[kind] = x;
          bucketOfKind[kind] = bucket;
        }
        let atom = 0;
        for (let j = 0; j < 4; j++) if (boundaries[gq * 4 + j] <= bucket) atom = j + 1;
        const slot = slots[gq * 5 + atom];
        if (slot >= 0) sums[gq * SUM_SLOTS + slot] += x;
      }
    }
  }
  return { kind: "cooks-private-sum-share", sums };
}

/** The estimates of a finished private search. */
export interface PrivateTrimEstimates {
  /** Trimmed means (midpoint of the bound), genes×G (NaN: inactive gene). */
  readonly means: Float64Array;
  /** Error bound of each mean (half-width), genes×G. */
  readonly bounds: Float64Array;
  /** Exact pooled sum of each group's values when the slots cover every value (else NaN), genes×G. */
  readonly totals: Float64Array;
  /** Midpoint estimate of each group's sum (exact where `totals` is), genes×G. */
  readonly totalEstimates: Float64Array;
  /** Bucket index holding each target (x₍lo₎, x₍hi₎), genes×G×2. */
  readonly targetBuckets: Int32Array;
}

/**
 * Combine the counts search and the sums into the trimmed means and their bounds (without
 * `request`/`sumShares`, or for a group without sums: counts only).
 */
export function privateTrimEstimates(
  search: PrivateTrimSearch,
  request?: PrivateSumRequest,
  sumShares?: readonly PrivateSumShare[],
): PrivateTrimEstimates {
  const { genes, groupCount, grid } = search;
  const means = new Float64Array(genes * groupCount).fill(Number.NaN);
  const bounds = new Float64Array(genes * groupCount).fill(Number.NaN);
  const totals = new Float64Array(genes * groupCount).fill(Number.NaN);
  const totalEstimates = new Float64Array(genes * groupCount).fill(Number.NaN);
  const targetBuckets = new Int32Array(genes * groupCount * 2);
  const keptLo = new Float64Array(SUM_SLOTS + 1);
  const keptHi = new Float64Array(SUM_SLOTS + 1);
  const trimLo = new Float64Array(SUM_SLOTS + 1);
  const trimHi = new Float64Array(SUM_SLOTS + 1);
  const sums = new Float64Array(SUM_SLOTS);
  const scratch = newAtoms();
  const slotOf = new Int32Array(5);
  const used = new Uint8Array(SUM_SLOTS);
  // Sums of non-negative values: the pooled runtime's zero vectors add nothing, and are not read.
  const replies =
    sumShares === undefined
      ? []
      : sumShares.map((share) => share.sums).filter((sums) => !isPooledZero(sums));
  const tau = thresholds(grid);
  for (let g = 0; g < genes; g++) {
    const on = search.spec.active === undefined || search.spec.active[g] === 1;
    for (let q = 0; q < groupCount; q++) {
      const gq = g * groupCount + q;
      const i = gq * search.targets;
      targetBuckets[gq * 2] = search.brackets[i * 2];
      targetBuckets[gq * 2 + 1] = search.brackets[(i + 1) * 2];
      if (!on) continue;
      const group = search.spec.groups[q];
      const { starts, ends, counts, positive } = atoms(search, g, q, scratch);
      const a = request === undefined || sumShares === undefined ? -1 : search.sentRow[g];
      slotOf.fill(-1);
      used.fill(0);
      sums.fill(0);
      if (a >= 0) {
        for (let j = 0; j < 5; j++) {
          slotOf[j] = request!.atomSlots[(a * groupCount + q) * 5 + j];
          if (slotOf[j] >= 0) used[slotOf[j]] = 1;
        }
        for (let c = 0; c < replies.length; c++)
          for (let s = 0; s < SUM_SLOTS; s++)
            sums[s] += replies[c][(a * groupCount + q) * SUM_SLOTS + s];
      }
      // Bounds of the kept and trimmed values per slot (index SUM_SLOTS: not summed).
      keptLo.fill(0);
      keptHi.fill(0);
      trimLo.fill(0);
      trimHi.fill(0);
      let rank = 0;
      let extra = i + 2; // the extra targets, in rank order
      for (let j = 0; j < 5; j++) {
        const c = counts[j];
        if (c === 0) continue;
        const zeros = c - positive[j];
        const lb = bucketLower(tau, starts[j]);
        const ub = bucketUpper(tau, ends[j]);
        const s = slotOf[j] >= 0 ? slotOf[j] : SUM_SLOTS;
        for (let r = rank + 1; r <= rank + c; r++) {
          let vl = lb;
          let vu = ub;
          if (r <= rank + zeros) {
            vl = 0;
            vu = 0;
          } else if (extra < i + search.targets && search.ranks[extra] === r) {
            const b = search.brackets[extra * 2];
            vl = bucketLower(tau, b);
            vu = bucketUpper(tau, b);
            extra++;
          }
          if (r >= group.lo && r <= group.hi) {
            keptLo[s] += vl;
            keptHi[s] += vu;
          } else {
            trimLo[s] += vl;
            trimHi[s] += vu;
          }
        }
        rank += c;
      }
      let lower = keptLo[SUM_SLOTS];
      let upper = keptHi[SUM_SLOTS];
      let totalLo = keptLo[SUM_SLOTS] + trimLo[SUM_SLOTS];
      let totalHi = keptHi[SUM_SLOTS] + trimHi[SUM_SLOTS];
      for (let s = 0; s < SUM_SLOTS; s++) {
        let lo = keptLo[s];
        let hi = keptHi[s];
        if (used[s] === 1) {
          // The released sum is a double: each center's running sum of ≤ n non-negative
          // values, then the exact sum over centers, is within n·ε of the true sum (a large
          // trimmed value beside tiny kept ones would otherwise move the bound by that much).
          const slack = group.size * Number.EPSILON * Math.abs(sums[s]);
          lo = Math.max(lo, sums[s] - trimHi[s] - slack);
          hi = Math.min(hi, sums[s] - trimLo[s] + slack);
          if (hi < lo) lo = hi = (lo + hi) / 2; // rounding of the sums
          totalLo += sums[s];
          totalHi += sums[s];
        }
        lower += lo;
        upper += hi;
      }
      const kept = group.hi - group.lo + 1;
      if (upper === Number.POSITIVE_INFINITY) {
        means[gq] = lower / kept;
        bounds[gq] = Number.POSITIVE_INFINITY;
      } else {
        means[gq] = (lower + upper) / 2 / kept;
        bounds[gq] = (upper - lower) / 2 / kept;
      }
      if (totalLo === totalHi) totals[gq] = totalLo;
      totalEstimates[gq] = (totalLo + totalHi) / 2;
    }
  }
  return { means, bounds, totals, totalEstimates, targetBuckets };
}

/**
 * Whether the groups of a pass keep every sum over ≥ k samples across groups: true when the
 * samples outside the robust cells (cells of < 3) are none or ≥ k (otherwise the all-samples
 * group's sums minus the cells' sums isolate those few samples).
 */
export function privateGroupsSafe(
  table: CellTable,
  robustCells: Uint8Array,
  minCell: number,
): boolean {
  let rest = 0;
  for (let c = 0; c < table.cells; c++) if (robustCells[c] !== 1) rest += table.sizes[c];
  return rest === 0 || rest >= minCell;
}

/** Bucket bounds (lower, upper] of bucket j of the grid (exported for the Cook's rule). */
export function gridBucketBounds(grid: PrivateGrid, j: number): [number, number] {
  if (j === 0) return [Number.NEGATIVE_INFINITY, 0];
  return [gridThreshold(grid, j - 1), gridThreshold(grid, j)];
}
