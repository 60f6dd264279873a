/**
 * The output folder (`--out`) of a command that writes results: checked and locked before the
 * first round, released when the command ends.
 *
 * Claiming a folder creates it (and any missing parents), proves that files can be written and
 * renamed there (what atomic writes do), and takes its lock: `OUT/.fedseq-lock`, created
 * exclusively (`wx`) and holding this process's id, host and a random token. A second command
 * into the same folder stops with one line naming the folder and the holder's pid. A lock whose
 * process is gone (killed, host rebooted) is taken over.
 *
 * The lock is removed when the command ends, whether it succeeds or fails, on SIGINT, SIGTERM
 * and SIGHUP too; folders the claim created are removed again if they are still empty, so a
 * command that stops before writing anything leaves the file system as it was.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { constants, hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { InputError } from "../io/errors.js";

/** The lock file's name inside the output folder. */
export const LOCK_FILE = ".fedseq-lock";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** A claimed output folder: release it when done (idempotent). */
export interface OutputFolder {
  /** The folder, as given. */
  readonly dir: string;
  /** Remove the lock, and the folders the claim created if they are still empty. */
  release(): void;
  /**
   * Run `cleanup` if a signal stops the command (before the lock goes and the folders the claim
   * created are removed when empty), until the returned function is called.
   */
  onSignalStop(cleanup: () => void): () => void;
}

/** Who holds a lock, as written in its file. */
interface Holder {
  readonly pid: number;
  readonly host: string;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOTDIR: "a parent is not a folder",
    ENOSPC: "no space left",
    EDQUOT: "disk quota exceeded",
    // From mkdir or open with the parent folder there: a file system that takes no new entries
    // (/proc, /sys).
    ENOENT: "the file system takes no new files there (ENOENT)",
  };
  return (code && reasons[code]) ?? code ?? String(error);
}

function parseHolder(text: string): Holder | undefined {
  const [pid, host] = text.split("\n");
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 ? { pid: n, host: host ?? "" } : undefined;
}

/** Whether the lock's process may still be running (a lock from another host: assume so). */
function holderAlive(holder: Holder | undefined): boolean {
  if (holder === undefined) return true;
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A process that has exited but was not yet reaped (a zombie, Linux's state Z) is gone too.
  try {
    const stat = readFileSync(`/proc/${holder.pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** Create `dir` and its missing parents one by one; returns the created ones, outermost first. */
function createFolders(flag: string, dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) {
        throw new InputError(
          d === dir
            ? `${flag} ${dir}: a file, not a folder`
            : `${flag} ${dir}: cannot create the folder (${d} is a file)`,
        );
      }
      break;
    } catch (error) {
      if (error instanceof InputError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: an ancestor is a file; go up to name it.
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(d) === d) {
        throw new InputError(`${flag} ${dir}: cannot create the folder (${reason(error)})`);
      }
      missing.unshift(d);
    }
  }
  const created: string[] = [];
  for (const d of missing) {
    try {
      mkdirSync(d);
      created.push(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue; // made meanwhile
      removeEmpty(created);
      throw new InputError(`${flag} ${dir}: cannot create the folder (${reason(error)})`);
    }
  }
  return created;
}

/** Remove the folders (outermost first) from the innermost out, while they are empty. */
function removeEmpty(created: readonly string[]): void {
  for (const d of [...created].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * Check, create and lock an output folder.
 * @param flag - the option naming it, for messages
 * @throws InputError when the folder cannot be created or written, or another live fedseq
 *   process holds its lock (the message names the folder and that process's pid)
 */
export function claimOutputFolder(dir: string, flag = "--out"): OutputFolder {
  const created = createFolders(flag, resolve(dir));
  const token = randomBytes(8).toString("hex");
  const lock = join(dir, LOCK_FILE);
  const content = `${process.pid}\n${hostname()}\n${token}\n`;
  const fail = (message: string): never => {
    removeEmpty(created);
    throw new InputError(message);
  };

  // Can files be written and renamed here, as the outputs will be?
  const probe = join(dir, `.fedseq-probe.${process.pid}.${token}`);
  try {
    writeFileAtomic(probe, "fedseq\n");
    rmSync(probe, { force: true });
  } catch (error) {
    rmSync(probe, { force: true });
    fail(`${flag} ${dir}: cannot write there (${reason(error)})`);
  }

  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 4) {
        return fail(`${flag} ${dir}: cannot create ${LOCK_FILE} there (${reason(error)})`);
      }
      let seen: string;
      try {
        seen = readFileSync(lock, "utf8");
      } catch {
        continue; // released meanwhile
      }
      const holder = parseHolder(seen);
      if (holderAlive(holder)) return fail(heldMessage(flag, dir, lock, holder));
      // A stale lock: move it aside, and make sure it is the one we judged stale.
      const aside = `${lock}.${process.pid}.${token}.stale`;
      try {
        renameSync(lock, aside);
      } catch {
        continue; // taken over by someone else meanwhile
      }
      const moved = readFileSync(aside, "utf8");
      if (moved !== seen) {
        try {
          linkSync(aside, lock); // a live lock, put it back
        } catch {}
        rmSync(aside, { force: true });
        return fail(heldMessage(flag, dir, lock, parseHolder(moved)));
      }
      rmSync(aside, { force: true });
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    break;
  }

  let released = false;
  const cleanups = new Set<() => void>();
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    for (const signal of SIGNALS) process.off(signal, onSignal);
    try {
      if (readFileSync(lock, "utf8") === content) rmSync(lock, { force: true });
    } catch {}
    removeEmpty(created);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch {
        // The process is stopping: one cleanup failing must not keep the lock from going.
      }
    }
    release();
    process.stderr.write(`fedseq: stopped by ${signal}\n`);
    process.exit(128 + (constants.signals[signal] ?? 0));
  };
  process.on("exit", release);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const onSignalStop = (cleanup: () => void) => {
    cleanups.add(cleanup);
    return () => {
      cleanups.delete(cleanup);
    };
  };
  return { dir, release, onSignalStop };
}

function heldMessage(flag: string, dir: string, lock: string, holder?: Holder): string {
  const who =
    holder === undefined
      ? "another fedseq run"
      : holder.host === hostname()
        ? `another fedseq run (pid ${holder.pid})`
        : `another fedseq run (pid ${holder.pid} on ${holder.host})`;
  return `${flag} ${dir}: ${who} is writing there; wait for it to end or choose another folder (if no run is, remove ${lock})`;
}

/** Run `body` with `dir` claimed as the output folder; released however `body` ends. */
export async function withOutputFolder<T>(
  dir: string,
  body: (folder: OutputFolder) => Promise<T>,
  flag = "--out",
): Promise<T> {
  const folder = claimOutputFolder(dir, flag);
  try {
    return await body(folder);
  } finally {
    folder.release();
  }
}
