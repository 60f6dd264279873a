/**
 * Pair secrets for masking, agreed through the aggregator without trusting it.
 *
 * Each center makes an ephemeral X25519 key pair per run and announces the public half signed
 * with its certificate's private key (the key of its mTLS client certificate: EC P-256 from
 * `makeTrialCertificates`, RSA, RSA-PSS or Ed25519/Ed448 from another PKI). The aggregator
 * only relays announcements. Every center checks every peer's announcement:
 * - the certificate is signed by the federation CA, is in its validity period, is not a CA, is
 *   for TLS clients where it says what it is for, and its common name is the announced center;
 * - the signature, by that certificate's key, covers a payload binding the run id, the center's
 *   name, its public key and the whole (sorted) list of the federation's centers, so a signature
 *   cannot be replayed into another run, for another center, or into a smaller federation;
 * - the key is a valid X25519 point giving a non-zero shared secret.
 * Any failure throws {@link KeySubstitutionError} naming the center: a key the aggregator made
 * (self-signed, signed by its own server key, or by anything but a center's certificate) cannot
 * pass, so the aggregator cannot sit in the middle of a pair and learn its masks. This rests on
 * the CA: whoever holds the CA's key can mint a center's certificate, so the CA must not be in
 * the aggregator operator's hands (trial certificates made in one place give no such guarantee).
 *
 * Pair secret of centers a < b: HKDF-SHA256(X25519(own, peer), salt = run id, info = the pair's
 * names and keys in sorted order), 32 bytes, the same on both sides.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
  X509Certificate,
} from "node:crypto";
import { createSecureContext } from "node:tls";
import { KeySubstitutionError, SecureAggregationError } from "./errors.js";

/** A center's signed ephemeral public key, as relayed by the aggregator. */
export interface KeyAnnouncement {
  readonly runId: string;
  /** The announcing center. */
  readonly center: string;
  /** Every center of the federation, sorted (code-unit order) and unique. */
  readonly centers: readonly string[];
  /** The raw 32-byte X25519 public key, base64url. */
  readonly publicKey: string;
  /** The center's X.509 certificate (PEM), checked against the federation CA by each peer. */
  readonly certificate: string;
  /** Signature (base64) of {@link announcementPayload} by the certificate's key. */
  readonly signature: string;
}

/** A center's ephemeral key for one run: its private half stays in the center. */
export interface EphemeralKey {
  readonly privateKey: KeyObject;
  readonly announcement: KeyAnnouncement;
}

/** What a center needs to check its peers: the federation CA, and optionally the time. */
export interface FederationTrust {
  /** The CA certificate (PEM) that signs every center's certificate. */
  readonly ca: string;
  /** The time at which certificates must be valid (now if omitted). */
  readonly now?: Date;
}

/** A center's secrets with each peer, for one run. */
export interface PairSecrets {
  readonly runId: string;
  /** Every center, sorted; indices below refer to this list. */
  readonly centers: readonly string[];
  /** This center's index in `centers`. */
  readonly selfIndex: number;
  /** 32-byte secret shared with `centers[j]`; null at `selfIndex`. */
  readonly secrets: readonly (Uint8Array | null)[];
  /**
   * 32 random bytes known to this center only, for the randomness of "or" fields: drawn from
   * it per label, an "or" share is a deterministic function of the request like a sum share,
   * so a resent share is the same bytes (two different draws for one label would tell the
   * aggregator whether the center's flag is 1).
   */
  readonly own: Uint8Array;
}

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/** The federation's centers as every signature binds them: sorted, unique, non-empty names. */
export function federationCenters(names: readonly string[]): string[] {
  const sorted = [...names].sort();
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i] === "" || typeof sorted[i] !== "string") {
      throw new SecureAggregationError("center names must be non-empty strings");
    }
    if (i > 0 && sorted[i] === sorted[i - 1]) {
      throw new SecureAggregationError(`center "${sorted[i]}" is listed twice`);
    }
  }
  if (sorted.length < 2) {
    throw new SecureAggregationError(
      `secure aggregation needs at least 2 centers (got ${sorted.length})`,
    );
  }
  return sorted;
}

/** The bytes a center signs: a domain label, the run, the center, the federation, the key. */
export function announcementPayload(
  runId: string,
  center: string,
  centers: readonly string[],
  publicKey: string,
): Buffer {
  return Buffer.from(
    JSON.stringify(["fedseq secure aggregation key v1", runId, center, centers, publicKey]),
    "utf8",
  );
}

/** Signing algorithm for crypto.sign/verify: none for EdDSA (it hashes itself), else SHA-256. */
function digestFor(key: KeyObject): string | null {
  const type = key.asymmetricKeyType;
  if (type === "ed25519" || type === "ed448") return null;
  if (type === "rsa" || type === "rsa-pss" || type === "ec") return "sha256";
  throw new SecureAggregationError(`certificate key type ${type} cannot sign key announcements`);
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new SecureAggregationError("X25519 key without x");
  return jwk.x;
}

/**
 * Make this center's ephemeral X25519 key for run `runId` and its signed announcement.
 * `credentials` are the center's certificate and private key (PEM or KeyObject); the
 * announcement is checked against the certificate here, so that a center whose key does not
 * match its certificate learns it before its peers refuse it.
 */
export function createEphemeralKey(
  runId: string,
  center: string,
  centers: readonly string[],
  credentials: { readonly certificate: string; readonly key: string | KeyObject },
): EphemeralKey {
  const list = federationCenters(centers);
  if (!list.includes(center)) {
    throw new SecureAggregationError(`center "${center}" is not among ${list.join(", ")}`);
  }
  const signingKey =
    typeof credentials.key === "string" ? createPrivateKey(credentials.key) : credentials.key;
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const raw = rawPublicKey(publicKey);
  const payload = announcementPayload(runId, center, list, raw);
  const signature = sign(digestFor(signingKey), payload, signingKey).toString("base64");
  const certificate = new X509Certificate(credentials.certificate);
  let matches = false;
  try {
    const key = certificate.publicKey;
    matches = verify(digestFor(key), payload, key, fromBase64(signature));
  } catch {
    matches = false; // e.g. an RSA certificate with an EC key
  }
  if (!matches) {
    throw new SecureAggregationError(`center "${center}": private key does not match certificate`);
  }
  return {
    privateKey,
    announcement: {
      runId,
      center,
      centers: list,
      publicKey: raw,
      certificate: credentials.certificate,
      signature,
    },
  };
}

function fromBase64(base64: string): Buffer {
  return Buffer.from(base64, "base64");
}

/**
 * The certificates of a PEM text, in order (a --cert file may hold the center's certificate and
 * the intermediate CAs above it; a --ca file, several CAs).
 * @throws when a block is not a certificate X509Certificate reads
 */
function pemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * The common names of a certificate's subject, as values: Node's parse (the one the gRPC server's
 * peer certificate gives), not its printed `subject`, which escapes RFC 4514's special characters
 * (`c,3` prints as `c\,3`: a center so named was refused as another).
 */
export function commonNames(certificate: X509Certificate): string[] {
  // Node's `tls` must be loaded before any toLegacyObject(): called first, it leaves `tls`
  // half-initialised, without createSecureContext (Node 20.20), and gRPC's next TLS connection
  // throws (a center reads its own certificate's name before it dials). The import loads it;
  // this use keeps a bundler from dropping the import.
  if (typeof createSecureContext !== "function") throw new Error("node:tls failed to load");
  const cn = (certificate.toLegacyObject().subject as unknown as Record<string, unknown>)?.CN;
  return cn === undefined ? [] : Array.isArray(cn) ? cn.map(String) : [String(cn)];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Check a peer's announcement for run `runId` of federation `centers` (sorted), claimed by
 * `center`, and return its X25519 public key. Throws {@link KeySubstitutionError} naming the
 * center on any failure.
 */
export function verifyAnnouncement(
  announcement: KeyAnnouncement,
  expected: {
    readonly runId: string;
    readonly center: string;
    readonly centers: readonly string[];
  },
  trust: FederationTrust,
): KeyObject {
  const name = expected.center;
  const refuse = (reason: string): never => {
    throw new KeySubstitutionError(name, reason);
  };
  if (announcement.center !== name) refuse(`announced as "${announcement.center}"`);
  if (announcement.runId !== expected.runId) {
    refuse(`signed for run "${announcement.runId}", not this run`);
  }
  if (!Array.isArray(announcement.centers) || !sameList(announcement.centers, expected.centers)) {
    refuse("signed for another list of centers");
  }
  let chain: X509Certificate[];
  let anchors: X509Certificate[];
  try {
    chain = pemCertificates(announcement.certificate);
  } catch {
    return refuse("certificate cannot be read");
  }
  if (chain.length === 0) refuse("certificate cannot be read");
  const certificate = chain[0];
  try {
    anchors = pemCertificates(trust.ca);
  } catch {
    throw new SecureAggregationError("the federation CA certificate cannot be read");
  }
  if (anchors.length === 0)
    throw new SecureAggregationError("the federation CA certificate cannot be read");
  const now = (trust.now ?? new Date()).getTime();
  const validNow = (c: X509Certificate) =>
    Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
  const issued = (child: X509Certificate, issuer: X509Certificate) =>
    child.checkIssued(issuer) && child.verify(issuer.publicKey);
  // Up from the center's certificate, through the CA certificates its --cert file holds after
  // it (intermediate CAs), to a certificate of the federation's --ca.
  let current = certificate;
  const intermediates = chain.slice(1);
  while (!anchors.some((anchor) => issued(current, anchor))) {
    const next = intermediates.findIndex((c) => c.ca && validNow(c) && issued(current, c));
    if (next < 0) refuse("certificate is not signed by the federation CA");
    current = intermediates.splice(next, 1)[0];
  }
  if (!validNow(certificate)) {
    refuse(`certificate valid ${certificate.validFrom} … ${certificate.validTo}, not now`);
  }
  if (certificate.ca) refuse("certificate is a CA certificate");
  const usage = certificate.keyUsage;
  if (usage !== undefined && usage.length > 0 && !usage.includes(CLIENT_AUTH)) {
    refuse("certificate is not for TLS clients (extended key usage)");
  }
  const names = commonNames(certificate);
  if (names.length !== 1 || names[0] !== name) {
    refuse(`certificate is for ${JSON.stringify(names.join(", "))}`);
  }
  const payload = announcementPayload(
    announcement.runId,
    announcement.center,
    announcement.centers,
    announcement.publicKey,
  );
  let signed = false;
  try {
    const key = certificate.publicKey;
    signed = verify(digestFor(key), payload, key, fromBase64(announcement.signature));
  } catch {
    signed = false;
  }
  if (!signed) refuse("signature does not match its certificate, run, federation and key");
  const raw = Buffer.from(announcement.publicKey, "base64url");
  if (raw.length !== 32 || raw.toString("base64url") !== announcement.publicKey) {
    refuse("public key is not 32 bytes of base64url");
  }
  try {
    return createPublicKey({
      key: { kty: "OKP", crv: "X25519", x: announcement.publicKey },
      format: "jwk",
    });
  } catch {
    return refuse("public key is not an X25519 key");
  }
}

/**
 * Verify every announcement (one per center of `own`'s federation, own included) and derive
 * this center's pair secrets. The aggregator's relay of this center's own key must be the key
 * it made: a different one means the aggregator shows peers another key.
 */
export function derivePairSecrets(
  own: EphemeralKey,
  announcements: readonly KeyAnnouncement[],
  trust: FederationTrust,
): PairSecrets {
  const { runId, center: self, centers } = own.announcement;
  const byCenter = new Map<string, KeyAnnouncement>();
  for (const a of announcements) {
    if (!centers.includes(a.center)) {
      throw new KeySubstitutionError(a.center, "not a center of this federation");
    }
    if (byCenter.has(a.center)) throw new KeySubstitutionError(a.center, "announced twice");
    byCenter.set(a.center, a);
  }
  const selfIndex = centers.indexOf(self);
  const secrets: (Uint8Array | null)[] = [];
  for (const [j, peer] of centers.entries()) {
    const a = byCenter.get(peer);
    if (a === undefined) throw new KeySubstitutionError(peer, "no key announced");
    if (j === selfIndex) {
      if (
        a.publicKey !== own.announcement.publicKey ||
        a.signature !== own.announcement.signature
      ) {
        throw new KeySubstitutionError(peer, "the relayed key is not the one this center made");
      }
      secrets.push(null);
      continue;
    }
    const publicKey = verifyAnnouncement(a, { runId, center: peer, centers }, trust);
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: own.privateKey, publicKey });
    } catch {
      throw new KeySubstitutionError(peer, "public key gives no shared secret (low-order point)");
    }
    if (shared.every((byte) => byte === 0)) {
      throw new KeySubstitutionError(peer, "public key gives an all-zero shared secret");
    }
    const [first, second] = self < peer ? [own.announcement, a] : [a, own.announcement];
    // Hashed: HKDF's info is limited to 1024 bytes, center names are not.
    const info = createHash("sha256")
      .update(
        JSON.stringify([
          "fedseq secure aggregation pair v1",
          first.center,
          first.publicKey,
          second.center,
          second.publicKey,
        ]),
      )
      .digest();
    secrets.push(new Uint8Array(hkdfSync("sha256", shared, Buffer.from(runId, "utf8"), info, 32)));
  }
  return { runId, centers, selfIndex, secrets, own: new Uint8Array(randomBytes(32)) };
}
