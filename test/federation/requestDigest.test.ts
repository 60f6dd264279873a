/**
 * A request's digest is a function of its content: the same whatever object carries it, another
 * for another content, plan or field set (its cache of the digests of one object never answers
 * for another key).
 */
import { describe, expect, it } from "vitest";
import { requestDigest } from "../../src/federation/requestDigest.js";
import type { RequestTag, StepInput } from "../../src/federation/steps.js";

const tag: RequestTag = { runId: "r", phase: "fit", round: 0 };

/** A prepare request (its size factors are the per-center field). */
function prepare(sizeFactors: number[], dispersion = 0.1): StepInput<"prepare"> {
  return {
    kind: "prepare-request",
    formula: "~ condition",
    levels: '{"condition":["a","b"]}',
    references: "{}",
    genes: ["g1", "g2"],
    dispersions: Float64Array.of(dispersion, 0.2),
    sizeFactors: Float64Array.from(sizeFactors),
    minMu: 0.5,
    betaTol: 1e-8,
    maxBeta: 30,
    irlsNumIter: 100,
    pqnC1: 1e-4,
    pqnFtol: 1e-7,
    pqnNumItersLs: 20,
    pqnNumIters: 100,
    pqnMinMu: 0.5,
  } as StepInput<"prepare">;
}

/** The digest of a fresh copy of the request (never seen before). */
function fresh(t: RequestTag, sizeFactors: number[], perCenterFields: boolean, dispersion = 0.1) {
  return requestDigest(t, "prepare", prepare(sizeFactors, dispersion), { perCenterFields });
}

describe("requestDigest", () => {
  it("is the digest of the content, asked again of one object or of a copy", () => {
    const request = prepare([1, 2]);
    const first = requestDigest(tag, "prepare", request, { perCenterFields: true });
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(requestDigest(tag, "prepare", request, { perCenterFields: true })).toBe(first);
    expect(fresh(tag, [1, 2], true)).toBe(first);
    // Another content: another digest.
    expect(fresh(tag, [1, 2], true, 0.3)).not.toBe(first);
  });

  it("answers each plan and field set for one object as for a fresh copy", () => {
    const request = prepare([1, 2]);
    const planned: RequestTag = { ...tag, plan: "b".repeat(64) };
    const asked = [
      [tag, true],
      [tag, false],
      [planned, true],
      [planned, false],
    ] as const;
    const digests = asked.map(([t, own]) =>
      requestDigest(t, "prepare", request, { perCenterFields: own }),
    );
    expect(digests).toEqual(asked.map(([t, own]) => fresh(t, [1, 2], own)));
    expect(new Set(digests).size).toBe(4);
    // Without the per-center field, the centers' requests share one digest; with it, not.
    expect(fresh(tag, [3, 4], false)).toBe(digests[1]);
    expect(fresh(tag, [3, 4], true)).not.toBe(digests[0]);
  });
});
