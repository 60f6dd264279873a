import { describe, expect, it } from "vitest";
import { fromDecimalComma, isDecimal, isDigits, parseNumeric } from "../../src/core/numbers.js";

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

  it('fromDecimalComma reads numbers written with a decimal comma (R\'s read.csv2, dec = ",")', () => {
    expect(fromDecimalComma("20,5")).toBe("20.5");
    expect(fromDecimalComma("-0,25")).toBe("-0.25");
    expect(fromDecimalComma("1,5e3")).toBe("1.5e3");
    expect(fromDecimalComma(",5")).toBe(".5");
    expect(fromDecimalComma("20")).toBe("20");
    expect(fromDecimalComma("1.5")).toBeUndefined();
    expect(fromDecimalComma("1,2,3")).toBeUndefined();
    expect(fromDecimalComma("ctl, day 1")).toBeUndefined();
    expect(fromDecimalComma("")).toBeUndefined();
  });
});
