/**
 * Atomic file writes: the content goes to a temporary file in the same folder, which is flushed
 * to disk and renamed over the target. Readers see the old file or the complete new one, never a
 * half-written file; on failure the temporary file is removed.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Write all of `bytes` at the current position of `fd`, looping on short writes. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/**
 * Write `file` atomically.
 * @param content - the bytes or text, or a function that emits the text piece by piece (for
 *   large files built incrementally)
 */
export function writeFileAtomic(
  file: string,
  content: string | Uint8Array | ((emit: (text: string) => void) => void),
): void {
  const temp = join(
    dirname(file),
    `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  const fd = openSync(temp, "wx");
  let closed = false;
  try {
    if (typeof content === "function") content((text) => writeAll(fd, Buffer.from(text, "utf8")));
    else writeAll(fd, typeof content === "string" ? Buffer.from(content, "utf8") : content);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(temp, file);
  } catch (error) {
    if (!closed) closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
}
