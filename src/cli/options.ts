/**
 * Parsers for command-line option values. Each checks its own flag's syntax and range at parse
 * time, before any action runs; a bad value is a user mistake ({@link InputError}) whose message
 * names the flag. Relations between flags (and the files they name) are checked by each
 * command's set-up (`src/pipeline/runOptions.ts`, `runCommand.ts`, …).
 */
import type { Command } from "commander";
import { InputError } from "../io/errors.js";

/**
 * The longest wait in seconds a timer can hold: Node's `setTimeout` takes at most 2³¹ − 1 ms and
 * fires at once beyond that.
 */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Ranges a numeric option may be restricted to. */
export type NumberBound = "positive" | "non-negative" | "probability" | "any";

/**
 * A finite number, optionally strictly positive, non-negative, or a probability strictly
 * between 0 and 1.
 */
export function numberOption(flag: string, bound: NumberBound = "any") {
  return (text: string): number => {
    const x = Number(text);
    if (text.trim() === "" || !Number.isFinite(x))
      throw new InputError(`${flag}: "${text}" is not a number`);
    if (bound === "positive" && !(x > 0)) throw new InputError(`${flag}: must be > 0, got ${text}`);
    if (bound === "non-negative" && !(x >= 0))
      throw new InputError(`${flag}: must be ≥ 0, got ${text}`);
    if (bound === "probability" && !(x > 0 && x < 1))
      throw new InputError(`${flag}: must be > 0 and < 1, got ${text}`);
    return x;
  };
}

/** A duration in seconds: > 0 and at most {@link MAX_SECONDS} (about 24.8 days). */
export function secondsOption(flag: string) {
  const positive = numberOption(flag, "positive");
  return (text: string): number => {
    const x = positive(text);
    if (x > MAX_SECONDS)
      throw new InputError(`${flag}: at most ${MAX_SECONDS} seconds (24.8 days), got ${text}`);
    return x;
  };
}

/** A whole number ≥ `min` (and ≤ `max` when given). */
export function integerOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const x = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || x < min || x > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
      throw new InputError(`${flag}: must be a whole number ${range}, got "${text}"`);
    }
    return x;
  };
}

/** `factor=level`, collected into a record (repeatable flag; a factor at most once). */
export function referenceOption(
  text: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const match = /^\s*([^=\s]+)\s*=\s*(.+?)\s*$/.exec(text);
  if (match === null) throw new InputError(`--reference: expected factor=level, got "${text}"`);
  const [, factor, level] = match;
  if (Object.hasOwn(previous, factor) && previous[factor] !== level) {
    throw new InputError(
      `--reference: ${factor} is given twice (${previous[factor]} and ${level}); give one reference level per factor`,
    );
  }
  return { ...previous, [factor]: level };
}

/** `--centers a,b,c`: distinct, non-empty names. */
export function centerList(text: string): string[] {
  const names = text.split(",").map((s) => s.trim());
  if (names.some((n) => n === "") || new Set(names).size !== names.length) {
    throw new InputError(`--centers: expected distinct names separated by commas, got "${text}"`);
  }
  return names;
}

/** HOST:PORT (a name or IPv4 address, or a bracketed IPv6 address; port 1 to 65535). */
export function hostPort(flag: string) {
  return (text: string): string => {
    const match = /^(?:[^\s:[\]]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(text);
    if (match === null) throw new InputError(`${flag}: expected HOST:PORT, got "${text}"`);
    const port = Number(match[1]);
    if (port < 1 || port > 65535)
      throw new InputError(`${flag}: port must be from 1 to 65535, got ${port}`);
    return text;
  };
}

/**
 * Whether an option of `cmd` was given on the command line (not left at its default), by its
 * attribute name (`joinTimeout` for `--join-timeout`).
 */
export function givenOn(cmd: Command): (attribute: string) => boolean {
  return (attribute) => cmd.getOptionValueSource(attribute) === "cli";
}

/** The flag of an attribute name: `joinTimeout` → `--join-timeout`. */
export function flagOf(attribute: string): string {
  return `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Refuse the options among `attributes` that were given although they do not apply.
 * @param when - the situation, for the message: "with --data"
 * @param instead - what they belong to: "--listen"
 */
export function refuseGiven(
  given: (attribute: string) => boolean,
  attributes: readonly string[],
  when: string,
  instead: string,
): void {
  const wrong = attributes.filter(given);
  if (wrong.length > 0) {
    const flags = wrong.map(flagOf);
    throw new InputError(`${flags.join(", ")}: only with ${instead}, not ${when}`);
  }
}
