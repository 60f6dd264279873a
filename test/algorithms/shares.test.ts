import { describe, expect, it } from "vitest";
import {
  isPooledZero,
  pooledZeroVector,
  sharedPooledZeroVector,
  sumOverCenters,
} from "../../src/algorithms/shares.js";

describe("pooled zero vectors", () => {
  it("a fresh one per call; the shared ones are views of one run of zeros, recognised", () => {
    expect(pooledZeroVector(5)).not.toBe(pooledZeroVector(5));
    const a = sharedPooledZeroVector(7);
    expect(Array.from(a)).toEqual(new Array(7).fill(0));
    expect(isPooledZero(a)).toBe(true);
    expect(isPooledZero(new Float64Array(7))).toBe(false);
    // Shorter ones view the same memory: nothing is allocated for them.
    const b = sharedPooledZeroVector(3);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(3);
    expect(isPooledZero(b)).toBe(true);
  });

  it("stays correct as lengths grow and shrink (each vector all zeros, the earlier ones too)", () => {
    const given: Float64Array[] = [];
    for (const n of [1, 40, 3, 1000, 0, 999, 1001, 2]) {
      const z = sharedPooledZeroVector(n);
      expect(z.length).toBe(n);
      expect(isPooledZero(z)).toBe(true);
      given.push(z);
    }
    for (const z of given) expect(z.every((x) => x === 0)).toBe(true);
  });

  it("sumOverCenters gives the first share's values whatever pooled zeros follow", () => {
    const first = Float64Array.from([0.1, 2, -3]);
    const sum = sumOverCenters(
      [{ x: first }, { x: sharedPooledZeroVector(3) }, { x: sharedPooledZeroVector(3) }],
      "x",
    );
    expect(Array.from(sum)).toEqual([0.1, 2, -3]);
    expect(sum).not.toBe(first);
  });
});
