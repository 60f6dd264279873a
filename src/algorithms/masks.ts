/**
 * Gene masks (one byte per gene, 1 = set) and the index lists they select.
 */

/** A per-gene boolean mask: 1 = set, 0 = unset. */
export type GeneMask = Uint8Array;

/** Indices of the set entries, in increasing order. */
export function maskIndices(mask: GeneMask): Int32Array {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  const out = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[j++] = i;
  return out;
}

/** Number of set entries. */
export function maskCount(mask: GeneMask): number {
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) count++;
  return count;
}

/** Rows `indices` of a rows×width matrix, gathered into a new array. */
export function gatherRows(source: Float64Array, width: number, indices: Int32Array): Float64Array {
  const out = new Float64Array(indices.length * width);
  for (let a = 0; a < indices.length; a++) {
    out.set(source.subarray(indices[a] * width, indices[a] * width + width), a * width);
  }
  return out;
}
