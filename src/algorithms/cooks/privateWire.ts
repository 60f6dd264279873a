/**
 * The private Cook's requests as flat records (a kind plus typed arrays and scalars, what the
 * step registry declares and every transport carries): the public grid as three numbers,
 * bucket indices as whole-number arrays (sent in 1, 2 or 4 bytes each), sum slots as bytes.
 * Each conversion is exact, so a center rebuilds the very request the aggregator made.
 */
import type { CooksCenter } from "./center.js";
import type { ReplacedRows, ReplaceShare } from "./cooks.js";
import {
  type PrivateCooksRequest,
  type PrivateCooksShare,
  privateCooksLocalStep,
  privateReplaceLocal,
} from "./privateCooks.js";
import {
  groupArrays,
  type PrivateGrid,
  type PrivateSumRequest,
  type PrivateTrimRequest,
  type PrivateTrimSearch,
  type PrivateTrimShare,
  trimCountsLocal,
  trimRequestArrays,
} from "./privateTrimmedMean.js";

/** The grid's three numbers, as they travel. */
interface GridFields {
  /** Buckets per doubling D. */
  readonly binsPerOctave: number;
  /** Lowest positive threshold 2^minExponent. */
  readonly minExponent: number;
  /** Highest threshold 2^maxExponent. */
  readonly maxExponent: number;
}

/** A counts round's request as sent (step `cooksPrivateTrim`). */
export interface PrivateTrimWire extends GridFields {
  readonly kind: "cooks-private-trim-request";
  readonly p: number;
  readonly cellRows: Float64Array;
  readonly groups: number;
  readonly groupCells: Uint8Array;
  readonly groupValues: Uint8Array;
  readonly cuts: number;
  readonly targets: number;
  readonly active: Uint8Array;
  /** Each target's first and last bucket index plus one (0: inactive target), A×G×T×2. */
  readonly brackets: Float64Array;
  readonly centres: Float64Array;
}

/** A sums round's request as sent (step `cooksPrivateSums`). */
export interface PrivateSumWire extends GridFields {
  readonly kind: "cooks-private-sum-request";
  readonly p: number;
  readonly cellRows: Float64Array;
  readonly groups: number;
  readonly groupCells: Uint8Array;
  readonly groupValues: Uint8Array;
  readonly active: Uint8Array;
  /** First bucket of atoms 1..4 per active gene and group, A×G×4. */
  readonly boundaries: Float64Array;
  /** Sum slot of each atom plus one (0: not summed), A×G×5. */
  readonly atomSlots: Uint8Array;
  readonly centres: Float64Array;
}

function gridFields(grid: PrivateGrid): GridFields {
  return {
    binsPerOctave: grid.binsPerOctave,
    minExponent: grid.minExponent,
    maxExponent: grid.maxExponent,
  };
}

function gridOf(wire: GridFields): PrivateGrid {
  return {
    binsPerOctave: wire.binsPerOctave,
    minExponent: wire.minExponent,
    maxExponent: wire.maxExponent,
  };
}

/** A counts round's request as sent. */
export function privateTrimToWire(request: PrivateTrimRequest): PrivateTrimWire {
  const { grid, brackets, ...rest } = request;
  const shifted = new Float64Array(brackets.length);
  for (let i = 0; i < brackets.length; i++) shifted[i] = brackets[i] + 1;
  return { ...rest, ...gridFields(grid), brackets: shifted };
}

/**
 * The next counts round's request as sent: {@link privateTrimToWire} of `privateTrimRequest`,
 * field for field and in the same order, with the brackets written shifted at once.
 */
export function privateTrimWireRequest(search: PrivateTrimSearch): PrivateTrimWire {
  const { spec } = search;
  const { active, brackets, centres } = trimRequestArrays(search, Float64Array, 1);
  return {
    kind: "cooks-private-trim-request",
    p: spec.table.p,
    cellRows: spec.table.rows,
    groups: search.groupCount,
    ...groupArrays(spec),
    cuts: search.cuts,
    targets: search.targets,
    active,
    centres,
    ...gridFields(search.grid),
    brackets,
  };
}

/** The counts round's request a center received. */
export function privateTrimFromWire(wire: PrivateTrimWire): PrivateTrimRequest {
  const { binsPerOctave: _d, minExponent: _lo, maxExponent: _hi, brackets, ...rest } = wire;
  const out = new Int32Array(brackets.length);
  for (let i = 0; i < brackets.length; i++) out[i] = brackets[i] - 1;
  return { ...rest, grid: gridOf(wire), brackets: out };
}

/**
 * A center's local step on the counts round's request as received: `privateTrimLocalStep` of
 * {@link privateTrimFromWire}'s request, reading the sent brackets in place (no copy).
 */
export function privateTrimWireLocalStep(
  center: CooksCenter,
  wire: PrivateTrimWire,
): PrivateTrimShare {
  return trimCountsLocal(center, wire, gridOf(wire), wire.brackets, 1);
}

/** A sums round's request as sent. */
export function privateSumToWire(request: PrivateSumRequest): PrivateSumWire {
  const { grid, boundaries, atomSlots, ...rest } = request;
  const slots = new Uint8Array(atomSlots.length);
  for (let i = 0; i < atomSlots.length; i++) slots[i] = atomSlots[i] + 1;
  return {
    ...rest,
    ...gridFields(grid),
    boundaries: Float64Array.from(boundaries),
    atomSlots: slots,
  };
}

/** The sums round's request a center received. */
export function privateSumFromWire(wire: PrivateSumWire): PrivateSumRequest {
  const {
    binsPerOctave: _d,
    minExponent: _lo,
    maxExponent: _hi,
    boundaries,
    atomSlots,
    ...rest
  } = wire;
  const slots = new Int8Array(atomSlots.length);
  for (let i = 0; i < atomSlots.length; i++) slots[i] = atomSlots[i] - 1;
  return { ...rest, grid: gridOf(wire), boundaries: Int32Array.from(boundaries), atomSlots: slots };
}

/**
 * The private Cook's round's reply (step `cooksPrivate`): the counts of {@link PrivateCooksShare}
 * and the replacement's two sums (`ReplaceShare` of cooks.ts), all per gene and summed over the
 * centers. The request travels as {@link PrivateCooksRequest} itself (already flat).
 */
export interface PrivateCooksRoundShare extends Omit<PrivateCooksShare, "kind"> {
  readonly kind: "cooks-private-round-share";
  /** Counts the center replaced, per gene. */
  readonly replacedEntries: Float64Array;
  /** Σ y/s over all its samples after replacement, per gene. */
  readonly replacedNormalizedSum: Float64Array;
}

/**
 * Local step of the private Cook's round: the counts above the cutoff and, with the same
 * request, the replacement, whose replaced counts stay at the center (`counts`, the refit's).
 */
export function privateCooksRoundLocal(
  center: CooksCenter,
  request: PrivateCooksRequest,
): { readonly replaced: ReplacedRows; readonly share: PrivateCooksRoundShare } {
  const { kind: _, ...above } = privateCooksLocalStep(center, request);
  const replacement = privateReplaceLocal(center, request);
  return {
    replaced: replacement.replaced,
    share: {
      kind: "cooks-private-round-share",
      ...above,
      replacedEntries: replacement.share.replacedEntries,
      replacedNormalizedSum: replacement.share.replacedNormalizedSum,
    },
  };
}

/** The round's replies split into what `aggregatePrivateCooks` reads. */
export function splitPrivateCooksShares(shares: readonly PrivateCooksRoundShare[]): {
  readonly cooks: PrivateCooksShare[];
  readonly replace: ReplaceShare[];
} {
  return {
    cooks: shares.map((s) => ({
      kind: "cooks-private-share",
      aboveEligible: s.aboveEligible,
      nanEligible: s.nanEligible,
      aboveKept: s.aboveKept,
      nanKept: s.nanKept,
      aboveAll: s.aboveAll,
      aboveAllFilter: s.aboveAllFilter,
      aboveLowCount: s.aboveLowCount,
      aboveHighCount: s.aboveHighCount,
    })),
    replace: shares.map((s) => ({
      kind: "cooks-replace-share",
      replacedEntries: s.replacedEntries,
      replacedNormalizedSum: s.replacedNormalizedSum,
    })),
  };
}
