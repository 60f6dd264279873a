/**
 * Every transport, as a factory from a pooled dataset folder (its `center` column names the
 * centers): the transport suite runs the same tests against each.
 */

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CenterSession } from "../../src/federation/centerSession.js";
import { GrpcAggregator } from "../../src/federation/grpc/aggregatorServer.js";
import { type AgentOutcome, runCenterAgent } from "../../src/federation/grpc/centerAgent.js";
import {
  makeTrialCertificates,
  type TrialCertificates,
} from "../../src/federation/grpc/certificates.js";
import type { TlsFiles } from "../../src/federation/grpc/proto.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { MessageRecord } from "../../src/federation/transcript.js";
import type { Transport } from "../../src/federation/transport.js";
import { WorkerThreadsTransport } from "../../src/federation/workerThreads.js";
import { readMetadata } from "../../src/io/dataset.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";

/** Center names of a pooled dataset folder. */
export function centerNames(dir: string): string[] {
  const meta = readMetadata(join(dir, "metadata.csv"));
  return [...new Set(meta.metadata.values.get("center") ?? [])].sort();
}

/** Transport factories by name. */
export const TRANSPORTS: Record<string, (dir: string) => Promise<Transport>> = {
  "in-process": async (dir) => new InProcessTransport(await simulatedCenters(dir)),
  "worker-threads": (dir) =>
    WorkerThreadsTransport.start(
      centerNames(dir).map((name) => ({ name, source: { kind: "dataset", dir, name } })),
    ),
};

let trialCertificates: TrialCertificates | null = null;
/** Certificates for loopback federations in tests (made once per test file). */
export function testCertificates(): TrialCertificates {
  if (trialCertificates === null) {
    const dir = mkdtempSync(join(tmpdir(), "fedseq-certs-"));
    trialCertificates = makeTrialCertificates(dir, [
      "hospital_a",
      "hospital_b",
      "hospital_c",
      "site_1",
      "site_2",
      "lab_1",
      "lab_2",
      "lab_3",
    ]);
  }
  return trialCertificates;
}

/** TLS files of a party of the test federation. */
export function tlsOf(party: { cert: string; key: string }): TlsFiles {
  const certs = testCertificates();
  return {
    ca: readFileSync(certs.ca),
    cert: readFileSync(party.cert),
    key: readFileSync(party.key),
  };
}

/**
 * A loopback gRPC federation: the aggregator's server, and each center's agent (here in this
 * process, each with its own session and TLS identity) dialling out to it.
 */
/**
 * Each session as a center agent dialling the aggregator on `port` (trial certificates, quick
 * retries); `audit` receives each center's messages as it sends them, `log` its log lines.
 */
export function startAgents(
  port: number,
  sessions: readonly CenterSession[],
  audit?: (center: string, record: MessageRecord) => void,
  log: (line: string) => void = () => {},
): Promise<AgentOutcome>[] {
  const certs = testCertificates();
  return sessions.map((session) =>
    runCenterAgent({
      aggregator: `localhost:${port}`,
      tls: tlsOf(certs.centers[session.name]),
      session,
      minSamples: 1,
      retryDelayMs: 100,
      giveUpAfterMs: 20_000,
      audit: audit === undefined ? undefined : (record) => audit(session.name, record),
      log,
    }),
  );
}

/**
 * A loopback gRPC aggregator (trial certificates) with `sessions` dialling it as center agents,
 * resolved once every center has joined; `close` ends the run and waits for the agents.
 * `centerLog` receives the agents' log lines (what each center's operator reads).
 */
export async function loopbackFederation(
  sessions: readonly CenterSession[],
  options: {
    readonly runId: string;
    readonly secureAggregation?: boolean;
    /** The plan hash the aggregator runs under (its requests' tags carry it). */
    readonly plan?: string;
    readonly centerLog?: (line: string) => void;
  },
): Promise<{
  readonly aggregator: GrpcAggregator;
  readonly close: (message: string) => Promise<void>;
}> {
  const aggregator = await GrpcAggregator.listen({
    listen: "127.0.0.1:0",
    centers: sessions.map((s) => s.name),
    tls: tlsOf(testCertificates().aggregator),
    runId: options.runId,
    ...(options.plan === undefined ? {} : { plan: options.plan }),
    joinTimeoutMs: 20_000,
    reconnectTimeoutMs: 20_000,
    secureAggregation: options.secureAggregation === true,
    log: () => {},
  });
  const agents = startAgents(aggregator.port, sessions, undefined, options.centerLog);
  await aggregator.ready();
  return {
    aggregator,
    close: async (message) => {
      await aggregator.close({ success: false, message });
      await Promise.all(agents);
    },
  };
}

export async function grpcFederation(dir: string, runId = "transport-suite"): Promise<Transport> {
  const certs = testCertificates();
  const names = centerNames(dir);
  const aggregator = await GrpcAggregator.listen({
    listen: "127.0.0.1:0",
    centers: names,
    tls: tlsOf(certs.aggregator),
    runId,
    joinTimeoutMs: 20_000,
    reconnectTimeoutMs: 20_000,
    log: () => {},
  });
  const agents = startAgents(aggregator.port, await simulatedCenters(dir));
  await aggregator.ready();
  return {
    centers: aggregator.centers,
    request: (tag, step, inputs) => aggregator.request(tag, step, inputs),
    close: async (reason) => {
      await aggregator.close(reason);
      await Promise.all(agents);
    },
  };
}

TRANSPORTS.grpc = (dir) => grpcFederation(dir);
