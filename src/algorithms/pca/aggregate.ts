/**
 * The aggregator's part of the PCA (state.ts): the row variances from the pooled sums, DESeq2's
 * choice of the 500 genes of largest variance (`order(rowVars, decreasing = TRUE)`, ties in gene
 * order), then the two leading eigenvectors of their covariance by subspace iteration with
 * Rayleigh–Ritz: the aggregator sends an orthonormal basis Q, the centers return their C·Q, the
 * eigen-decomposition of Qᵀ(CQ) gives the Ritz pairs, and the next basis spans CQ. The basis has
 * up to {@link PCA_BLOCK} columns: when the samples are fewer (C's rank is below n), the second
 * product already spans C's range and the Ritz pairs are exact; otherwise the iteration runs
 * until the two leading pairs' residuals are below 1e-12 of the leading eigenvalue. The
 * covariance is C/(n − 1), as `prcomp`'s; each axis is signed so that its largest loading is
 * positive (prcomp's sign is LAPACK's, arbitrary).
 */
import { symmetricEigen } from "../../math/symmetricEigen.js";
import type { GeneMask } from "../masks.js";
import type { IterativePhase, PhaseRunner } from "../phase.js";
import { sumOverCenters } from "../shares.js";
import {
  PCA_BLOCK,
  PCA_COMPONENTS,
  PCA_TOP_GENES,
  type PcaCoordinatesRequest,
  type PcaCoordinatesShare,
  type PcaMomentsRequest,
  type PcaMomentsShare,
  type PcaProductRequest,
  type PcaProductShare,
} from "./state.js";

/** The steps the PCA drives. */
export interface PcaStepTypes {
  pcaMoments: { input: PcaMomentsRequest; output: PcaMomentsShare };
  pcaProduct: { input: PcaProductRequest; output: PcaProductShare };
  pcaCoordinates: { input: PcaCoordinatesRequest; output: PcaCoordinatesShare };
}

/** What drives the PCA's rounds (the runtime's runner). */
export type PcaRunner = PhaseRunner<PcaStepTypes>;

/** Most product rounds (each shrinks the error by the eigenvalue ratio λ₁₇/λ₂ at least). */
const MAX_ROUNDS = 300;

/** Residual ‖Cx − θx‖ below which a Ritz pair counts as converged, relative to θ₁. */
const TOLERANCE = 1e-12;

/** Row variances (n − 1 in the denominator, as R's `rowVars`) from the pooled sums. */
export function rowVariances(sum: Float64Array, sumSquares: Float64Array, n: number): Float64Array {
  return Float64Array.from(sum, (s, g) => Math.max((sumSquares[g] - (s * s) / n) / (n - 1), 0));
}

/**
 * DESeq2's genes for the PCA: `order(rv, decreasing = TRUE)[seq_len(min(ntop, length(rv)))]`
 * (R's order is stable: equal variances in gene order), among the `eligible` genes (all by
 * default), returned in gene order.
 */
export function topVarianceGenes(
  variances: Float64Array,
  ntop = PCA_TOP_GENES,
  eligible: (g: number) => boolean = () => true,
): Int32Array {
  const order = Array.from(variances, (_, g) => g)
    .filter(eligible)
    .sort((a, b) => variances[b] - variances[a] || a - b);
  return Int32Array.from(order.slice(0, Math.min(ntop, order.length))).sort();
}

/** xorshift32: a start basis every replay draws alike (integer arithmetic only). */
function startBasis(q: number, k: number): Float64Array {
  let x = 2463534242;
  return Float64Array.from({ length: q * k }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296 - 0.5;
  });
}

/**
 * Orthonormalise the columns of `a` (q×k, row-major) by modified Gram–Schmidt, twice (so that
 * the basis is orthonormal to machine precision); columns that fall below 1e-10 of their norm
 * (a basis wider than C's range) are dropped.
 */
export function orthonormalColumns(
  a: Float64Array,
  q: number,
  k: number,
): { basis: Float64Array; columns: number } {
  const kept: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: q }, (_, i) => a[i * k + j]);
    const norm0 = euclidean(v);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of kept) {
        let dot = 0;
        for (let i = 0; i < q; i++) dot += u[i] * v[i];
        for (let i = 0; i < q; i++) v[i] -= dot * u[i];
      }
    }
    const norm = euclidean(v);
    if (!(norm > 1e-10 * norm0) || norm === 0) continue;
    for (let i = 0; i < q; i++) v[i] /= norm;
    kept.push(v);
  }
  const columns = kept.length;
  const basis = new Float64Array(q * columns);
  kept.forEach((u, j) => {
    for (let i = 0; i < q; i++) basis[i * columns + j] = u[i];
  });
  return { basis, columns };
}

/** ‖v‖₂. */
function euclidean(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The subspace iteration's state. */
export interface PcaIterationState {
  readonly kind: "pca-iteration";
  readonly round: number;
  readonly genes: GeneMask;
  readonly mean: Float64Array;
  /** Picked genes q. */
  readonly q: number;
  readonly columns: number;
  /** Orthonormal basis Q, q×columns. */
  readonly basis: Float64Array;
}

/** The leading eigenpairs of C (not divided by n − 1). */
export interface PcaAxes {
  readonly kind: "pca-axes";
  /** Unit axes, q×2 row-major (a zero column where C has fewer than two non-zero eigenvalues). */
  readonly axes: Float64Array;
  /** Their eigenvalues θ of C. */
  readonly eigenvalues: Float64Array;
  readonly rounds: number;
  /** False when the iteration stopped at its round limit. */
  readonly converged: boolean;
}

/** Aggregate one product round: the Ritz pairs, then stop or go on with the next basis. */
export function pcaIterate(
  state: PcaIterationState,
  shares: readonly PcaProductShare[],
): PcaIterationState | PcaAxes {
  const { q, columns: k, basis } = state;
  const z = sumOverCenters(shares, "product");
  // T = Qᵀ(CQ), symmetrised.
  const t = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let i = 0; i < q; i++) s += basis[i * k + a] * z[i * k + b];
      t[a * k + b] = s;
    }
  }
  for (let a = 0; a < k; a++)
    for (let b = a + 1; b < k; b++) {
      const s = (t[a * k + b] + t[b * k + a]) / 2;
      t[a * k + b] = s;
      t[b * k + a] = s;
    }
  const { values, vectors } = symmetricEigen(t, k);
  const wanted = Math.min(PCA_COMPONENTS, k);
  const axes = new Float64Array(q * PCA_COMPONENTS);
  let worst = 0;
  for (let j = 0; j < wanted; j++) {
    let residual = 0;
    for (let i = 0; i < q; i++) {
      let x = 0;
      let cx = 0;
      for (let l = 0; l < k; l++) {
        x += basis[i * k + l] * vectors[l * k + j];
        cx += z[i * k + l] * vectors[l * k + j];
      }
      axes[i * PCA_COMPONENTS + j] = x;
      residual += (cx - values[j] * x) ** 2;
    }
    worst = Math.max(worst, Math.sqrt(residual));
  }
  const round = state.round + 1;
  const converged = worst <= TOLERANCE * Math.abs(values[0]);
  if (converged || round >= MAX_ROUNDS) {
    signAxes(axes, q);
    const eigenvalues = Float64Array.from({ length: PCA_COMPONENTS }, (_, j) =>
      j < wanted ? values[j] : 0,
    );
    return { kind: "pca-axes", axes, eigenvalues, rounds: round, converged };
  }
  // The next basis spans CQ, its columns in the Ritz order (the leading pairs first).
  const next = new Float64Array(q * k);
  for (let i = 0; i < q; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let l = 0; l < k; l++) s += z[i * k + l] * vectors[l * k + j];
      next[i * k + j] = s;
    }
  const { basis: nextBasis, columns } = orthonormalColumns(next, q, k);
  return { ...state, round, basis: nextBasis, columns };
}

/** Each axis with its largest-magnitude loading positive. */
function signAxes(axes: Float64Array, q: number): void {
  for (let j = 0; j < PCA_COMPONENTS; j++) {
    let at = 0;
    for (let i = 1; i < q; i++)
      if (Math.abs(axes[i * PCA_COMPONENTS + j]) > Math.abs(axes[at * PCA_COMPONENTS + j])) at = i;
    if (axes[at * PCA_COMPONENTS + j] < 0)
      for (let i = 0; i < q; i++) axes[i * PCA_COMPONENTS + j] = -axes[i * PCA_COMPONENTS + j];
  }
}

/** The subspace iteration as an iterative phase over "pcaProduct". */
export function pcaProductPhase(
  name = "pca",
): IterativePhase<PcaStepTypes, "pcaProduct", PcaAxes, PcaIterationState> {
  return {
    name,
    step: "pcaProduct",
    request: (state) => ({
      kind: "pca-product-request",
      genes: state.genes,
      mean: state.mean,
      columns: state.columns,
      basis: state.basis,
    }),
    aggregate: pcaIterate,
    isResult: (value): value is PcaAxes => value.kind === "pca-axes",
    activeGenes: (state) => state.q,
    finish: () => {
      throw new Error("PCA: no gene to iterate on");
    },
  };
}

/** The PCA of a run (DESeq2's `plotPCA(returnData = TRUE)`). */
export interface PcaOutcome {
  /** The genes picked (min(500, eligible genes)). */
  readonly genes: number;
  /** Genes left out for a count in 1 to k − 1 samples of the federation. */
  readonly leftOut: number;
  /** PC1's and PC2's share of the picked genes' total variance (`attr(, "percentVar")`). */
  readonly percentVariance: Float64Array;
  /** The centers' coordinates, per center sample-major n_c×2 (null: they stayed at the centers). */
  readonly coordinates: readonly Float64Array[] | null;
  /** Product rounds of the subspace iteration. */
  readonly iterations: number;
  readonly converged: boolean;
}

/**
 * The PCA over the federation (see the module's comment): one moments round, the subspace
 * iteration, one coordinates round.
 * @param genes - the run's genes (the length of the centers' moments)
 * @param sendCoordinates - the plan allows the centers to send their samples' coordinates
 * @param minSamples - k: genes with a count in 1 to k − 1 samples of the federation are left out
 *   (a column of the pooled covariance is a combination of those samples' vectors: with one such
 *   sample, its vector; DESeq2's plotPCA keeps them)
 * @returns null when the federation has fewer than two samples
 */
export async function federatedPca(
  runner: PcaRunner,
  genes: number,
  sendCoordinates: boolean,
  minSamples: number,
  phase = "pca",
): Promise<PcaOutcome | null> {
  const moments = await runner.round(phase, "pcaMoments", { kind: "pca-moments-request", genes });
  const n = moments.reduce((s, m) => s + m.samples, 0);
  if (n < 2 || genes === 0) return null;
  const sum = sumOverCenters(moments, "sum");
  const variances = rowVariances(sum, sumOverCenters(moments, "sumSquares"), n);
  const nonZero = sumOverCenters(moments, "nonZero");
  const eligible = (g: number) => nonZero[g] === 0 || nonZero[g] >= minSamples;
  const picked = topVarianceGenes(variances, PCA_TOP_GENES, eligible);
  if (picked.length === 0) return null;
  const leftOut = nonZero.reduce((s, c) => s + (c > 0 && c < minSamples ? 1 : 0), 0);
  const q = picked.length;
  const mask = new Uint8Array(genes);
  for (const g of picked) mask[g] = 1;
  const mean = Float64Array.from(picked, (g) => sum[g] / n);
  const start = orthonormalColumns(
    startBasis(q, Math.min(q, PCA_BLOCK)),
    q,
    Math.min(q, PCA_BLOCK),
  );
  const axes = await runner.runPhase(pcaProductPhase(phase), {
    kind: "pca-iteration",
    round: 0,
    genes: mask,
    mean,
    q,
    columns: start.columns,
    basis: start.basis,
  });
  const total = picked.reduce((s, g) => s + variances[g], 0);
  const percentVariance = Float64Array.from(axes.eigenvalues, (theta) =>
    total > 0 ? theta / (n - 1) / total : 0,
  );
  const replies = await runner.round(phase, "pcaCoordinates", {
    kind: "pca-coordinates-request",
    genes: mask,
    mean,
    axes: axes.axes,
    send: sendCoordinates,
  });
  return {
    genes: q,
    leftOut,
    percentVariance,
    coordinates: sendCoordinates ? replies.map((r) => r.coordinates) : null,
    iterations: axes.rounds,
    converged: axes.converged,
  };
}
