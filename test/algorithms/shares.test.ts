import { describe, expect, it } from "vitest";
import {
  isPooledZero,
  pooledZeroVector,
  sharedPooledZeroVector,
  sumOverCenters,
} from "../../src/algorithms/shares.js";

describe("pooled zero vectors", () => {
  it("a fresh one per call; the shared one is one vector per length, all zeros, recognised", () => {
    expect(pooledZeroVector(5)).not.toBe(pooledZeroVector(5));
    const a = sharedPooledZeroVector(7);
    expect(sharedPooledZeroVector(7)).toBe(a);
    expect(sharedPooledZeroVector(8)).not.toBe(a);
    expect(Array.from(a)).toEqual(new Array(7).fill(0));
    expect(isPooledZero(a)).toBe(true);
    expect(isPooledZero(new Float64Array(7))).toBe(false);
  });

  it("stays correct past the lengths it keeps (each length's vector still all zeros)", () => {
    for (let n = 1; n <= 40; n++) {
      const z = sharedPooledZeroVector(n);
      expect(z.length).toBe(n);
      // A view of zeros shared by every length: its bytes are its own n doubles.
      expect(z.byteLength).toBe(8 * n);
      expect(z.every((x) => x === 0)).toBe(true);
      expect(isPooledZero(z)).toBe(true);
    }
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
