/**
 * Reply authenticators: each center tags its protected reply, for every peer, with an
 * HMAC-SHA256 under a key derived from the secret the pair shares (the key agreement's). The
 * aggregator, holding no pair secret, can relay a reply but cannot alter one, nor make up one,
 * without the peer noticing. This is what lets every center check the pooled sums the
 * aggregator says it received (verifiedRequests.ts): given every center's masked reply, a
 * center adds them itself (the masks cancel) and knows the sums are the centers' own.
 *
 * The authenticated message names the run, phase, round, step and the digest of the request the
 * reply answers (the digest every center computes alike), the sending center, and the reply's
 * bytes (its clear fields, then its masked vectors' SHA-256 digests, each named, in a fixed
 * order).
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  hash,
  type KeyObject,
  timingSafeEqual,
} from "node:crypto";
import type { FieldKind } from "../records.js";
import { STEPS } from "../registry.js";
import { hashField } from "../requestDigest.js";
import type { RequestTag, StepName } from "../steps.js";
import { SecureAggregationError } from "./errors.js";
import { Hkdf32 } from "./hkdf.js";
import type { PairSecrets } from "./keyAgreement.js";

/** A center's reply bytes as authenticated: what the fingerprint covers. */
export interface AuthenticatedReply {
  readonly clear: Record<string, unknown>;
  readonly masked: Record<string, Uint8Array>;
}

const HMAC_KEYS = new Hkdf32(Buffer.from("fedseq reply authentication v1", "utf8"));
const HMAC_INFO = Buffer.from("hmac", "utf8");

function updateValue(hash: ReturnType<typeof createHash>, kind: FieldKind, value: unknown): void {
  // Masks travel as bits: any non-zero byte arrives as 1.
  hashField(
    hash,
    kind,
    kind === "mask" && value instanceof Uint8Array
      ? Uint8Array.from(value, (b) => (b === 0 ? 0 : 1))
      : value,
  );
}

/** SHA-256 of a masked vector's bytes: what a reply's fingerprint covers of it. */
export function maskedDigest(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(hash("sha256", bytes, "buffer"));
}

/**
 * SHA-256 of a protected reply's content: its clear fields in the step's declared order (kind
 * and content), then its masked vectors sorted by name, each as its name, its length and its
 * {@link maskedDigest} (so that each vector can be digested where it is made, e.g. on the mask
 * thread as it is masked, and the fingerprint still covers every byte). Equal for the reply as
 * sent and as relayed, whatever transport carried it.
 * @param digests - masked vectors' digests already computed, by name (the sender's own: a
 *   reply received is always digested from its bytes)
 */
export function replyFingerprint(
  step: StepName,
  reply: AuthenticatedReply,
  digests: ReadonlyMap<string, Uint8Array> = new Map(),
): Buffer {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(["fedseq reply fingerprint v2", step]));
  const schema = STEPS[step].reply.fields as Record<string, FieldKind>;
  for (const [name, kind] of Object.entries(schema)) {
    if (!Object.hasOwn(reply.clear, name)) continue;
    hash.update(`|c|${name}|`);
    updateValue(hash, kind, reply.clear[name]);
  }
  for (const name of Object.keys(reply.masked).sort()) {
    const bytes = reply.masked[name];
    hash.update(`|m|${name}|${bytes.byteLength}:`);
    hash.update(digests.get(name) ?? maskedDigest(bytes));
  }
  return hash.digest();
}

/** What an authenticator binds a reply to. */
export interface AuthenticatorLabel {
  readonly tag: RequestTag;
  readonly step: StepName;
  /** The request's digest without per-center fields (requestDigest.ts), as in mask labels. */
  readonly request: string;
  /** The center that sent the reply. */
  readonly sender: string;
}

function message(label: AuthenticatorLabel, fingerprint: Buffer): Buffer {
  const { tag } = label;
  return Buffer.concat([
    Buffer.from(
      JSON.stringify([
        "fedseq reply authenticator v1",
        tag.runId,
        tag.phase,
        tag.round,
        label.step,
        label.request,
        label.sender,
      ]),
      "utf8",
    ),
    fingerprint,
  ]);
}

/** Each pair secret's authentication key (one for the whole run: derived once, not per reply). */
const pairKeys = new WeakMap<Uint8Array, KeyObject>();

function pairKey(secret: Uint8Array): KeyObject {
  let key = pairKeys.get(secret);
  if (key === undefined) {
    key = createSecretKey(HMAC_KEYS.derive(secret, HMAC_INFO));
    pairKeys.set(secret, key);
  }
  return key;
}

/**
 * The authenticators a center attaches to its reply: per peer (by name), HMAC-SHA256 of the
 * labelled reply under the pair's key.
 * @param fingerprint - the reply's {@link replyFingerprint}
 */
export function authenticateReply(
  pairs: PairSecrets,
  label: AuthenticatorLabel,
  fingerprint: Buffer,
): Record<string, Uint8Array> {
  const body = message(label, fingerprint);
  const out: Record<string, Uint8Array> = {};
  pairs.centers.forEach((peer, j) => {
    const secret = pairs.secrets[j];
    if (secret === null) return;
    out[peer] = new Uint8Array(createHmac("sha256", pairKey(secret)).update(body).digest());
  });
  return out;
}

/**
 * Check the authenticator `label.sender` addressed to this center (`pairs`' own).
 * @throws SecureAggregationError naming the sender when it is missing or does not verify
 */
export function checkReplyAuthenticator(
  pairs: PairSecrets,
  label: AuthenticatorLabel,
  reply: AuthenticatedReply,
  authenticators: Readonly<Record<string, Uint8Array>> | undefined,
): void {
  const self = pairs.centers[pairs.selfIndex];
  const j = pairs.centers.indexOf(label.sender);
  const secret = j < 0 ? null : pairs.secrets[j];
  if (secret === null || secret === undefined) {
    throw new SecureAggregationError(`no pair secret with ${label.sender}`);
  }
  const given = authenticators?.[self];
  const expected = createHmac("sha256", pairKey(secret))
    .update(message(label, replyFingerprint(label.step, reply)))
    .digest();
  if (
    !(given instanceof Uint8Array) ||
    given.byteLength !== expected.byteLength ||
    !timingSafeEqual(given, expected)
  ) {
    throw new SecureAggregationError(
      `the reply relayed as ${label.sender}'s to ${label.step} (${label.tag.phase} round ${label.tag.round}) does not carry ${label.sender}'s authenticator: it was altered or made up`,
    );
  }
}
