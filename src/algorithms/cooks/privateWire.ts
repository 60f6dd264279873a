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
  requestOpenTargets,
  trimCountsLocal,
  trimRequestOpenTargets,
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
  readonly centres: Float64Array;
  /** Per active gene and group, how many of its targets are open (A×G; {@link OpenTargets}). */
  readonly openTargets: Float64Array;
  /** The open targets' first and last bucket indices, O×2, in (gene, group, target) order. */
  readonly brackets: Float64Array;
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

/** The grid a request's fields name. */
export function gridOf(wire: GridFields): PrivateGrid {
  return {
    binsPerOctave: wire.binsPerOctave,
    minExponent: wire.minExponent,
    maxExponent: wire.maxExponent,
  };
}

/** A counts round's request as sent: its open targets only ({@link requestOpenTargets}). */
export function privateTrimToWire(request: PrivateTrimRequest): PrivateTrimWire {
  const { grid, brackets: _, ...rest } = request;
  return { ...rest, ...gridFields(grid), ...requestOpenTargets(request) };
}

/**
 * The next counts round's request as sent: {@link privateTrimToWire} of `privateTrimRequest`,
 * field for field and in the same order, with the open targets read from the search at once.
 */
export function privateTrimWireRequest(search: PrivateTrimSearch): PrivateTrimWire {
  const { spec } = search;
  const { active, open, centres } = trimRequestOpenTargets(search);
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
    ...open,
  };
}

/**
 * The counts round's request a center received, as a {@link PrivateTrimRequest}: each gene and
 * group's open targets first (in the order sent, the reply's), the others inactive (−1): the
 * settled targets are not sent, and nothing is counted for them.
 */
export function privateTrimFromWire(wire: PrivateTrimWire): PrivateTrimRequest {
  const {
    binsPerOctave: _d,
    minExponent: _lo,
    maxExponent: _hi,
    openTargets,
    brackets,
    ...rest
  } = wire;
  const { groups, targets } = wire;
  const out = new Int32Array(openTargets.length * targets * 2).fill(-1);
  let o = 0;
  for (let i = 0; i < openTargets.length; i++) {
    for (let j = 0; j < openTargets[i]; j++) {
      const b = (i * targets + j) * 2;
      out[b] = brackets[o++];
      out[b + 1] = brackets[o++];
    }
  }
  if (o !== brackets.length || openTargets.length % groups !== 0)
    throw new Error("counts request: open targets and brackets disagree");
  return { ...rest, grid: gridOf(wire), brackets: out };
}

/**
 * A center's local step on the counts round's request as received: `privateTrimLocalStep` of
 * {@link privateTrimFromWire}'s request, reading the sent open targets in place (no copy).
 */
export function privateTrimWireLocalStep(
  center: CooksCenter,
  wire: PrivateTrimWire,
): PrivateTrimShare {
  return trimCountsLocal(center, wire, gridOf(wire), wire);
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
