/**
 * Design formulas, the subset of R's formula syntax fedseq supports: `~ a + b + c`, main
 * effects only, the intercept always included. Variable names are R names (letters,
 * digits, `.` and `_`, not starting with a digit) or backtick-quoted (`` `cell type` ``).
 */
import { InputError, quote } from "../core/errors.js";

/** A parsed design formula. */
export interface Formula {
  /** The formula as the user wrote it. */
  readonly text: string;
  /** The variables (metadata columns), in formula order, without duplicates. */
  readonly terms: string[];
}

const NAME = /^(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*$/;
const QUOTED = /^`([^`]+)`$/;

/** Why a term of a formula is not supported, for the error message. */
function termProblem(term: string): string {
  if (term === "") return "a term is empty";
  if (/^[01]$/.test(term) || /^-\s*[01]$/.test(term)) {
    return "intercept terms (1, 0, -1) are not supported: the intercept is always included";
  }
  if (term.includes(":") || term.includes("*") || term.includes("^")) {
    return "interactions are not supported";
  }
  if (term.includes("-")) return "removing terms with - is not supported";
  if (term.includes("(")) return `transformations such as ${term} are not supported`;
  return `${quote(term)} is not a variable name (quote unusual names with backticks)`;
}

/**
 * Parse a design formula `~ a + b` (spaces anywhere between tokens are ignored).
 * @throws InputError naming the formula when it has a left-hand side, no variable, an
 *   interaction, an intercept term, a transformation, or a variable repeated
 */
export function parseFormula(text: string): Formula {
  const fail = (reason: string): never => {
    throw new InputError(
      `design ${quote(text, 80)}: ${reason}; expected a formula like "~ batch + condition"`,
    );
  };
  const trimmed = text.trim();
  if (!trimmed.startsWith("~")) {
    fail(trimmed.includes("~") ? "a left-hand side is not allowed" : 'it must start with "~"');
  }
  const body = trimmed.slice(1).trim();
  if (body === "") fail("it has no variable");
  const terms: string[] = [];
  for (const piece of body.split("+")) {
    const term = piece.trim();
    const quoted = QUOTED.exec(term);
    const name = quoted ? quoted[1] : NAME.test(term) ? term : undefined;
    if (name === undefined) return fail(termProblem(term));
    if (terms.includes(name)) fail(`variable ${quote(name)} appears twice`);
    terms.push(name);
  }
  return { text, terms };
}

/**
 * Parse the reduced formula of a likelihood-ratio test (`--reduced`): `~ 1` (intercept only), or
 * some of the full design's variables, so that the reduced model is nested in the full one and
 * its coefficients are a subset of the full model's (DESeq2's `nbinomLRT` needs the models
 * nested; with main effects, nested means a subset of the variables).
 * @throws InputError naming the formula when it is malformed, names a variable the full design
 *   lacks, or keeps every variable of the full design (no degree of freedom to test)
 */
export function parseReducedFormula(text: string, full: Formula): Formula {
  const fail = (reason: string): never => {
    throw new InputError(`reduced design ${quote(text, 80)}: ${reason}`);
  };
  const trimmed = text.trim();
  const reduced =
    trimmed.startsWith("~") && trimmed.slice(1).trim() === "1"
      ? { text, terms: [] }
      : parseFormula(text);
  const outside = reduced.terms.find((t) => !full.terms.includes(t));
  if (outside !== undefined)
    fail(
      `variable ${quote(outside)} is not in the full design ${quote(full.text, 80)} (the reduced model must be nested in it)`,
    );
  if (reduced.terms.length === full.terms.length)
    fail(
      `it keeps every variable of the full design ${quote(full.text, 80)}: the test would have no degree of freedom`,
    );
  return reduced;
}
