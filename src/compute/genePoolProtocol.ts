/**
 * Messages between a center's thread and the worker threads of its gene pool
 * (`genePool.ts`, `genePoolWorker.ts`), and the kernel call both sides make on a slice.
 */
import type { MessagePort } from "node:worker_threads";
import type { CenterFitData } from "../algorithms/center.js";
import type { CooksScreenRequest } from "../algorithms/cooks/privateCooks.js";
import type {
  OpenTargets,
  PrivateGrid,
  PrivateSumRequest,
  TrimCountsFields,
} from "../algorithms/cooks/privateTrimmedMean.js";
import type { DispersionCenter } from "../algorithms/dispersions/center.js";
import type { DispersionEvalRequest } from "../algorithms/dispersions/state.js";
import { directKernels } from "../algorithms/kernels.js";
import type { Box } from "../math/negativeBinomial.js";

/** The kernels a pool splits. */
export type PoolKernel =
  | "irls"
  | "pqn"
  | "newton"
  | "dispersion"
  | "trimCounts"
  | "privateSums"
  | "information"
  | "cooksScreen";

/**
 * What a worker holds and runs kernels on: a prepared fit's dataset (the NB kernels), or a
 * center's dispersion data with its μ model (the dispersion evaluations); arrays in shared memory.
 */
export type PoolDataset =
  | { readonly kind: "fit"; readonly dataset: CenterFitData }
  | { readonly kind: "dispersion"; readonly center: DispersionCenter };

/** Arguments of one kernel call on a slice of genes (the dataset is sent once, beforehand). */
export type PoolKernelArgs =
  | {
      readonly kernel: "irls";
      readonly genes: Int32Array;
      readonly beta: Float64Array;
      readonly minMu: number;
    }
  | {
      readonly kernel: "pqn";
      readonly genes: Int32Array;
      readonly beta: Float64Array;
      readonly direction: Float64Array | null;
      readonly steps: Float64Array | null;
      readonly box: Box;
      readonly minMu: number;
    }
  | {
      readonly kernel: "newton";
      readonly genes: Int32Array;
      readonly points: Float64Array;
      readonly count: number;
      readonly minMu: number;
    }
  | {
      readonly kernel: "nll";
      readonly genes: Int32Array;
      /** The slice's genes' points, gene-major (`count` points of p coefficients each). */
      readonly points: Float64Array;
      readonly count: number;
    }
  | {
      readonly kernel: "dispersion";
      /** The request restricted to the slice's genes (its mask, points and counts). */
      readonly request: DispersionEvalRequest;
    }
  | {
      readonly kernel: "trimCounts";
      /** The counts request restricted to the slice's genes (its mask and centres). */
      readonly request: TrimCountsFields;
      readonly grid: PrivateGrid;
      /** The slice's genes' open targets and their brackets. */
      readonly open: OpenTargets;
    }
  | {
      readonly kernel: "privateSums";
      /** The sums request restricted to the slice's genes (its mask, atoms and centres). */
      readonly request: PrivateSumRequest;
    }
  | {
      readonly kernel: "information";
      /** The slice: the dataset's genes from … to (exclusive). */
      readonly from: number;
      readonly to: number;
      /** Their coefficients, (to − from)×p. */
      readonly beta: Float64Array;
    }
  | {
      readonly kernel: "cooksScreen";
      readonly from: number;
      readonly to: number;
      /** The request restricted to the slice's genes (β, α, (XᵀWX + Λ)⁻¹). */
      readonly request: CooksScreenRequest;
    };

/** Center's thread → pool worker. Only `run` is answered. */
export type PoolRequest =
  /** A dataset the worker keeps (its arrays live in SharedArrayBuffers: nothing is copied). */
  | { readonly type: "dataset"; readonly id: number; readonly dataset: PoolDataset }
  /** The dataset is no longer used. */
  | { readonly type: "drop"; readonly id: number }
  /**
   * Run a kernel on slices of the genes of dataset `id`: the worker runs the slices it claims
   * ({@link claimSlice} under `call`) until none is left, then answers with them.
   */
  | {
      readonly type: "run";
      readonly id: number;
      readonly call: number;
      readonly slices: readonly PoolKernelArgs[];
    };

/** One slice's outputs. */
export interface SliceOutput {
  readonly slice: number;
  readonly output: Record<string, Float64Array>;
}

/**
 * Pool worker → center's thread, for call `call`: the outputs of the slices the worker ran (a
 * worker that ran none sends nothing), or why a kernel failed.
 */
export type PoolReply =
  | { readonly ok: true; readonly call: number; readonly outputs: readonly SliceOutput[] }
  | { readonly ok: false; readonly call: number; readonly message: string };

/** What a worker is given when it starts. */
export interface PoolWorkerData {
  /** Its end of the channel to the center's thread. */
  readonly port: MessagePort;
  /** One Int32 per worker: the worker stores {@link FLAG_READY} there once it listens. */
  readonly flags: Int32Array;
  readonly index: number;
  /** The claim word every thread of the pool claims slices from ({@link claimSlice}). */
  readonly claims: Int32Array;
  /** Raised (and notified) by a worker after each reply it posts. */
  readonly replies: Int32Array;
}

/** Flag value: the worker has started and listens. */
export const FLAG_READY = 2;

/** Slices a call may have: the claim word's low bits count them. */
export const MAX_SLICES = 4096;

/** Calls are numbered modulo this (the claim word's high bits). */
export const CALL_PERIOD = 2 ** 19;

/** The claim word at the start of call `call`: its number, and slice 0 next. */
export function claimWord(call: number): number {
  return call * MAX_SLICES;
}

/**
 * Claim the next slice of call `call` (of `slices`) for the calling thread: its index, or −1
 * when every slice is claimed or the pool has moved on to another call (a worker reading a
 * request late claims nothing). One compare-and-swap on a word holding the call's number and the
 * next slice: a slice goes to exactly one thread, and only within its own call.
 */
export function claimSlice(claims: Int32Array, call: number, slices: number): number {
  for (;;) {
    const word = Atomics.load(claims, 0);
    if (Math.floor(word / MAX_SLICES) !== call) return -1;
    const next = word % MAX_SLICES;
    if (next >= slices) return -1;
    if (Atomics.compareExchange(claims, 0, word, word + 1) === word) return next;
  }
}

/**
 * Run the kernel `args` names on a slice of `held`'s genes: what a worker does with a `run`
 * request, and what the center's own thread does with its slice.
 * @throws Error when the kernel does not run on the kind of dataset held
 */
export function runKernelSlice(
  held: PoolDataset,
  args: PoolKernelArgs,
): Record<string, Float64Array> {
  if (args.kernel === "dispersion") {
    if (held.kind !== "dispersion")
      throw new Error("gene pool: dispersion kernel on a fit dataset");
    const share = directKernels.dispersionEval(held.center, args.request);
    return {
      logLikelihood: share.logLikelihood,
      logLikelihoodSlope: share.logLikelihoodSlope,
      gram: share.gram,
      gramSlope: share.gramSlope,
    };
  }
  if (held.kind !== "fit") throw new Error(`gene pool: ${args.kernel} kernel on dispersion data`);
  const dataset = held.dataset;
  switch (args.kernel) {
    case "irls":
      return { ...directKernels.irlsSummandsAndNll(dataset, args.genes, args.beta, args.minMu) };
    case "pqn":
      return {
        ...directKernels.fisherGradientNllAtSteps(
          dataset,
          args.genes,
          args.beta,
          args.direction,
          args.steps,
          args.box,
          args.minMu,
        ),
      };
    case "nll":
      return { nll: directKernels.nllAtPoints(dataset, args.genes, args.points, args.count) };
    case "privateSums":
      return { sums: directKernels.privateSums(dataset, args.request).sums };
    case "information":
      return { xtwx: directKernels.information(geneRange(dataset, args.from, args.to), args.beta) };
    case "cooksScreen":
      return {
        aboveAtFloor: directKernels.cooksScreen(
          geneRange(dataset, args.from, args.to),
          args.request,
        ).aboveAtFloor,
      };
    case "trimCounts":
      return {
        counts: directKernels.privateTrimCounts(dataset, args.request, args.grid, args.open).counts,
      };
    case "newton":
      return {
        ...directKernels.scoreAndInformation(
          dataset,
          args.genes,
          args.points,
          args.count,
          args.minMu,
        ),
      };
  }
}

/**
 * Genes from … to (exclusive) of a dataset, as a dataset of their own: views of its counts and
 * dispersions, no copy. For the kernels that read only those (XᵀWX, the Cook's screening): the
 * per-gene constants are the whole dataset's, not sliced.
 */
function geneRange(dataset: CenterFitData, from: number, to: number): CenterFitData {
  const { data } = dataset;
  return {
    ...dataset,
    data: {
      ...data,
      genes: to - from,
      counts: data.counts.subarray(from * data.n, to * data.n),
      dispersions: data.dispersions.subarray(from, to),
    },
  };
}
