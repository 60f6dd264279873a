/**
 * Secure aggregation as one layer over every transport (secureAggregation/layer.ts): every step
 * of six recorded jobs (the registry test's, on 400 genes of outliers_sim) is replayed with
 * secure aggregation over in-process, worker-thread and gRPC transports. The shares the algorithms
 * get must be: every field in clear bit-identical to the recorded reply; every summed field the
 * pooled sum in the first share — the correctly rounded exact sum of the centers' values, bit for
 * bit (what the clear run's pooling gives), IEEE NaN/±∞ restored — and zeros in the others;
 * every "or" field the OR. Then: the transcript holds each
 * center's summed fields as ring elements that pass uniformity tests and whose sum decodes to the
 * plaintext sum; a value beyond its field's bound is refused naming the field and the center;
 * metered bytes are the encoded messages' lengths.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GrpcAggregator } from "../../../src/federation/grpc/aggregatorServer.js";
import { encodeProtectedReply } from "../../../src/federation/grpc/codec.js";
import { fedseqProto } from "../../../src/federation/grpc/proto.js";
import { secureReplyBytes } from "../../../src/federation/grpc/wireBytes.js";
import { InProcessTransport } from "../../../src/federation/inProcess.js";
import { poolSums } from "../../../src/federation/pooledSums.js";
import { BOUNDS, STEP_NAMES, STEPS } from "../../../src/federation/registry.js";
import {
  decodeFixed,
  decodeSplit,
  FixedPointError,
  ringAdd,
} from "../../../src/federation/secureAggregation/index.js";
import {
  CLEAR_REDUCTIONS,
  fineName,
  MAX_SECURE_CENTERS,
  nonFiniteName,
  type ProtectedReply,
  SecureAggregator,
  SecureCenter,
  securedFields,
} from "../../../src/federation/secureAggregation/layer.js";
import { MaskThread } from "../../../src/federation/secureAggregation/maskThread.js";
import { simulationPki } from "../../../src/federation/secureAggregation/simulationCertificates.js";
import type { RequestTag, StepName, StepOutput } from "../../../src/federation/steps.js";
import { JsonLinesLog, recordingTransport } from "../../../src/federation/transcript.js";
import { CenterError, type Transport } from "../../../src/federation/transport.js";
import { WorkerThreadsTransport } from "../../../src/federation/workerThreads.js";
import { exactSum } from "../../../src/math/exactSum.js";
import { simulatedCenters } from "../../../src/pipeline/fitLfc.js";
import { runOverFederation } from "../../../src/pipeline/run.js";
import {
  type Exchange,
  RECORDED_GENES as GENES,
  type Recording,
  recording,
  replayRecordings,
  sharedRecordings,
  smallOutliersSim,
} from "../../helpers/recordedJobs.js";
import { deseq2Job } from "../../helpers/runs.js";
import { useTempFolder } from "../../helpers/tempFiles.js";
import {
  centerNames,
  loopbackFederation,
  startAgents,
  testCertificates,
  tlsOf,
} from "../../helpers/transports.js";

const tmp = useTempFolder("fedseq-secure-layer-");

let dataset: string | null = null;
function data(): string {
  dataset ??= smallOutliersSim(tmp);
  return dataset;
}

let recorded: Promise<Recording[]> | null = null;
/** Every job's exchanges, recorded in clear over the in-process transport (once for this and registry.test). */
function recordings(): Promise<Recording[]> {
  recorded ??= sharedRecordings(data());
  return recorded;
}

async function secureGrpc(dir: string, runId: string) {
  const aggregator = await GrpcAggregator.listen({
    listen: "127.0.0.1:0",
    centers: centerNames(dir),
    tls: tlsOf(testCertificates().aggregator),
    runId,
    joinTimeoutMs: 20_000,
    reconnectTimeoutMs: 20_000,
    secureAggregation: true,
    log: () => {},
  });
  const agents = startAgents(aggregator.port, await simulatedCenters(dir));
  await aggregator.ready();
  return {
    transport: aggregator as Transport,
    done: async () => {
      await Promise.all(agents);
    },
  };
}

const SECURE_TRANSPORTS: Record<
  string,
  (dir: string, runId: string) => Promise<{ transport: Transport; done?: () => Promise<void> }>
> = {
  "in-process": async (dir) => ({
    transport: new InProcessTransport(await simulatedCenters(dir), { secureAggregation: true }),
  }),
  // Every job on the thread, however small (a run sends only large ones there).
  "in-process, mask thread": async (dir) => ({
    transport: new InProcessTransport(await simulatedCenters(dir), {
      secureAggregation: true,
      maskThread: new MaskThread({ minElements: 0 }),
    }),
  }),
  "worker-threads": async (dir) => ({
    transport: await WorkerThreadsTransport.start(
      centerNames(dir).map((name) => ({ name, source: { kind: "dataset", dir, name } })),
      { secureAggregation: true },
    ),
  }),
  grpc: secureGrpc,
};

function bytesOf(v: unknown): Buffer {
  const view = v as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** What differs between the algorithms' shares under secure aggregation and the clear replies. */
function compare(step: StepName, ours: readonly unknown[], clear: readonly unknown[]): string[] {
  const problems: string[] = [];
  const secured = new Map(securedFields(step).map((f) => [f.name, f]));
  const n = clear.length;
  for (const field of Object.keys(STEPS[step].reply.fields)) {
    const f = secured.get(field);
    const values = (x: unknown) => (x as Record<string, unknown>)[field];
    if (f === undefined) {
      for (let c = 0; c < n; c++) {
        const a = values(ours[c]);
        const b = values(clear[c]);
        const same = ArrayBuffer.isView(a)
          ? bytesOf(a).equals(bytesOf(b))
          : JSON.stringify(a) === JSON.stringify(b);
        if (!same) problems.push(`${field} (clear) differs at center ${c}`);
      }
      continue;
    }
    const arrays = (x: unknown) =>
      typeof values(x) === "number"
        ? [values(x) as number]
        : Array.from(values(x) as ArrayLike<number>);
    const pooled = arrays(ours[0]);
    for (let c = 1; c < n; c++) {
      if (arrays(ours[c]).some((x) => x !== 0)) problems.push(`${field}: share ${c} not zero`);
    }
    const parts = clear.map(arrays);
    for (let i = 0; i < pooled.length; i++) {
      if (f.reduction === "or") {
        const or = parts.some((p) => p[i] !== 0) ? 1 : 0;
        if (pooled[i] !== or) problems.push(`${field}[${i}]: OR ${pooled[i]}, expected ${or}`);
        continue;
      }
      // The pooled value is the clear run's: the correctly rounded exact sum, to the bit.
      const sum = exactSum(parts.map((p) => p[i]));
      if (!Object.is(pooled[i], sum))
        problems.push(`${field}[${i}]: ${pooled[i]}, expected ${sum}`);
    }
  }
  return problems;
}

type Outcome = Map<StepName, { compared: number; problems: string[] }>;
const replays = new Map<string, Promise<Outcome>>();
function replay(name: string): Promise<Outcome> {
  let outcome = replays.get(name);
  if (outcome === undefined) {
    outcome = (async () => {
      const result: Outcome = new Map();
      await replayRecordings(
        await recordings(),
        (runId) => SECURE_TRANSPORTS[name](data(), runId),
        name !== "grpc",
        ({ tag, step, replies }, ours) => {
          const entry = result.get(step) ?? { compared: 0, problems: [] };
          entry.problems.push(
            ...compare(step, ours, replies).map((p) => `${tag.phase} round ${tag.round}: ${p}`),
          );
          entry.compared++;
          result.set(step, entry);
        },
      );
      return result;
    })();
    replays.set(name, outcome);
  }
  return outcome;
}

/** Centers with throwaway certificates that agreed keys for run `runId`, and their aggregator. */
function agreedFederation(names: string[], runId: string) {
  const pki = simulationPki(names);
  const centers = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
  const announcements = centers.map((c) => c.announce(runId, names));
  for (const c of centers) c.agree(runId, announcements);
  return { centers, aggregator: new SecureAggregator(names) };
}

describe("secure aggregation layer: the registry's declarations", () => {
  it("every summed field has a public bound; all but whole numbers travel split, exact from 1e-56 of their bound up", () => {
    let split = 0;
    for (const step of STEP_NAMES) {
      const whole = new Set<string>((STEPS[step].wholeNumbers ?? []) as readonly string[]);
      for (const f of securedFields(step)) {
        if (f.reduction === "or") continue;
        if (f.kind === "counts" || whole.has(f.name)) {
          // One part: values from 2^(52−e) up are encoded exactly, smaller ones within
          // 2^−(e+1); whole numbers (multiples of 1) always exactly.
          expect(2 ** (52 - f.scaleExponent), `${step}.${f.name}`).toBeLessThan(2 ** 8);
          expect(2 ** -(f.scaleExponent + 1), `${step}.${f.name}`).toBeLessThan(1e-13);
          expect(f.fineExponent, `${step}.${f.name}`).toBeNull();
          continue;
        }
        // Split: the remainder's scale carries every double from 2^(52−f) up exactly: 1e-56
        // of the bound (1e-26 for the information sums' 1e30, values near 0 of a gradient
        // included down there).
        expect(f.fineExponent, `${step}.${f.name}`).not.toBeNull();
        expect(2 ** (52 - (f.fineExponent as number)) / f.bound, `${step}.${f.name}`).toBeLessThan(
          1e-56,
        );
        expect(2 ** (52 - (f.fineExponent as number)), `${step}.${f.name}`).toBeLessThan(1e-25);
        split++;
      }
    }
    expect(split).toBeGreaterThan(20);
    expect(MAX_SECURE_CENTERS).toBe(64);
    expect(Object.values(BOUNDS).every((b) => b > 0)).toBe(true);
  });

  it("lists the fields still sent in clear (reductions other than sum and or)", () => {
    // Each is a disclosure decision (docs/privacy.md): echoes and acknowledgements, the levels a
    // plan-less center holds, and the samples' PCA coordinates a plan with pca_coordinates sends.
    const clear: string[] = [];
    for (const step of STEP_NAMES) {
      for (const [field, reduction] of Object.entries(STEPS[step].reductions)) {
        if (reduction !== "sum" && reduction !== "or") {
          expect(CLEAR_REDUCTIONS).toContain(reduction);
          clear.push(`${step}.${field}:${reduction}`);
        }
      }
    }
    expect(clear).toMatchInlineSnapshot(`
      [
        "levels.levels:union",
        "irls.round:same",
        "pqn.round:same",
        "pqn.steps:same",
        "newton.round:same",
        "newton.points:same",
        "dispersionMu.genes:unused",
        "dispersionGrid.round:same",
        "dispersionGrid.pointsPerGene:same",
        "prepareRefit.genes:unused",
        "pcaCoordinates.coordinates:concat",
      ]
    `);
  });
});

describe("secure aggregation layer: every step over every transport", () => {
  it("the recorded jobs exercise every registered step", async () => {
    const seen = new Set((await recordings()).flatMap((r) => r.exchanges.map((e) => e.step)));
    expect(STEP_NAMES.filter((step) => !seen.has(step))).toEqual([]);
  });

  for (const transport of Object.keys(SECURE_TRANSPORTS)) {
    it(`${transport}: clear fields bit-identical, sums the correctly rounded exact sums, OR exact`, async () => {
      const outcome = await replay(transport);
      for (const step of STEP_NAMES) {
        const entry = outcome.get(step);
        expect(entry?.compared ?? 0, step).toBeGreaterThan(0);
        expect(entry?.problems.slice(0, 5), step).toEqual([]);
      }
    });
  }
});

describe("secure aggregation layer: transcript, refusal, metering", () => {
  it("each center's summed fields in the transcript are uniform ring elements whose sum decodes to the correctly rounded plaintext sum", async () => {
    const runId = "secure-transcript";
    const file = join(tmp.dir, "secure.jsonl");
    const log = new JsonLinesLog(file);
    const secure = recordingTransport(
      new InProcessTransport(await simulatedCenters(data()), { secureAggregation: true }),
      log,
    );
    const clearLog: Exchange[] = [];
    const clear = recording(new InProcessTransport(await simulatedCenters(data())), clearLog);
    const job = deseq2Job("outliers_sim", "~ condition");
    try {
      await runOverFederation(secure, job, { runId });
      await runOverFederation(clear, job, { runId });
    } finally {
      log.close();
      await secure.close();
      await clear.close();
    }
    const lines = readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            center: string;
            step: StepName;
            round: number;
            fields: Record<string, unknown>;
            masked?: string[];
          },
      );
    // Uniformity, per center: byte frequencies (χ², 255 d.f.) and each of the 128 bit positions.
    const centers = [...new Set(lines.map((l) => l.center))];
    for (const center of centers) {
      const chunks: Buffer[] = [];
      let total = 0;
      for (const l of lines) {
        if (l.center !== center || total > 4e6) continue;
        for (const name of l.masked ?? []) {
          const b = Buffer.from(l.fields[name] as string, "base64");
          chunks.push(b);
          total += b.length;
        }
      }
      const bytes = Buffer.concat(chunks);
      expect(bytes.length, center).toBeGreaterThan(100_000);
      const counts = new Float64Array(256);
      for (const b of bytes) counts[b]++;
      const expected = bytes.length / 256;
      let chi2 = 0;
      for (const c of counts) chi2 += (c - expected) ** 2 / expected;
      expect(chi2, `${center}: χ² of byte values`).toBeLessThan(400); // p ≈ 1e-7 under uniformity
      const elements = Math.floor(bytes.length / 16);
      for (let bit = 0; bit < 128; bit++) {
        let ones = 0;
        for (let e = 0; e < elements; e++) ones += (bytes[e * 16 + (bit >> 3)] >> (bit & 7)) & 1;
        const z = (ones - elements / 2) / Math.sqrt(elements / 4);
        expect(Math.abs(z), `${center}: bit ${bit}`).toBeLessThan(6);
      }
    }
    // The transcript's rings of the set-up steps (same requests in both runs) sum to the clear sum.
    let checked = 0;
    for (const step of ["logSums", "dispersionMoments"] as const) {
      const exchange = clearLog.find((e) => e.step === step) as Exchange;
      // The step's first request: one record per center.
      const records = lines.filter((l) => l.step === step).slice(0, exchange.replies.length);
      const ringSum = (name: string): Uint32Array => {
        const ring = (r: (typeof records)[number]) =>
          new Uint32Array(new Uint8Array(Buffer.from(r.fields[name] as string, "base64")).buffer);
        const acc = ring(records[0]);
        for (const r of records.slice(1)) ringAdd(acc, ring(r));
        return acc;
      };
      for (const f of securedFields(step)) {
        if (f.reduction === "or") continue;
        const acc = ringSum(f.name);
        const decoded =
          f.fineExponent === null
            ? decodeFixed(acc, f.scaleExponent)
            : decodeSplit(acc, f.scaleExponent, ringSum(fineName(f.name)), f.fineExponent);
        const parts = exchange.replies.map((r) => {
          const v = (r as Record<string, unknown>)[f.name];
          return typeof v === "number" ? [v] : Array.from(v as Float64Array);
        });
        for (let i = 0; i < decoded.length; i++) {
          const sum = exactSum(parts.map((p) => p[i]));
          expect(decoded[i], `${step}.${f.name}[${i}]`).toBe(sum);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(GENES);
  });

  it("a value beyond its field's bound is refused, naming the field (and the center over a transport)", async () => {
    const names = ["a", "b"];
    const pki = simulationPki(names);
    const centers = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
    const announcements = centers.map((c) => c.announce("r", names));
    for (const c of centers) c.agree("r", announcements);
    const tag = { runId: "r", phase: "wald", round: 0 };
    const input = {
      kind: "information-request",
      beta: new Float64Array(2),
      coefficients: 2,
      refit: false,
    } as const;
    const output = {
      kind: "information-share",
      xtwx: new Float64Array([1, 2, BOUNDS.information * 4]),
    };
    expect(() => centers[0].protect(tag, "information", input, output as never)).toThrow(
      FixedPointError,
    );
    expect(() => centers[0].protect(tag, "information", input, output as never)).toThrow(
      /secure sum field "xtwx"\[2\].*centre and scale a covariate of large values/,
    );
    // Over the in-process transport: a step error naming the center and the field.
    const bad = (await simulatedCenters(data())).map((s) => {
      const run = s.run.bind(s);
      s.run = ((t: RequestTag, step: StepName, inp: unknown) => {
        const out = run(t, step as never, inp as never) as Record<string, unknown>;
        return { ...out, logSums: Float64Array.from(out.logSums as Float64Array, () => 1e300) };
      }) as typeof s.run;
      return s;
    });
    const refusing = new InProcessTransport(bad, { secureAggregation: true });
    const genes = refusing.centers[0].genes.slice(0, 3);
    const requests = refusing.centers.map(
      () => ({ kind: "log-sums-request", genes, genesWithZeros: false }) as const,
    );
    const failure = refusing
      .request({ runId: "y", phase: "setup", round: 0 }, "logSums", requests)
      .catch((error: unknown) => error);
    expect(await failure).toBeInstanceOf(CenterError);
    expect(String(await failure)).toMatch(/center lab_\d+: secure sum field "logSums"\[0\]/);
  });

  it("over gRPC, the aggregator is told the field and index of a value beyond its bound, never the value (one element of a center's own sum)", async () => {
    // A center whose Σ ln y for gene 1 is a number an aggregator could not otherwise see: it
    // leaves the center only masked. Its refusal used to quote it.
    const secret = 3.1415926535e300;
    const sessions = (await simulatedCenters(data())).map((s) => {
      const run = s.run.bind(s);
      s.run = ((t: RequestTag, step: StepName, inp: unknown) => {
        const out = run(t, step as never, inp as never) as Record<string, unknown>;
        if (step !== "logSums") return out;
        const logSums = Float64Array.from(out.logSums as Float64Array);
        logSums[1] = secret;
        return { ...out, logSums };
      }) as typeof s.run;
      return s;
    });
    const centerLogs: string[] = [];
    const { aggregator, close } = await loopbackFederation(sessions, {
      runId: "bound",
      secureAggregation: true,
      centerLog: (line) => centerLogs.push(line),
    });
    const genes = aggregator.centers[0].genes.slice(0, 3);
    const failure = await aggregator
      .request(
        { runId: "bound", phase: "setup", round: 0 },
        "logSums",
        aggregator.centers.map(
          () => ({ kind: "log-sums-request", genes, genesWithZeros: false }) as const,
        ),
      )
      .catch((error: unknown) => error);
    await close("test over");
    expect(failure).toBeInstanceOf(CenterError);
    const told = String(failure);
    expect(told).toMatch(
      /center lab_\d+: .*secure sum field "logSums"\[1\]: logSums: a value beyond the field's public bound/,
    );
    // Not the value, in any of its spellings, nor any of its digits' runs.
    expect(told).not.toMatch(/3\.14159|e\+?300|31415926535/);
    // The center's own operator reads it.
    expect(centerLogs.join("\n")).toMatch(/\|3\.1415926535e\+300\| is beyond/);
  });

  it("an f64 field's ±∞ and NaN travel as counts: the pooled NLL is IEEE's sum of the centers'", () => {
    // L-BFGS-B's trial points can make μ overflow at a center (a covariate such as age times a
    // large coefficient): its NLL there is +∞, which must be summed, not refused as beyond the
    // field's bound.
    const names = ["a", "b", "c"];
    const { centers, aggregator } = agreedFederation(names, "r");
    const tag = { runId: "r", phase: "optim", round: 3 };
    const input = {
      kind: "nll-at-points-request",
      refit: false,
      coefficients: 1,
      mask: Uint8Array.of(1, 1, 1, 1, 1, 1),
      pointsPerGene: 1,
      points: new Float64Array(6),
    } as const;
    const inf = Number.POSITIVE_INFINITY;
    const nll = [
      [1.5, inf, inf, -inf, Number.NaN, 2],
      [2.25, 3, -inf, -inf, 1, inf],
      [-0.75, 4, 5, 1, 2, 3],
    ];
    const replies = centers.map((c, k) =>
      c.protect(tag, "nllAtPoints", input, {
        kind: "nll-at-points-share",
        nll: Float64Array.from(nll[k]),
      }),
    );
    const inputs = names.map(() => input);
    const shares = aggregator.open(tag, "nllAtPoints", inputs, replies);
    expect(Array.from(shares[0].nll)).toEqual([3, inf, Number.NaN, -inf, Number.NaN, inf]);
    for (const share of shares.slice(1)) expect(Array.from(share.nll)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("a value finer than the split encoding carries: the clear run pools what secure aggregation decodes", () => {
    // Found on a simulated `~ age + condition` cohort: one center's NLL of a gene whose counts
    // there are all 0 is 5.6e-87, below the finest scale of nll (2^-192); it broke a tie
    // between the other centers' values, so the exact sum (…333) and the decoded one (…332)
    // differed in the last bit, and L-BFGS-B's path with it (that gene's fit by 2e-11).
    const names = ["a", "b", "c", "d"];
    const { centers, aggregator } = agreedFederation(names, "r");
    const tag = { runId: "r", phase: "optim", round: 1 };
    const input = {
      kind: "nll-at-points-request",
      refit: false,
      coefficients: 1,
      mask: Uint8Array.of(1, 1),
      pointsPerGene: 1,
      points: new Float64Array(2),
    } as const;
    const nll = [
      [1258.3121405433014, 1e-300],
      [5.623887276405438e-87, -1e-300],
      [1638.8327699748545, 2.5],
      [4395.216625435177, 0],
    ];
    const outputs = nll.map(
      (v) =>
        ({ kind: "nll-at-points-share", nll: Float64Array.from(v) }) as StepOutput<"nllAtPoints">,
    );
    const replies = centers.map((c, k) => c.protect(tag, "nllAtPoints", input, outputs[k]));
    const secure = aggregator.open(
      tag,
      "nllAtPoints",
      names.map(() => input),
      replies,
    );
    const clear = poolSums("nllAtPoints", outputs);
    expect(Array.from(clear[0].nll)).toEqual(Array.from(secure[0].nll));
    expect(Array.from(secure[0].nll)).toEqual([7292.361535953332, 2.5]);
    // The exact sums, which the clear run gave until 2026-12-07.
    expect(exactSum(Float64Array.from(nll, (v) => v[0]))).toBe(7292.361535953333);
  });

  it("metered sizes of masked replies are their protobuf encodings' lengths", async () => {
    const replies: { tag: RequestTag; step: StepName; reply: ProtectedReply }[] = [];
    const transport = new InProcessTransport(await simulatedCenters(data()), {
      secureAggregation: true,
    });
    transport.secure?.listen((_, step, tag, reply) => replies.push({ tag, step, reply }));
    await runOverFederation(transport, deseq2Job("outliers_sim", "~ condition"), {
      runId: "metering",
    });
    const join_ = fedseqProto().fedseq.v1.Federation.service.Join;
    const steps = new Set<StepName>();
    for (const { tag, step, reply } of replies) {
      const bytes = join_.requestSerialize({ reply: encodeProtectedReply(tag, step, reply) });
      expect(secureReplyBytes(tag, step, reply), step).toBe(bytes.length);
      steps.add(step);
      for (const f of securedFields(step)) {
        expect(reply.masked[f.name], `${step}.${f.name}`).toBeInstanceOf(Uint8Array);
        if (f.nonFinite) expect(reply.masked[nonFiniteName(f.name)]).toBeInstanceOf(Uint8Array);
      }
    }
    expect(steps.size).toBeGreaterThan(10);
  });
});
