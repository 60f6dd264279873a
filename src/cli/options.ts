/**
 * Parsers for command-line option values: a bad value is a user mistake ({@link InputError}).
 */
import { InputError } from "../io/errors.js";

/** A finite number, optionally strictly positive or non-negative. */
export function numberOption(flag: string, bound: "positive" | "non-negative" | "any" = "any") {
  return (text: string): number => {
    const x = Number(text);
    if (text.trim() === "" || !Number.isFinite(x))
      throw new InputError(`${flag}: "${text}" is not a number`);
    if (bound === "positive" && !(x > 0)) throw new InputError(`${flag}: must be > 0, got ${text}`);
    if (bound === "non-negative" && !(x >= 0))
      throw new InputError(`${flag}: must be ≥ 0, got ${text}`);
    return x;
  };
}

/** A whole number ≥ `min`. */
export function integerOption(flag: string, min: number) {
  return (text: string): number => {
    const x = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || x < min)
      throw new InputError(`${flag}: must be a whole number ≥ ${min}, got "${text}"`);
    return x;
  };
}

/** `factor=level`, collected into a record (repeatable flag). */
export function referenceOption(
  text: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const match = /^\s*([^=\s]+)\s*=\s*(.+?)\s*$/.exec(text);
  if (match === null) throw new InputError(`--reference: expected factor=level, got "${text}"`);
  return { ...previous, [match[1]]: match[2] };
}

/** `--centers a,b,c`: distinct, non-empty names. */
export function centerList(text: string): string[] {
  const names = text.split(",").map((s) => s.trim());
  if (names.some((n) => n === "") || new Set(names).size !== names.length) {
    throw new InputError(`--centers: expected distinct names separated by commas, got "${text}"`);
  }
  return names;
}
