/**
 * The saved fit's file: every number read back bit for bit (NaN, ±∞, −0, subnormals included),
 * each covariance matrix from its upper triangle, and lengths checked against the design.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { designColumns } from "../../src/design/designMatrix.js";
import { parseFormula } from "../../src/design/formula.js";
import { readSavedFit, type SavedFit, writeSavedFit } from "../../src/pipeline/savedFit.js";

const dir = mkdtempSync(join(tmpdir(), "fedseq-saved-fit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPECIAL = [Number.NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, -1 / 3];

/** A fit of `~ condition` (3 levels) on four genes, three fitted, every special value inside. */
function exampleFit(): SavedFit {
  const levels = { condition: ["A", "B", "C"] };
  const columns = designColumns(parseFormula("~ condition"), levels, {});
  const p = columns.length;
  const F = 3;
  const sigma = new Float64Array(F * p * p);
  for (let g = 0; g < F; g++)
    for (let k = 0; k < p; k++)
      for (let l = k; l < p; l++) {
        const v = SPECIAL[(g * 7 + k * 3 + l) % SPECIAL.length] + (k === l ? 0 : g);
        sigma[g * p * p + k * p + l] = v;
        sigma[g * p * p + l * p + k] = v;
      }
  return {
    design: "~ condition",
    levels,
    references: {},
    columns,
    genes: ["g1", "g2", "g3", "g4"],
    kept: Int32Array.of(0, 1, 3),
    fitted: Int32Array.of(0, 1, 2),
    baseMean: Float64Array.of(...SPECIAL.slice(0, 3)),
    beta: Float64Array.from({ length: F * p }, (_, i) => SPECIAL[(i * 5) % SPECIAL.length]),
    sigma,
    withheld: Uint8Array.of(0, 1, 0),
    nowZero: Uint8Array.of(1, 0, 0),
    lrt: { reduced: "~ 1", df: 2, stat: Float64Array.of(...SPECIAL.slice(3, 6)) },
    levelPresence: {
      condition: { levels: ["A", "B", "C"], present: Uint8Array.of(1, 0, 1, 1, 1, 1, 0, 0, 1) },
    },
  };
}

/** The values' bits are equal (Object.is: NaN is NaN, −0 is not 0). */
function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Object.is(actual[i], expected[i]), `${i}`).toBe(true);
}

describe("the saved fit (saved_fit.json)", () => {
  it("reads back every number bit for bit, covariances from their upper triangles", () => {
    const file = join(dir, "saved_fit.json");
    const written = exampleFit();
    writeSavedFit(file, written);
    const read = readSavedFit(file);
    for (const key of ["baseMean", "beta", "sigma"] as const)
      expectSameBits(read[key], written[key]);
    expectSameBits(read.lrt?.stat ?? [], written.lrt?.stat ?? [1]);
    expect(read.lrt?.df).toBe(2);
    expect(Array.from(read.kept ?? [])).toEqual([0, 1, 3]);
    expect(Array.from(read.withheld)).toEqual([0, 1, 0]);
    expect(Array.from(read.levelPresence?.condition.present ?? [])).toEqual(
      Array.from(written.levelPresence?.condition.present ?? []),
    );
    // Only the upper triangles travel: p(p+1)/2 = 6 numbers of 8 bytes per fitted gene.
    const json = JSON.parse(readFileSync(file, "utf8"));
    expect(Buffer.from(json.sigma_upper, "base64").length).toBe(3 * 6 * 8);
    expect(json.format).toBe("fedseq saved fit v2");
  });

  it("refuses arrays whose lengths disagree with the design, naming the field", () => {
    const file = join(dir, "short.json");
    writeSavedFit(file, exampleFit());
    const json = JSON.parse(readFileSync(file, "utf8"));
    json.sigma_upper = Buffer.from(json.sigma_upper, "base64").subarray(8).toString("base64");
    writeFileSync(file, JSON.stringify(json));
    expect(() => readSavedFit(file)).toThrow(/sigma_upper has 17 values, expected 18/);
    json.beta = 12;
    writeFileSync(file, JSON.stringify(json));
    expect(() => readSavedFit(file)).toThrow(/beta is not base64 float64 bytes/);
  });
});
