/**
 * Input errors of the file layer: {@link InputError} and its message helpers (defined in
 * `core/errors.ts`, below every layer), and the errors for a file that cannot be read or written.
 */
import { InputError } from "../core/errors.js";

export { InputError, listForMessage, quote } from "../core/errors.js";

const ERRNO_REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "it is a directory",
  EACCES: "permission denied",
  ENOTDIR: "a parent is not a directory",
  // zlib's, for a file that opens with gzip's magic number.
  Z_BUF_ERROR: "its gzip data is truncated (Z_BUF_ERROR)",
  Z_DATA_ERROR: "its gzip data is corrupt (Z_DATA_ERROR)",
};

/**
 * The {@link InputError} for a file that cannot be read, from the file-system error
 * (`cannot read counts.csv: no such file`); the original error is kept as `cause`.
 */
export function unreadableFile(file: string, error: unknown): InputError {
  return new InputError(`cannot read ${file}: ${reasonOf(error)}`, { cause: error });
}

/** A file-system error's reason in words (`no such file`), else its code or text. */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (code && ERRNO_REASONS[code]) ?? code ?? String(error);
}

/**
 * The {@link InputError} for an output file the command line names (`flag`) that cannot be
 * written (`--out /proc/plan.json: cannot write: permission denied`); the original error is kept
 * as `cause`.
 */
export function unwritableFile(flag: string, file: string, error: unknown): InputError {
  return new InputError(`${flag} ${file}: cannot write: ${reasonOf(error)}`, { cause: error });
}
