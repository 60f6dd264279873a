/**
 * Design formulas, the subset of R's formula syntax fedseq supports: main effects `~ a + b`,
 * interactions `a:b` and crossings `a * b` (= `a + b + a:b`), `factor(x)` (a numeric column
 * taken as a factor), and the intercept: present unless the formula says `0 +` or `- 1` (a
 * design without an intercept has no interaction term here). Variable names are R names
 * (letters, digits, `.` and `_`, not starting with a digit) or backtick-quoted
 * (`` `cell type` ``). As in R, interaction terms come after the main effects, by degree; every
 * variable of an interaction must also be a main effect (the hierarchical designs DESeq2 users
 * write; R would code `~ a + a:b` with other columns).
 */
import { InputError, quote } from "../core/errors.js";

/** A parsed design formula. */
export interface Formula {
  /** The formula as the user wrote it. */
  readonly text: string;
  /** The variables (metadata columns), main effects in formula order, without duplicates. */
  readonly terms: string[];
  /**
   * The interaction terms, each its variables in `terms` order (two or more), ordered as R
   * orders them: by degree, then in formula order. Absent or empty: main effects only.
   */
  readonly interactions?: readonly (readonly string[])[];
  /** Whether the design has an intercept (absent: it has; `~ 0 + a` and `~ a - 1` have not). */
  readonly intercept?: boolean;
  /** The variables written `factor(x)`: factors whatever their values (absent: none). */
  readonly factors?: readonly string[];
}

/** Whether the formula's design has an intercept column. */
export function hasIntercept(formula: Formula): boolean {
  return formula.intercept !== false;
}

/** Whether `variable` is written `factor(variable)` in the formula. */
export function isFactorCall(formula: Formula, variable: string): boolean {
  return formula.factors?.includes(variable) === true;
}

const FACTOR_CALL = /^factor\s*\(\s*(.*?)\s*\)$/;
const NAME = /^(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*$/;
const QUOTED = /^`([^`]+)`$/;

/** Why a term of a formula is not supported, for the error message. */
function termProblem(term: string): string {
  if (term === "") return "a term is empty";
  if (term.includes("^")) return "powers of terms (^) are not supported";
  if (term.includes("-")) return "removing terms with - is not supported (only the intercept: - 1)";
  if (FACTOR_CALL.test(term)) return `${term} is supported as a main effect only`;
  if (term.includes("("))
    return `transformations such as ${term} are not supported (only factor(x))`;
  return `${quote(term)} is not a variable name (quote unusual names with backticks)`;
}

/** A variable name of a term, or null. */
function variableName(text: string): string | null {
  const term = text.trim();
  const quoted = QUOTED.exec(term);
  return quoted ? quoted[1] : NAME.test(term) ? term : null;
}

/** Every non-empty subset of `items` (in order), by size: a * b * c's terms. */
function crossings(items: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let mask = 1; mask < 1 << items.length; mask++)
    out.push(items.filter((_, k) => mask & (1 << k)));
  return out.sort((a, b) => a.length - b.length);
}

/**
 * Parse a design formula `~ a + b`, `~ a * b`, `~ a + b + a:b` (spaces anywhere between tokens
 * are ignored).
 * @throws InputError naming the formula when it has a left-hand side, no variable, an
 *   intercept term, a transformation, a variable repeated as a main effect, or an interaction of
 *   a variable that is not a main effect
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
  let body = trimmed.slice(1).trim();
  if (body === "") fail("it has no variable");
  // The intercept: `- 1` (at the end, as R users write it) or a `0` term removes it; a `1` term
  // keeps it, as without one.
  let intercept = true;
  const minusOne = /\s*-\s*1\s*$/;
  if (minusOne.test(body)) {
    intercept = false;
    body = body.replace(minusOne, "");
  }
  const pieces = body.split("+").map((piece) => piece.trim());
  const kept = pieces.filter((piece) => piece !== "0" && piece !== "1");
  if (pieces.includes("0")) {
    if (pieces.includes("1")) fail("it both removes (0) and keeps (1) the intercept");
    intercept = false;
  }
  if (kept.length === 0) fail("it has no variable");
  const factors: string[] = [];
  const terms: string[] = [];
  const interactions: string[][] = [];
  const addInteraction = (variables: string[]) => {
    const key = [...variables].sort().join("\u0000");
    if (!interactions.some((t) => [...t].sort().join("\u0000") === key))
      interactions.push(variables);
  };
  for (const piece of kept) {
    const term = piece.trim();
    const call = FACTOR_CALL.exec(term);
    if (call !== null) {
      const name = variableName(call[1]);
      if (name === null) return fail(termProblem(call[1]));
      if (terms.includes(name)) fail(`variable ${quote(name)} appears twice`);
      terms.push(name);
      factors.push(name);
      continue;
    }
    if (term.includes("*") || term.includes(":")) {
      const crossed = term.includes("*");
      if (crossed && term.includes(":"))
        fail(`${quote(term)}: write a * b or a:b, not both in a term`);
      const variables = term.split(crossed ? "*" : ":").map((v) => {
        const name = variableName(v);
        return name ?? fail(termProblem(v.trim()));
      });
      if (new Set(variables).size !== variables.length)
        fail(`${quote(term)}: a variable appears twice in the term`);
      for (const group of crossed ? crossings(variables) : [variables]) {
        if (group.length === 1) {
          if (!terms.includes(group[0])) terms.push(group[0]);
        } else addInteraction(group);
      }
      continue;
    }
    const name = variableName(term);
    if (name === null) return fail(termProblem(term));
    if (terms.includes(name)) fail(`variable ${quote(name)} appears twice`);
    terms.push(name);
  }
  for (const interaction of interactions) {
    const missing = interaction.find((v) => !terms.includes(v));
    if (missing !== undefined)
      fail(
        `interaction ${interaction.join(":")} needs ${quote(missing)} as a main effect too (write ${interaction.join(" * ")})`,
      );
  }
  if (!intercept && interactions.length > 0)
    fail("a design without an intercept (0 + or - 1) cannot have interaction terms here");
  const extra = {
    ...(intercept ? {} : { intercept: false }),
    ...(factors.length === 0 ? {} : { factors }),
  };
  if (interactions.length === 0) return { text, terms, ...extra };
  const ordered = interactions
    .map((t) => [...t].sort((a, b) => terms.indexOf(a) - terms.indexOf(b)))
    .map((t, k) => ({ t, k }))
    .sort((a, b) => a.t.length - b.t.length || a.k - b.k)
    .map(({ t }) => t);
  return { text, terms, interactions: ordered, ...extra };
}

/**
 * The intercept-only design `~ 1`: never a run's design (`parseFormula` refuses it), but the one
 * DESeq2's iterative size factors estimate their dispersions with, and a reduced design.
 */
export const INTERCEPT_ONLY: Formula = Object.freeze({ text: "~ 1", terms: [] });

/**
 * The design of a step's request: a run's design (`parseFormula`), or {@link INTERCEPT_ONLY}
 * written as its text.
 */
export function parseStepFormula(text: string): Formula {
  return text === INTERCEPT_ONLY.text ? INTERCEPT_ONLY : parseFormula(text);
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
      ? { ...INTERCEPT_ONLY, text, terms: [] }
      : parseFormula(text);
  if (hasIntercept(reduced) && !hasIntercept(full))
    fail(
      `the full design ${quote(full.text, 80)} has no intercept: write the reduced one without one too (e.g. "~ 0 + a"), so that its coefficients are some of the full design's`,
    );
  if (!hasIntercept(reduced) && hasIntercept(full))
    fail(`the full design ${quote(full.text, 80)} has an intercept: keep it in the reduced one`);
  const outside = reduced.terms.find((t) => !full.terms.includes(t));
  if (outside !== undefined)
    fail(
      `variable ${quote(outside)} is not in the full design ${quote(full.text, 80)} (the reduced model must be nested in it)`,
    );
  const key = (t: readonly string[]) => [...t].sort().join("\u0000");
  const fullInteractions = new Set((full.interactions ?? []).map(key));
  const extra = (reduced.interactions ?? []).find((t) => !fullInteractions.has(key(t)));
  if (extra !== undefined)
    fail(
      `interaction ${extra.join(":")} is not in the full design ${quote(full.text, 80)} (the reduced model must be nested in it)`,
    );
  if (
    reduced.terms.length === full.terms.length &&
    (reduced.interactions ?? []).length === (full.interactions ?? []).length
  )
    fail(
      `it keeps every variable of the full design ${quote(full.text, 80)}: the test would have no degree of freedom`,
    );
  return reduced;
}
