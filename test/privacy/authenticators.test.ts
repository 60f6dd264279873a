/**
 * What a reply's authenticators and fingerprint digests give an aggregator (issue [16] made the
 * fingerprint cover each masked vector's SHA-256, computed as the vector is masked, possibly on
 * the mask thread). The aggregator holds the reply (masked vectors, authenticators) and knows
 * every value of the center's share but one, a lone sample's count; it tries every candidate
 * count: encodes the share as the center would before masking, digests and fingerprints it, and
 * compares with what it can compute from the reply. No candidate matches; the same dictionary
 * on a reply that travelled unmasked finds the count, so the attack has its power.
 */
import { afterAll, describe, expect, it } from "vitest";
import { requestDigest } from "../../src/federation/requestDigest.js";
import {
  maskedDigest,
  replyFingerprint,
} from "../../src/federation/secureAggregation/authentication.js";
import { encodeSplitFixed } from "../../src/federation/secureAggregation/fixedPoint.js";
import {
  fineName,
  SecureCenter,
  securedFields,
} from "../../src/federation/secureAggregation/layer.js";
import { MaskThread } from "../../src/federation/secureAggregation/maskThread.js";
import { simulationPki } from "../../src/federation/secureAggregation/simulationCertificates.js";

const names = ["a", "b", "c"];
const thread = new MaskThread({ minElements: 0 });
afterAll(() => thread.close());

const COUNT = 17;
const CANDIDATES = 2000;
const input = {
  kind: "information-request",
  beta: new Float64Array(3 * 500),
  coefficients: 3,
  refit: false,
} as const;

/** Center a's share: known values, but for entry 0, the lone sample's count. */
function share(count: number) {
  const xtwx = Float64Array.from({ length: 500 * 6 }, (_, i) => 1 + ((i * 7919) % 1000) / 8);
  xtwx[0] = count;
  return { kind: "information-share", xtwx } as const;
}

/** The share's bytes as the center encodes them before masking (what masking hides). */
function unmasked(count: number): Record<string, Uint8Array> {
  const [f] = securedFields("information");
  const { coarse, fine } = encodeSplitFixed(
    share(count).xtwx,
    f.scaleExponent,
    f.fineExponent as number,
    names.length,
    f.name,
    fineName(f.name),
  );
  const bytes = (v: Uint32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return { [f.name]: bytes(coarse), [fineName(f.name)]: bytes(fine) };
}

describe("a reply's authenticators and digests (fingerprint v2)", () => {
  it("give an aggregator who knows all but one count of the share no candidate for it", () => {
    const pki = simulationPki(names);
    const centers = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
    const announcements = centers.map((c) => c.announce("r", names));
    for (const c of centers) c.agree("r", announcements);
    const tag = { runId: "r", phase: "wald", round: 0 };
    const request = requestDigest(tag, "information", input, { perCenterFields: false });
    const reply = centers[0]
      .beginProtect(tag, "information", share(COUNT) as never, request, thread)
      .finish();
    expect(Object.keys(reply.authenticators ?? {}).sort()).toEqual(["b", "c"]);

    // What the aggregator computes from the reply it holds.
    const seen = new Set(
      Object.values(reply.masked).map((v) => Buffer.from(maskedDigest(v)).toString("hex")),
    );
    const fingerprint = replyFingerprint("information", reply).toString("hex");
    const matches = (masked: Record<string, Uint8Array>) => {
      const digests = Object.values(masked).map((v) =>
        Buffer.from(maskedDigest(v)).toString("hex"),
      );
      const candidate = replyFingerprint("information", { clear: reply.clear, masked }).toString(
        "hex",
      );
      return digests.some((d) => seen.has(d)) || candidate === fingerprint;
    };
    const found: number[] = [];
    for (let count = 0; count < CANDIDATES; count++)
      if (matches(unmasked(count))) found.push(count);
    expect(found).toEqual([]);

    // Power: had the vectors travelled unmasked, the same dictionary finds the count, alone.
    const clearDigests = new Set(
      Object.values(unmasked(COUNT)).map((v) => Buffer.from(maskedDigest(v)).toString("hex")),
    );
    const clearFound: number[] = [];
    for (let count = 0; count < CANDIDATES; count++) {
      const digests = Object.values(unmasked(count)).map((v) =>
        Buffer.from(maskedDigest(v)).toString("hex"),
      );
      if (digests.every((d) => clearDigests.has(d))) clearFound.push(count);
    }
    expect(clearFound).toEqual([COUNT]);
  });
});
