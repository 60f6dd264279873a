import { describe, expect, it } from "vitest";
import { isDecimal, isDigits, parseNumeric } from "../../src/core/numbers.js";

describe("numbers", () => {
  it("isDecimal accepts decimal numbers only", () => {
    for (const text of ["0", "12", "-3", "+4", "2.5", ".25", "3.", "1e3", "-1.5E-7"]) {
      expect(isDecimal(text)).toBe(true);
    }
    for (const text of ["", " ", "0x10", "1,5", "1e", "e3", "Inf", "NA", "1 2", "--1", "."]) {
      expect(isDecimal(text)).toBe(false);
    }
  });

  it("isDigits accepts runs of ASCII digits", () => {
    expect(isDigits("0123")).toBe(true);
    expect(isDigits("-1")).toBe(false);
    expect(isDigits("")).toBe(false);
  });

  it("parseNumeric reads R's missing and infinite values", () => {
    expect(parseNumeric("2.5e-3")).toBe(0.0025);
    expect(parseNumeric("NA")).toBeNaN();
    expect(parseNumeric("NaN")).toBeNaN();
    expect(parseNumeric("")).toBeNaN();
    expect(parseNumeric("Inf")).toBe(Number.POSITIVE_INFINITY);
    expect(parseNumeric("-Inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(parseNumeric("high")).toBeUndefined();
    expect(parseNumeric("0x10")).toBeUndefined();
  });
});
