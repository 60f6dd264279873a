/**
 * The centers' part of the PCA: sums over the center's own samples of its transformed counts
 * (never the counts themselves), and its samples' coordinates.
 */
import { maskIndices } from "../masks.js";
import {
  PCA_COMPONENTS,
  type PcaCoordinatesRequest,
  type PcaMomentsShare,
  type PcaProductRequest,
  type PcaProductShare,
} from "./state.js";

/** A center's transformed counts of the run's genes. */
export interface PcaCenter {
  /** Samples n. */
  readonly n: number;
  /** The run's genes G. */
  readonly genes: number;
  /**
   * v of every gene of the center's data, gene-major (the center's vst, read in place): the run's
   * gene g is row `rows[g]`.
   */
  readonly values: Float64Array;
  /** The rows of the run's genes in `values`, length G. */
  readonly rows: Int32Array;
  /** Per gene, how many of its samples have a count. */
  readonly nonZero: Float64Array;
}

/** Σ v and Σ v² per gene over the center's samples. */
export function pcaMomentsLocal(center: PcaCenter): PcaMomentsShare {
  const { n, genes, values, rows } = center;
  const sum = new Float64Array(genes);
  const sumSquares = new Float64Array(genes);
  for (let g = 0; g < genes; g++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = values[rows[g] * n + i];
      s += v;
      s2 += v * v;
    }
    sum[g] = s;
    sumSquares[g] = s2;
  }
  return { kind: "pca-moments-share", samples: n, sum, sumSquares, nonZero: center.nonZero };
}

/** The centered values of the picked genes, sample-major n×q. */
function centered(
  center: PcaCenter,
  request: { genes: Uint8Array; mean: Float64Array },
): { rows: Int32Array; x: Float64Array } {
  const { n, genes, values } = center;
  if (request.genes.length !== genes)
    throw new Error(`PCA request over ${request.genes.length} genes, the run has ${genes}`);
  const rows = maskIndices(request.genes);
  if (request.mean.length !== rows.length)
    throw new Error(`PCA request: ${request.mean.length} means for ${rows.length} genes`);
  const q = rows.length;
  const x = new Float64Array(n * q);
  rows.forEach((g, a) => {
    const row = center.rows[g] * n;
    for (let i = 0; i < n; i++) x[i * q + a] = values[row + i] - request.mean[a];
  });
  return { rows, x };
}

/** Σ_i (v_i − m)((v_i − m)ᵀW) over the center's samples. */
export function pcaProductLocal(center: PcaCenter, request: PcaProductRequest): PcaProductShare {
  const { x, rows } = centered(center, request);
  const q = rows.length;
  const k = request.columns;
  if (!(Number.isInteger(k) && k > 0) || request.basis.length !== q * k)
    throw new Error(`PCA product request: a ${request.basis.length}-value basis for ${q}×${k}`);
  const product = new Float64Array(q * k);
  const projection = new Float64Array(k);
  for (let i = 0; i < center.n; i++) {
    projection.fill(0);
    for (let a = 0; a < q; a++) {
      const xa = x[i * q + a];
      for (let j = 0; j < k; j++) projection[j] += xa * request.basis[a * k + j];
    }
    for (let a = 0; a < q; a++) {
      const xa = x[i * q + a];
      for (let j = 0; j < k; j++) product[a * k + j] += xa * projection[j];
    }
  }
  return { kind: "pca-product-share", product };
}

/** Each sample's (PC1, PC2): (v − m)ᵀ·axis, sample-major n×2. */
export function pcaCoordinatesLocal(
  center: PcaCenter,
  request: PcaCoordinatesRequest,
): Float64Array {
  const { x, rows } = centered(center, request);
  const q = rows.length;
  if (request.axes.length !== q * PCA_COMPONENTS)
    throw new Error(`PCA coordinates request: ${request.axes.length} axis values for ${q} genes`);
  const out = new Float64Array(center.n * PCA_COMPONENTS);
  for (let i = 0; i < center.n; i++) {
    for (let j = 0; j < PCA_COMPONENTS; j++) {
      let s = 0;
      for (let a = 0; a < q; a++) s += x[i * q + a] * request.axes[a * PCA_COMPONENTS + j];
      out[i * PCA_COMPONENTS + j] = s;
    }
  }
  return out;
}
