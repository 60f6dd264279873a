/**
 * What a received record is checked against: its schema's field kinds, each value of each array
 * (the first offending value named by its index).
 */
import { describe, expect, it } from "vitest";
import { checkRecord, recordSchema } from "../../src/federation/records.js";

interface Example {
  readonly kind: "example";
  readonly values: Float64Array;
  readonly finite: Float64Array;
  readonly mask: Uint8Array;
  readonly counts: Float64Array;
  readonly round: number;
}

const schema = recordSchema<Example>("example", {
  values: "f64",
  finite: "finite",
  mask: "mask",
  counts: "counts",
  round: "number",
});

const good = (): Example => ({
  kind: "example",
  values: Float64Array.of(Number.NaN, Number.POSITIVE_INFINITY, -1.5),
  finite: Float64Array.of(0, -2.5, 1e300),
  mask: Uint8Array.of(0, 1, 1),
  counts: Float64Array.of(0, 7, 0xffffffff),
  round: 3,
});

describe("checkRecord", () => {
  it("accepts a record that fits its schema (NaN and ±∞ in an f64 field) and returns it", () => {
    const record = good();
    expect(checkRecord(schema, record, "reply")).toBe(record);
  });

  it("names the field and the first offending value's index", () => {
    const cases: [Partial<Example> | Record<string, unknown>, RegExp][] = [
      [
        { finite: Float64Array.of(1, 2, Number.NaN, Number.POSITIVE_INFINITY) },
        /reply\.finite: value 2 is not finite \(NaN\)/,
      ],
      [
        { finite: Float64Array.of(-Infinity) },
        /reply\.finite: value 0 is not finite \(-Infinity\)/,
      ],
      [{ mask: Uint8Array.of(1, 0, 2, 3) }, /reply\.mask: entry 2 is not 0 or 1/],
      [{ counts: Float64Array.of(1, 2.5) }, /reply\.counts: value 1 is not a count \(2\.5\)/],
      [{ counts: Float64Array.of(-1) }, /reply\.counts: value 0 is not a count \(-1\)/],
      [
        { counts: Float64Array.of(3, 2 ** 32) },
        /reply\.counts: value 1 is not a count \(4294967296\)/,
      ],
      [{ counts: Float64Array.of(Number.NaN) }, /reply\.counts: value 0 is not a count \(NaN\)/],
      [{ counts: Uint8Array.of(1) }, /reply\.counts: not counts/],
      [{ values: [1, 2] }, /reply\.values: not float64 values/],
      [{ mask: Float64Array.of(1) }, /reply\.mask: not a mask/],
      [{ round: "3" }, /reply\.round: not a number/],
      [{ kind: "other" }, /reply: kind other, expected example/],
    ];
    for (const [change, message] of cases)
      expect(() => checkRecord(schema, { ...good(), ...change }, "reply")).toThrow(message);
    expect(() => checkRecord(schema, null, "reply")).toThrow(/reply: not a record/);
  });
});
