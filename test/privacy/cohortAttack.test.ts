/**
 * Issue [11]'s hardest cohort: three centers, design `~ age + condition` with a continuous
 * covariate, and center "a" holding one sample alone in condition B (its other samples are A).
 * The honest-but-curious aggregator's attack is the transcript scan (test/helpers/transcriptScan.ts):
 * every transmitted number is matched against every function of one or two samples — counts,
 * y/s, (y/s)², ln(y/s + 0.1), ln y, size factors and the covariate's values x and x². Under
 * secure aggregation (the default) it must rebuild no count and no covariate value; the same run
 * in clear shows that the scan has its power on this cohort. (Pooled over the centers, condition
 * B holds 7 samples: a plan with k = 3 admits this cohort under secure aggregation.)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { centerDataFromDataset } from "../../src/federation/centerData.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { JsonLinesLog, recordingTransport } from "../../src/federation/transcript.js";
import { readDataset } from "../../src/io/dataset.js";
import { runOverFederation, simulatedSizeFactors } from "../../src/pipeline/run.js";
import { rng } from "../helpers/random.js";
import { deseq2Job } from "../helpers/runs.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import {
  type PrivateCenter,
  privateCenters,
  readTranscript,
  type ScanReport,
  scanTranscript,
} from "../helpers/transcriptScan.js";

const tmp = useTempFolder("fedseq-cohort-attack-");
const DESIGN = "~ age + condition";
const GENES = 120;

/** Samples per center: [condition A, condition B]. */
const CENTERS: Record<string, [number, number]> = { a: [5, 1], b: [3, 3], c: [4, 3] };

/** Write the cohort (negative-binomial counts, ages 25–75 to one decimal) and return its folder. */
function writeCohort(): string {
  const random = rng(20261204);
  const dir = join(tmp.dir, "cohort");
  mkdirSync(dir, { recursive: true });
  const samples: { name: string; center: string; condition: string; age: number }[] = [];
  for (const [center, [nA, nB]] of Object.entries(CENTERS)) {
    for (let i = 0; i < nA + nB; i++) {
      samples.push({
        name: `${center}${i + 1}`,
        center,
        condition: i < nA ? "A" : "B",
        age: Math.round(250 + 500 * random()) / 10,
      });
    }
  }
  // Gamma(shape 1/α)·μ by Marsaglia–Tsang, then Poisson by inversion: NB(μ, α).
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * random() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const z = normal();
      const v = (1 + c * z) ** 3;
      if (v > 0 && Math.log(1 - random()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const poisson = (lambda: number): number => {
    if (lambda > 500) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
    let k = 0;
    let p = Math.exp(-lambda);
    let cdf = p;
    const u = random();
    while (u > cdf) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  };
  const depth = samples.map(() => 0.6 + 0.8 * random());
  const rows = [`gene,${samples.map((s) => s.name).join(",")}`];
  for (let g = 0; g < GENES; g++) {
    const base = Math.exp(1 + 7 * random());
    const fold = g % 4 === 0 ? 2 ** (2 * random() - 1) : 1;
    const ageSlope = g % 5 === 0 ? 0.02 * (random() - 0.5) : 0;
    const alpha = 0.05 + 0.3 / base;
    const counts = samples.map((s, i) => {
      const mu =
        base * depth[i] * (s.condition === "B" ? fold : 1) * Math.exp(ageSlope * (s.age - 50));
      return poisson(gamma(1 / alpha) * alpha * mu);
    });
    rows.push(`gene${g + 1},${counts.join(",")}`);
  }
  writeFileSync(join(dir, "counts.csv"), `${rows.join("\n")}\n`);
  writeFileSync(
    join(dir, "metadata.csv"),
    `sample,condition,age,center\n${samples
      .map((s) => `${s.name},${s.condition},${s.age},${s.center}`)
      .join("\n")}\n`,
  );
  return dir;
}

/** The whole analysis of the cohort in this process, its transcript recorded. */
async function recordedRun(
  dir: string,
  secureAggregation: boolean,
  sizeFactorsType: "ratio" | "poscounts" = "ratio",
): Promise<{ centers: PrivateCenter[]; report: ScanReport }> {
  const dataset = await readDataset(dir);
  const data = dataset.centers.map((name) => centerDataFromDataset(dataset, name));
  const file = join(
    tmp.dir,
    `cohort-${sizeFactorsType}-${secureAggregation ? "secure" : "clear"}.jsonl`,
  );
  const log = new JsonLinesLog(file);
  const sessions = data.map((d) => new CenterSession(d));
  const transport = new InProcessTransport(sessions, { secureAggregation });
  const job = {
    ...deseq2Job("cohort", DESIGN),
    references: { condition: "A" },
    sizeFactorsType,
  };
  let samples: readonly string[];
  try {
    samples = (
      await runOverFederation(recordingTransport(transport, log), job, { runId: "attack" })
    ).samples;
  } finally {
    log.close();
    await transport.close();
  }
  const own = simulatedSizeFactors(sessions, "attack", transport.centers);
  const sizeFactors = new Map(samples.map((s, i) => [s, own[i]]));
  const centers = privateCenters(data, DESIGN, sizeFactors, { condition: "A" });
  return { centers, report: scanTranscript(centers, [...readTranscript(file)]) };
}

const exposed = (r: ScanReport) => r.exposure.reduce((n, e) => n + e.exposed, 0);
const matched = (r: ScanReport) => r.fields.reduce((n, f) => n + f.matched, 0);
const designMatches = (r: ScanReport) =>
  r.fields.reduce(
    (n, f) =>
      n +
      Object.entries(f.byKind)
        .filter(
          ([kind]) =>
            kind === "x" || kind === "x^2" || kind.startsWith("x (") || kind.startsWith("x^2 ("),
        )
        .reduce((m, [, count]) => m + count, 0),
    0,
  );

describe("a cohort with a lone sample in a level at one center and a continuous covariate", () => {
  let dir: string;
  beforeAll(() => {
    dir = writeCohort();
  });

  it("under secure aggregation the transcript gives back no count and no covariate value", async () => {
    const { centers, report } = await recordedRun(dir, true);
    expect(centers.map((c) => c.samples.length)).toEqual([6, 6, 7]);
    expect({
      exposed: exposed(report),
      matched: matched(report),
      design: designMatches(report),
    }).toEqual({
      exposed: 0,
      matched: 0,
      design: 0,
    });
  });

  it("the same run in clear gives counts and ages away: the scan has its power on this cohort", async () => {
    const { report } = await recordedRun(dir, false);
    // Measured: 119 of center a's counts (its lone B sample's y/s in Xᵀ(y/s)) and 10 ages.
    const lone = report.exposure.find((e) => e.center === "a");
    expect(lone?.exposed).toBeGreaterThan(GENES / 2);
    expect(matched(report)).toBeGreaterThan(0);
    expect(designMatches(report)).toBeGreaterThan(0);
  });

  it("poscounts (each center also sends Σ ln s): secure gives back nothing; in clear Σ ln s matches no one- or two-sample value", async () => {
    const secure = await recordedRun(dir, true, "poscounts");
    expect({
      exposed: exposed(secure.report),
      matched: matched(secure.report),
      design: designMatches(secure.report),
    }).toEqual({ exposed: 0, matched: 0, design: 0 });
    const clear = await recordedRun(dir, false, "poscounts");
    const field = clear.report.fields.find(
      (f) => f.step === "sizeFactors" && f.field === "logSizeFactorSum",
    );
    expect(field?.numbers).toBe(3);
    expect(field?.matched).toBe(0);
  });
});
