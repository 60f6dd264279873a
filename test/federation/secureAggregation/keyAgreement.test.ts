/**
 * Key agreement through a relaying aggregator that may tamper: certificates from a trial CA
 * (`makeTrialCertificates`, EC P-256) plus an RSA and an Ed25519 center signed by the same CA;
 * every substitution the aggregator can attempt is detected and names the center, and honest
 * centers derive matching pair secrets whose masks cancel.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { makeTrialCertificates } from "../../../src/federation/grpc/certificates.js";
import {
  announcementPayload,
  createEphemeralKey,
  derivePairSecrets,
  type EphemeralKey,
  type FederationTrust,
  type KeyAnnouncement,
  KeySubstitutionError,
  maskShare,
  type PairSecrets,
  SecureAggregationError,
  unmaskSum,
  verifyAnnouncement,
} from "../../../src/federation/secureAggregation/index.js";
import { simulationPki } from "../../../src/federation/secureAggregation/simulationCertificates.js";
import { issueCertificate } from "../../helpers/openssl.js";
import { useTempFolder } from "../../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-secagg-");
const CENTERS = ["alice", "bob", "carol", "dave", "erin"];

interface Credentials {
  readonly certificate: string;
  readonly key: string;
}

let trust: FederationTrust;
let credentials: Record<string, Credentials>;
let aggregator: Credentials;
let rogueBob: Credentials;
/** The folder of the federation's CA (ca.pem, ca.key) and its centers' certificates. */
let federationDir: string;

function read(paths: { cert: string; key: string }): Credentials {
  return { certificate: readFileSync(paths.cert, "utf8"), key: readFileSync(paths.key, "utf8") };
}

/** A center certificate signed by the CA in `dir`, for a key made with `genpkey` `args`. */
function extraCenter(dir: string, name: string, args: string[]): Credentials {
  return issueCertificate(dir, name, issuerIn(dir), "extendedKeyUsage=clientAuth\n", {
    keyArgs: args,
  });
}

/** A certificate in `dir` as an issuer (by default the CA of a folder `fedseq certs` made). */
function issuerIn(dir: string, name = "ca"): { cert: string; key: string } {
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

beforeAll(() => {
  const dir = tmp.subdir("federation");
  federationDir = dir;
  const made = makeTrialCertificates(dir, ["alice", "bob", "carol"]);
  trust = { ca: readFileSync(made.ca, "utf8") };
  credentials = Object.fromEntries(
    Object.entries(made.centers).map(([name, paths]) => [name, read(paths)]),
  );
  credentials.dave = extraCenter(dir, "dave", [
    "-algorithm",
    "RSA",
    "-pkeyopt",
    "rsa_keygen_bits:2048",
  ]);
  credentials.erin = extraCenter(dir, "erin", ["-algorithm", "ED25519"]);
  aggregator = read(made.aggregator);
  // Another CA (the aggregator's own, say) with a certificate whose common name is "bob".
  rogueBob = read(makeTrialCertificates(tmp.subdir("rogue"), ["bob"]).centers.bob);
});

function keys(runId: string, centers = CENTERS): Record<string, EphemeralKey> {
  return Object.fromEntries(
    centers.map((c) => [c, createEphemeralKey(runId, c, centers, credentials[c])]),
  );
}

/** The announcements as an honest aggregator relays them. */
function relay(k: Record<string, EphemeralKey>): KeyAnnouncement[] {
  return Object.values(k).map((key) => key.announcement);
}

/** An X25519 key the aggregator made, announced for `center` and signed with `signer`. */
function forged(runId: string, center: string, signer: Credentials): KeyAnnouncement {
  const { publicKey } = generateKeyPairSync("x25519");
  const raw = publicKey.export({ format: "jwk" }).x as string;
  const payload = announcementPayload(runId, center, CENTERS, raw);
  return {
    runId,
    center,
    centers: CENTERS,
    publicKey: raw,
    certificate: signer.certificate,
    signature: sign("sha256", payload, signer.key).toString("base64"), // EC signers only
  };
}

/** The run is refused: alice's derivation throws a KeySubstitutionError naming `center`. */
function expectRefused(
  own: EphemeralKey,
  announcements: KeyAnnouncement[],
  center: string,
  reason: RegExp,
  at: FederationTrust = trust,
): void {
  let error: unknown;
  try {
    derivePairSecrets(own, announcements, at);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(KeySubstitutionError);
  expect((error as KeySubstitutionError).center).toBe(center);
  expect((error as Error).message).toMatch(reason);
  expect((error as Error).message).toContain(`"${center}"`);
}

function replace(list: KeyAnnouncement[], center: string, by: KeyAnnouncement): KeyAnnouncement[] {
  return list.map((a) => (a.center === center ? by : a));
}

describe("key agreement", () => {
  it("centers with EC, RSA and Ed25519 certificates agree pair secrets; their masks cancel", () => {
    const k = keys("run-1");
    const secrets: Record<string, PairSecrets> = Object.fromEntries(
      CENTERS.map((c) => [c, derivePairSecrets(k[c], relay(k), trust)]),
    );
    for (const [i, a] of CENTERS.entries()) {
      expect(secrets[a].selfIndex).toBe(i);
      for (const [j, b] of CENTERS.entries()) {
        if (i === j) continue;
        const ab = secrets[a].secrets[j] as Uint8Array;
        expect(ab).toHaveLength(32);
        expect(Buffer.from(ab).equals(Buffer.from(secrets[b].secrets[i] as Uint8Array))).toBe(true);
      }
    }
    // A pair's secret is not shared with any other pair.
    expect(Buffer.from(secrets.alice.secrets[1] as Uint8Array)).not.toEqual(
      Buffer.from(secrets.alice.secrets[2] as Uint8Array),
    );
    const fields = [{ name: "x", scaleExponent: 60 }];
    const tag = { runId: "run-1", phase: "irls", step: "s", round: 0 };
    const shares = CENTERS.map((c, i) =>
      maskShare(secrets[c], tag, fields, { x: new Float64Array([i, -0.5 * i, 2 ** -40]) }),
    );
    expect(Array.from(unmaskSum(fields, shares).x)).toEqual([10, -5, 5 * 2 ** -40]);
    // The same run again gives new ephemeral keys, hence new secrets.
    const again = keys("run-1");
    const other = derivePairSecrets(again.alice, relay(again), trust);
    expect(Buffer.from(other.secrets[1] as Uint8Array)).not.toEqual(
      Buffer.from(secrets.alice.secrets[1] as Uint8Array),
    );
  });

  it("centers named with RFC 4514's special characters (c,3; a+b; #x; x\\y) agree: a certificate's name is read as a value, not as Node prints it (c\\,3)", () => {
    // A sweep found `run --data` with a center named "c,3" refused as "certificate is for c\\,3".
    const names = ["c,3", "a+b", "#x", "x\\y", 'q"t', "<l>", " s "];
    const pki = simulationPki(names);
    const own = Object.fromEntries(
      names.map((c) => [c, createEphemeralKey("run-names", c, names, pki.centers[c])]),
    );
    const announcements = names.map((c) => own[c].announcement);
    for (const c of names) {
      const secrets = derivePairSecrets(own[c], announcements, pki.trust);
      expect(secrets.secrets.filter((x) => x !== null)).toHaveLength(names.length - 1);
    }
    // Still one name per certificate: another center's certificate is refused.
    const swapped = { ...own["a+b"].announcement, certificate: pki.centers["c,3"].certificate };
    expectRefused(
      own["#x"],
      replace(announcements, "a+b", swapped),
      "a+b",
      /certificate is for "c,3"/,
      pki.trust,
    );
  });

  it("refuses the aggregator's own key relayed with a center's signature", () => {
    const k = keys("run-1");
    const { publicKey } = generateKeyPairSync("x25519");
    const swapped = {
      ...k.bob.announcement,
      publicKey: publicKey.export({ format: "jwk" }).x as string,
    };
    expectRefused(k.alice, replace(relay(k), "bob", swapped), "bob", /signature does not match/);
  });

  it("refuses a key signed with the aggregator's own (CA-signed, server) certificate", () => {
    const k = keys("run-1");
    expectRefused(
      k.alice,
      replace(relay(k), "bob", forged("run-1", "bob", aggregator)),
      "bob",
      /not for TLS clients/,
    );
  });

  it("refuses a key signed by another key but carrying the center's certificate", () => {
    const k = keys("run-1");
    const withBobsCert = {
      ...forged("run-1", "bob", aggregator),
      certificate: credentials.bob.certificate,
    };
    expectRefused(
      k.alice,
      replace(relay(k), "bob", withBobsCert),
      "bob",
      /signature does not match/,
    );
    // A signature by another center's genuine key is no better.
    const byCarol = {
      ...forged("run-1", "bob", credentials.carol),
      certificate: credentials.bob.certificate,
    };
    expectRefused(k.alice, replace(relay(k), "bob", byCarol), "bob", /signature does not match/);
  });

  it("follows a center's certificate through the intermediate CAs its --cert file holds to --ca, and only through CAs", () => {
    // A PKI of the hospitals' kind: the federation's root signs an intermediate CA, which signs
    // the center's certificate; --cert holds both, --ca the root (or both, in either order).
    const dir = tmp.subdir("intermediate");
    const intermediate = issueCertificate(
      dir,
      "int",
      issuerIn(federationDir),
      "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n",
    ).certificate;
    const client = "extendedKeyUsage=clientAuth\n";
    const frank = issueCertificate(dir, "frank", issuerIn(dir, "int"), client).certificate;
    // grace's certificate is signed by frank's, a center's certificate: no CA.
    const grace = issueCertificate(dir, "grace", issuerIn(dir, "frank"), client).certificate;
    const centers = ["alice", "frank", "grace"];
    const announce = (name: string, chain: string) =>
      createEphemeralKey("run-1", name, centers, {
        certificate: chain,
        key: readFileSync(join(dir, `${name}.key`), "utf8"),
      }).announcement;
    const expected = (center: string) => ({ runId: "run-1", center, centers });
    const rootOnly = trust;
    const bundles = [rootOnly, { ca: intermediate + trust.ca }, { ca: trust.ca + intermediate }];
    for (const ca of bundles)
      expect(() =>
        verifyAnnouncement(announce("frank", frank + intermediate), expected("frank"), ca),
      ).not.toThrow();
    // Without the intermediate in its chain, only a --ca holding it vouches for frank.
    expect(() => verifyAnnouncement(announce("frank", frank), expected("frank"), rootOnly)).toThrow(
      /not signed by the federation CA/,
    );
    expect(() =>
      verifyAnnouncement(
        announce("grace", grace + frank + intermediate),
        expected("grace"),
        rootOnly,
      ),
    ).toThrow(KeySubstitutionError);
  });

  it("refuses a certificate with the center's name from another CA", () => {
    const k = keys("run-1");
    expectRefused(
      k.alice,
      replace(relay(k), "bob", forged("run-1", "bob", rogueBob)),
      "bob",
      /not signed by the federation CA/,
    );
  });

  it("refuses a signature replayed from another run, whether or not the run id is edited", () => {
    const old = keys("run-0");
    const k = keys("run-1");
    expectRefused(
      k.alice,
      replace(relay(k), "bob", old.bob.announcement),
      "bob",
      /signed for run "run-0"/,
    );
    const edited = { ...old.bob.announcement, runId: "run-1" };
    expectRefused(k.alice, replace(relay(k), "bob", edited), "bob", /signature does not match/);
  });

  it("refuses another center's announcement relabelled as this center's", () => {
    const k = keys("run-1");
    const relabelled = { ...k.carol.announcement, center: "bob" };
    expectRefused(
      k.alice,
      replace(relay(k), "bob", relabelled),
      "bob",
      /certificate is for "carol"/,
    );
    const withBobsCert = { ...relabelled, certificate: credentials.bob.certificate };
    expectRefused(
      k.alice,
      replace(relay(k), "bob", withBobsCert),
      "bob",
      /signature does not match/,
    );
  });

  it("refuses a key signed for another federation (the aggregator splitting the centers)", () => {
    const k = keys("run-1");
    const small = createEphemeralKey("run-1", "bob", ["alice", "bob"], credentials.bob);
    expectRefused(
      k.alice,
      replace(relay(k), "bob", small.announcement),
      "bob",
      /another list of centers/,
    );
    const edited = { ...small.announcement, centers: CENTERS };
    expectRefused(k.alice, replace(relay(k), "bob", edited), "bob", /signature does not match/);
  });

  it("refuses a relay that changes this center's own key, or drops or repeats a center", () => {
    const k = keys("run-1");
    const other = createEphemeralKey("run-1", "alice", CENTERS, credentials.alice);
    expectRefused(
      k.alice,
      replace(relay(k), "alice", other.announcement),
      "alice",
      /not the one this center made/,
    );
    expectRefused(
      k.alice,
      relay(k).filter((a) => a.center !== "dave"),
      "dave",
      /no key announced/,
    );
    expectRefused(k.alice, [...relay(k), k.erin.announcement], "erin", /announced twice/);
    const stranger = { ...k.erin.announcement, center: "mallory" };
    expectRefused(k.alice, [...relay(k), stranger], "mallory", /not a center of this federation/);
  });

  it("refuses a low-order public key, even when properly signed", () => {
    const k = keys("run-1");
    const zero = Buffer.alloc(32).toString("base64url");
    const announcement = {
      ...k.bob.announcement,
      publicKey: zero,
      signature: sign(
        "sha256",
        announcementPayload("run-1", "bob", CENTERS, zero),
        credentials.bob.key,
      ).toString("base64"),
    };
    expectRefused(k.alice, replace(relay(k), "bob", announcement), "bob", /shared secret/);
    const short = { ...announcement, publicKey: "AAAA" };
    expect(() =>
      verifyAnnouncement(short, { runId: "run-1", center: "bob", centers: CENTERS }, trust),
    ).toThrow(KeySubstitutionError);
  });

  it("refuses certificates outside their validity period", () => {
    const k = keys("run-1");
    const later: FederationTrust = { ...trust, now: new Date(Date.now() + 365 * 86_400_000) };
    expectRefused(k.alice, relay(k), "bob", /certificate valid .* not now/, later);
  });

  it("a center whose private key does not match its certificate learns it at once", () => {
    expect(() =>
      createEphemeralKey("run-1", "alice", CENTERS, {
        certificate: credentials.alice.certificate,
        key: credentials.bob.key,
      }),
    ).toThrow(/private key does not match certificate/);
    expect(() =>
      createEphemeralKey("run-1", "dave", CENTERS, {
        certificate: credentials.dave.certificate,
        key: credentials.alice.key,
      }),
    ).toThrow(/private key does not match certificate/);
    expect(() => createEphemeralKey("run-1", "zed", CENTERS, credentials.alice)).toThrow(
      SecureAggregationError,
    );
    expect(() => createEphemeralKey("run-1", "alice", ["alice"], credentials.alice)).toThrow(
      /at least 2 centers/,
    );
  });
});
