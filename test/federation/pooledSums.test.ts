/**
 * The clear run's pooling of summed fields (src/federation/pooledSums.ts): the first share holds
 * the correctly rounded exact sum over centers, the others zeros; fields not summed stay each
 * center's own; the centers' shares are left as they were.
 */
import { describe, expect, it } from "vitest";
import { poolSums, summedFields } from "../../src/federation/pooledSums.js";
import type { StepOutput } from "../../src/federation/steps.js";

type LogSums = StepOutput<"logSums">;

describe("poolSums", () => {
  const share = (logSums: number[], hasZero: number[], samples: number): LogSums =>
    ({
      kind: "log-sums-share",
      logSums: Float64Array.from(logSums),
      hasZero: Uint8Array.from(hasZero),
      samples,
    }) as unknown as LogSums;

  it("pools summed fields into exact sums; or-fields and the shares themselves are untouched", () => {
    expect(summedFields("logSums")).toEqual(["logSums", "samples"]);
    const shares = [
      share([1e16, 0.1, -3], [0, 1, 0], 4),
      share([1, 0.1, 3], [1, 0, 0], 5),
      share([-1e16, 0.1, 1e-20], [0, 0, 0], 2),
    ];
    const pooled = poolSums("logSums", shares);
    // 1e16 + 1 − 1e16 = 1 exactly (in order: 0); 0.1·3 rounds once to 0.30000000000000004.
    expect(Array.from(pooled[0].logSums)).toEqual([1, 0.30000000000000004, 1e-20]);
    expect(1e16 + 1 + -1e16).toBe(0);
    expect(pooled[0].samples).toBe(11);
    for (const c of [1, 2]) {
      expect(Array.from(pooled[c].logSums)).toEqual([0, 0, 0]);
      expect(pooled[c].samples).toBe(0);
    }
    for (const c of [0, 1, 2]) expect(pooled[c].hasZero).toBe(shares[c].hasZero);
    expect(Array.from(shares[0].logSums)).toEqual([1e16, 0.1, -3]);
    expect(shares[2].samples).toBe(2);
  });

  it("pools counts fields (whole numbers below 2^32) to their exact sums, 2^32 − 1 by 2^32 − 1 included", () => {
    const top = 2 ** 32 - 1;
    const counts = (values: number[]) =>
      ({
        kind: "cooks-private-trim-share",
        counts: Float64Array.from(values),
      }) as unknown as StepOutput<"cooksPrivateTrim">;
    const shares = [counts([top, 0, 3]), counts([top, 7, 0]), counts([top, 1, 2])];
    const pooled = poolSums("cooksPrivateTrim", shares);
    expect(Array.from(pooled[0].counts)).toEqual([3 * top, 8, 5]);
    expect(Array.from(pooled[1].counts)).toEqual([0, 0, 0]);
    expect(Array.from(shares[0].counts)).toEqual([top, 0, 3]);
  });

  it("refuses vectors of different lengths, naming the center and field", () => {
    const shares = [share([1, 2], [0, 0], 1), share([1], [0], 1)];
    expect(() => poolSums("logSums", shares)).toThrow(
      "share 1: logSums.logSums has 1 values, expected 2",
    );
  });
});
