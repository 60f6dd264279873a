/**
 * Secure aggregation as one layer between the algorithms and every transport (in-process,
 * worker threads, gRPC), in the manner of Flower's SecAgg+ mod: the transports only carry its
 * messages (key announcements, their relay, and masked replies); what is masked, how, and how
 * the aggregator recovers the sums is decided here, once, from the step registry.
 *
 * Key agreement, once per run before its first step ({@link agreeKeys}): the aggregator asks
 * every center for its signed ephemeral key ({@link SecureCenter.announce}), relays all the
 * announcements to every center, and each center verifies every peer's (certificate signed by
 * the federation CA, common name = center name, signature over run, center, federation and key)
 * and derives its pair secrets ({@link SecureCenter.agree}); a failed check refuses the run,
 * naming the center whose key failed. A center keeps its secrets in memory for the run and
 * writes nothing secret to disk: a restarted center has none, and the gRPC aggregator then runs
 * the key agreement again with every center and asks the current request again (every center's
 * masks change, so no share of the old and new agreements can be combined).
 *
 * Center side ({@link SecureCenter.protect}): every reply field whose reduction is "sum" is
 * encoded in fixed point at the field's public scale (from its bound in the registry and at
 * most {@link MAX_SECURE_CENTERS} centers) and masked; "or" fields (0/1 masks) are masked so
 * that the sum reveals only the OR. Fields of kind "f64" may hold NaN or ±∞ (markers the
 * algorithms use): such a value is encoded as 0 and counted in a companion ring vector
 * `nonfinite:<field>`, one 32-bit word per value (NaN, +∞, −∞ counts in its three low bytes),
 * masked like the rest; the aggregator restores IEEE semantics from the counts (NaN if any
 * center had NaN or both infinities occur, else ±∞). The masks' label binds the run id, the
 * phase, the step, the round and a SHA-256 of the request as the center received it
 * ({@link requestDigest}). Every other reduction (max, argmax, union, concat, perCenter, same,
 * unused) travels in clear ({@link CLEAR_REDUCTIONS}).
 *
 * Aggregator side ({@link SecureAggregator.open}): the ring vectors of all centers are summed
 * (the masks cancel) and decoded. The algorithms are untouched: every aggregate function sums a
 * summed field over the shares in federation order (`sumOverCenters`, or a loop from 0), so the
 * layer hands them the first center's share holding the pooled sum and the other centers'
 * shares holding zeros there (0 + S + 0 … = S exactly, "or": S | 0 … = S); the fields in clear
 * are each center's own.
 */

import type { KeyObject } from "node:crypto";
import { sharedPooledZeroVector } from "../../algorithms/shares.js";
import { InputError } from "../../core/errors.js";
import type { FieldKind, RecordSchema } from "../records.js";
import {
  BOUNDS,
  MAX_SECURE_CENTERS,
  type Reduction,
  STEPS,
  secureCentersProblem,
} from "../registry.js";
import { requestDigest } from "../requestDigest.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../steps.js";
import { authenticateReply, checkReplyAuthenticator, replyFingerprint } from "./authentication.js";
import { FixedPointError, SecureAggregationError } from "./errors.js";
import {
  decodeFixed,
  decodeSplit,
  RING_WORDS,
  ringLength,
  scaleExponentFor,
} from "./fixedPoint.js";
import {
  createEphemeralKey,
  derivePairSecrets,
  type EphemeralKey,
  type FederationTrust,
  federationCenters,
  type KeyAnnouncement,
  type PairSecrets,
} from "./keyAgreement.js";
import type { MaskedRing } from "./masks.js";
import { inlineMasker, type Masker } from "./maskThread.js";
import {
  type MaskedShare,
  maskShare,
  ringMaskJob,
  type SecureSumTag,
  type SummedField,
  splitMaskJob,
  sumRings,
  sumSplitRings,
} from "./secureSum.js";

export { MAX_SECURE_CENTERS };

/** The reductions whose fields still travel in clear (issue [11] redesigns them away). */
export const CLEAR_REDUCTIONS: readonly Reduction[] = [
  "max",
  "argmax",
  "union",
  "concat",
  "perCenter",
  "same",
  "unused",
];

/** Name of the companion vector counting a "f64" field's non-finite values. */
export function nonFiniteName(field: string): string {
  return `nonfinite:${field}`;
}

/**
 * Name of the companion vector holding a split field's remainders (every summed field but the
 * whole numbers, registry `wholeNumbers`): each value x travels as h = x rounded to the field's
 * scale 2^−e, and x − h (exact in float64) at the scale 2^−(121+e). Every float64 with
 * |x| ≥ 2^−(69+e) is then carried exactly, and the aggregator decodes the two ring sums together
 * into the correctly rounded exact sum ({@link decodeSplit}): the double the clear run's
 * `poolSums` (pooledSums.ts) gives.
 */
export function fineName(field: string): string {
  return `fine:${field}`;
}

/** How one reply field travels under secure aggregation. */
export interface SecuredField {
  readonly name: string;
  readonly reduction: "sum" | "or";
  /** The field's kind in the reply record. */
  readonly kind: FieldKind;
  /** Fixed-point scale exponent (sum fields; 0 for "or"). */
  readonly scaleExponent: number;
  /** The public bound on one center's |value| (sum fields; 1 for "or"). */
  readonly bound: number;
  /** The field may hold NaN or ±∞: a companion vector counts them. */
  readonly nonFinite: boolean;
  /** Scale exponent of the remainders of a split field (all but whole numbers), else null. */
  readonly fineExponent: number | null;
  /**
   * A "counts" field whose bound lets 64 centers' sum fit 32 bits: one 32-bit lane per value,
   * four values to a ring element (4 bytes a value instead of 16).
   */
  readonly packed: boolean;
}

/** Largest bound of a packed counts field: 64 centers' sum stays below 2^32. */
const PACKED_BOUND = 2 ** 32 / MAX_SECURE_CENTERS;

const securedCache = new Map<StepName, readonly SecuredField[]>();

/** The fields of a step's reply that secure aggregation masks, in the reply's declared order. */
export function securedFields(step: StepName): readonly SecuredField[] {
  const cached = securedCache.get(step);
  if (cached !== undefined) return cached;
  const spec = STEPS[step];
  const kinds = spec.reply.fields as Record<string, FieldKind>;
  const reductions = spec.reductions as Record<string, Reduction>;
  const bounds = (spec.bounds ?? {}) as Record<string, number | undefined>;
  const whole = new Set<string>((spec.wholeNumbers ?? []) as readonly string[]);
  const out: SecuredField[] = [];
  for (const [name, kind] of Object.entries(kinds)) {
    const reduction = reductions[name];
    if (reduction === "or") {
      if (kind !== "mask") throw new SecureAggregationError(`${step}.${name}: "or" of a ${kind}`);
      out.push({
        name,
        reduction,
        kind,
        scaleExponent: 0,
        bound: 1,
        nonFinite: false,
        fineExponent: null,
        packed: false,
      });
    } else if (reduction === "sum") {
      const bound = bounds[name];
      if (bound === undefined) {
        throw new SecureAggregationError(`${step}.${name}: summed field without a bound`);
      }
      if (kind !== "f64" && kind !== "finite" && kind !== "counts" && kind !== "number") {
        throw new SecureAggregationError(`${step}.${name}: cannot sum a ${kind}`);
      }
      const scaleExponent = scaleExponentFor(bound, MAX_SECURE_CENTERS);
      out.push({
        name,
        reduction,
        kind,
        scaleExponent,
        bound,
        nonFinite: kind === "f64",
        fineExponent:
          kind === "counts" || whole.has(name)
            ? null
            : scaleExponentFor(2 ** -(scaleExponent + 1), MAX_SECURE_CENTERS),
        packed: kind === "counts" && bound < PACKED_BOUND,
      });
    }
  }
  securedCache.set(step, out);
  return out;
}

/** The fields maskShare encodes and masks (packed and split fields are encoded by protect). */
function summed(fields: readonly SecuredField[]): SummedField[] {
  const out: SummedField[] = [];
  for (const f of fields) {
    if (f.packed || f.fineExponent !== null) continue;
    if (f.reduction === "or") {
      out.push({ name: f.name, kind: "or" });
      continue;
    }
    out.push({ name: f.name, kind: "sum", scaleExponent: f.scaleExponent });
  }
  return out;
}

// ---- the request digest ----

// ---- what a center sends ----

/**
 * A center's reply as it travels under secure aggregation: the fields in clear (the record's
 * `kind` included) and, per secured field, its masked ring vector as bytes (16 per element,
 * little-endian), plus the companion `nonfinite:<field>` vectors of "f64" fields.
 */
export interface ProtectedReply {
  readonly clear: Record<string, unknown>;
  readonly masked: Record<string, Uint8Array>;
  /**
   * Per peer (by name), the center's HMAC of this reply under the pair's key
   * (authentication.ts): a peer given the reply by the aggregator knows it is the center's own.
   */
  readonly authenticators?: Readonly<Record<string, Uint8Array>>;
}

/**
 * Every center's reply to one request, as the aggregator received them (federation order): what
 * the aggregator relays with its next request so that each center can check the sums it was
 * given (verifiedRequests.ts).
 */
export interface RoundEvidence {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly replies: readonly ProtectedReply[];
}

/**
 * The replies relayed to one center with the next request: every other center's as the
 * aggregator received them, and null at the recipient's own place. A center holds the reply it
 * sent and adds that one: relaying it back would cost a reply's bytes per center and round, and
 * could only be checked against what the center holds anyway.
 */
export interface RelayedEvidence {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly replies: readonly (ProtectedReply | null)[];
}

/** What the aggregator relays to the center at place `recipient` (federation order). */
export function relayedTo(evidence: RoundEvidence, recipient: number): RelayedEvidence {
  return {
    tag: evidence.tag,
    step: evidence.step,
    replies: evidence.replies.map((reply, c) => (c === recipient ? null : reply)),
  };
}

function bytesOf(ring: Uint32Array): Uint8Array {
  return new Uint8Array(ring.buffer, ring.byteOffset, ring.byteLength);
}

function ringOf(bytes: Uint8Array, what: string): Uint32Array {
  if (bytes.byteLength % (RING_WORDS * 4) !== 0) {
    throw new SecureAggregationError(
      `${what}: ${bytes.byteLength} bytes is not whole ring elements`,
    );
  }
  if (bytes.byteOffset % 4 === 0) {
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  return new Uint32Array(new Uint8Array(bytes).buffer); // one copy, aligned
}

/**
 * Refuse a value beyond its field's public bound, whatever the headroom a small federation
 * leaves. NaN and ±∞ aside: "f64" fields count them in their companion vector (an NLL is +∞
 * where a point's μ overflows, as L-BFGS-B's trial points reach with a covariate such as age),
 * "finite" fields are refused by the encoder.
 */
function checkBound(step: StepName, f: SecuredField, v: unknown): void {
  const nonFinite = f.nonFinite;
  if (v instanceof Float64Array) {
    // One monomorphic loop over the vector; the error is built outside it.
    const bound = f.bound;
    for (let i = 0; i < v.length; i++) {
      const xi = v[i];
      if ((xi > bound || xi < -bound) && !(nonFinite && xi - xi !== 0))
        throw beyondPublicBound(step, f, i, xi);
    }
    return;
  }
  const x = typeof v === "number" ? [v] : (v as ArrayLike<number>);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if ((xi > f.bound || xi < -f.bound) && !(nonFinite && xi - xi !== 0))
      throw beyondPublicBound(step, f, i, xi);
  }
}

function beyondPublicBound(step: StepName, f: SecuredField, i: number, xi: number) {
  // The information and moment sums grow with the square of the design's values: a covariate
  // of large values (a time in seconds, a depth in reads) is the likely cause, and the remedy.
  const designSum = f.bound === BOUNDS.information || f.bound === BOUNDS.moment;
  const why = `the field's public bound ${f.bound} (registry.ts): refused rather than wrapped${designSum ? "; these sums grow with the square of the design's values: centre and scale a covariate of large values" : ""}`;
  return new FixedPointError(
    f.name,
    i,
    `${step}: |${xi}| is beyond ${why}`,
    `${step}: a value beyond ${why}`,
  );
}

/** Refuse a fraction in a whole-number field (it travels unsplit, exact only for integers). */
function checkWhole(step: StepName, f: SecuredField, v: unknown): void {
  if (v instanceof Float64Array) {
    for (let i = 0; i < v.length; i++) {
      const xi = v[i];
      // Number.isInteger: finite (x − x is 0) and its own floor.
      if (xi - xi !== 0 || Math.floor(xi) !== xi) throw notWhole(step, f, i, xi);
    }
    return;
  }
  const x = typeof v === "number" ? [v] : (v as ArrayLike<number>);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isInteger(x[i])) throw notWhole(step, f, i, x[i]);
  }
}

function notWhole(step: StepName, f: SecuredField, i: number, xi: number) {
  return new FixedPointError(
    f.name,
    i,
    `${step}: ${xi} in a whole-number field`,
    `${step}: a fraction in a whole-number field`,
  );
}

/** A reply {@link SecureCenter.beginProtect} began: `finish()` gives it. */
export interface PendingReply {
  finish(): ProtectedReply;
}

const NAN = 1;
const POS = 1 << 8;
const NEG = 1 << 16;

/** A center's credentials for signing its ephemeral keys (its TLS client certificate and key). */
export interface CenterCredentials {
  readonly certificate: string;
  readonly key: string | KeyObject;
}

/** A center's side of secure aggregation: its ephemeral key and pair secrets for the run. */
export class SecureCenter {
  readonly name: string;
  readonly #credentials: CenterCredentials;
  readonly #trust: FederationTrust;
  #key: EphemeralKey | null = null;
  #pairs: PairSecrets | null = null;
  /**
   * The fingerprint of every reply masked under the current pair secrets, by mask label (run,
   * phase, round, step, request digest): a label never masks two different replies.
   */
  readonly #sent = new Map<string, Buffer>();
  /**
   * The last reply this center made, by its mask label: what it adds for itself to the replies
   * relayed with the next request ({@link checkEvidence}), which never carry its own.
   */
  #lastReply: { readonly key: string; readonly reply: ProtectedReply } | null = null;

  constructor(name: string, credentials: CenterCredentials, trust: FederationTrust) {
    this.name = name;
    this.#credentials = credentials;
    this.#trust = trust;
  }

  /** Make a new ephemeral key for run `runId` among `centers` and return its announcement. */
  announce(runId: string, centers: readonly string[]): KeyAnnouncement {
    this.#pairs = null;
    this.#sent.clear();
    this.#lastReply = null;
    this.#key = createEphemeralKey(runId, this.name, centers, this.#credentials);
    return this.#key.announcement;
  }

  /**
   * Verify every center's announcement and derive the pair secrets.
   * @throws KeySubstitutionError naming the center whose key failed
   */
  agree(runId: string, announcements: readonly KeyAnnouncement[]): void {
    const key = this.#key;
    if (key === null || key.announcement.runId !== runId) {
      throw new SecureAggregationError(`${this.name}: no key announced for run "${runId}"`);
    }
    this.#pairs = derivePairSecrets(key, announcements, this.#trust);
  }

  /** The centers of the key agreement for `runId` (null: none for that run). */
  agreedCenters(runId: string): readonly string[] | null {
    return this.#pairs !== null && this.#pairs.runId === runId ? this.#pairs.centers : null;
  }

  /**
   * The public key this center agreed on (for `runId` if given; "" when it holds no pair
   * secrets, or none for that run).
   */
  agreedKey(runId?: string): string {
    return this.#pairs !== null && (runId === undefined || this.#pairs.runId === runId)
      ? (this.#key?.announcement.publicKey ?? "")
      : "";
  }

  /**
   * The reply to send for `output`: secured fields masked, the others in clear.
   * @param request - the request's digest without per-center fields (requestDigest.ts), when
   *   the caller already has it (e.g. CenterSession.sharedRequestDigest); computed otherwise
   * @throws FixedPointError naming the field when a value cannot be encoded (beyond its bound,
   *   or NaN/±∞ in a field declared finite)
   */
  protect<K extends StepName>(
    tag: RequestTag,
    step: K,
    input: StepInput<K>,
    output: StepOutput<K>,
    request: string = requestDigest(tag, step, input, { perCenterFields: false }),
  ): ProtectedReply {
    return this.beginProtect(tag, step, output, request, inlineMasker).finish();
  }

  /**
   * {@link protect} in two halves: this one checks and masks every field, the vectors it
   * encodes itself by `masker` (maskThread.ts: possibly on another thread, while this one goes
   * on); the reply's `finish()` takes them, fingerprints the reply and authenticates it. The
   * same reply as {@link protect}'s, byte for byte.
   * @param request - the request's digest without per-center fields (requestDigest.ts)
   * @throws FixedPointError naming the field when a value cannot be encoded (here, or from
   *   `finish()` for a split field's value)
   */
  beginProtect<K extends StepName>(
    tag: RequestTag,
    step: K,
    output: StepOutput<K>,
    request: string,
    masker: Masker,
  ): PendingReply {
    const pairs = this.#pairs;
    if (pairs === null || pairs.runId !== tag.runId) {
      throw new SecureAggregationError(
        `${this.name}: no key agreement for run "${tag.runId}": secure aggregation cannot mask this reply`,
      );
    }
    const fields = securedFields(step);
    const values = output as unknown as Record<string, unknown>;
    const clear: Record<string, unknown> = {};
    const secured = new Set(fields.map((f) => f.name));
    for (const [name, value] of Object.entries(values)) if (!secured.has(name)) clear[name] = value;
    const sumTag: SecureSumTag = {
      runId: tag.runId,
      phase: tag.phase,
      step,
      round: tag.round,
      request,
    };
    const plain: Record<string, ArrayLike<number>> = {};
    // Ring vectors encoded here rather than by maskShare, masked by `masker` and taken (with
    // their digests) by finish(): packed counts, non-finite counts, and both parts of every
    // split field (encoded and masked in one pass).
    const encodedHere: [string, () => MaskedRing][] = [];
    for (const f of fields) {
      const v = values[f.name];
      if (f.reduction === "sum") checkBound(step, f, v);
      if (f.reduction === "sum" && f.fineExponent === null) checkWhole(step, f, v);
      if (f.packed) {
        const x = v as Float64Array;
        const lanes = new Uint32Array(Math.ceil(x.length / RING_WORDS) * RING_WORDS);
        lanes.set(x); // whole numbers 0 … bound (checked by the record and the bound)
        encodedHere.push([f.name, masker.submit(ringMaskJob(pairs, sumTag, f.name, lanes))]);
        continue;
      }
      let x: ArrayLike<number>;
      if (f.kind === "number") {
        x = Float64Array.of(v as number);
      } else if (f.nonFinite) {
        const given = v as Float64Array;
        let finite = given;
        const counts = new Uint32Array(Math.ceil(given.length / RING_WORDS) * RING_WORDS);
        for (let i = 0; i < given.length; i++) {
          const xi = given[i];
          if (xi - xi === 0) continue;
          if (finite === given) finite = given.slice();
          finite[i] = 0;
          counts[i] = Number.isNaN(xi) ? NAN : xi > 0 ? POS : NEG;
        }
        x = finite;
        const countsName = nonFiniteName(f.name);
        encodedHere.push([
          countsName,
          masker.submit(ringMaskJob(pairs, sumTag, countsName, counts)),
        ]);
      } else {
        x = v as ArrayLike<number>;
      }
      if (f.fineExponent === null) {
        plain[f.name] = x;
      } else {
        // Split (x = h + (x − h), fineName's note), encoded and masked in one streaming pass
        // straight into the two ring vectors, by the masker.
        const take = masker.submit(
          splitMaskJob(pairs, sumTag, {
            values: x as Float64Array,
            scaleExponent: f.scaleExponent,
            fineExponent: f.fineExponent,
            centers: pairs.centers.length,
            field: f.name,
            fineField: fineName(f.name),
          }),
        );
        encodedHere.push(
          [f.name, () => ({ ring: take().coarse, digest: take().coarseDigest })],
          [fineName(f.name), () => ({ ring: take().fine, digest: take().fineDigest })],
        );
      }
    }
    const rings: MaskedShare = maskShare(pairs, sumTag, summed(fields), plain);
    return {
      finish: () => {
        const masked: Record<string, Uint8Array> = {};
        for (const f of fields) {
          if (f.packed || f.fineExponent !== null) continue;
          masked[f.name] = bytesOf(rings[f.name]);
        }
        // Their digests were computed as they were masked.
        const digests = new Map<string, Uint8Array>();
        for (const [name, take] of encodedHere) {
          const { ring, digest } = take();
          masked[name] = bytesOf(ring);
          digests.set(name, digest);
        }
        // Two different replies masked under one label would give their difference away to
        // whoever holds both (e.g. an aggregator that asks again after changing what the
        // center holds).
        const fingerprint = replyFingerprint(step, { clear, masked }, digests);
        const key = sentKey(tag, step, request);
        const before = this.#sent.get(key);
        if (before !== undefined && !before.equals(fingerprint)) {
          throw new SecureAggregationError(
            `${this.name}: refusing to mask a reply to ${step} (${tag.phase} round ${tag.round}) other than the one it already sent for the same request: the two would give their difference away`,
          );
        }
        this.#sent.set(key, fingerprint);
        const label = { tag, step, request, sender: this.name };
        const authenticators = authenticateReply(pairs, label, fingerprint);
        const reply = { clear, masked, authenticators };
        this.#lastReply = { key, reply };
        return reply;
      },
    };
  }

  /**
   * Check the replies the aggregator relays to a request this center answered (`request`: that
   * request's digest without per-center fields): each peer's must carry its authenticator for
   * this center, and none may stand at this center's own place, which takes the reply this
   * center sent. Returns every center's reply, its own included, for its replay to add.
   * @throws SecureAggregationError naming the center whose reply fails
   */
  checkEvidence(evidence: RelayedEvidence, request: string): RoundEvidence {
    const pairs = this.#pairs;
    if (pairs === null || pairs.runId !== evidence.tag.runId) {
      throw new SecureAggregationError(
        `${this.name}: no key agreement for run "${evidence.tag.runId}": the relayed replies cannot be checked`,
      );
    }
    if (evidence.replies.length !== pairs.centers.length) {
      throw new SecureAggregationError(
        `${evidence.replies.length} replies relayed for ${pairs.centers.length} centers`,
      );
    }
    const { tag, step } = evidence;
    const round = `${step} (${tag.phase} round ${tag.round})`;
    const declared = new Set(["kind", ...Object.keys(clearSchema(step).fields)]);
    const replies = evidence.replies.map((reply, c) => {
      const sender = pairs.centers[c];
      if (c === pairs.selfIndex) {
        if (reply !== null) {
          throw new SecureAggregationError(
            `a reply was relayed as this center's own to ${round}: a center's own reply is never relayed back, it adds the one it sent`,
          );
        }
        const own = this.#lastReply;
        if (own === null || own.key !== sentKey(tag, step, request)) {
          throw new SecureAggregationError(
            `this center holds no reply of its own to ${round} (its last reply answered another request)`,
          );
        }
        return own.reply;
      }
      if (reply === null) {
        throw new SecureAggregationError(`no reply relayed as ${sender}'s to ${round}`);
      }
      const extra = Object.keys(reply.clear).filter((k) => !declared.has(k));
      if (extra.length > 0) {
        throw new SecureAggregationError(
          `the reply relayed as ${sender}'s to ${step} has fields its step does not declare (${extra.join(", ")})`,
        );
      }
      checkReplyAuthenticator(pairs, { tag, step, request, sender }, reply, reply.authenticators);
      return reply;
    });
    return { tag, step, replies };
  }
}

function sentKey(tag: RequestTag, step: StepName, request: string): string {
  return `${tag.runId}\u0000${tag.phase}\u0000${tag.round}\u0000${step}\u0000${request}`;
}

// ---- what the aggregator recovers ----

/** A reply that does not fit what secure aggregation expects, naming the center. */
export class MaskedReplyError extends SecureAggregationError {
  override readonly name: string = "MaskedReplyError";
  constructor(
    readonly center: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called with every center's reply as received (the aggregator's transcript). */
export type ProtectedReplyListener = (
  center: string,
  step: StepName,
  tag: RequestTag,
  reply: ProtectedReply,
) => void;

/** The aggregator's side: sums the masked vectors and hands the algorithms plain shares. */
export class SecureAggregator {
  /** The centers, in federation order (the order of the replies). */
  readonly centers: readonly string[];
  readonly #listeners: ProtectedReplyListener[] = [];
  #evidence: RoundEvidence | null = null;
  #lastBytes: { tag: RequestTag; step: StepName; bytes: number } | null = null;

  /** @throws InputError for more centers than the scales hold (a study's setting, exit 2) */
  constructor(centers: readonly string[]) {
    const problem = secureCentersProblem(centers.length);
    if (problem !== null) throw new InputError(problem);
    federationCenters(centers);
    this.centers = [...centers];
  }

  /**
   * The replies of the last request opened in run `runId` (null: none yet): relayed with the
   * next request, so that each center can check the sums it was given.
   */
  evidence(runId: string): RoundEvidence | null {
    return this.#evidence?.tag.runId === runId ? this.#evidence : null;
  }

  /** Be told of every reply as received. */
  listen(listener: ProtectedReplyListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Bytes the centers sent for the last request opened, if it is `tag`'s (for the ledger; the
   * replies' protobuf size, masked fields included).
   */
  replyBytes(tag: RequestTag, step: StepName): number | undefined {
    const last = this.#lastBytes;
    if (last === null || last.step !== step) return undefined;
    const t = last.tag;
    return t.runId === tag.runId && t.phase === tag.phase && t.round === tag.round
      ? last.bytes
      : undefined;
  }

  /**
   * The shares the algorithms get from the centers' protected replies (federation order): the
   * first holds the sums of the secured fields, the others zeros there; fields in clear as sent.
   * Not yet checked against the registry (the transports do that, as for clear replies).
   * @throws MaskedReplyError naming a center whose reply lacks a vector or has the wrong length
   */
  open<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
    replies: readonly ProtectedReply[],
    bytes?: (reply: ProtectedReply) => number,
  ): StepOutput<K>[] {
    if (replies.length !== this.centers.length) {
      throw new SecureAggregationError(
        `${replies.length} replies for ${this.centers.length} centers`,
      );
    }
    for (const [c, reply] of replies.entries()) {
      for (const listener of this.#listeners) listener(this.centers[c], step, tag, reply);
    }
    this.#evidence = { tag, step, replies };
    if (bytes !== undefined) {
      let total = 0;
      for (const reply of replies) total += bytes(reply);
      this.#lastBytes = { tag, step, bytes: total };
    }
    const fields = securedFields(step);
    const outputs = replies.map((r) => ({ ...r.clear }) as Record<string, unknown>);
    for (const f of fields) {
      const names = [f.name];
      if (f.nonFinite) names.push(nonFiniteName(f.name));
      if (f.fineExponent !== null) names.push(fineName(f.name));
      // Each center's vectors of the field (its parts and non-finite counts), checked.
      const shares: MaskedShare[] = replies.map(() => ({}));
      for (const name of names) {
        let length = -1;
        for (const [c, reply] of replies.entries()) {
          const bytes = reply.masked[name];
          const center = this.centers[c];
          if (!(bytes instanceof Uint8Array)) {
            throw new MaskedReplyError(center, `center ${center}: ${step}.${name} not masked`);
          }
          let ring: Uint32Array;
          try {
            ring = ringOf(bytes, `${step}.${name}`);
          } catch (error) {
            throw new MaskedReplyError(center, `center ${center}: ${(error as Error).message}`);
          }
          if (length < 0) length = ring.length;
          else if (ring.length !== length) {
            throw new MaskedReplyError(
              center,
              `center ${center}: ${step}.${name} has ${ringLength(ring)} elements, center ${this.centers[0]} sent ${length / RING_WORDS}`,
            );
          }
          shares[c][name] = ring;
        }
      }
      let total: Float64Array;
      if (f.packed) {
        // The true length, from the request (the lanes are padded to whole ring elements).
        const lengths = STEPS[step].replyLengths(inputs[0] as never, replies[0].clear as never);
        const n = (lengths as Record<string, number | undefined>)[f.name];
        const lanes = sumRings(f.name, shares);
        if (n === undefined || n > lanes.length || lanes.length - n >= RING_WORDS) {
          throw new SecureAggregationError(
            `${step}.${f.name}: ${lanes.length} lanes for ${n} values`,
          );
        }
        total = new Float64Array(lanes.subarray(0, n));
      } else if (f.reduction === "or") {
        total = decodeOr(sumRings(f.name, shares));
      } else {
        total =
          f.fineExponent === null
            ? decodeFixed(sumRings(f.name, shares), f.scaleExponent)
            : sumSplitRings(f.name, fineName(f.name), shares, f.scaleExponent, f.fineExponent);
        if (f.nonFinite) {
          const counts = sumRings(nonFiniteName(f.name), shares);
          if (counts.length < total.length || counts.length - total.length >= RING_WORDS) {
            throw new SecureAggregationError(
              `${step}.${nonFiniteName(f.name)}: ${counts.length} counts for ${total.length} values`,
            );
          }
          applyNonFinite(total, counts);
        }
      }
      for (let c = 0; c < outputs.length; c++) {
        const first = c === 0;
        switch (f.kind) {
          case "number":
            outputs[c][f.name] = first ? total[0] : 0;
            break;
          case "mask":
            outputs[c][f.name] = first ? new Uint8Array(total) : new Uint8Array(total.length);
            break;
          default:
            outputs[c][f.name] = first ? total : sharedPooledZeroVector(total.length);
        }
      }
    }
    return outputs as unknown as StepOutput<K>[];
  }
}

/**
 * An OR field's pooled flags from the ring sum of the centers' flags: 1 where the sum is not
 * zero. (The element loops of {@link SecureAggregator.open} are functions of their own: `open`
 * serves every step, whose replies have different shapes, and V8 compiled it again for each
 * new one while a loop inside kept it hot.)
 */
function decodeOr(acc: Uint32Array): Float64Array {
  const total = new Float64Array(ringLength(acc));
  for (let i = 0, k = 0; i < total.length; i++, k += RING_WORDS) {
    total[i] = (acc[k] | acc[k + 1] | acc[k + 2] | acc[k + 3]) !== 0 ? 1 : 0;
  }
  return total;
}

/**
 * The pooled non-finite values, from the pooled counts of NaN, +∞ and −∞ per value (one byte
 * each in a ring word): NaN where any center had NaN or both infinities meet, else the infinity.
 */
function applyNonFinite(total: Float64Array, counts: Uint32Array): void {
  for (let i = 0; i < total.length; i++) {
    const w = counts[i];
    if (w === 0) continue;
    const nan = w & 0xff;
    const pos = (w >>> 8) & 0xff;
    const neg = (w >>> 16) & 0xff;
    total[i] =
      nan > 0 || (pos > 0 && neg > 0)
        ? Number.NaN
        : pos > 0
          ? Number.POSITIVE_INFINITY
          : Number.NEGATIVE_INFINITY;
  }
}

// ---- key agreement, driven by the aggregator over any transport ----

/** How the aggregator reaches the centers for the key agreement (what a transport provides). */
export interface KeyAgreementLink {
  /** Ask center c (federation order) for its signed ephemeral key for the run. */
  announce(c: number, runId: string, centers: readonly string[]): Promise<KeyAnnouncement>;
  /**
   * Give center c every center's announcement; resolves once it derived its secrets, rejects
   * with its refusal (e.g. a {@link KeySubstitutionError} naming the center whose key failed).
   */
  relay(c: number, runId: string, announcements: readonly KeyAnnouncement[]): Promise<void>;
}

/**
 * The key agreement of a run: collect every center's announcement, relay them all to every
 * center. The aggregator reads nothing in them but the center's name.
 * @throws SecureAggregationError when a center announces in another's name or refuses
 */
export async function agreeKeys(
  runId: string,
  centers: readonly string[],
  link: KeyAgreementLink,
): Promise<void> {
  const list = federationCenters(centers);
  if (list.some((name, i) => name !== centers[i])) {
    throw new SecureAggregationError("key agreement: centers must be in federation order");
  }
  const announcements = await Promise.all(list.map((_, c) => link.announce(c, runId, list)));
  for (const [c, a] of announcements.entries()) {
    if (a.center !== list[c] || a.runId !== runId) {
      throw new MaskedReplyError(
        list[c],
        `center ${list[c]}: announced a key for "${a.center}" in run "${a.runId}"`,
      );
    }
  }
  await Promise.all(list.map((_, c) => link.relay(c, runId, announcements)));
}

/** Every field name a secure reply of `step` may carry masked (for decoders). */
export function maskedNames(step: StepName): ReadonlySet<string> {
  const names = new Set<string>();
  for (const f of securedFields(step)) {
    names.add(f.name);
    if (f.nonFinite) names.add(nonFiniteName(f.name));
    if (f.fineExponent !== null) names.add(fineName(f.name));
  }
  return names;
}

/** The record schema of a secure reply's clear part: the reply's schema minus secured fields. */
export function clearSchema(step: StepName): RecordSchema {
  const schema = STEPS[step].reply as RecordSchema;
  const secured = new Set(securedFields(step).map((f) => f.name));
  const fields: Record<string, FieldKind> = {};
  for (const [name, kind] of Object.entries(schema.fields as Record<string, FieldKind>)) {
    if (!secured.has(name)) fields[name] = kind;
  }
  return { kind: schema.kind, fields } as RecordSchema;
}

/** Type guard: a reply as a center sends it under secure aggregation. */
export function isProtectedReply(value: unknown): value is ProtectedReply {
  return (
    value !== null &&
    typeof value === "object" &&
    "clear" in value &&
    "masked" in value &&
    typeof (value as ProtectedReply).masked === "object"
  );
}
