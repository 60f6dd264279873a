/**
 * The LU kernels against closed forms: a 3×3 system solved by Cramer's rule, and the entry-wise
 * solve against the whole-column one (the same operations on the rows it computes); the classes
 * of equal rows against a hand-made matrix.
 */
import { describe, expect, it } from "vitest";
import {
  luFactor,
  luSolveColumn,
  luSolveEntry,
  luWorkspace,
  rowClasses,
} from "../../src/math/linalg.js";

/** det of a row-major 3×3 matrix. */
function det3(m: readonly number[]): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/** The system's right-hand side permuted into the workspace's column. */
function load(ws: ReturnType<typeof luWorkspace>, b: readonly number[]): void {
  for (let i = 0; i < ws.p; i++) ws.col[i] = b[ws.perm[i]];
}

describe("luSolveEntry", () => {
  it("is Cramer's rule's x_j on a 3×3 system that needs pivoting", () => {
    const a = [0.5, 2, -1, 4, 1, 3, -2, 5, 0.25];
    const b = [1, -2, 3.5];
    const ws = luWorkspace(3);
    expect(luFactor(Float64Array.from(a), 0, ws)).toBe(true);
    expect(Array.from(ws.perm)).not.toEqual([0, 1, 2]); // a row swap happened
    const d = det3(a);
    for (let j = 0; j < 3; j++) {
      const replaced = a.map((v, k) => (k % 3 === j ? b[Math.floor(k / 3)] : v));
      load(ws, b);
      expect(luSolveEntry(ws, j)).toBeCloseTo(det3(replaced) / d, 13);
    }
  });

  it("gives luSolveColumn's x_j bit for bit", () => {
    // A deterministic pseudo-random 9×9 system (a linear congruential sequence).
    const p = 9;
    let state = 12345;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 30 - 1;
    };
    const a = Float64Array.from({ length: p * p }, next);
    const b = Array.from({ length: p }, next);
    const ws = luWorkspace(p);
    expect(luFactor(a, 0, ws)).toBe(true);
    load(ws, b);
    luSolveColumn(ws);
    const whole = Array.from(ws.col);
    for (let j = 0; j < p; j++) {
      load(ws, b);
      expect(Object.is(luSolveEntry(ws, j), whole[j]), `x_${j}`).toBe(true);
    }
  });
});

describe("rowClasses", () => {
  it("groups equal rows in order of first appearance (0 and −0 alike), once per matrix", () => {
    const m = Float64Array.from([1, 0, 0.5, 1, 1, 0.5, 1, -0, 0.5, 1, 0, 0.25, 1, 1, 0.5]);
    const classes = rowClasses(m, 5, 3);
    expect(Array.from(classes.first)).toEqual([0, 1, 3]);
    expect(Array.from(classes.classOf)).toEqual([0, 1, 0, 2, 1]);
    expect(rowClasses(m, 5, 3)).toBe(classes);
    // A continuous covariate: every row its own class.
    const distinct = rowClasses(Float64Array.from([1, 0.1, 1, 0.2, 1, 0.30000000000000004]), 3, 2);
    expect(Array.from(distinct.classOf)).toEqual([0, 1, 2]);
  });
});
