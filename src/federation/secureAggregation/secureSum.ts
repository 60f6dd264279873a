/**
 * The secure-sum layer's core, independent of any transport: a center turns its values for the
 * summed fields of one request into masked ring vectors ({@link maskShare}); the aggregator adds
 * the masked vectors of all centers and decodes the sums ({@link unmaskSum}). Each masked vector
 * alone is uniformly distributed on (Z/2^128)^length, whatever the values; only the sum over
 * every center of the federation is meaningful, as the pairwise masks cancel in it and nowhere
 * else (no subset of centers' shares sums to anything but noise).
 */
import { SecureAggregationError } from "./errors.js";
import {
  decodeFixed,
  decodeSplit,
  encodeFixed,
  RING_WORDS,
  ringAdd,
  ringAdd3Into,
  ringAddInto,
  ringAddSigned2,
  ringLength,
} from "./fixedPoint.js";
import type { PairSecrets } from "./keyAgreement.js";
import {
  applyMasks,
  type MaskLabel,
  maskStream,
  type PairMask,
  type RingMaskJob,
  runMaskJob,
  type SplitEncoding,
  type SplitMaskJob,
  type SplitRings,
} from "./masks.js";

/**
 * A field summed over centers in fixed point with the public scale 2^scaleExponent (a protocol
 * constant per field kind, e.g. from `scaleExponentFor(bound, maxCenters)`).
 */
export interface SumField {
  readonly name: string;
  readonly kind?: "sum";
  readonly scaleExponent: number;
}

/**
 * A 0/1 field combined by "or" that reveals only the "or": a center with a 1 contributes a
 * uniformly random ring element, with a 0 nothing; the sum is 0 exactly when no center has a 1
 * (but for a 2^-128 chance per element that random elements cancel). Unlike a count
 * ({@link countField}), it does not tell how many centers had a 1.
 */
export interface OrField {
  readonly name: string;
  readonly kind: "or";
}

/** A field declared for secure summation. */
export type SummedField = SumField | OrField;

/** The request a share answers: every center of the federation must use the same tag. */
export interface SecureSumTag {
  readonly runId: string;
  readonly phase: string;
  readonly step: string;
  readonly round: number;
  /**
   * Digest of the request's content as the center received it (e.g. hex SHA-256 of its
   * canonical bytes). Centers sent different requests under one tag then mask with streams that
   * do not cancel, so an aggregator cannot obtain partial sums by varying what it sends.
   */
  readonly request?: string;
}

/** A center's masked share: one ring vector (4 words per element) per summed field. */
export type MaskedShare = Record<string, Uint32Array>;

/** A count of centers (sum of 0/1 per center, exact: scale 2^0). Reveals how many had a 1. */
export function countField(name: string): SumField {
  return { name, scaleExponent: 0 };
}

/** 0/1 flags as values of a count field (or of an "or" field). */
export function encodeCount(flags: ArrayLike<boolean | number>): Float64Array {
  const out = new Float64Array(flags.length);
  for (let i = 0; i < flags.length; i++) out[i] = flags[i] ? 1 : 0;
  return out;
}

/** The "or" of flags from their count over centers (or from an "or" field's decoded sum). */
export function decodeOr(sums: Float64Array): Uint8Array {
  const out = new Uint8Array(sums.length);
  for (let i = 0; i < sums.length; i++) out[i] = sums[i] !== 0 ? 1 : 0;
  return out;
}

function checkFields(fields: readonly SummedField[]): void {
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) throw new SecureAggregationError(`field "${f.name}" declared twice`);
    seen.add(f.name);
  }
}

function notFlag(field: string, index: number, flag: number): SecureAggregationError {
  return new SecureAggregationError(`"or" field "${field}"[${index}]: ${flag} is not 0 or 1`);
}

/**
 * Uniformly random ring elements (drawn from the center's own secret for `label`) where
 * `flags` is 1, zero where it is 0; an element drawn as zero (probability 2^-128) becomes 1.
 */
function encodeOr(flags: ArrayLike<number>, own: Uint8Array, label: MaskLabel): Uint32Array {
  const out = maskStream(own, { ...label, field: `or:${label.field}` });
  for (let i = 0, k = 0; i < flags.length; i++, k += RING_WORDS) {
    const flag = flags[i];
    if (flag !== 0 && flag !== 1) throw notFlag(label.field, i, flag);
    if (flag === 0) {
      out[k] = out[k + 1] = out[k + 2] = out[k + 3] = 0;
    } else if ((out[k] | out[k + 1] | out[k + 2] | out[k + 3]) === 0) {
      out[k] = 1;
    }
  }
  return out;
}

/**
 * A center's masked share of `values` for `tag`: for each declared field, encode(values) +
 * Σ_{j>self} mask(self, j) − Σ_{j<self} mask(j, self). Deterministic for a given request and
 * pair secrets ("or" fields included), so a resent reply is the same bytes and reveals nothing
 * new.
 */
export function maskShare(
  pairs: PairSecrets,
  tag: SecureSumTag,
  fields: readonly SummedField[],
  values: Readonly<Record<string, ArrayLike<number>>>,
): MaskedShare {
  checkFields(fields);
  checkPairs(pairs, tag);
  const n = pairs.centers.length;
  const out: MaskedShare = {};
  for (const field of fields) {
    const v = values[field.name];
    if (v === undefined) throw new SecureAggregationError(`no values for field "${field.name}"`);
    const label = fieldLabel(tag, field.name, v.length);
    let ring: Uint32Array;
    if (field.kind === "or") {
      ring = encodeOr(v, pairs.own, label);
    } else {
      if (!(v instanceof Float64Array)) {
        throw new SecureAggregationError(`field "${field.name}": values must be a Float64Array`);
      }
      ring = encodeFixed(v, field.scaleExponent, n, field.name);
    }
    addPairMasks(pairs, label, ring);
    out[field.name] = ring;
  }
  return out;
}

/** Each pair's mask and sign for this center: + mask(self, j) for j > self, − mask(j, self) below. */
function pairMasks(pairs: PairSecrets): PairMask[] {
  const masks: PairMask[] = [];
  for (let j = 0; j < pairs.centers.length; j++) {
    if (j === pairs.selfIndex) continue;
    const secret = pairs.secrets[j];
    if (secret === null || secret === undefined) {
      throw new SecureAggregationError(`no pair secret with center "${pairs.centers[j]}"`);
    }
    masks.push({ secret, sign: pairs.selfIndex < j ? 1 : -1 });
  }
  return masks;
}

/** ring ← ring + Σ_{j>self} mask(self, j) − Σ_{j<self} mask(j, self) for `label`. */
function addPairMasks(pairs: PairSecrets, label: MaskLabel, ring: Uint32Array): void {
  applyMasks(ring, pairMasks(pairs), label);
}

/** Refuse pair secrets of another run, or a federation too small to mask in. */
function checkPairs(pairs: PairSecrets, tag: SecureSumTag): void {
  if (tag.runId !== pairs.runId) {
    throw new SecureAggregationError(
      `request for run "${tag.runId}" but pair secrets of run "${pairs.runId}"`,
    );
  }
  if (pairs.centers.length < 2) {
    throw new SecureAggregationError("secure aggregation needs at least 2 centers");
  }
}

/** The mask label of `field` (of `length` elements) in the request of `tag`. */
function fieldLabel(tag: SecureSumTag, field: string, length: number): MaskLabel {
  return {
    runId: tag.runId,
    phase: tag.phase,
    step: tag.step,
    round: tag.round,
    request: tag.request ?? "",
    field,
    length,
  };
}

/**
 * Mask a ring vector the caller encoded itself (e.g. small counts packed several to an
 * element), in place, under the label of `tag` and `field`; the masks cancel in the sum over
 * every center's vector for the same tag and field ({@link sumRings}).
 */
export function maskRing(
  pairs: PairSecrets,
  tag: SecureSumTag,
  field: string,
  ring: Uint32Array,
): Uint32Array {
  return runMaskJob(ringMaskJob(pairs, tag, field, ring)).ring;
}

/** What {@link maskRing} does, as plain data (maskThread.ts): its ring is masked in place. */
export function ringMaskJob(
  pairs: PairSecrets,
  tag: SecureSumTag,
  field: string,
  ring: Uint32Array,
): RingMaskJob {
  checkPairs(pairs, tag);
  return {
    kind: "ring",
    ring,
    masks: pairMasks(pairs),
    label: fieldLabel(tag, field, ringLength(ring)),
  };
}

/**
 * What masking a split field takes ({@link encodeSplitMasked}'s arguments): its coarse part
 * masked under the label of `encoding.field`, its fine part under that of `encoding.fineField`,
 * exactly as {@link maskRing} of each part of {@link encodeSplitFixed} would mask them. Plain
 * data, so that another thread may run it (maskThread.ts).
 */
export function splitMaskJob(
  pairs: PairSecrets,
  tag: SecureSumTag,
  encoding: SplitEncoding,
): SplitMaskJob {
  checkPairs(pairs, tag);
  const length = encoding.values.length;
  return {
    kind: "split",
    encoding,
    masks: pairMasks(pairs),
    coarseLabel: fieldLabel(tag, encoding.field, length),
    fineLabel: fieldLabel(tag, encoding.fineField, length),
  };
}

/** A split field's masked ring vectors: {@link runMaskJob} of its {@link splitMaskJob}. */
export function maskSplitField(
  pairs: PairSecrets,
  tag: SecureSumTag,
  encoding: SplitEncoding,
): SplitRings {
  return runMaskJob(splitMaskJob(pairs, tag, encoding));
}

/** The rings of `field` in every share, all of one length (share 0's). */
function fieldRings(field: string, shares: readonly Readonly<MaskedShare>[]): Uint32Array[] {
  if (shares.length < 2) {
    throw new SecureAggregationError(`${shares.length} shares: secure sums need at least 2`);
  }
  const first = shares[0][field];
  if (first === undefined) throw new SecureAggregationError(`share 0 lacks "${field}"`);
  const rings: Uint32Array[] = [first];
  for (let c = 1; c < shares.length; c++) {
    const share = shares[c][field];
    if (share === undefined || share.length !== first.length) {
      throw new SecureAggregationError(
        `share ${c} of "${field}": ${share === undefined ? "missing" : `${ringLength(share)} elements`}, expected ${ringLength(first)}`,
      );
    }
    rings.push(share);
  }
  return rings;
}

/**
 * acc ← Σ rings[c] over words [from, to) of each (acc holds to − from words): the first two or
 * three in one pass, then the rest two at a time.
 */
function sumWords(acc: Uint32Array, rings: readonly Uint32Array[], from: number, to: number) {
  const part = (c: number) => rings[c].subarray(from, to);
  let c: number;
  if (rings.length === 2) {
    ringAddInto(acc, part(0), part(1));
    c = 2;
  } else {
    ringAdd3Into(acc, part(0), part(1), part(2));
    c = 3;
  }
  for (; c + 1 < rings.length; c += 2) ringAddSigned2(acc, part(c), 1, part(c + 1), 1);
  if (c < rings.length) ringAdd(acc, part(c));
}

/** The ring sum of one field over every center's masked vector (the masks cancel). */
export function sumRings(field: string, shares: readonly Readonly<MaskedShare>[]): Uint32Array {
  const rings = fieldRings(field, shares);
  // Into a fresh vector: the shares are left as received.
  const acc = new Uint32Array(rings[0].length);
  sumWords(acc, rings, 0, acc.length);
  return acc;
}

/** Elements per chunk of {@link sumSplitRings}: two 64 KiB ring sums, which stay in cache. */
const SUM_CHUNK = 4096;
const SUM_COARSE = new Uint32Array(SUM_CHUNK * RING_WORDS);
const SUM_FINE = new Uint32Array(SUM_CHUNK * RING_WORDS);

/**
 * The decoded sums of a split field over every center's masked parts (`field` its coarse part,
 * `fineField` its fine part): {@link decodeSplit} of the {@link sumRings} of each part, chunk by
 * chunk: the same doubles, each chunk's ring sums in cache where the whole sums were written
 * to fresh memory and read back.
 */
export function sumSplitRings(
  field: string,
  fineField: string,
  shares: readonly Readonly<MaskedShare>[],
  scaleExponent: number,
  fineExponent: number,
): Float64Array {
  const coarse = fieldRings(field, shares);
  const fine = fieldRings(fineField, shares);
  if (fine[0].length !== coarse[0].length) {
    throw new SecureAggregationError(
      `"${fineField}" has ${ringLength(fine[0])} elements, "${field}" ${ringLength(coarse[0])}`,
    );
  }
  const length = ringLength(coarse[0]);
  const out = new Float64Array(length);
  for (let start = 0; start < length; start += SUM_CHUNK) {
    const n = Math.min(SUM_CHUNK, length - start);
    const from = start * RING_WORDS;
    const to = from + n * RING_WORDS;
    const coarseSum = SUM_COARSE.subarray(0, n * RING_WORDS);
    const fineSum = SUM_FINE.subarray(0, n * RING_WORDS);
    sumWords(coarseSum, coarse, from, to);
    sumWords(fineSum, fine, from, to);
    decodeSplit(coarseSum, scaleExponent, fineSum, fineExponent, out.subarray(start, start + n));
  }
  return out;
}

/**
 * The aggregator's side: the sums over centers of every declared field, from the masked shares
 * of *all* the federation's centers (any missing share leaves uniform noise, not a sum). Sum
 * fields decode to the correctly rounded float64 of the exact fixed-point sum; "or" fields to 0/1.
 */
export function unmaskSum(
  fields: readonly SummedField[],
  shares: readonly Readonly<MaskedShare>[],
): Record<string, Float64Array> {
  checkFields(fields);
  if (shares.length < 2) {
    throw new SecureAggregationError(`${shares.length} shares: secure sums need at least 2`);
  }
  const out: Record<string, Float64Array> = {};
  for (const field of fields) {
    const acc = sumRings(field.name, shares);
    const length = ringLength(acc);
    if (field.kind === "or") {
      const or = new Float64Array(length);
      for (let i = 0, k = 0; i < length; i++, k += RING_WORDS) {
        or[i] = (acc[k] | acc[k + 1] | acc[k + 2] | acc[k + 3]) !== 0 ? 1 : 0;
      }
      out[field.name] = or;
    } else {
      out[field.name] = decodeFixed(acc, field.scaleExponent);
    }
  }
  return out;
}
