/**
 * Symmetric p×p matrices as they travel: their upper triangles, row by row (p(p+1)/2 distinct
 * entries each). Lossless for the kernels' matrices, which are built exactly symmetric.
 */

import { isPooledZero, pooledZeroVector } from "../shares.js";

/** Entries of a packed symmetric p×p matrix. */
export function triangleSize(p: number): number {
  return (p * (p + 1)) / 2;
}

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
  let j = 0;
  for (let m = 0; m < count; m++) {
    for (let k = 0; k < p; k++) {
      for (let l = k; l < p; l++) {
        const v = packed[j++];
        out[m * pp + k * p + l] = v;
        out[m * pp + l * p + k] = v;
      }
    }
  }
  return out;
}
