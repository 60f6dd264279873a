/**
 * Small dense linear algebra on batches of p×p matrices stored row-major in one
 * Float64Array (matrix m occupies `[m*p*p, (m+1)*p*p)`). p is 1 to ~20, so plain
 * loops over typed arrays beat any general library here.
 */

/** Distinct entries of a symmetric p×p matrix, p(p+1)/2: the length of its upper triangle. */
export function triangleSize(p: number): number {
  return (p * (p + 1)) / 2;
}

/** Thrown when a matrix of a batch is singular (a zero pivot in LU with partial pivoting). */
export class SingularMatrixError extends Error {
  /** Index of the singular matrix within its batch. */
  readonly index: number;
  constructor(index: number) {
    super(`matrix ${index} of the batch is singular`);
    this.name = "SingularMatrixError";
    this.index = index;
  }
}

/**
 * Scratch space for {@link luFactor} and friends, sized for one p×p system.
 * Reuse one per batch so that no allocation happens per matrix.
 */
export interface LuWorkspace {
  /** Dimension. */
  readonly p: number;
  /** LU factors, row-major, unit lower triangle implicit. */
  readonly lu: Float64Array;
  /** Row permutation: row i of the factorised matrix is row `perm[i]` of the input. */
  readonly perm: Int32Array;
  /** A column of the right-hand side / solution. */
  readonly col: Float64Array;
}

/** Allocate a workspace for p×p systems. */
export function luWorkspace(p: number): LuWorkspace {
  return {
    p,
    lu: new Float64Array(p * p),
    perm: new Int32Array(p),
    col: new Float64Array(p),
  };
}

/**
 * LU factorisation with partial pivoting (LAPACK `getrf` semantics: the pivot is the first
 * entry of largest magnitude; the column below it is scaled by the pivot's reciprocal).
 * @param a - batch of matrices
 * @param offset - start of the matrix to factor
 * @param ws - workspace receiving the factors
 * @returns false if a pivot is exactly zero (singular), true otherwise
 */
export function luFactor(a: Float64Array, offset: number, ws: LuWorkspace): boolean {
  const { p, lu, perm } = ws;
  for (let i = 0; i < p * p; i++) lu[i] = a[offset + i];
  for (let i = 0; i < p; i++) perm[i] = i;
  for (let j = 0; j < p; j++) {
    let piv = j;
    let best = Math.abs(lu[j * p + j]);
    for (let i = j + 1; i < p; i++) {
      const v = Math.abs(lu[i * p + j]);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (best === 0 || Number.isNaN(best)) return false;
    if (piv !== j) {
      for (let k = 0; k < p; k++) {
        const t = lu[j * p + k];
        lu[j * p + k] = lu[piv * p + k];
        lu[piv * p + k] = t;
      }
      const t = perm[j];
      perm[j] = perm[piv];
      perm[piv] = t;
    }
    const recip = 1 / lu[j * p + j];
    for (let i = j + 1; i < p; i++) {
      const l = lu[i * p + j] * recip;
      lu[i * p + j] = l;
      if (l !== 0) {
        for (let k = j + 1; k < p; k++) lu[i * p + k] -= l * lu[j * p + k];
      }
    }
  }
  return true;
}

/** Solve `LU x = P b` in place in `ws.col` (b already permuted into `ws.col`). */
export function luSolveColumn(ws: LuWorkspace): void {
  const { p, lu, col } = ws;
  for (let i = 1; i < p; i++) {
    let s = col[i];
    for (let k = 0; k < i; k++) s -= lu[i * p + k] * col[k];
    col[i] = s;
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = col[i];
    for (let k = i + 1; k < p; k++) s -= lu[i * p + k] * col[k];
    col[i] = s / lu[i * p + i];
  }
}

/**
 * Entry `j` of the solution of `LU x = P b` (b already permuted into `ws.col`): the forward
 * substitution whole, the back substitution from the last row up to row j only (the rows above
 * it do not enter x_j). The same double as {@link luSolveColumn}'s x_j, for about two thirds of
 * its work when only a diagonal is wanted (a trace of B⁻¹A, column by column).
 */
export function luSolveEntry(ws: LuWorkspace, j: number): number {
  const { p, lu, col } = ws;
  for (let i = 1; i < p; i++) {
    let s = col[i];
    for (let k = 0; k < i; k++) s -= lu[i * p + k] * col[k];
    col[i] = s;
  }
  for (let i = p - 1; i >= j; i--) {
    let s = col[i];
    for (let k = i + 1; k < p; k++) s -= lu[i * p + k] * col[k];
    col[i] = s / lu[i * p + i];
  }
  return col[j];
}

/**
 * Invert every matrix of a batch.
 * @param a - `count` matrices of size p×p
 * @param p - dimension
 * @param count - number of matrices
 * @param out - receives the inverses (may not alias `a`)
 * @throws {@link SingularMatrixError} naming the first singular matrix
 */
export function invertBatch(a: Float64Array, p: number, count: number, out: Float64Array): void {
  const ws = luWorkspace(p);
  const pp = p * p;
  for (let m = 0; m < count; m++) {
    if (!luFactor(a, m * pp, ws)) throw new SingularMatrixError(m);
    for (let j = 0; j < p; j++) {
      for (let i = 0; i < p; i++) ws.col[i] = ws.perm[i] === j ? 1 : 0;
      luSolveColumn(ws);
      for (let i = 0; i < p; i++) out[m * pp + i * p + j] = ws.col[i];
    }
  }
}

/**
 * Solve `A_m x_m = b_m` for every matrix of a batch.
 * @param a - `count` matrices p×p
 * @param b - `count` right-hand sides of length p
 * @param p - dimension
 * @param count - number of systems
 * @param out - receives the solutions (`count`×p)
 * @throws {@link SingularMatrixError} naming the first singular system
 */
export function solveBatch(
  a: Float64Array,
  b: Float64Array,
  p: number,
  count: number,
  out: Float64Array,
): void {
  const ws = luWorkspace(p);
  for (let m = 0; m < count; m++) {
    if (!luFactor(a, m * p * p, ws)) throw new SingularMatrixError(m);
    for (let i = 0; i < p; i++) ws.col[i] = b[m * p + ws.perm[i]];
    luSolveColumn(ws);
    for (let i = 0; i < p; i++) out[m * p + i] = ws.col[i];
  }
}

/**
 * Solve `A X = B` for one p×p matrix and `count` right-hand sides (LU computed once).
 * @param a - the p×p matrix (row-major)
 * @param b - count×p right-hand sides, one per row
 * @param p - dimension
 * @param count - number of right-hand sides
 * @param out - receives count×p solutions
 * @throws {@link SingularMatrixError} (index 0) when A is singular
 */
export function solveMany(
  a: Float64Array,
  b: Float64Array,
  p: number,
  count: number,
  out: Float64Array,
): void {
  const ws = luWorkspace(p);
  if (!luFactor(a, 0, ws)) throw new SingularMatrixError(0);
  for (let m = 0; m < count; m++) {
    for (let i = 0; i < p; i++) ws.col[i] = b[m * p + ws.perm[i]];
    luSolveColumn(ws);
    for (let i = 0; i < p; i++) out[m * p + i] = ws.col[i];
  }
}

/**
 * XᵀX of a row-major n×p matrix (p×p, row-major), each entry summed over the rows in order.
 * @param x - the matrix, n×p
 */
export function crossProduct(x: Float64Array, n: number, p: number): Float64Array {
  const out = new Float64Array(p * p);
  for (let k = 0; k < p; k++) {
    for (let l = 0; l < p; l++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += x[i * p + k] * x[i * p + l];
      out[k * p + l] = acc;
    }
  }
  return out;
}

/** The rows of a row-major n×p matrix grouped into classes of equal rows. */
export interface RowClasses {
  /** Each class's first row, in order of first appearance (D values). */
  readonly first: Int32Array;
  /** Each row's class (n values). */
  readonly classOf: Int32Array;
}

const rowClassCache = new WeakMap<
  Float64Array,
  { readonly p: number; readonly classes: RowClasses }
>();

/**
 * The classes of equal rows (the same numbers, 0 and −0 alike) of the row-major n×p `matrix`,
 * computed once per matrix object and remembered while it lives: a design matrix is fixed for a
 * center's run, and a kernel can then compute a row's x·β once per class instead of per sample.
 */
export function rowClasses(matrix: Float64Array, n: number, p: number): RowClasses {
  const cached = rowClassCache.get(matrix);
  if (cached !== undefined && cached.p === p && cached.classes.classOf.length === n)
    return cached.classes;
  const index = new Map<string, number>();
  const first: number[] = [];
  const classOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const key = matrix.subarray(i * p, i * p + p).join(",");
    let c = index.get(key);
    if (c === undefined) {
      c = first.length;
      index.set(key, c);
      first.push(i);
    }
    classOf[i] = c;
  }
  const classes = { first: Int32Array.from(first), classOf };
  rowClassCache.set(matrix, { p, classes });
  return classes;
}
