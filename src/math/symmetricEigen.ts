/**
 * Eigen-decomposition of a small dense symmetric matrix by the cyclic Jacobi method (Golub & Van
 * Loan, Matrix Computations, §8.5): rotations until every off-diagonal entry is negligible. Its
 * eigenvalues are accurate to a few ulps of the matrix's norm and its eigenvectors orthonormal to
 * machine precision, whatever the spectrum; the cost, O(k³) per sweep and a handful of sweeps,
 * is nothing for the k ≤ 32 matrices it is used on (the PCA's Rayleigh–Ritz step).
 */

/** Eigenvalues (descending) and their unit eigenvectors. */
export interface SymmetricEigen {
  readonly values: Float64Array;
  /** Eigenvectors as columns of a row-major k×k matrix: vector j is (vectors[i·k + j])_i. */
  readonly vectors: Float64Array;
}

/** Sweeps after which the method is known not to converge (it always does, in a few). */
const MAX_SWEEPS = 100;

/**
 * Eigen-decomposition of the symmetric k×k matrix `a` (row-major; only its upper triangle is
 * read).
 * @throws when the entries are not finite
 */
export function symmetricEigen(a: Float64Array, k: number): SymmetricEigen {
  if (a.length !== k * k) throw new Error(`symmetricEigen: ${a.length} entries for ${k}×${k}`);
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = a[i * k + j];
      if (!Number.isFinite(v)) throw new Error("symmetricEigen: a non-finite entry");
      m[i * k + j] = v;
      m[j * k + i] = v;
    }
  }
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let off = 0;
    let norm = 0;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const x = m[i * k + j] * m[i * k + j];
        norm += x;
        if (i !== j) off += x;
      }
    }
    if (off <= Number.EPSILON * Number.EPSILON * norm || off === 0) break;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q];
        if (apq === 0) continue;
        // The rotation that zeroes m[p][q] (the smaller of the two angles).
        const theta = (m[q * k + q] - m[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const mrp = m[r * k + p];
          const mrq = m[r * k + q];
          m[r * k + p] = c * mrp - s * mrq;
          m[r * k + q] = s * mrp + c * mrq;
        }
        for (let r = 0; r < k; r++) {
          const mpr = m[p * k + r];
          const mqr = m[q * k + r];
          m[p * k + r] = c * mpr - s * mqr;
          m[q * k + r] = s * mpr + c * mqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p];
          const vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort(
    (x, y) => m[y * k + y] - m[x * k + x] || x - y,
  );
  const values = Float64Array.from(order, (j) => m[j * k + j]);
  const vectors = new Float64Array(k * k);
  order.forEach((j, col) => {
    for (let i = 0; i < k; i++) vectors[i * k + col] = v[i * k + j];
  });
  return { values, vectors };
}
