/**
 * The errors of the secure-aggregation layer. Each names what failed (a field, a center) so that
 * a refused run says why in words a data protection officer can act on.
 */

/** Base class: secure aggregation cannot go on (the run is refused, never continued in clear). */
export class SecureAggregationError extends Error {
  override readonly name: string = "SecureAggregationError";
}

/**
 * A value cannot be put in the ring: NaN, ±∞, or a magnitude beyond the field's bound. Refused
 * rather than wrapped, because a wrapped value would decode to a wrong sum nobody could notice.
 */
export class FixedPointError extends SecureAggregationError {
  override readonly name: string = "FixedPointError";
  constructor(
    /** The summed field's name. */
    readonly field: string,
    /** Index of the offending value in the field's vector. */
    readonly index: number,
    /** What is wrong with the value (the message without the field and index). */
    readonly detail: string,
    /** The same without the value itself: what may leave the center. */
    readonly sharedDetail: string,
  ) {
    super(`secure sum field "${field}"[${index}]: ${detail}`);
  }

  /**
   * The message without the value: what a center tells the aggregator. The value is one element
   * of the center's own sum, which leaves it only masked; its operator reads it in the full
   * message.
   */
  get shared(): string {
    return `secure sum field "${this.field}"[${this.index}]: ${this.sharedDetail}`;
  }
}

/**
 * A center's ephemeral key could not be verified: bad or foreign certificate, a signature that
 * does not cover this run, this center, this key and this federation, a key that is not a valid
 * X25519 point, or a center's key missing or announced twice. Thrown on the center that checks,
 * naming the center whose key is in doubt; the run must be refused.
 */
export class KeySubstitutionError extends SecureAggregationError {
  override readonly name: string = "KeySubstitutionError";
  constructor(
    /** The center whose announced key failed verification. */
    readonly center: string,
    /** What failed. */
    readonly reason: string,
  ) {
    super(`key of center "${center}" rejected: ${reason}`);
  }
}
