/**
 * The gene pool: a center's kernels split over worker threads give exactly the doubles of one
 * thread (each kernel, every slicing, adopted and not-yet-shared datasets), whole fits through
 * pooled sessions are bit-identical, and small calls stay on the calling thread.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  type CenterFitData,
  prepareCenterData,
  withSampleTerms,
} from "../../src/algorithms/center.js";
import { aggregateCells, cellsLocalStep } from "../../src/algorithms/cooks/cells.js";
import {
  type PrivateTrimGroup,
  privateSumRequest,
  privateTrimAggregateStep,
  privateTrimSettled,
  startPrivateTrimSearch,
} from "../../src/algorithms/cooks/privateTrimmedMean.js";
import { gridOf, privateTrimWireRequest } from "../../src/algorithms/cooks/privateWire.js";
import { trimRanks } from "../../src/algorithms/cooks/trimmedMean.js";
import type { DispersionCenter, DispersionMeans } from "../../src/algorithms/dispersions/center.js";
import type { DispersionEvalRequest } from "../../src/algorithms/dispersions/state.js";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import { directKernels } from "../../src/algorithms/kernels.js";
import { GenePool } from "../../src/compute/genePool.js";
import {
  CALL_PERIOD,
  claimSlice,
  claimWord,
  MAX_SLICES,
} from "../../src/compute/genePoolProtocol.js";
import { CenterSession } from "../../src/federation/centerSession.js";
import { InProcessTransport } from "../../src/federation/inProcess.js";
import { fitOverFederation, simulatedCenters } from "../../src/pipeline/fitLfc.js";
import { DESIGNS } from "../helpers/fits.js";
import { rng } from "../helpers/random.js";
import { sharedPath } from "../helpers/shared.js";

/** A prepared dataset (the `deseq2` solver's: no per-sample ln Γ terms). */
function preparedDataset(n: number, genes: number, p: number, seed: number): CenterFitData {
  const r = rng(seed);
  return prepareCenterData({
    n,
    p,
    genes,
    design: Float64Array.from({ length: n * p }, (_, j) => (j % p === 0 ? 1 : r() < 0.5 ? 0 : 1)),
    sizeFactors: Float64Array.from({ length: n }, () => 0.5 + r()),
    counts: Float64Array.from({ length: genes * n }, () => Math.floor(-Math.log(1 - r()) * 100)),
    dispersions: Float64Array.from({ length: genes }, () => 0.05 + 0.5 * r()),
  });
}

/** A prepared dataset with its per-sample ln Γ terms (what every kernel can run on). */
function dataset(n: number, genes: number, p: number, seed: number): CenterFitData {
  return withSampleTerms(preparedDataset(n, genes, p, seed));
}

const pools: GenePool[] = [];
function pool(threads: number, minWork = 0, callerClaims = true): GenePool {
  // Every call split, in up to 8 slices per thread however small.
  const made = new GenePool({ threads, minWork, minSliceWork: 0, callerClaims });
  pools.push(made);
  return made;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

/**
 * Pools to compare with one thread: threads, and whether the calling thread claims slices too
 * (with false the workers run every slice; with true, on small calls, often none).
 */
const SPLITS: readonly (readonly [number, boolean])[] = [
  [2, true],
  [2, false],
  [3, true],
  [3, false],
];

describe("claimSlice", () => {
  it("gives each slice of a call to one claim, then −1; nothing under another call's number", () => {
    const claims = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(claims, 0, claimWord(7));
    expect([0, 1, 2, 3].map(() => claimSlice(claims, 7, 3))).toEqual([0, 1, 2, -1]);
    // A worker reading call 6's request after call 7 started claims nothing.
    expect(claimSlice(claims, 6, 3)).toBe(-1);
    Atomics.store(claims, 0, claimWord(CALL_PERIOD - 1));
    expect(claimSlice(claims, CALL_PERIOD - 1, MAX_SLICES)).toBe(0);
    expect(claimSlice(claims, 7, 3)).toBe(-1);
  });
});

describe("GenePool", () => {
  it("gives each kernel's exact doubles, for any number of threads and active genes", () => {
    const p = 3;
    const main = dataset(23, 41, p, 1);
    for (const [threads, callerClaims] of [...SPLITS, [5, false] as const]) {
      const split = pool(threads, 0, callerClaims);
      const adopted = split.adopt({ main }).main;
      expect(adopted.data.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
      for (const active of [1, 2, 7, 41]) {
        const r = rng(threads * 100 + active);
        const genes = Int32Array.from({ length: active }, (_, a) => (a * 41) / active);
        const beta = Float64Array.from({ length: active * p }, (_, j) =>
          j % p === 0 ? 2 + r() : r() - 0.5,
        );
        const direction = Float64Array.from({ length: active * p }, () => r() - 0.5);
        const steps = Float64Array.from({ length: 5 }, (_, k) => 0.5 ** k);
        const points = Float64Array.from({ length: 4 * active * p }, (_, j) =>
          j % p === 0 ? 2 + r() : r() - 0.5,
        );
        const box = { lower: -30, upper: 30 };
        // The adopted (shared) copy and the original (copied to shared memory on first use).
        for (const d of [adopted, main]) {
          expect(split.irlsSummandsAndNll(d, genes, beta, 0.5)).toEqual(
            directKernels.irlsSummandsAndNll(main, genes, beta, 0.5),
          );
          expect(split.fisherGradientNllAtSteps(d, genes, beta, direction, steps, box, 0)).toEqual(
            directKernels.fisherGradientNllAtSteps(main, genes, beta, direction, steps, box, 0),
          );
          expect(split.fisherGradientNllAtSteps(d, genes, beta, null, null, box, 0)).toEqual(
            directKernels.fisherGradientNllAtSteps(main, genes, beta, null, null, box, 0),
          );
          expect(split.scoreAndInformation(d, genes, points, 4, 0.5)).toEqual(
            directKernels.scoreAndInformation(main, genes, points, 4, 0.5),
          );
        }
        // Without the per-sample terms (the deseq2 solver's IRLS), split as well.
        const prepared = preparedDataset(23, 41, p, 1);
        const adoptedPrepared = split.adopt({ main: prepared }).main;
        for (const d of [adoptedPrepared, prepared]) {
          expect(split.irlsSummandsAndNll(d, genes, beta, 0.5)).toEqual(
            directKernels.irlsSummandsAndNll(prepared, genes, beta, 0.5),
          );
          // The L-BFGS-B objective: gene-major points, 4 a gene.
          expect(split.nllAtPoints(d, genes, points, 4)).toEqual(
            directKernels.nllAtPoints(prepared, genes, points, 4),
          );
        }
      }
      expect(split.runningWorkers).toBe(threads - 1);
    }
  });

  it("gives the Wald step's XᵀWX and the Cook's screening's counts bit for bit, any slicing", () => {
    const p = 3;
    const main = dataset(23, 41, p, 5);
    const r = rng(17);
    const beta = Float64Array.from({ length: 41 * p }, (_, j) =>
      j % p === 0 ? 2 + r() : r() - 0.5,
    );
    const xtwx = directKernels.information(main, beta);
    // (XᵀWX)⁻¹ stand-ins, tiny for every other gene: some genes with samples above the cutoff,
    // some without.
    const hatInverse = Float64Array.from({ length: 41 * p * p }, (_, j) =>
      j % (p + 1) === 0 ? (Math.floor(j / (p * p)) % 2 === 0 ? 0.05 : 1e-7) * (1 + r()) : 0,
    );
    // The Wald test's residuals take the fit's μ; the LRT's the dispersion step's, whose
    // coefficients the pool slices with the genes.
    const residuals = [
      { residualLink: "fit" as const, residualBeta: new Float64Array(0) },
      {
        residualLink: "log" as const,
        residualBeta: beta.map((b, j) => (j % p === 0 ? b - 0.7 : b)),
      },
    ];
    const screens = residuals.map((residual) => ({
      kind: "cooks-screen-request" as const,
      p,
      beta,
      dispersions: main.data.dispersions,
      hatInverse,
      ...residual,
      cutoff: 3,
    }));
    const counts = screens.map((screen) => directKernels.cooksScreen(main, screen).aboveAtFloor);
    for (const c of counts) expect(c.some((x) => x > 0) && c.some((x) => x === 0)).toBe(true);
    expect(counts[1]).not.toEqual(counts[0]);
    for (const [threads, callerClaims] of SPLITS) {
      const split = pool(threads, 0, callerClaims);
      const adopted = split.adopt({ main }).main;
      for (const d of [adopted, main]) {
        expect(split.information(d, beta)).toEqual(xtwx);
        screens.forEach((screen, k) => {
          expect(split.cooksScreen(d, screen).aboveAtFloor).toEqual(counts[k]);
        });
      }
      expect(split.runningWorkers).toBe(threads - 1);
    }
  });

  it("gives the dispersion evaluations' exact doubles, for every request layout and a new μ", () => {
    // Enough samples per point for the pool to split (n ≥ 4 × the sums per point: q = 6, D = 4).
    const [n, G, p] = [29, 37, 3];
    const fit = dataset(n, G, p, 4).data;
    const r = rng(5);
    const center: DispersionCenter = {
      n,
      p,
      genes: G,
      design: fit.design,
      sizeFactors: fit.sizeFactors,
      counts: fit.counts,
      means: {
        link: "log",
        beta: Float64Array.from({ length: G * p }, (_, j) => (j % p === 0 ? 5 * r() : r() - 0.5)),
        minMu: 0.5,
      },
    };
    // Genes on mask: every third one and a run at the end (slices of uneven sizes).
    const mask = Uint8Array.from({ length: G }, (_, g) => (g % 3 === 0 || g > 30 ? 1 : 0));
    const A = mask.reduce((s, m) => s + m, 0);
    const logAlphas = (count: number) => Float64Array.from({ length: count }, () => -8 + 9 * r());
    const pointCounts = Float64Array.from({ length: A }, (_, a) => 1 + ((a * 7) % 5));
    const P = pointCounts.reduce((s, k) => s + k, 0);
    const rows = Float64Array.from([1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1]);
    const requests: DispersionEvalRequest[] = [
      { round: 1, mask, points: logAlphas(A * 4), pointsPerGene: 4, derivatives: true },
      { round: 2, mask, points: logAlphas(A * 2), pointsPerGene: 2, derivatives: false },
      {
        round: 3,
        mask,
        points: logAlphas(P),
        pointsPerGene: 0,
        pointCounts,
        derivatives: true,
        derivativeCounts: Float64Array.from(pointCounts, (k, a) => (a % 4 === 0 ? 0 : k - 1)),
      },
      {
        round: 4,
        mask,
        points: logAlphas(P),
        pointsPerGene: 0,
        pointCounts,
        derivatives: true,
        designRows: rows,
      },
    ];
    // The design's rows are 0/1 columns after an intercept: all four combinations listed.
    for (let i = 0; i < n; i++) expect(fit.design[i * p]).toBe(1);
    for (const [threads, callerClaims] of SPLITS) {
      const split = pool(threads, 0, callerClaims);
      for (const request of requests) {
        expect(split.dispersionEval(center, request)).toEqual(
          directKernels.dispersionEval(center, request),
        );
      }
      // A new μ (as dispersionMu sets it: new coefficients) is what the workers then read.
      const before = center.means as DispersionMeans;
      center.means = { ...before, beta: Float64Array.from(before.beta, (b) => b + 0.4) };
      expect(split.dispersionEval(center, requests[0])).toEqual(
        directKernels.dispersionEval(center, requests[0]),
      );
      expect(split.dispersionEval(center, requests[0]).logLikelihood).not.toEqual(
        directKernels.dispersionEval({ ...center, means: before }, requests[0]).logLikelihood,
      );
      center.means = before;
      // Another center (other counts, as a refit's) under the same μ model: its own dataset.
      const other = { ...center, counts: Float64Array.from(center.counts, (y) => y + 1) };
      expect(split.dispersionEval(other, requests[0])).toEqual(
        directKernels.dispersionEval(other, requests[0]),
      );
      expect(split.runningWorkers).toBe(threads - 1);
    }
    // Few samples per point: the join would cost more than the split saves; this thread alone.
    const few = pool(2);
    const small: DispersionCenter = {
      ...center,
      n: 5,
      design: center.design.slice(0, 5 * p),
      sizeFactors: center.sizeFactors.slice(0, 5),
      counts: Float64Array.from({ length: G * 5 }, (_, j) => center.counts[j]),
    };
    expect(few.dispersionEval(small, requests[0])).toEqual(
      directKernels.dispersionEval(small, requests[0]),
    );
    expect(few.runningWorkers).toBe(0);
  });

  it("gives the counts and sums of Cook's private trimmed means bit for bit, every round, any slicing", () => {
    // 40 samples in two design cells; four groups as DESeq2's Cook's machinery asks (normalized
    // counts per cell, squared errors around a centre, counts over both cells).
    const p = 2;
    const n = 40;
    const main = dataset(n, 57, p, 5);
    const table = aggregateCells([cellsLocalStep(main.data)]);
    const groups: PrivateTrimGroup[] = [];
    const add = (cellMask: Uint8Array, values: PrivateTrimGroup["values"], trim: number) => {
      let size = 0;
      for (let c = 0; c < table.cells; c++) if (cellMask[c] === 1) size += table.sizes[c];
      groups.push({ cellMask, values, size, sums: values !== "counts", ...trimRanks(size, trim) });
    };
    add(Uint8Array.of(1, 0), "normalized", 1 / 8);
    add(Uint8Array.of(0, 1), "squared-error", 1 / 8);
    add(Uint8Array.of(1, 1), "counts", 1 / 3);
    expect(table.cells).toBe(2);
    const centres = Float64Array.from({ length: 57 * 2 }, (_, i) => 3 * (i + 1));
    const search = startPrivateTrimSearch({ table, genes: 57, groups, centres });
    for (const [threads, callerClaims] of SPLITS) {
      const split = pool(threads, 0, callerClaims);
      const adopted = split.adopt({ main }).main;
      expect(adopted.data.counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    }
    let rounds = 0;
    do {
      const wire = privateTrimWireRequest(search);
      const one = directKernels.privateTrimCounts(main, wire, gridOf(wire), wire);
      for (const split of pools.slice(-SPLITS.length)) {
        const pooled = split.privateTrimCounts(
          split.adopt({ main }).main,
          wire,
          gridOf(wire),
          wire,
        );
        expect(pooled.counts.length).toBe(one.counts.length);
        expect(Buffer.from(pooled.counts.buffer).equals(Buffer.from(one.counts.buffer))).toBe(true);
      }
      privateTrimAggregateStep(search, [one]);
      rounds++;
    } while (!privateTrimSettled(search));
    expect(rounds).toBeGreaterThan(1);
    // The sums round after it: the same sums from slices of the genes (a fresh pool starts its
    // workers for it: the split ran, and a worker that failed would be an error).
    const sumsRequest = privateSumRequest(search);
    const oneSums = directKernels.privateSums(main, sumsRequest);
    expect(oneSums.sums.some((x) => x > 0)).toBe(true);
    for (const [threads, callerClaims] of SPLITS) {
      const split = pool(threads, 0, callerClaims);
      const pooled = split.privateSums(split.adopt({ main }).main, sumsRequest);
      expect(split.runningWorkers).toBe(threads - 1);
      expect(Buffer.from(pooled.sums.buffer).equals(Buffer.from(oneSums.sums.buffer))).toBe(true);
    }
    // A request with too many targets for the first gene (its brackets consistent) fails in the
    // first slice: in a worker's hands the pool says so; in this thread's, the kernel's error.
    const wire = privateTrimWireRequest(
      startPrivateTrimSearch({ table, genes: 57, groups, centres }),
    );
    const extra = wire.targets + 1 - wire.openTargets[0];
    const openTargets = wire.openTargets.slice();
    openTargets[0] += extra;
    const brackets = new Float64Array(wire.brackets.length + 2 * extra);
    for (let e = 0; e < extra; e++) brackets.set(wire.brackets.subarray(0, 2), 2 * e);
    brackets.set(wire.brackets, 2 * extra);
    const bad = { ...wire, openTargets, brackets };
    const last = pools.slice(-SPLITS.length);
    SPLITS.forEach(([, callerClaims], k) => {
      const split = last[k];
      expect(() =>
        split.privateTrimCounts(split.adopt({ main }).main, bad, gridOf(bad), bad),
      ).toThrow(
        callerClaims
          ? /^(gene pool: )?private trim request: more than \d+ targets/
          : /^gene pool: private trim request: more than \d+ targets/,
      );
    });
    expect(() => directKernels.privateTrimCounts(main, bad, gridOf(bad), bad)).toThrow(
      /^private trim request: more than/,
    );
  });

  it("starts its workers with a session on a center whose steps it splits, not on a smaller one", () => {
    const center = (genes: number, samples: number) => ({
      name: "lab",
      genes: Array.from({ length: genes }, (_, g) => `g${g}`),
      samples: Array.from({ length: samples }, (_, i) => `s${i}`),
      counts: new Float64Array(genes * samples),
      metadata: { columns: [], values: new Map() },
    });
    // The rule of every split step (genes × samples ≥ minWork), applied before any step.
    const large = pool(2, 100);
    new CenterSession(center(25, 4), { kernels: large });
    expect(large.runningWorkers).toBe(1);
    const small = pool(2, 100);
    new CenterSession(center(33, 3), { kernels: small });
    expect(small.runningWorkers).toBe(0);
    // One thread: no worker to start, whatever the size.
    const single = pool(1, 100);
    new CenterSession(center(25, 4), { kernels: single });
    expect(single.runningWorkers).toBe(0);
  });

  it("keeps small calls, and one thread, on the calling thread", () => {
    const main = dataset(10, 20, 2, 2);
    const genes = Int32Array.from({ length: 20 }, (_, g) => g);
    const beta = new Float64Array(40).fill(1);
    const small = pool(2, 1_000_000);
    const one = pool(1);
    for (const kernels of [small, one]) {
      expect(kernels.irlsSummandsAndNll(main, genes, beta, 0.5)).toEqual(
        directKernels.irlsSummandsAndNll(main, genes, beta, 0.5),
      );
      expect(kernels.runningWorkers).toBe(0);
    }
    expect(one.adopt({ main }).main).toBe(main);
  });

  it("reports a kernel's failure in a worker as an error, and goes on with the next call", () => {
    const main = dataset(10, 20, 2, 3);
    const genes = Int32Array.from({ length: 20 }, (_, g) => g);
    const beta = new Float64Array(40);
    for (const callerClaims of [false, true]) {
      const split = pool(2, 0, callerClaims);
      expect(() =>
        split.fisherGradientNllAtSteps(
          main,
          genes,
          beta,
          new Float64Array(40),
          null,
          { lower: -1, upper: 1 },
          0,
        ),
      ).toThrow(callerClaims ? /direction and steps/ : /^gene pool: .*direction and steps/);
      // The failed call's late answers are not taken for the next call's.
      expect(split.irlsSummandsAndNll(main, genes, beta, 0.5)).toEqual(
        directKernels.irlsSummandsAndNll(main, genes, beta, 0.5),
      );
    }
  });

  it("gives bit-identical fits through pooled sessions, with every solver", async () => {
    const dir = sharedPath("data", "li_lncap");
    for (const solver of ["deseq2", "fast", "upstream"] as const) {
      const fitWith = async (threads: number) => {
        const kernels = pool(threads);
        const sessions = await simulatedCenters(dir, {}, { kernels });
        const outcome = await fitOverFederation(new InProcessTransport(sessions), {
          design: DESIGNS.li_lncap,
          sizeFactorsFile: sharedPath("data", "li_lncap", "deseq2", "size_factors.csv"),
          dispersionsFile: sharedPath("data", "li_lncap", "deseq2", "fit.csv"),
          mode: "irls-pqn",
          solver,
          references: {},
          fixedRounds: false,
          hp: DEFAULT_HYPERPARAMETERS,
          outDir: "unused",
        });
        return { outcome, workers: kernels.runningWorkers };
      };
      const one = await fitWith(1);
      const two = await fitWith(2);
      expect(two.workers).toBe(1);
      expect(two.outcome.result.beta).toEqual(one.outcome.result.beta);
      expect(two.outcome.ledger).toEqual(one.outcome.ledger);
      expect(two.outcome.history).toEqual(one.outcome.history);
    }
  });
});
