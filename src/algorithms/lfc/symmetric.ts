/**
 * Symmetric p×p matrices as they travel: their upper triangles, row by row (p(p+1)/2 distinct
 * entries each). Lossless for the kernels' matrices, which are built exactly symmetric.
 */

import { triangleSize } from "../../math/linalg.js";
import { isPooledZero, pooledZeroVector } from "../shares.js";

/** Pack `count` full p×p matrices (count = values.length / p²) into their upper triangles. */
export function packSymmetric(values: Float64Array, p: number): Float64Array {
  const pp = p * p;
  const count = pp === 0 ? 0 : values.length / pp;
  const packed = new Float64Array(count * triangleSize(p));
  let j = 0;
  for (let m = 0; m < count; m++) {
    for (let k = 0; k < p; k++)
      for (let l = k; l < p; l++) packed[j++] = values[m * pp + k * p + l];
  }
  return packed;
}

/**
 * Unpack {@link packSymmetric}: the full p×p matrices, each upper entry mirrored below (a
 * pooled reply's zeros stay recognisable as such: `shares.ts`).
 */
export function unpackSymmetric(packed: Float64Array, p: number): Float64Array {
  const half = triangleSize(p);
  const count = half === 0 ? 0 : packed.length / half;
  const pp = p * p;
  if (isPooledZero(packed)) return pooledZeroVector(count * pp);
  const out = new Float64Array(count * pp);
  for (let m = 0; m < count; m++) unpackSymmetricAt(packed, p, m, out, m * pp);
  return out;
}

/**
 * Unpack the `index`-th of the packed matrices into out[offset … offset + p² − 1], each upper
 * entry mirrored below (one matrix of many, e.g. only those an aggregation reads).
 */
export function unpackSymmetricAt(
  packed: Float64Array,
  p: number,
  index: number,
  out: Float64Array,
  offset: number,
): void {
  let j = index * triangleSize(p);
  for (let k = 0; k < p; k++) {
    for (let l = k; l < p; l++) {
      const v = packed[j++];
      out[offset + k * p + l] = v;
      out[offset + l * p + k] = v;
    }
  }
}
