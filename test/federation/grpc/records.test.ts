/**
 * Record steps on the wire: every declared field survives the protobuf round trip bit for bit
 * (NaN markers included), and a reply that does not fit its declaration is refused.
 */
import { describe, expect, it } from "vitest";
import {
  decodeCounts,
  decodeReply,
  decodeRequest,
  encodeCounts,
  encodeReply,
  encodeRequest,
  ProtocolError,
} from "../../../src/federation/grpc/codec.js";
import { fedseqProto } from "../../../src/federation/grpc/proto.js";
import {
  agreeKeys,
  relayedTo,
  SecureCenter,
} from "../../../src/federation/secureAggregation/layer.js";
import { simulationPki } from "../../../src/federation/secureAggregation/simulationCertificates.js";
import type { RequestTag, StepInput } from "../../../src/federation/steps.js";

const tag: RequestTag = { runId: "r", phase: "size-factors", round: 0 };

/** Serialise and parse as the stream does, so that defaults and maps behave as on the wire. */
function overTheWire<T>(message: T, side: "request" | "reply"): never {
  const join = fedseqProto().fedseq.v1.Federation.service.Join;
  if (side === "request") {
    const bytes = join.responseSerialize({ request: message as never });
    return join.responseDeserialize(bytes).request as never;
  }
  const bytes = join.requestSerialize({ reply: message as never });
  return join.requestDeserialize(bytes).reply as never;
}

describe("record steps on the wire", () => {
  it("carry float64 arrays (with NaN), masks, numbers and strings exactly", () => {
    const logGeoMeans = Float64Array.from([1.5, Number.NaN, -2.25e-300, 7]);
    const decoded = decodeRequest(
      overTheWire(
        encodeRequest(tag, "sizeFactors", {
          kind: "size-factors-request",
          logGeoMeans,
          stabilize: true,
        }),
        "request",
      ),
    );
    expect(decoded.step).toBe("sizeFactors");
    expect(decoded.input).toEqual({ kind: "size-factors-request", logGeoMeans, stabilize: true });

    const request = {
      kind: "log-sums-request" as const,
      genes: ["a", "b", "c"],
      genesWithZeros: false,
    };
    const share = {
      kind: "log-sums-share" as const,
      logSums: Float64Array.from([0.1, 0.2, 0.3]),
      hasZero: Uint8Array.from([1, 0, 1]),
      samples: 6,
    };
    const back = decodeReply(
      overTheWire(encodeReply(tag, "logSums", share), "reply"),
      "logSums",
      request,
    );
    expect(back).toEqual(share);
  });

  it("refuse a reply of the wrong length or with a non-finite value where finite is declared", () => {
    const request = {
      kind: "log-sums-request" as const,
      genes: ["a", "b", "c"],
      genesWithZeros: false,
    };
    const short = {
      kind: "log-sums-share" as const,
      logSums: Float64Array.from([0.1, 0.2]),
      hasZero: Uint8Array.from([0, 0]),
      samples: 6,
    };
    expect(() =>
      decodeReply(overTheWire(encodeReply(tag, "logSums", short), "reply"), "logSums", request),
    ).toThrow(/logSums.logSums: 2 values, expected 3/);
    const infinite = {
      ...short,
      logSums: Float64Array.from([0.1, Number.POSITIVE_INFINITY, 0]),
      hasZero: Uint8Array.from([0, 0, 0]),
    };
    expect(() =>
      decodeReply(overTheWire(encodeReply(tag, "logSums", infinite), "reply"), "logSums", request),
    ).toThrow(ProtocolError);
  });

  it("carry counts in the narrowest of 1, 2 or 4 bytes each, and refuse a bad width", () => {
    for (const [values, width] of [
      [[0, 7, 255], 1],
      [[0, 256, 65535], 2],
      [[65536, 4294967295, 3], 4],
    ] as [number[], number][]) {
      const bytes = encodeCounts(Float64Array.from(values));
      expect(bytes[0]).toBe(width);
      expect(bytes.length).toBe(1 + values.length * width);
      expect(Array.from(decodeCounts(bytes, "c"))).toEqual(values);
    }
    expect(() => decodeCounts(Buffer.from([3, 0, 0, 0]), "c")).toThrow(/width 3/);
    expect(() => decodeCounts(Buffer.from([2, 0, 0, 0]), "c")).toThrow(/whole number/);
  });

  it("relay every other center's reply exactly, the recipient's own as an empty record", async () => {
    const names = ["lab_1", "lab_2", "lab_3"];
    const pki = simulationPki(names);
    const centers = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
    await agreeKeys("r", names, {
      announce: async (c, run, list) => centers[c].announce(run, list),
      relay: async (c, run, announcements) => centers[c].agree(run, announcements),
    });
    const genes = Array.from({ length: 4000 }, (_, g) => `g${g}`);
    const input: StepInput<"presence"> = { kind: "presence-request", genes };
    const replies = centers.map((center, c) =>
      center.protect(tag, "presence", input, {
        kind: "presence-share",
        present: Uint8Array.from(genes, (_, g) => (g % 3 === c ? 1 : 0)),
      }),
    );
    const evidence = { tag, step: "presence" as const, replies };
    const next = { kind: "presence-request" as const, genes: ["g0"] };
    const wire = (r: ReturnType<typeof encodeRequest>) =>
      fedseqProto().fedseq.v1.Federation.service.Join.responseSerialize({ request: r }).length;
    const toLab2 = encodeRequest(tag, "presence", next, relayedTo(evidence, 1));
    const decoded = decodeRequest(overTheWire(toLab2, "request"));
    expect(decoded.evidence?.replies).toEqual([replies[0], null, replies[2]]);
    // One reply's bytes fewer than relaying all three (each masked reply: 1,000 ring elements).
    const all = wire(encodeRequest(tag, "presence", next, evidence));
    const own = all - wire(toLab2);
    expect(own).toBeGreaterThan(16_000);
    expect(own).toBeLessThan(all / 3);
    // A record without a step that holds anything is not the empty one: refused.
    const forged = structuredClone(toLab2);
    const stray = forged.evidence?.replies?.[1];
    if (stray === undefined) throw new Error("no own place");
    stray.authenticators = { lab_1: Buffer.alloc(32) };
    expect(() => decodeRequest(overTheWire(forged, "request"))).toThrow(
      "relayed reply 2: a record without a step that is not empty",
    );
  });
});
