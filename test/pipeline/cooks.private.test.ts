/**
 * The private (k-sample, issue [11]) Cook's steps as `run` uses them: every reply field is a
 * count or sum per gene (per target rank searched, sum slot, or candidate design row) that the
 * aggregator only uses summed over the centers, so secure aggregation masks all of it; no reply
 * has a sample axis. With secure aggregation on, a run on outliers_sim still flags and replaces
 * DESeq2's 60 genes and filters none.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { maskIndices } from "../../src/algorithms/masks.js";
import { factorCellRows } from "../../src/design/factorCells.js";
import { parseFormula } from "../../src/design/formula.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { STEP_NAMES, STEPS, type StepInput } from "../../src/federation/registry.js";
import { securedFields } from "../../src/federation/secureAggregation/layer.js";
import type { StepName } from "../../src/federation/steps.js";
import {
  JsonLinesLog,
  type MessageRecord,
  recordingTransport,
} from "../../src/federation/transcript.js";
import { readCsv } from "../../src/io/csv.js";
import { simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { type RunOutcome, runOverFederation } from "../../src/pipeline/run.js";
import { deseq2Table } from "../helpers/deseq2.js";
import { type Exchange, recording } from "../helpers/recordedJobs.js";
import { deseq2Job } from "../helpers/runs.js";
import { sharedPath } from "../helpers/shared.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const tmp = useTempFolder("fedseq-private-cooks-");

/** The steps of the private Cook's protocol. */
const COOKS_STEPS: readonly StepName[] = [
  "cooksCellCounts",
  "cooksScreen",
  "cooksPrivateTrim",
  "cooksPrivateSums",
  "cooksPrivate",
];

describe("the private Cook's steps' declarations", () => {
  it("every reply field is summed with a public bound: secure aggregation masks every one", () => {
    for (const step of COOKS_STEPS) {
      const spec = STEPS[step];
      const fields = Object.keys(spec.reply.fields).sort();
      for (const [field, reduction] of Object.entries(spec.reductions))
        expect(["sum", "or"], `${step}.${field}`).toContain(reduction);
      expect(
        securedFields(step)
          .map((f) => f.name)
          .sort(),
        step,
      ).toEqual(fields);
    }
  });

  it("replace the exact protocol's steps (distinct rows, maxima, argmax in clear)", () => {
    for (const step of COOKS_STEPS) expect(STEP_NAMES).toContain(step);
    for (const step of ["cooksCells", "cooksTrim", "cooks"]) expect(STEP_NAMES).not.toContain(step);
  });
});

describe("factorCellRows", () => {
  it("lists every level combination as the design's row; null with a continuous covariate", () => {
    const formula = parseFormula("~ batch + condition");
    const levels = { batch: ["b1", "b2", "b3"], condition: ["A", "B"] };
    const columns = ["Intercept", "batch_b2_vs_b1", "batch_b3_vs_b1", "condition_B_vs_A"];
    const rows = factorCellRows(formula, levels, {}, columns);
    expect(Array.from(rows ?? [])).toEqual([
      ...[1, 0, 0, 0],
      ...[1, 0, 0, 1],
      ...[1, 1, 0, 0],
      ...[1, 1, 0, 1],
      ...[1, 0, 1, 0],
      ...[1, 0, 1, 1],
    ]);
    const reference = factorCellRows(
      parseFormula("~ condition"),
      { condition: ["A", "B"] },
      { condition: "B" },
      ["Intercept", "condition_A_vs_B"],
    );
    expect(Array.from(reference ?? [])).toEqual([1, 1, 1, 0]);
    expect(
      factorCellRows(parseFormula("~ age + condition"), { condition: ["A", "B"] }, {}, [
        "Intercept",
        "age",
        "condition_B_vs_A",
      ]),
    ).toBeNull();
  });
});

/** DESeq2's genes whose counts it replaced on outliers_sim (`deseq2/cooks.csv`). */
function deseq2Replaced(): string[] {
  const table = readCsv(sharedPath("data", "outliers_sim", "deseq2", "cooks.csv"));
  const replace = table.header.indexOf("replace");
  return table.rows.filter((r) => r.fields[replace] === "TRUE").map((r) => r.fields[0]);
}

describe("run on outliers_sim with secure aggregation (~ condition: cells of 9, replacement)", () => {
  let outcome: RunOutcome;
  const exchanges: Exchange[] = [];
  let transcript: MessageRecord[] = [];

  beforeAll(async () => {
    const file = join(tmp.dir, "secure.jsonl");
    const log = new JsonLinesLog(file);
    const centers = await simulatedCenters(sharedPath("data", "outliers_sim"));
    const secure = new InProcessTransport(centers, { secureAggregation: true });
    const transport = recording(recordingTransport(secure, log), exchanges);
    try {
      outcome = await runOverFederation(transport, deseq2Job("outliers_sim"), {
        runId: "private-cooks",
      });
    } finally {
      log.close();
      await transport.close();
    }
    transcript = readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as MessageRecord);
  });

  it("flags and replaces DESeq2's 60 genes, refits them, and filters no p-value", () => {
    expect(outcome.cooks).toEqual({
      outliers: 60,
      refitted: 60,
      replacedCounts: 60,
      pvaluesRemoved: 0,
    });
    const refit = exchanges.find((e) => e.step === "prepareRefit");
    if (refit === undefined) throw new Error("no prepareRefit request: nothing was refitted");
    const mask = (refit.inputs[0] as StepInput<"prepareRefit">).refitGenes;
    const genes = Array.from(maskIndices(mask), (j) => outcome.fit.genes[outcome.fit.fitted[j]]);
    expect(genes.sort()).toEqual(deseq2Replaced().sort());
    // results(): DESeq2 sets no p-value to NA on this design (every sample replaceable).
    const pvalue = deseq2Table("outliers_sim", "results.csv").numbers("pvalue");
    expect(outcome.results.pvalue.filter(Number.isNaN).length).toBe(
      pvalue.filter(Number.isNaN).length,
    );
  });

  it("runs every private step, and no Cook's reply field travels in clear", () => {
    const steps = new Set(transcript.map((r) => r.step));
    for (const step of COOKS_STEPS) expect(steps, step).toContain(step);
    let checked = 0;
    for (const record of transcript) {
      if (!COOKS_STEPS.includes(record.step as StepName)) continue;
      const clear = Object.keys(record.fields).filter((f) => !record.masked?.includes(f));
      expect(clear, `${record.step} from ${record.center}`).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("no reply has a sample axis: its lengths follow the request only, alike at every center", () => {
    let arrays = 0;
    for (const { step, inputs, replies } of exchanges) {
      if (!COOKS_STEPS.includes(step)) continue;
      const spec = STEPS[step] as unknown as {
        replyLengths: (i: unknown, o: unknown) => Record<string, number>;
      };
      replies.forEach((reply, c) => {
        const expected = spec.replyLengths(inputs[c], reply);
        for (const [field, value] of Object.entries(reply as Record<string, unknown>)) {
          if (!ArrayBuffer.isView(value)) continue;
          const length = (value as Float64Array).length;
          expect(length, `${step}.${field}`).toBe(expected[field]);
          expect(length, `${step}.${field}`).toBe(
            ((replies[0] as Record<string, unknown>)[field] as Float64Array).length,
          );
          arrays++;
        }
      });
    }
    expect(arrays).toBeGreaterThan(50);
  });
});

describe("run with a continuous covariate (~ age + condition, 400 genes of outliers_sim)", () => {
  it("takes every sample as its own cell: no Cook's round at all, nothing flagged or replaced", async () => {
    // Distinct ages: DESeq2's cells are then single samples (no cell of 3), so it records no
    // maxCooks and replaces nothing, whatever the distances.
    const source = sharedPath("data", "outliers_sim");
    const counts = readFileSync(join(source, "counts.csv"), "utf8").trimEnd().split("\n");
    tmp.write("aged/counts.csv", `${counts.slice(0, 401).join("\n")}\n`);
    const meta = readFileSync(join(source, "metadata.csv"), "utf8").trimEnd().split("\n");
    const aged = meta.map((line, i) => (i === 0 ? `${line},age` : `${line},${20 + 1.5 * i}`));
    const dir = join(tmp.dir, "aged");
    tmp.write("aged/metadata.csv", `${aged.join("\n")}\n`);
    const transport = new InProcessTransport(await simulatedCenters(dir));
    let outcome: RunOutcome;
    try {
      outcome = await runOverFederation(transport, deseq2Job("outliers_sim", "~ age + condition"), {
        runId: "aged",
      });
    } finally {
      await transport.close();
    }
    expect(outcome.cooks).toEqual({
      outliers: 0,
      refitted: 0,
      replacedCounts: 0,
      pvaluesRemoved: 0,
    });
    expect(outcome.fit.ledger.rounds.cooks).toBeUndefined();
    expect(outcome.fit.ledger.rounds["cooks-trimmed-means"]).toBeUndefined();
  });
});
