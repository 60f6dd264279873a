/**
 * Malformed and oversized messages over gRPC: each side rejects them with a logged reason,
 * neither crashes, and the run goes on when the peer then behaves.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import { permanentCertificateProblem } from "../../src/federation/grpc/aggregatorCertificate.js";
import { GrpcAggregator } from "../../src/federation/grpc/aggregatorServer.js";
import { runCenterAgent } from "../../src/federation/grpc/centerAgent.js";
import { makeTrialCertificates } from "../../src/federation/grpc/certificates.js";
import type { AggregatorMessage } from "../../src/federation/grpc/generated/fedseq/v1/AggregatorMessage.js";
import type { CenterMessage__Output } from "../../src/federation/grpc/generated/fedseq/v1/CenterMessage.js";
import { fedseqProto, PROTOCOL_VERSION, type TlsFiles } from "../../src/federation/grpc/proto.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import { FederationFailure } from "../../src/federation/transport.js";
import { fitOverFederation, simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { DESIGNS, fitShared } from "../helpers/fits.js";
import { issueCertificate } from "../helpers/openssl.js";
import { sharedPath } from "../helpers/shared.js";
import { testCertificates, tlsOf } from "../helpers/transports.js";

/** A center that answers its first `presence` request with a corrupted share. */
class FaultyCenter extends CenterSession {
  faults: ("short" | "huge")[];
  constructor(session: CenterSession, faults: ("short" | "huge")[]) {
    super(session.data);
    this.faults = faults;
  }
  override run<K extends StepName>(tag: RequestTag, step: K, input: StepInput<K>): StepOutput<K> {
    const output = super.run(tag, step, input);
    if (step !== "presence" || this.faults.length === 0) return output;
    const fault = this.faults.shift();
    const present = fault === "short" ? new Uint8Array(5) : new Uint8Array(50_000_000);
    return { kind: "presence-share", present } as StepOutput<K>;
  }
}

const job = (dataset: string) => ({
  design: DESIGNS[dataset],
  sizeFactorsFile: sharedPath("data", dataset, "deseq2", "size_factors.csv"),
  dispersionsFile: sharedPath("data", dataset, "deseq2", "fit.csv"),
  mode: "irls-pqn" as const,
  solver: "upstream" as const,
  references: {},
  fixedRounds: false,
  hp: DEFAULT_HYPERPARAMETERS,
  outDir: "unused",
});

describe("gRPC faults", () => {
  it("the aggregator rejects a malformed and an oversized share, logs why, and the run completes", async () => {
    const certs = testCertificates();
    const lines: string[] = [];
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: ["site_1", "site_2"],
      tls: tlsOf(certs.aggregator),
      runId: "faults",
      joinTimeoutMs: 20_000,
      reconnectTimeoutMs: 20_000,
      maxMessageBytes: 4 * 1024 * 1024,
      log: (line) => lines.push(line),
    });
    const li = await simulatedCenters(sharedPath("data", "li_lncap"));
    const agents = li.map((session) =>
      runCenterAgent({
        aggregator: `localhost:${aggregator.port}`,
        tls: tlsOf(certs.centers[session.name]),
        session: session.name === "site_2" ? new FaultyCenter(session, ["short", "huge"]) : session,
        minSamples: 1,
        retryDelayMs: 100,
        giveUpAfterMs: 20_000,
        log: (line) => lines.push(line),
      }),
    );
    await aggregator.ready();
    const outcome = await fitOverFederation(aggregator, job("li_lncap"), { runId: "faults" });
    await aggregator.close({ success: true, message: "done" });
    for (const a of await Promise.all(agents)) expect(a.success).toBe(true);
    expect(lines.join("\n")).toMatch(
      /center site_2: rejected a malformed message: presence\.present: 5 values, expected 22743/,
    );
    // Oversized: gRPC refuses it at the aggregator's door (status RESOURCE_EXHAUSTED, with the
    // sizes, delivered to the center, which logs it); the aggregator sees the stream drop and
    // waits for the center, which reconnects and answers again.
    expect(lines.join("\n")).toMatch(
      /center site_2: connection to localhost:\d+ lost or refused \(Received message larger than max \(6250068 vs 4194304\)\)/,
    );
    expect(lines.join("\n")).toMatch(/center site_2 reconnected/);
    // The in-process fit of the same job (fitShared's, computed once per vitest run).
    const { outcome: reference } = await fitShared("li_lncap", "irls-pqn", "upstream");
    expect(
      Buffer.from(outcome.result.beta.buffer).equals(Buffer.from(reference.result.beta.buffer)),
    ).toBe(true);
  });

  it("a center dialling a port that accepts and never answers gives up after --give-up-after", async () => {
    // A firewall that accepts and drops, or a stopped aggregator: the TLS handshake never ends,
    // and gRPC puts no deadline on it.
    const certs = testCertificates();
    const sockets: Socket[] = [];
    const blackHole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    const port = (blackHole.address() as AddressInfo).port;
    const li = await simulatedCenters(sharedPath("data", "li_lncap"));
    const lines: string[] = [];
    const started = Date.now();
    try {
      await expect(
        runCenterAgent({
          aggregator: `127.0.0.1:${port}`,
          tls: tlsOf(certs.centers[li[0].name]),
          session: li[0],
          minSamples: 1,
          retryDelayMs: 100,
          giveUpAfterMs: 1_500,
          log: (line) => lines.push(line),
        }),
      ).rejects.toThrow(/could not reach the aggregator at 127\.0\.0\.1:\d+ for 1\.5 s/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(lines.join("\n")).toMatch(/no answer from 127\.0\.0\.1:\d+ within/);
    } finally {
      for (const s of sockets) s.destroy();
      blackHole.close();
    }
  });

  it("a center whose connection was lost when the run ended is told so when it dials again, not left dialling until --give-up-after", async () => {
    const certs = testCertificates();
    const li = await simulatedCenters(sharedPath("data", "li_lncap"));
    const lines: string[] = [];
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: li.map((s) => s.name),
      tls: tlsOf(certs.aggregator),
      runId: "ended",
      joinTimeoutMs: 20_000,
      reconnectTimeoutMs: 20_000,
      log: (line) => lines.push(line),
    });
    // The first center reaches the aggregator through a relay whose connections can be cut.
    const cut: Socket[] = [];
    let relaying = true;
    const relay = createServer((socket) => {
      if (!relaying) {
        socket.destroy();
        return;
      }
      const upstream = connect(aggregator.port, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
      cut.push(socket, upstream);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayPort = (relay.address() as AddressInfo).port;
    const agentLines: string[] = [];
    const agents = li.map((session, c) =>
      runCenterAgent({
        aggregator: `localhost:${c === 0 ? relayPort : aggregator.port}`,
        tls: tlsOf(certs.centers[session.name]),
        session,
        minSamples: 1,
        retryDelayMs: 300,
        giveUpAfterMs: 4_000,
        log: (line) => agentLines.push(line),
      }),
    );
    try {
      await aggregator.ready();
      // The run is over (its results written) just as the first center's connection is lost,
      // and it cannot dial again for a while.
      relaying = false;
      for (const socket of cut) socket.destroy();
      const lost = `center ${li[0].name}: connection to`;
      for (let k = 0; k < 200 && !agentLines.some((l) => l.startsWith(lost)); k++)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      const closed = aggregator.close({ success: true, message: "results written" });
      for (let k = 0; k < 100 && !lines.some((l) => l.startsWith("waiting up to")); k++)
        await new Promise((r) => setTimeout(r, 20));
      expect(lines).toContain(
        `waiting up to 10 s for ${li[0].name} (connection lost) to be told the run ended`,
      );
      relaying = true;
      await closed;
      const outcomes = await Promise.all(agents);
      expect(outcomes.map((o) => [o.success, o.message])).toEqual([
        [true, "results written"],
        [true, "results written"],
      ]);
      expect(lines).toContain(`center ${li[0].name} dialled again after the run ended: told it so`);
      expect(agentLines.join("\n")).toMatch(
        new RegExp(`center ${li[0].name}: the aggregator ended the run: results written`),
      );
    } finally {
      for (const socket of cut) socket.destroy();
      relay.close();
      await aggregator.close();
    }
  });

  it("a center whose aggregator's certificate can never be valid (another name, another CA, expired) stops at once naming the address and the cause; a refused connection is retried", async () => {
    const certs = testCertificates();
    const li = await simulatedCenters(sharedPath("data", "li_lncap"));
    const name = li[0].name;
    // `fedseq certs --hosts aggregator.example.org`, dialled as 127.0.0.1.
    const dir = mkdtempSync(join(tmpdir(), "fedseq-named-certs-"));
    const named = makeTrialCertificates(join(dir, "named"), [name], ["aggregator.example.org"]);
    const listen = async (tls: TlsFiles) =>
      GrpcAggregator.listen({
        listen: "127.0.0.1:0",
        centers: [name],
        tls,
        runId: "certificates",
        joinTimeoutMs: 60_000,
        reconnectTimeoutMs: 60_000,
        log: () => {},
      });
    const dial = (port: number, tls: TlsFiles, lines: string[], giveUpAfterMs = 60_000) =>
      runCenterAgent({
        aggregator: `127.0.0.1:${port}`,
        tls,
        session: li[0],
        minSamples: 1,
        retryDelayMs: 100,
        giveUpAfterMs,
        log: (line) => lines.push(line),
      });
    const namedTls = (party: { cert: string; key: string }) => ({
      ca: readFileSync(named.ca),
      cert: readFileSync(party.cert),
      key: readFileSync(party.key),
    });
    const mismatched = await listen(namedTls(named.aggregator));
    const otherCa = await listen(tlsOf(certs.aggregator));
    try {
      // Until 2026-12-08 each retried every 2 s until --give-up-after (600 s).
      for (const [port, cause] of [
        [
          mismatched.port,
          /^center \S+: the aggregator at 127\.0\.0\.1:\d+ presents a TLS certificate that is not valid for 127\.0\.0\.1 \(it is for DNS:aggregator\.example\.org\): dial a name it holds, or remake the certificates with 127\.0\.0\.1 among the names the centers dial \(`fedseq certs --hosts NAME,…,127\.0\.0\.1`\)/,
        ],
        [
          otherCa.port,
          /^center \S+: the aggregator at 127\.0\.0\.1:\d+ presents a TLS certificate not signed by the federation's CA \(--ca\) \(SELF_SIGNED_CERT_IN_CHAIN\)/,
        ],
      ] as const) {
        const lines: string[] = [];
        const started = Date.now();
        const failure = await dial(port, namedTls(named.centers[name]), lines).catch((e) => e);
        expect(failure).toBeInstanceOf(FederationFailure);
        expect((failure as Error).message).toMatch(cause);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(lines.join("\n")).not.toMatch(/retrying/);
      }
      // Expired: made as `fedseq certs` would, a day in the past (an aggregator started with it
      // is refused at --cert; one whose certificate ran out while it listened is not).
      const expired = join(dir, "expired");
      mkdirSync(expired);
      const made = issueCertificate(
        expired,
        "e",
        { cert: named.ca, key: join(dir, "named", "ca.key") },
        "subjectAltName=IP:127.0.0.1\n",
        { days: -1 },
      );
      const server = createTlsServer({
        cert: made.certificate,
        key: made.key,
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        await expect(
          permanentCertificateProblem(`127.0.0.1:${port}`, namedTls(named.centers[name]), 5_000),
        ).resolves.toMatch(
          /^the aggregator at 127\.0\.0\.1:\d+ presents a TLS certificate that has expired \(valid until /,
        );
      } finally {
        server.close();
      }
      // Nothing listening (an aggregator not up yet): retried until --give-up-after, as before.
      const closed = otherCa.port;
      await otherCa.close({ success: false, message: "closed for the test" });
      const lines: string[] = [];
      await expect(dial(closed, tlsOf(certs.centers[name]), lines, 1_500)).rejects.toThrow(
        /could not reach the aggregator at 127\.0\.0\.1:\d+ for 1\.5 s/,
      );
      expect(lines.join("\n")).toMatch(/ECONNREFUSED.*retrying/);
    } finally {
      await mismatched.close({ success: false, message: "closed for the test" });
      await otherCa.close({ success: false, message: "closed for the test" });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a client without a certificate is refused at the TLS handshake; the aggregator reports the missing center", async () => {
    const certs = testCertificates();
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: ["site_1"],
      tls: tlsOf(certs.aggregator),
      runId: "no-cert",
      joinTimeoutMs: 2_000,
      reconnectTimeoutMs: 2_000,
      log: () => {},
    });
    const Federation = fedseqProto().fedseq.v1.Federation;
    const client = new Federation(
      `localhost:${aggregator.port}`,
      grpc.credentials.createSsl(tlsOf(certs.aggregator).ca),
    );
    const call = client.join();
    const failure = new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    call.write({
      hello: { protocol: 1, center: "site_1", genes: ["g"], samples: ["s"], preparedRun: "" },
    });
    const error = await failure;
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    await expect(aggregator.ready()).rejects.toThrow(/center site_1: did not join within 2 s/);
    client.close();
  });

  it("a center of the previous protocol version is refused at join, naming both versions", async () => {
    // Version 2 centers drop the Cook's requests' residual μ (version 3) and would compute an
    // LRT's distances at the wrong μ without a word: they must not join.
    const certs = testCertificates();
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: ["site_1"],
      tls: tlsOf(certs.aggregator),
      runId: "old-protocol",
      joinTimeoutMs: 2_000,
      reconnectTimeoutMs: 2_000,
      log: () => {},
    });
    const site = tlsOf(certs.centers.site_1);
    const Federation = fedseqProto().fedseq.v1.Federation;
    const client = new Federation(
      `localhost:${aggregator.port}`,
      grpc.credentials.createSsl(site.ca, site.key, site.cert),
    );
    const call = client.join();
    const failure = new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    call.on("data", () => {});
    call.write({
      hello: {
        protocol: PROTOCOL_VERSION - 1,
        center: "site_1",
        genes: ["g"],
        samples: ["s"],
        preparedRun: "",
      },
    });
    const error = await failure;
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toBe(
      `center site_1 speaks protocol ${PROTOCOL_VERSION - 1}, this aggregator ${PROTOCOL_VERSION}`,
    );
    await expect(aggregator.ready()).rejects.toThrow(/center site_1: did not join within 2 s/);
    client.close();
  });

  it("a center rejects a malformed request with a reason, keeps serving, and ends cleanly", async () => {
    const certs = testCertificates();
    const server = new grpc.Server();
    const replies: CenterMessage__Output[] = [];
    const done = new Promise<void>((resolve) => {
      server.addService(fedseqProto().fedseq.v1.Federation.service, {
        join: (call: grpc.ServerDuplexStream<CenterMessage__Output, AggregatorMessage>) => {
          call.on("data", (message: CenterMessage__Output) => {
            if (message.body === "hello") {
              call.write({ welcome: { runId: "fake" } });
              // A PQN request whose beta is 7 bytes: not a whole number of float64.
              call.write({
                request: {
                  tag: { runId: "fake", phase: "pqn", round: 1 },
                  record: {
                    step: "pqn",
                    numbers: { round: 1, coefficients: 1 },
                    booleans: { refit: false },
                    masks: { mask: { length: 1, bits: Buffer.alloc(1) } },
                    tensors: {
                      beta: { shape: [7], data: Buffer.alloc(7) },
                      direction: { shape: [0], data: Buffer.alloc(0) },
                    },
                  },
                },
              });
              return;
            }
            replies.push(message);
            if (replies.length === 1) {
              call.write({
                request: {
                  tag: { runId: "fake", phase: "setup", round: 0 },
                  record: {
                    step: "presence",
                    textLists: { genes: { values: ["ENSG00000000003"] } },
                  },
                },
              });
            } else {
              call.write({ shutdown: { success: true, message: "test over" } });
              call.end();
              resolve();
            }
          });
        },
      });
    });
    const tls = tlsOf(certs.aggregator);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        "127.0.0.1:0",
        grpc.ServerCredentials.createSsl(
          tls.ca,
          [{ private_key: tls.key, cert_chain: tls.cert }],
          true,
        ),
        (e, p) => (e ? reject(e) : resolve(p)),
      ),
    );
    const [session] = (await simulatedCenters(sharedPath("data", "li_lncap"))).filter(
      (s) => s.name === "site_1",
    );
    const lines: string[] = [];
    const outcome = await runCenterAgent({
      aggregator: `localhost:${port}`,
      tls: tlsOf(certs.centers.site_1),
      session,
      minSamples: 1,
      retryDelayMs: 100,
      giveUpAfterMs: 10_000,
      log: (line) => lines.push(line),
    });
    await done;
    server.forceShutdown();
    expect(outcome.success).toBe(true);
    expect(lines.join("\n")).toMatch(
      /rejected a malformed request: pqn\.beta: 7 bytes is not a whole number of float64/,
    );
    expect(replies[0].reply?.step).toBe("error");
    expect(replies[0].reply?.error?.message).toMatch(/pqn/);
    expect(replies[1].reply?.step).toBe("record");
    expect(replies[1].reply?.record?.step).toBe("presence");
    expect(replies[1].reply?.record?.masks.present?.length).toBe(1);
  });
});
