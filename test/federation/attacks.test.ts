/**
 * A malicious aggregator or a curious certificate holder against the centers: requests that
 * would make a center disclose its data, and messages in another party's name, are refused.
 * (Issue [11] lists more; each attack here must fail.)
 */
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { GrpcAggregator } from "../../src/federation/grpc/aggregatorServer.js";
import { fedseqProto } from "../../src/federation/grpc/proto.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../../src/federation/steps.js";
import type { Transport } from "../../src/federation/transport.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../src/pipeline/run.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { startAgents, testCertificates, tlsOf } from "../helpers/transports.js";

/** An aggregator that rewrites the requests of one step before they go out. */
function tampering(
  inner: Transport,
  step: StepName,
  rewrite: (input: never) => unknown,
): Transport {
  return {
    centers: inner.centers,
    request<K extends StepName>(
      tag: RequestTag,
      s: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const sent = s === step ? inputs.map((i) => rewrite(i as never) as StepInput<K>) : inputs;
      return inner.request(tag, s, sent);
    },
    close: (reason) => inner.close(reason),
  };
}

describe("a malicious aggregator", () => {
  it("cannot impose size factors on a center that computed its own (1 for one sample, 1e300 for the rest)", async () => {
    const centers = await simulatedCenters(sharedPath("data", "outliers_sim"));
    const transport = tampering(
      new InProcessTransport(centers),
      "prepare",
      (input: StepInput<"prepare">) => ({
        ...input,
        // The honest request carries none (each center uses its own); outliers_sim's labs
        // hold 6 samples each.
        sizeFactors: Float64Array.from({ length: 6 }, (_, i) => (i === 0 ? 1 : 1e300)),
      }),
    );
    await expect(
      runOverFederation(transport, deseq2Job("outliers_sim"), { runId: "attack" }),
    ).rejects.toThrow(
      /refusing prepare: it brings size factors, but this center uses the ones it computed for the run/,
    );
  });
});

describe("a holder of a federation certificate", () => {
  it("cannot refuse in another center's name, nor after the run started", async () => {
    const certs = testCertificates();
    const lines: string[] = [];
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: ["lab_1", "lab_2", "lab_3"],
      tls: tlsOf(certs.aggregator),
      runId: "refusals",
      joinTimeoutMs: 20_000,
      reconnectTimeoutMs: 20_000,
      log: (line) => lines.push(line),
    });
    const Federation = fedseqProto().fedseq.v1.Federation;
    const refuse = async (center: string, holder = "lab_1") => {
      const own = tlsOf(certs.centers[holder]);
      const client = new Federation(
        `localhost:${aggregator.port}`,
        grpc.credentials.createSsl(own.ca, own.key, own.cert),
      );
      const call = client.join();
      const closed = new Promise<void>((resolve) => {
        call.on("error", () => resolve());
        call.on("end", () => resolve());
      });
      call.on("data", () => {});
      call.write({ refusal: { center, reason: "forged" } });
      await closed;
      client.close();
    };
    // lab_1's certificate, lab_2's name: ignored before the run.
    await refuse("lab_2");
    // A federation certificate of a center this run does not have, in its own name: ignored.
    await refuse("site_1", "site_1");
    const agents = startAgents(
      aggregator.port,
      await simulatedCenters(sharedPath("data", "outliers_sim")),
    );
    await aggregator.ready();
    const run = runOverFederation(aggregator, deseq2Job("outliers_sim"), { runId: "refusals" });
    // lab_1's own name, once the run has started: ignored.
    await refuse("lab_1");
    const outcome = await run;
    await aggregator.close({ success: true, message: "done" });
    for (const a of await Promise.all(agents)) expect(a.success).toBe(true);
    expect(outcome.results.pvalue.length).toBe(2998);
    const log = lines.join("\n");
    expect(log).toMatch(
      /a refusal in the name of "lab_2" came with a certificate for "lab_1": ignored/,
    );
    expect(log).toMatch(/center lab_1 refused after the run started: ignored/);
    expect(log).toMatch(
      /a refusal from "site_1", not one of this run's centers \(lab_1, lab_2, lab_3\): ignored/,
    );
  });
});
