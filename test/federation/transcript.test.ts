/**
 * The messages a data protection officer reads: every reply a center sends is in its audit log
 * and in the aggregator's transcript, as JSON Lines `{center, step, round, fields}`, and the two
 * agree value for value (what a center says it sent is what the aggregator holds).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GrpcAggregator } from "../../src/federation/grpc/aggregatorServer.js";
import {
  JsonLinesLog,
  type MessageRecord,
  recordingTransport,
} from "../../src/federation/transcript.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { runOverFederation, runSimulated } from "../../src/pipeline/run.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { replacedByDeseq2, sharedSubset } from "../helpers/subsets.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import { startAgents, testCertificates, tlsOf } from "../helpers/transports.js";

const tmp = useTempFolder("fedseq-transcript-");

function readLines(file: string): MessageRecord[] {
  return readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line));
}

/** A field value as the log holds it: numbers (null for NaN/±∞), strings, or lists of them. */
function isPlain(value: unknown): boolean {
  if (value === null || typeof value === "number" || typeof value === "string") return true;
  if (Array.isArray(value)) return value.every(isPlain);
  if (typeof value === "object") return Object.values(value as object).every(isPlain);
  return false;
}

describe("transcripts", () => {
  it("the simulated run's transcript holds one record per center and round trip", async () => {
    const file = join(tmp.dir, "transcript.jsonl");
    const report = await runSimulated({
      ...deseq2Job("outliers_sim"),
      dataDir: sharedPath("data", "outliers_sim"),
      outDir: join(tmp.dir, "out"),
      threads: 1,
      transcriptFile: file,
    });
    const records = readLines(file);
    expect(records.length).toBe(report.rounds.total * 3);
    for (const r of records) {
      expect(Object.keys(r)).toEqual(["center", "step", "round", "fields"]);
      expect(["lab_1", "lab_2", "lab_3"]).toContain(r.center);
      expect(Number.isInteger(r.round)).toBe(true);
      expect(isPlain(r.fields)).toBe(true);
    }
    // The size-factor round: each center's per-gene Σ ln y, one value per gene.
    const logSums = records.filter((r) => r.step === "logSums");
    expect(logSums.length).toBe(3);
    for (const r of logSums) expect((r.fields.logSums as number[]).length).toBe(2998);
  });

  it("over gRPC, each center's audit equals the aggregator's transcript of that center", async () => {
    const certs = testCertificates();
    const transcriptFile = join(tmp.dir, "grpc-transcript.jsonl");
    const transcript = new JsonLinesLog(transcriptFile);
    const aggregator = await GrpcAggregator.listen({
      listen: "127.0.0.1:0",
      centers: ["lab_1", "lab_2", "lab_3"],
      tls: tlsOf(certs.aggregator),
      runId: "audit",
      joinTimeoutMs: 20_000,
      reconnectTimeoutMs: 20_000,
      log: () => {},
    });
    const audits = new Map<string, string[]>();
    // Two records of the same messages compared: outliers_sim's first 400 genes and the 60 whose
    // outliers DESeq2 replaced (the run's Cook's step refits them: every step of the whole run).
    const agents = startAgents(
      aggregator.port,
      await simulatedCenters(sharedSubset(tmp, "outliers_sim", 400, replacedByDeseq2())),
      (center, record) => {
        const audit = audits.get(center) ?? [];
        audit.push(JSON.stringify(record));
        audits.set(center, audit);
      },
    );
    await aggregator.ready();
    await runOverFederation(recordingTransport(aggregator, transcript), deseq2Job("outliers_sim"), {
      runId: "audit",
    });
    transcript.close();
    await aggregator.close({ success: true, message: "done" });
    for (const a of await Promise.all(agents)) expect(a.success).toBe(true);
    const received = readFileSync(transcriptFile, "utf8").trimEnd().split("\n");
    for (const [center, sent] of audits) {
      expect(sent.length).toBeGreaterThan(100);
      const prefix = `{"center":${JSON.stringify(center)},`;
      const theirs = received.filter((line) => line.startsWith(prefix));
      expect(theirs.length).toBe(sent.length);
      // Compared line by line (a deep comparison of every array would take far longer).
      expect(theirs.every((line, i) => line === sent[i])).toBe(true);
    }
  });
});
