/**
 * The error type for mistakes in what the user gave us (files, formulas, options), as
 * opposed to bugs. The CLI prints `fedseq: <message>` and exits with status 2, without a
 * stack trace, so the message must say on its own what is wrong and where.
 *
 * It lives below every layer (the algorithms and the design code throw it too); `io/errors.ts`
 * re-exports it with the file-system helpers.
 */

/**
 * A user mistake: a malformed or inconsistent input file, design formula or option.
 *
 * The message is one line (at most three) naming the file and the row, column or field at
 * fault, e.g. `counts.csv: line 12 (gene ENSG0001), column S3: count "-4" is negative`.
 */
export class InputError extends Error {
  /**
   * @param message - what is wrong and where; no trailing period needed
   * @param options - standard `ErrorOptions`, e.g. `{ cause }` to keep a lower-level error
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}

/**
 * A center's data does not meet its plan, for a reason its operator reads in full but the
 * aggregator, told of the refusal, may not: `shared` is what the refusal sends (a sample whose
 * counts are all 0, named, would be that sample's counts; a cell's size other than the plan's,
 * the center's own).
 */
export class PrivateDataError extends InputError {
  constructor(
    message: string,
    readonly shared: string,
  ) {
    super(message);
    this.name = "PrivateDataError";
  }
}

/**
 * Quote a user-supplied value for an error message: JSON string syntax, so that empty
 * strings, spaces and control characters are visible, shortened when very long.
 */
export function quote(value: string, maxLength = 40): string {
  const shown = value.length > maxLength ? `${value.slice(0, maxLength - 1)}…` : value;
  return JSON.stringify(shown);
}

/**
 * A short list for an error message: `a, b and c`, or `a, b, c and 7 more` when longer
 * than `max` items.
 */
export function listForMessage(items: readonly string[], max = 5): string {
  if (items.length === 0) return "(none)";
  if (items.length === 1) return items[0];
  if (items.length > max) {
    return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
  }
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
