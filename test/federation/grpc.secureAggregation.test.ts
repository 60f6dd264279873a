/**
 * Secure aggregation over gRPC with real center processes (`bin/fedseq center`, built): an
 * aggregator that relays a substituted key is refused by the centers (exit 3, naming the center
 * whose key was swapped) and its run ends naming it too; a center that requires secure
 * aggregation refuses an aggregator in clear mode; an honest relay gives the sums.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { GrpcAggregator } from "../../src/federation/grpc/aggregatorServer.js";
import type { KeyAnnouncement } from "../../src/federation/secureAggregation/keyAgreement.js";
import { CenterError } from "../../src/federation/transport.js";
import { type FedseqProcess, startFedseq } from "../helpers/processes.js";
import { sharedPath } from "../helpers/shared.js";
import { testCertificates, tlsOf } from "../helpers/transports.js";

const CENTERS = ["lab_1", "lab_2", "lab_3"];
const running: FedseqProcess[] = [];
const aggregators: GrpcAggregator[] = [];

afterEach(async () => {
  for (const a of aggregators.splice(0)) await a.close({ success: false, message: "test over" });
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
});

function center(name: string, port: number, extra: string[] = []): FedseqProcess {
  const certs = testCertificates();
  const p = startFedseq([
    "center",
    "--data",
    sharedPath("data", "outliers_sim"),
    "--name",
    name,
    "--aggregator",
    `localhost:${port}`,
    "--ca",
    certs.ca,
    "--cert",
    certs.centers[name].cert,
    "--key",
    certs.centers[name].key,
    "--retry-delay",
    "0.2",
    "--give-up-after",
    "30",
    "--threads",
    "1",
    // No plan here: each center serves an aggregate fit, which it must be told to.
    ...(extra.includes("--plan") ? [] : ["--aggregate-fit"]),
    ...extra,
  ]);
  running.push(p);
  return p;
}

async function aggregator(options: {
  secureAggregation: boolean;
  tamperRelay?: (center: string, a: readonly KeyAnnouncement[]) => readonly KeyAnnouncement[];
}): Promise<{ aggregator: GrpcAggregator; log: string[] }> {
  const log: string[] = [];
  const a = await GrpcAggregator.listen({
    listen: "127.0.0.1:0",
    centers: CENTERS,
    tls: tlsOf(testCertificates().aggregator),
    runId: "secure-grpc",
    joinTimeoutMs: 60_000,
    reconnectTimeoutMs: 20_000,
    secureAggregation: options.secureAggregation,
    tamperRelay: options.tamperRelay,
    log: (line) => log.push(line),
  });
  aggregators.push(a);
  return { aggregator: a, log };
}

const tag = { runId: "secure-grpc", phase: "size-factors", round: 0 };

describe("secure aggregation over gRPC, center processes", () => {
  it("a key swapped in the relay: the run is refused, exit 3 naming the center", async () => {
    testCertificates();
    // The aggregator shows lab_1 and lab_3 a key of its own making in lab_2's name.
    const forged = generateKeyPairSync("x25519").publicKey.export({ format: "jwk" }).x as string;
    const { aggregator: agg } = await aggregator({
      secureAggregation: true,
      tamperRelay: (to, announcements) =>
        to === "lab_2"
          ? announcements
          : announcements.map((a) => (a.center === "lab_2" ? { ...a, publicKey: forged } : a)),
    });
    const centers = CENTERS.map((name) => center(name, agg.port));
    await agg.ready();
    const genes = agg.centers[0].genes.slice(0, 5);
    const failure = await agg
      .request(
        tag,
        "logSums",
        agg.centers.map(
          () => ({ kind: "log-sums-request", genes, genesWithZeros: false }) as const,
        ),
      )
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CenterError);
    expect(String(failure)).toMatch(/refused the run: key of center "lab_2" rejected: signature/);
    await agg.close({ success: false, message: String(failure) });
    const codes = await Promise.all(centers.map((c) => c.exited));
    expect(codes[0], centers[0].output()).toBe(3);
    expect(codes[2], centers[2].output()).toBe(3);
    for (const i of [0, 2]) {
      expect(centers[i].output()).toMatch(/key of center "lab_2" rejected/);
    }
    expect(codes[1]).toBe(3); // lab_2 itself: the run ended with an error
  });

  it("an honest relay: the centers agree on keys and the aggregator gets the sums only", async () => {
    const { aggregator: agg, log } = await aggregator({ secureAggregation: true });
    const centers = CENTERS.map((name) => center(name, agg.port));
    await agg.ready();
    const genes = agg.centers[0].genes.slice(0, 5);
    const shares = await agg.request(
      { ...tag, phase: "setup" },
      "presence",
      agg.centers.map(() => ({ kind: "presence-request", genes }) as const),
    );
    // The OR in the first share, zeros in the others: no center's own bits.
    expect(Array.from(shares[0].present)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(shares[1].present)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(shares[2].present)).toEqual([0, 0, 0, 0, 0]);
    expect(log.join("\n")).toMatch(/3 centers agreed on keys \(epoch 1\)/);
    await agg.close({ success: true, message: "done" });
    for (const c of centers) expect(await c.exited, c.output()).toBe(0);
  });

  it("a center requiring secure aggregation refuses an aggregator in clear mode", async () => {
    const { aggregator: agg } = await aggregator({ secureAggregation: false });
    const strict = center("lab_1", agg.port, ["--require-secure-aggregation"]);
    const others = ["lab_2", "lab_3"].map((name) => center(name, agg.port));
    const failure = await agg.ready().catch((error: unknown) => error);
    expect(String(failure)).toMatch(/lab_1: requires secure aggregation/);
    expect(await strict.exited, strict.output()).toBe(3);
    expect(strict.output()).toMatch(/secure aggregation/);
    for (const p of others) p.child.kill("SIGKILL");
  });
});
