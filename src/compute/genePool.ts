/**
 * A center's worker pool: the heavy local steps (IRLS, PQN, the `fast` solver, the `deseq2`
 * solver's likelihoods for L-BFGS-B, the dispersion searches' evaluations, the counts and sums
 * of Cook's private trimmed means) split the active genes over `threads` threads, this one
 * included.
 *
 * - The kernels' data (counts, ln Γ terms, design, …) is moved into SharedArrayBuffers when the
 *   center is prepared ({@link GenePool.adopt}) and sent to each worker once, the first time a
 *   step is worth splitting: nothing is copied per round. A dataset the pool has not adopted
 *   (e.g. a refit dataset built later, or the dispersion data with each new μ) is copied into
 *   shared memory once, on first use (arrays already there, such as the counts, are not).
 * - Per call, the step's inputs (genes, β, direction or points) are cut into slices of
 *   consecutive genes, a few per thread; this thread and the workers each claim the next slice
 *   nobody has claimed (one compare-and-swap in shared memory) until none is left, and the
 *   outputs are put together in gene order. Every kernel computes each gene on its own, so the
 *   shares are bit-identical to one thread's, whoever ran which slice.
 * - The local steps are synchronous: this thread runs the slices it claims, then waits for the
 *   workers' with `Atomics.wait` and reads their replies with `receiveMessageOnPort`.
 * - A call whose work (genes × samples × points) is below `minWork` runs on this thread alone:
 *   there the pool would cost more than it saves.
 */

import { availableParallelism } from "node:os";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import type { CenterFitData, FitCenter } from "../algorithms/center.js";
import type { CooksScreenRequest, CooksScreenShare } from "../algorithms/cooks/privateCooks.js";
import {
  type OpenTargets,
  type PrivateGrid,
  type PrivateSumRequest,
  type PrivateSumShare,
  type PrivateTrimShare,
  SUM_SLOTS,
  type TrimCountsFields,
  trimCountsLocal,
} from "../algorithms/cooks/privateTrimmedMean.js";
import {
  type DispersionCenter,
  type DispersionMeans,
  requireMeans,
} from "../algorithms/dispersions/center.js";
import {
  derivativeOffsets,
  dispersionEvalLocalStep,
  pointOffsets,
} from "../algorithms/dispersions/logPosterior.js";
import type {
  DispersionEvalRequest,
  DispersionEvalShare,
} from "../algorithms/dispersions/state.js";
import { directKernels, type LocalKernels } from "../algorithms/kernels.js";
import { maskIndices } from "../algorithms/masks.js";
import { triangleSize } from "../math/linalg.js";
import type {
  Box,
  FisherGradientNll,
  IrlsSummands,
  NbCenterData,
  NbGeneConstants,
  ScoreAndInformation,
} from "../math/negativeBinomial.js";
import {
  CALL_PERIOD,
  claimSlice,
  claimWord,
  FLAG_READY,
  MAX_SLICES,
  type PoolDataset,
  type PoolKernelArgs,
  type PoolReply,
  type PoolRequest,
  type PoolWorkerData,
  runKernelSlice,
} from "./genePoolProtocol.js";
import { threadEntry } from "./threadEntry.js";

/**
 * Default least work (active genes × samples × points) of a kernel call worth splitting: about
 * 2–3 ms of kernel time. Posting the slices, waking a worker and joining the outputs costs
 * ~0.1–0.2 ms a call; on an idle 2-core machine a split already pays from ~10,000 (IRLS, 500
 * samples, 20 genes: 0.68 → 0.53 ms), but a busy machine may give the worker no core at once.
 */
export const DEFAULT_MIN_WORK = 50_000;

/**
 * The work of one gene·sample·point of {@link LocalKernels.nllAtPoints} in units of
 * {@link DEFAULT_MIN_WORK}'s (an IRLS gene·sample, ~40–60 ns): R's density and C library's log
 * reproduced to the bit cost ~220 ns (a 120-sample `~ batch + condition` run: 14.0 million in
 * 3.1 s), so a call of 206 genes × 9 points × 24 samples (~10 ms) is split, one of 10 genes is not.
 */
const NLL_WORK_WEIGHT = 4;

/**
 * Fewest samples at a center for which the counts and sums of Cook's private trimmed means are
 * split (see {@link GenePool.privateTrimCounts}).
 */
const TRIM_SPLIT_MIN_SAMPLES = 16;

/** How long a worker may take to start before the pool gives up (ms). */
const START_TIMEOUT_MS = 60_000;

/** How long the workers' slices of one call are waited for before the pool gives up (ms). */
const REPLY_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Slices per thread a split call is cut into: threads claim them one at a time, so a thread the
 * machine keeps waiting (a busy core) leaves its share to the others, and the last slice a slow
 * thread runs is short. A 20,000 × 500 cohort's `run` (CPU profile of the center's thread): its
 * wait for the worker 1.79 s with one half per thread, 1.02 s with 4 slices per thread, 0.39 s
 * with 8; 0.67 s with 8 at most and {@link DEFAULT_MIN_SLICE_WORK} each.
 */
const SLICES_PER_THREAD = 8;

/**
 * Default least work (gene·sample·points) of a slice beyond one per thread: each slice costs its
 * own arguments, posting and joining, which on small calls cost more than the balance saves:
 * three test files of CLI runs on the shared datasets (layer, results.cli, transcriptScan) took
 * 61.2 / 64.3 s of CPU with eight slices per thread on every call against 57.3 / 59.1 s before
 * the slices; with this bound 58.1 / 58.0 (against 59.4 / 59.7), with half of it 61.6 (57.5).
 */
export const DEFAULT_MIN_SLICE_WORK = 2 * DEFAULT_MIN_WORK;

/** Options of a {@link GenePool}. */
export interface GenePoolOptions {
  /** Threads computing a step, this one included (1 = no workers). */
  readonly threads: number;
  /** Least work of a call worth splitting (default {@link DEFAULT_MIN_WORK}). */
  readonly minWork?: number;
  /** Least work of a slice beyond one per thread (default {@link DEFAULT_MIN_SLICE_WORK}). */
  readonly minSliceWork?: number;
  /**
   * Whether the calling thread claims slices too (default true). False leaves every slice to
   * the workers (tests: their path, deterministically, where this thread would often claim
   * them all before a worker wakes).
   */
  readonly callerClaims?: boolean;
}

/** The number of threads by default: the cores this process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** A copy of `a` in shared memory (or `a` itself when it already is). */
function shared<T extends Float64Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new (a.constructor as { new (b: SharedArrayBuffer): T })(
    new SharedArrayBuffer(a.byteLength),
  );
  copy.set(a as never);
  return copy;
}

/** A dataset whose arrays all live in shared memory. */
function sharedDataset(dataset: CenterFitData): CenterFitData {
  const d = dataset.data;
  const c = dataset.constants;
  const data: NbCenterData = {
    n: d.n,
    p: d.p,
    genes: d.genes,
    design: shared(d.design),
    sizeFactors: shared(d.sizeFactors),
    counts: shared(d.counts),
    dispersions: shared(d.dispersions),
  };
  const constants: NbGeneConstants = {
    inverseDispersion: shared(c.inverseDispersion),
    nllOffset: shared(c.nllOffset),
    logBinomial: c.logBinomial === null ? null : shared(c.logBinomial),
    logBinomialSum: shared(c.logBinomialSum),
    designTimesCounts: shared(c.designTimesCounts),
  };
  return { data, constants };
}

/**
 * A center's dispersion data in shared memory (the counts usually are already: the readers put
 * them there), with its μ model (G×p coefficients, copied: a step that sets the model makes a
 * new one and never writes into one it has set, dispersions/mu.ts and moments.ts).
 */
function sharedDispersionCenter(center: DispersionCenter): DispersionCenter {
  const means = requireMeans(center);
  return {
    n: center.n,
    p: center.p,
    genes: center.genes,
    design: shared(center.design),
    sizeFactors: shared(center.sizeFactors),
    counts: shared(center.counts),
    means: { link: means.link, beta: shared(means.beta), minMu: means.minMu },
  };
}

function isShared(dataset: CenterFitData): boolean {
  const { data: d, constants: c } = dataset;
  return [
    d.design,
    d.sizeFactors,
    d.counts,
    d.dispersions,
    c.inverseDispersion,
    c.nllOffset,
    c.logBinomial,
    c.logBinomialSum,
    c.designTimesCounts,
  ].every((a) => a === null || a.buffer instanceof SharedArrayBuffer);
}

/** Rows a0 … a1 − 1 of each of the S blocks of A rows of `width` values (step-major layout). */
function sliceRows(
  x: Float64Array,
  S: number,
  A: number,
  width: number,
  a0: number,
  a1: number,
): Float64Array {
  const rows = a1 - a0;
  const out = new Float64Array(S * rows * width);
  for (let s = 0; s < S; s++) {
    out.set(x.subarray((s * A + a0) * width, (s * A + a1) * width), s * rows * width);
  }
  return out;
}

/** The bounds of `count` slices of A consecutive genes (as even as whole genes allow). */
function sliceBounds(A: number, count: number): number[] {
  return Array.from({ length: count + 1 }, (_, t) => Math.round((t * A) / count));
}

/** Each slice's kernel arguments, from its bounds. */
function sliceArgs(
  bounds: readonly number[],
  slice: (a0: number, a1: number) => PoolKernelArgs,
): PoolKernelArgs[] {
  return Array.from({ length: bounds.length - 1 }, (_, t) => slice(bounds[t], bounds[t + 1]));
}

/** A slice of consecutive genes (from … to, exclusive) and its kernel's outputs. */
interface GeneSlice {
  readonly from: number;
  readonly to: number;
  readonly out: Record<string, Float64Array>;
}

/** One output of gene slices (`width` values per gene), joined in gene order. */
function joinGeneSlices(
  parts: readonly GeneSlice[],
  name: string,
  genes: number,
  width: number,
): Float64Array {
  const whole = new Float64Array(genes * width);
  for (const { from, to, out } of parts) {
    const part = out[name];
    if (part.length !== (to - from) * width)
      throw new Error(`gene pool: ${name} of genes ${from}…${to} has ${part.length} values`);
    whole.set(part, from * width);
  }
  return whole;
}

/** A pool worker and its channel. */
interface PoolWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
  /** Datasets this worker holds. */
  readonly known: Set<number>;
}

/** Output fields of a kernel and their widths per (point, gene). */
type Fields = readonly (readonly [string, number])[];

/** Splits the NB kernels' genes over worker threads; see the module's description. */
export class GenePool implements LocalKernels {
  /** Threads computing a step, this one included. */
  readonly threads: number;
  readonly #minWork: number;
  readonly #minSliceWork: number;
  readonly #callerClaims: boolean;
  #workers: PoolWorker[] | null = null;
  #flags: Int32Array | null = null;
  /** The claim word of the pool's calls ({@link claimSlice}), in shared memory. */
  #claims: Int32Array | null = null;
  /** Raised by the workers after each reply. */
  #replies: Int32Array | null = null;
  /** The number of the next split call (modulo {@link CALL_PERIOD}). */
  #call = 0;
  /** Whether every worker has signalled that it listens. */
  #ready = false;
  /** Each dataset's id: a prepared fit's dataset, or a dispersion center's μ model (see dispersionEval). */
  readonly #ids = new WeakMap<object, number>();
  /**
   * The key of a dispersion center's dataset, per center and μ model (alive while both are: a
   * dataset the workers hold is dropped once either is collected).
   */
  readonly #dispersionKeys = new WeakMap<DispersionCenter, WeakMap<DispersionMeans, object>>();
  #nextId = 0;
  readonly #finalizer = new FinalizationRegistry<number>((id) => this.#drop(id));

  constructor(options: GenePoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) {
      throw new Error(`gene pool: threads must be a positive integer, got ${options.threads}`);
    }
    this.threads = options.threads;
    this.#minWork = options.minWork ?? DEFAULT_MIN_WORK;
    this.#minSliceWork = options.minSliceWork ?? DEFAULT_MIN_SLICE_WORK;
    this.#callerClaims = options.callerClaims ?? true;
  }

  /** Worker threads currently running (0 until a call is first worth splitting). */
  get runningWorkers(): number {
    return this.#workers?.length ?? 0;
  }

  /**
   * Move a prepared center's kernel data into shared memory (one copy, at prepare time), so that
   * the workers can read it without copies; start the workers if its steps will be split. The
   * identity with one thread.
   */
  adopt(center: FitCenter): FitCenter {
    if (this.threads === 1) return center;
    // A center whose every step would be split: start the workers now, in the background.
    this.expectCenter(center.main.data.genes, center.main.data.n);
    return {
      main: sharedDataset(center.main),
      ...(center.refit === undefined
        ? {}
        : {
            refit: {
              ...sharedDataset(center.refit),
              rows: center.refit.rows,
              finalDispersions: center.refit.finalDispersions,
            },
          }),
    };
  }

  /**
   * {@link LocalKernels.expectCenter}: start the workers now, in the background, if steps on a
   * center of this size are split (the rule of {@link GenePool.adopt}), rather than at its
   * first split step, which would wait for them to load.
   */
  expectCenter(genes: number, samples: number): void {
    if (this.threads > 1 && genes * samples >= this.#minWork) this.#spawn();
  }

  /** {@link LocalKernels.irlsSummandsAndNll}, split over the pool. */
  irlsSummandsAndNll(
    dataset: CenterFitData,
    genes: Int32Array,
    beta: Float64Array,
    minMu: number,
  ): IrlsSummands {
    const { p } = dataset.data;
    return this.#split(
      dataset,
      genes.length,
      1,
      [
        ["hatMatrix", p * p],
        ["features", p],
        ["nll", 1],
      ],
      () => directKernels.irlsSummandsAndNll(dataset, genes, beta, minMu),
      (a0, a1) => ({
        kernel: "irls",
        genes: genes.slice(a0, a1),
        beta: beta.slice(a0 * p, a1 * p),
        minMu,
      }),
    ) as unknown as IrlsSummands;
  }

  /** {@link LocalKernels.fisherGradientNllAtSteps}, split over the pool. */
  fisherGradientNllAtSteps(
    dataset: CenterFitData,
    genes: Int32Array,
    beta: Float64Array,
    direction: Float64Array | null,
    steps: Float64Array | null,
    box: Box,
    minMu: number,
  ): FisherGradientNll {
    const { p } = dataset.data;
    return this.#split(
      dataset,
      genes.length,
      steps === null ? 1 : steps.length,
      [
        ["fisher", triangleSize(p)],
        ["gradient", p],
        ["nll", 1],
      ],
      () =>
        directKernels.fisherGradientNllAtSteps(dataset, genes, beta, direction, steps, box, minMu),
      (a0, a1) => ({
        kernel: "pqn",
        genes: genes.slice(a0, a1),
        beta: beta.slice(a0 * p, a1 * p),
        direction: direction === null ? null : direction.slice(a0 * p, a1 * p),
        steps,
        box: { lower: box.lower, upper: box.upper },
        minMu,
      }),
    ) as unknown as FisherGradientNll;
  }

  /** {@link LocalKernels.nllAtPoints}, split over the pool. */
  nllAtPoints(
    dataset: CenterFitData,
    genes: Int32Array,
    points: Float64Array,
    count: number,
  ): Float64Array {
    const { n, p } = dataset.data;
    const A = genes.length;
    // Gene-major points and NLLs: a slice's are contiguous, one "step" of `count` values a gene.
    return this.#split(
      dataset,
      A,
      1,
      [["nll", count]],
      () => ({ nll: directKernels.nllAtPoints(dataset, genes, points, count) }),
      (a0, a1) => ({
        kernel: "nll",
        genes: genes.slice(a0, a1),
        points: points.slice(a0 * count * p, a1 * count * p),
        count,
      }),
      A * count * n * NLL_WORK_WEIGHT,
    ).nll;
  }

  /** {@link LocalKernels.scoreAndInformation}, split over the pool. */
  scoreAndInformation(
    dataset: CenterFitData,
    genes: Int32Array,
    points: Float64Array,
    count: number,
    minMu: number,
  ): ScoreAndInformation {
    const { p } = dataset.data;
    const A = genes.length;
    return this.#split(
      dataset,
      A,
      count,
      [
        ["nll", 1],
        ["residual", p],
        ["information", p * p],
      ],
      () => directKernels.scoreAndInformation(dataset, genes, points, count, minMu),
      (a0, a1) => ({
        kernel: "newton",
        genes: genes.slice(a0, a1),
        points: sliceRows(points, count, A, p, a0, a1),
        count,
        minMu,
      }),
    ) as unknown as ScoreAndInformation;
  }

  /**
   * {@link LocalKernels.dispersionEval}, split over the pool: slices of consecutive genes on the
   * request's mask holding about as many points each, their shares joined in point order.
   */
  dispersionEval(center: DispersionCenter, request: DispersionEvalRequest): DispersionEvalShare {
    // Values per point in the gram arrays: q (triangles) or D (design rows).
    const rows = request.designRows;
    const pointWidth =
      rows === null || rows === undefined || rows.length === 0
        ? triangleSize(center.p)
        : rows.length / center.p;
    // Joining the slices copies each point's sums (1 + width values, twice with derivatives)
    // into fresh arrays, and fresh memory is dear (a new page costs microseconds): the split
    // pays only where a point's work over the samples (n ln Γ terms, and a weighted sum of
    // width values each) is well above that copy. bodymap ~ tissue (n ≈ 5, D = 16) ran slower
    // split; a 20,000 × 500 cohort (n = 125, q = 3) 42.5 -> 35.3 s wall. Decided before any
    // per-gene work, which the step itself does on this thread.
    if (
      this.threads < 2 ||
      center.n < 4 * pointWidth ||
      request.points.length * center.n < this.#minWork
    )
      return dispersionEvalLocalStep(center, request);
    const means = requireMeans(center);
    const genes = maskIndices(request.mask);
    const A = genes.length;
    const offsets = pointOffsets(request, A);
    const P = offsets[A];
    if (Math.min(this.threads, A) < 2) return dispersionEvalLocalStep(center, request);
    const T = this.#sliceCount(A, request.points.length * center.n);
    const slopes = derivativeOffsets(request, offsets);
    // Slice t holds the genes whose first point is in [t·P/T, (t+1)·P/T): each gene whole.
    const bounds = [0];
    for (let t = 1, a = 0; t < T; t++) {
      while (a < A && offsets[a] < Math.round((t * P) / T)) a++;
      if (a > bounds[bounds.length - 1]) bounds.push(a);
    }
    if (bounds[bounds.length - 1] < A) bounds.push(A);
    const slices = bounds.length - 1;
    if (slices < 2) return dispersionEvalLocalStep(center, request);
    const workers = this.#start();
    // Keyed by the center and its μ model together: a new model (a new dispersion estimation),
    // or another center (other counts, as a refit's), is a new dataset for the workers.
    let byModel = this.#dispersionKeys.get(center);
    if (byModel === undefined) {
      byModel = new WeakMap();
      this.#dispersionKeys.set(center, byModel);
    }
    let key = byModel.get(means);
    if (key === undefined) {
      key = {};
      byModel.set(means, key);
    }
    const id = this.#register(key, workers, () => ({
      kind: "dispersion",
      center: sharedDispersionCenter(center),
    }));
    const sliceRequest = (a0: number, a1: number): PoolKernelArgs => {
      const mask = new Uint8Array(request.mask.length);
      for (let a = a0; a < a1; a++) mask[genes[a]] = 1;
      const { pointCounts, derivativeCounts } = request;
      // The request's own fields in its own order, then the slice's values: every slice has the
      // shape of the request as the center received it, so the kernel's property loads stay
      // monomorphic (objects of other shapes made V8 deoptimise it dozens of times a run).
      return {
        kernel: "dispersion",
        request: {
          ...request,
          mask,
          points: request.points.slice(offsets[a0], offsets[a1]),
          ...(pointCounts === undefined || pointCounts.length === 0
            ? {}
            : { pointCounts: pointCounts.slice(a0, a1) }),
          ...(derivativeCounts === undefined || derivativeCounts.length === 0
            ? {}
            : { derivativeCounts: derivativeCounts.slice(a0, a1) }),
        },
      };
    };
    const args = sliceArgs(bounds, sliceRequest);
    const held: PoolDataset = { kind: "dispersion", center };
    const parts = this.#share(workers, id, args, (t) => runKernelSlice(held, args[t])) as Record<
      string,
      Float64Array
    >[];
    // Gene-major outputs: the slices' arrays end to end are the whole request's.
    const join = (name: string, length: number): Float64Array => {
      const whole = new Float64Array(length);
      let at = 0;
      for (const part of parts) {
        whole.set(part[name], at);
        at += part[name].length;
      }
      if (at !== length) throw new Error(`gene pool: ${name} has ${at} values, expected ${length}`);
      return whole;
    };
    const width = parts[0].gram.length / (offsets[bounds[1]] - offsets[0]);
    const slopeCount = !request.derivatives ? 0 : slopes === null ? P : slopes[A];
    return {
      kind: "dispersion-eval-share",
      round: request.round,
      pointsPerGene: request.pointsPerGene,
      logLikelihood: join("logLikelihood", P),
      logLikelihoodSlope: join("logLikelihoodSlope", slopeCount),
      gram: join("gram", P * width),
      gramSlope: join("gramSlope", slopeCount * width),
    };
  }

  /**
   * {@link LocalKernels.privateTrimCounts}, split over the pool: slices of consecutive active
   * genes, each counted into its own range of one reply (this thread's slice in place, the
   * workers' copied in), which is the reply one thread gives: the blocks are in gene order.
   */
  privateTrimCounts(
    dataset: CenterFitData,
    request: TrimCountsFields,
    grid: PrivateGrid,
    open: OpenTargets,
  ): PrivateTrimShare {
    const { n } = dataset.data;
    const direct = () => trimCountsLocal(dataset.data, request, grid, open);
    // A gene's count touches its open targets' blocks once per sample, while its reply is
    // (K + 1) fresh values per open target: with few samples (bodymap ~ tissue, n ≈ 5) the
    // reply's new memory is most of the work and a split only adds the join.
    if (this.threads < 2 || n < TRIM_SPLIT_MIN_SAMPLES) return direct();
    const genes = maskIndices(request.active);
    const A = genes.length;
    const G = request.groups;
    if (Math.min(this.threads, A) < 2 || A * n < this.#minWork || open.openTargets.length !== A * G)
      return direct();
    // Gene a's blocks start at blockStart[a] (its open targets over its groups, in order).
    const blockStart = new Float64Array(A + 1);
    for (let a = 0; a < A; a++) {
      let m = 0;
      for (let q = 0; q < G; q++) m += open.openTargets[a * G + q];
      blockStart[a + 1] = blockStart[a] + m;
    }
    // A malformed request: the kernel on this thread names what is wrong.
    if (!(open.brackets.length === 2 * blockStart[A])) return direct();
    const cellCount = request.cellRows.length / request.p;
    const width = request.cuts + 1;
    const bounds = sliceBounds(A, this.#sliceCount(A, A * n));
    const slice = (a0: number, a1: number) => {
      const active = new Uint8Array(request.active.length);
      for (let a = a0; a < a1; a++) active[genes[a]] = 1;
      const centres =
        request.centres.length === 0
          ? request.centres
          : request.centres.slice(a0 * cellCount, a1 * cellCount);
      return {
        kernel: "trimCounts" as const,
        grid,
        request: {
          p: request.p,
          cellRows: request.cellRows,
          groups: request.groups,
          groupCells: request.groupCells,
          groupValues: request.groupValues,
          cuts: request.cuts,
          targets: request.targets,
          active,
          centres,
        },
        open: {
          openTargets: open.openTargets.slice(a0 * G, a1 * G),
          brackets: open.brackets.slice(2 * blockStart[a0], 2 * blockStart[a1]),
        },
      };
    };
    const workers = this.#start();
    const id = this.#registerFit(dataset, workers);
    const args = sliceArgs(bounds, slice);
    const counts = new Float64Array(blockStart[A] * width);
    // This thread counts its slices in place; the workers' are copied in.
    const parts = this.#share(workers, id, args, (t) => {
      const { request: part, open: partOpen } = args[t] as ReturnType<typeof slice>;
      trimCountsLocal(
        dataset.data,
        part,
        grid,
        partOpen,
        counts.subarray(blockStart[bounds[t]] * width, blockStart[bounds[t + 1]] * width),
      );
      return null;
    });
    for (let t = 0; t < parts.length; t++) {
      const output = parts[t];
      if (output === null) continue; // counted in place
      const part = output.counts;
      const from = blockStart[bounds[t]] * width;
      const to = blockStart[bounds[t + 1]] * width;
      if (part.length !== to - from)
        throw new Error(
          `gene pool: slice ${t} counted ${part.length} values, expected ${to - from}`,
        );
      counts.set(part, from);
    }
    return { kind: "cooks-private-trim-share", counts };
  }

  /**
   * {@link LocalKernels.privateSums}, split over the pool: slices of consecutive active genes,
   * each summed on its own thread (this one the last), their sums joined in gene order. A
   * gene's sums read its own samples only, so they are one thread's, bit for bit. Split where a
   * center has at least 16 samples, as the counts rounds ({@link GenePool.privateTrimCounts}).
   */
  privateSums(dataset: CenterFitData, request: PrivateSumRequest): PrivateSumShare {
    const { n } = dataset.data;
    const direct = () => directKernels.privateSums(dataset, request);
    if (this.threads < 2 || n < TRIM_SPLIT_MIN_SAMPLES) return direct();
    const genes = maskIndices(request.active);
    const A = genes.length;
    const G = request.groups;
    if (Math.min(this.threads, A) < 2 || A * n < this.#minWork) return direct();
    const cellCount = request.cellRows.length / request.p;
    // A request not laid out per active gene: this thread's kernel reads it as it is.
    if (
      request.boundaries.length !== A * G * 4 ||
      request.atomSlots.length !== A * G * 5 ||
      (request.centres.length !== 0 && request.centres.length !== A * cellCount)
    )
      return direct();
    const slice = (a0: number, a1: number): PrivateSumRequest => {
      const active = new Uint8Array(request.active.length);
      for (let a = a0; a < a1; a++) active[genes[a]] = 1;
      return {
        ...request,
        active,
        boundaries: request.boundaries.slice(a0 * G * 4, a1 * G * 4),
        atomSlots: request.atomSlots.slice(a0 * G * 5, a1 * G * 5),
        centres:
          request.centres.length === 0
            ? request.centres
            : request.centres.slice(a0 * cellCount, a1 * cellCount),
      };
    };
    const parts = this.#geneSlices(dataset, A, A * n, (a0, a1) => ({
      kernel: "privateSums",
      request: slice(a0, a1),
    }));
    const sums = joinGeneSlices(parts, "sums", A, G * SUM_SLOTS);
    return { kind: "cooks-private-sum-share", sums };
  }

  /**
   * {@link LocalKernels.information} (the Wald step's XᵀWX), split over the pool: slices of
   * consecutive genes, joined in gene order (each gene's sums its own: bit for bit one
   * thread's). Split where a center has at least 16 samples, as the trimmed means' rounds.
   */
  information(dataset: CenterFitData, beta: Float64Array): Float64Array {
    const { n, p, genes } = dataset.data;
    if (!this.#splitsGenes(n, genes)) return directKernels.information(dataset, beta);
    const width = triangleSize(p);
    const parts = this.#geneSlices(dataset, genes, genes * n, (from, to) => ({
      kernel: "information",
      from,
      to,
      beta: beta.slice(from * p, to * p),
    }));
    return joinGeneSlices(parts, "xtwx", genes, width);
  }

  /** {@link LocalKernels.cooksScreen}, split over the pool as {@link GenePool.information}. */
  cooksScreen(dataset: CenterFitData, request: CooksScreenRequest): CooksScreenShare {
    const { n, p, genes } = dataset.data;
    const direct = () => directKernels.cooksScreen(dataset, request);
    // A request not sized for the dataset: this thread's kernel says what is wrong with it.
    if (
      !this.#splitsGenes(n, genes) ||
      request.p !== p ||
      request.beta.length !== genes * p ||
      request.dispersions.length !== genes ||
      request.hatInverse.length !== genes * p * p
    )
      return direct();
    const parts = this.#geneSlices(dataset, genes, genes * n, (from, to) => ({
      kernel: "cooksScreen",
      from,
      to,
      request: {
        ...request,
        beta: request.beta.slice(from * p, to * p),
        dispersions: request.dispersions.slice(from, to),
        hatInverse: request.hatInverse.slice(from * p * p, to * p * p),
        residualBeta:
          request.residualLink === "fit"
            ? request.residualBeta
            : request.residualBeta.slice(from * p, to * p),
      },
    }));
    return {
      kind: "cooks-screen-share",
      aboveAtFloor: joinGeneSlices(parts, "aboveAtFloor", genes, 1),
    };
  }

  /** Whether a whole-dataset kernel over `genes` genes of `n` samples is worth splitting. */
  #splitsGenes(n: number, genes: number): boolean {
    return (
      this.threads >= 2 && n >= TRIM_SPLIT_MIN_SAMPLES && genes >= 2 && genes * n >= this.#minWork
    );
  }

  /**
   * Run a kernel of a prepared fit's dataset on slices of `A` consecutive genes (the dataset's,
   * or a request's active ones) doing `work` gene·sample·points; the slices' outputs in order.
   */
  #geneSlices(
    dataset: CenterFitData,
    A: number,
    work: number,
    slice: (from: number, to: number) => PoolKernelArgs,
  ): GeneSlice[] {
    const bounds = sliceBounds(A, this.#sliceCount(A, work));
    const workers = this.#start();
    const id = this.#registerFit(dataset, workers);
    const args = sliceArgs(bounds, slice);
    const held: PoolDataset = { kind: "fit", dataset };
    const parts = this.#share(workers, id, args, (t) => runKernelSlice(held, args[t]));
    return parts.map((out, t) => ({
      from: bounds[t],
      to: bounds[t + 1],
      out: out as Record<string, Float64Array>,
    }));
  }

  /** Stop the workers (the pool starts them again if used afterwards). */
  async close(): Promise<void> {
    const workers = this.#workers ?? [];
    this.#workers = null;
    this.#flags = null;
    this.#claims = null;
    this.#replies = null;
    for (const w of workers) w.port.close();
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  /**
   * Run a kernel over A genes × S points: on this thread alone when the work is small, else in
   * slices of consecutive active genes shared by this thread and the workers ({@link #share}),
   * outputs joined in gene order within each point's block. `work` is the call's genes ×
   * samples × points (by default A·S·n).
   */
  #split(
    dataset: CenterFitData,
    A: number,
    S: number,
    fields: Fields,
    direct: () => object,
    slice: (a0: number, a1: number) => PoolKernelArgs,
    work = A * S * dataset.data.n,
  ): Record<string, Float64Array> {
    if (Math.min(this.threads, A) < 2 || work < this.#minWork)
      return direct() as Record<string, Float64Array>;
    const workers = this.#start();
    const id = this.#registerFit(dataset, workers);
    const bounds = sliceBounds(A, this.#sliceCount(A, work));
    const args = sliceArgs(bounds, slice);
    const held: PoolDataset = { kind: "fit", dataset };
    const parts = this.#share(workers, id, args, (t) => runKernelSlice(held, args[t]));
    const out: Record<string, Float64Array> = {};
    for (const [name, width] of fields) {
      const whole = new Float64Array(S * A * width);
      for (let t = 0; t < parts.length; t++) {
        const rows = bounds[t + 1] - bounds[t];
        const part = (parts[t] as Record<string, Float64Array>)[name];
        for (let s = 0; s < S; s++) {
          whole.set(
            part.subarray(s * rows * width, (s + 1) * rows * width),
            (s * A + bounds[t]) * width,
          );
        }
      }
      out[name] = whole;
    }
    return out;
  }

  /**
   * Slices a call over `A` genes and `work` gene·sample·points is cut into: one per thread at
   * least, {@link SLICES_PER_THREAD} per thread at most, each of the pool's least slice work or
   * more; never more than A (nor than MAX_SLICES − 1: an exhausted call's word then stays short
   * of the next call's first).
   */
  #sliceCount(A: number, work: number): number {
    const byWork = Math.max(this.threads, Math.floor(work / Math.max(this.#minSliceWork, 1)));
    return Math.min(A, byWork, SLICES_PER_THREAD * this.threads, MAX_SLICES - 1);
  }

  /**
   * Run `slices` (in gene order) on this thread and the workers: every thread claims the next
   * slice nobody has claimed ({@link claimSlice}) until none is left, so a worker the machine
   * keeps waiting runs fewer and this thread more (with static halves this thread waited for the
   * slower one: 1.8 s of a 20,000 × 500 cohort's 26 s run). A gene's outputs depend on its own
   * inputs only: the joined outputs are one thread's, bit for bit, whoever ran which slice.
   * @param here - runs slice t on this thread: its output, or null when it wrote it in place
   * @returns each slice's output (null where `here` wrote in place)
   * @throws Error with a worker's failure, or when the workers do not answer in time
   */
  #share(
    workers: readonly PoolWorker[],
    id: number,
    slices: readonly PoolKernelArgs[],
    here: (t: number) => Record<string, Float64Array> | null,
  ): (Record<string, Float64Array> | null)[] {
    const claims = this.#claims as Int32Array;
    const replies = this.#replies as Int32Array;
    const call = this.#call;
    this.#call = (call + 1) % CALL_PERIOD;
    const count = slices.length;
    // The word before the requests: a worker reading one claims this call's slices only.
    Atomics.store(claims, 0, claimWord(call));
    const request: PoolRequest = { type: "run", id, call, slices };
    for (const w of workers) w.port.postMessage(request);
    const parts = new Array<Record<string, Float64Array> | null>(count).fill(null);
    let pending = count;
    while (this.#callerClaims) {
      const t = claimSlice(claims, call, count);
      if (t < 0) break;
      parts[t] = here(t);
      pending--;
    }
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (pending > 0) {
      const seen = Atomics.load(replies, 0);
      let received = false;
      for (const w of workers) {
        const message = receiveMessageOnPort(w.port);
        if (message === undefined) continue;
        received = true;
        const reply = message.message as PoolReply;
        // An answer to an earlier call, which ended when this thread's own slice failed.
        if (reply.call !== call) continue;
        if (!reply.ok) throw new Error(`gene pool: ${reply.message}`);
        for (const { slice, output } of reply.outputs) parts[slice] = output;
        pending -= reply.outputs.length;
      }
      if (received) continue;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `gene pool: ${pending} slices not answered within ${REPLY_TIMEOUT_MS / 1000} s`,
        );
      // The counter is raised right after each reply is posted.
      Atomics.wait(replies, 0, seen, Math.min(left, 1000));
    }
    return parts;
  }

  /** Start the workers without waiting for them (they load their modules meanwhile). */
  #spawn(): PoolWorker[] {
    if (this.#workers !== null) return this.#workers;
    const count = this.threads - 1;
    const flags = new Int32Array(new SharedArrayBuffer(4 * count));
    const claims = new Int32Array(new SharedArrayBuffer(4));
    const replies = new Int32Array(new SharedArrayBuffer(4));
    const entry = threadEntry(import.meta.url, "compute", "genePoolWorker.js");
    const workers: PoolWorker[] = [];
    for (let index = 0; index < count; index++) {
      const { port1, port2 } = new MessageChannel();
      const data: PoolWorkerData = { port: port2, flags, index, claims, replies };
      const worker = new Worker(entry, { workerData: data, transferList: [port2] });
      // Idle workers must not keep the process alive.
      worker.unref();
      port1.unref();
      workers.push({ worker, port: port1, known: new Set() });
    }
    this.#workers = workers;
    this.#flags = flags;
    this.#claims = claims;
    this.#replies = replies;
    this.#ready = false;
    return workers;
  }

  /** The workers, started and listening (waits for them the first time). */
  #start(): PoolWorker[] {
    const workers = this.#spawn();
    if (this.#ready) return workers;
    const flags = this.#flags as Int32Array;
    for (let index = 0; index < workers.length; index++) {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (Atomics.load(flags, index) !== FLAG_READY) {
        if (Date.now() > deadline) {
          void this.close();
          throw new Error(`gene pool: worker ${index} did not start`);
        }
        Atomics.wait(flags, index, Atomics.load(flags, index), 100);
      }
    }
    this.#ready = true;
    return workers;
  }

  /**
   * The id of the dataset `key` stands for, sending it (`share()`: its arrays in shared memory)
   * to the workers that do not hold it yet.
   */
  #register(key: object, workers: readonly PoolWorker[], share: () => PoolDataset): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(key, id);
      this.#finalizer.register(key, id, key);
    }
    const pending = workers.filter((w) => !w.known.has(id));
    if (pending.length > 0) {
      const dataset = share();
      for (const w of pending) {
        w.port.postMessage({ type: "dataset", id, dataset } satisfies PoolRequest);
        w.known.add(id);
      }
    }
    return id;
  }

  /** {@link GenePool.#register} of a prepared fit's dataset (its arrays shared once if not yet). */
  #registerFit(dataset: CenterFitData, workers: readonly PoolWorker[]): number {
    return this.#register(dataset, workers, () => ({
      kind: "fit",
      dataset: isShared(dataset) ? dataset : sharedDataset(dataset),
    }));
  }

  /** A dataset was collected here: the workers let go of it too. */
  #drop(id: number): void {
    for (const w of this.#workers ?? []) {
      if (w.known.delete(id)) w.port.postMessage({ type: "drop", id } satisfies PoolRequest);
    }
  }
}
