/**
 * Strict parsing of numbers written in CSV files. `Number()` alone is too lenient for input
 * validation (`Number("")` is 0, `Number("0x10")` is 16), so text must first look like a
 * decimal number.
 */

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?$/;
const DIGITS = /^\d+$/;

/** True when `text` is a plain decimal number such as `12`, `-0.5`, `1e3` or `.25`. */
export function isDecimal(text: string): boolean {
  return DECIMAL.test(text);
}

/**
 * A number written with a decimal comma (`20,5`, `-0,25`, `1,5e3`: a spreadsheet's CSV in a
 * decimal-comma locale, as R's `read.csv2` reads it) as the same number with a decimal point
 * (`20.5`); a whole number unchanged; undefined when `text` is not such a number.
 */
export function fromDecimalComma(text: string): string | undefined {
  return DECIMAL_COMMA.test(text) ? text.replace(",", ".") : undefined;
}

/** True when `text` is a run of ASCII digits (the common case of a count: fast path). */
export function isDigits(text: string): boolean {
  return DIGITS.test(text);
}

/**
 * The value of a numeric CSV field: a decimal number, or R's spellings of the special
 * values (`Inf`, `-Inf`, `Infinity`; `NA`, `NaN` or an empty field give NaN).
 * @returns the number, NaN for a missing value, or `undefined` when the text is not a number
 */
export function parseNumeric(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  switch (text) {
    case "":
    case "NA":
    case "NaN":
      return Number.NaN;
    case "Inf":
    case "+Inf":
    case "Infinity":
    case "+Infinity":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
    case "-Infinity":
      return Number.NEGATIVE_INFINITY;
    default:
      return undefined;
  }
}
