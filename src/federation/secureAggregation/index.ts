/**
 * Secure aggregation: the aggregator sees only sums over centers.
 *
 * Threat. The aggregator is honest-but-curious about what it receives and may actively tamper
 * with what it relays: it must not learn any single center's summed values, and it must not be
 * able to place itself between two centers by substituting their keys. Centers are trusted to
 * send what the steps compute (nothing here checks the integrity of a center's contribution).
 *
 * Protocol (Bonawitz et al., 2017, without dropout recovery: a round waits for a reconnecting
 * center instead of unmasking a missing one, which also removes the attack where an aggregator
 * feigns a dropout to unmask a center).
 * 1. Key agreement, once per run ({@link createEphemeralKey}, {@link derivePairSecrets}): each
 *    center announces an ephemeral X25519 key signed with its certificate's key, binding run
 *    id, center, federation and key; the aggregator relays the announcements; each center
 *    checks every peer's certificate against the federation CA (common name = center name) and
 *    signature, and refuses the run with {@link KeySubstitutionError} naming the center on any
 *    failure. Each pair derives a 32-byte secret by X25519 and HKDF-SHA256.
 * 2. Per request, per summed field ({@link maskShare}): the center encodes its float64 values in
 *    fixed point in Z/2^128 and adds, for each peer, an AES-256-CTR mask stream keyed by HKDF of
 *    the pair secret and (run, phase, step, round, request digest, field, length), with sign +
 *    toward higher-indexed peers and − toward lower ones.
 * 3. The aggregator adds all centers' masked vectors; the masks cancel and it decodes the sum
 *    ({@link unmaskSum}).
 *
 * Numbers. A field's public scale 2^e is a protocol constant per field kind (see
 * {@link scaleExponentFor}: from a public magnitude bound and a maximum number of centers), not
 * agreed from the data. With n ≤ 2^h centers each value must round below 2^(127−h−e) (else the
 * center refuses, naming the field, rather than wrapping); every float64 ≥ 2^(52−e) in
 * magnitude is encoded exactly, a window of 75−h binary orders (≈21 decimal orders for up to 32
 * centers); smaller terms round to multiples of 2^−e. The decoded sum is the correctly rounded
 * float64 of the exact fixed-point sum: |decoded − Σ x_i| ≤ n·2^−(e+1) + 2^−53·|decoded|, and
 * exactly the correctly rounded real sum when every term lies in the exact window (tested
 * against BigInt arithmetic). The layer (layer.ts) sends every summed field but whole numbers
 * split: the multiple of 2^−e and the remainder at the public scale 2^−(121+e), decoded together
 * ({@link decodeSplit}), which widens the exact window to every double from ~1e-56 of the
 * field's bound up: the sums are then bit for bit those of a run in clear (pooledSums.ts).
 *
 * What the scale reveals. Being fixed before any data is seen, nothing about a center. What a
 * refusal reveals: that some center's value was NaN/±∞ or beyond the field's bound (one bit, and
 * which center refused, if the refusal is reported by name). Deriving the scale from a first
 * round of per-center maximum exponents was rejected: it would disclose each field's binary
 * order of magnitude at some center.
 *
 * What it does not hide.
 * - The sums themselves, which the algorithm needs, and whatever follows from them: with two
 *   centers each center (and anyone who learns the total) gets the other's values by
 *   subtraction; the aggregator colluding with all centers but one gets that one's values;
 *   differences of sums across rounds.
 * - Everything outside the declared summed fields (not masked here), shapes and lengths, which
 *   step runs when, timing, and who refused.
 * - Against a CA in the aggregator's hands nothing: whoever can mint a center's certificate can
 *   substitute its key. The trial certificates made by `makeTrialCertificates` are one such CA.
 * - "count" fields reveal how many centers had a 1; "or" fields only whether any had.
 *
 * Using it (for the transports). A center keeps its ephemeral private key and pair secrets for
 * the whole run, across reconnects (a new key means all pairs re-agree). The request digest in
 * the tag should hash the request's canonical bytes as the center received them. A share is
 * a deterministic function of the request and the run's secrets, so resending or recomputing
 * it for a repeated request is safe, provided the step's values are themselves deterministic
 * (two different values under one label would reveal their difference). The aggregator must
 * have a share from every center named in the key agreement before it unmasks.
 *
 * What the transcript holds. Each center's summed fields as uniformly distributed ring elements
 * (16 bytes each: AES-CTR output added in the ring), and the decoded sums.
 */
export {
  FixedPointError,
  KeySubstitutionError,
  SecureAggregationError,
} from "./errors.js";
export {
  decodeFixed,
  decodeSplit,
  encodeFixed,
  encodeLimit,
  encodeSplitFixed,
  exactFrom,
  headroomBits,
  MAX_SCALE_EXPONENT,
  MIN_SCALE_EXPONENT,
  RING_BYTES,
  RING_WORDS,
  ringAdd,
  ringBytes,
  ringFromBytes,
  ringLength,
  ringSub,
  ringVector,
  scaleExponentFor,
  sumErrorBound,
} from "./fixedPoint.js";
export {
  announcementPayload,
  createEphemeralKey,
  derivePairSecrets,
  type EphemeralKey,
  type FederationTrust,
  federationCenters,
  type KeyAnnouncement,
  type PairSecrets,
  verifyAnnouncement,
} from "./keyAgreement.js";
export {
  applyMask,
  encodeSplitMasked,
  type MaskLabel,
  maskKey,
  maskStream,
  type SplitEncoding,
} from "./masks.js";
export {
  countField,
  decodeOr,
  encodeCount,
  type MaskedShare,
  maskRing,
  maskShare,
  maskSplitField,
  type OrField,
  type SecureSumTag,
  type SumField,
  type SummedField,
  sumRings,
  sumSplitRings,
  unmaskSum,
} from "./secureSum.js";
