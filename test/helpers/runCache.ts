/**
 * Whole-dataset runs computed once per `vitest run` and shared between test files (which run in
 * two workers, each with its own module graph): the first file to ask computes the run
 * and writes it (v8 serialisation: typed arrays, plain objects and arrays come back equal) to the
 * run's cache folder (test/setup/runCache.ts); a file asking for it later reads it; a file asking
 * while another computes it waits for it. Within a worker the value is also kept in memory.
 * Without the cache folder (a config without the globalSetup) each worker computes its own.
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { inject } from "vitest";

const inMemory = new Map<string, Promise<unknown>>();

let ownFolder: string | null = null;

/**
 * A folder for the output files of a cached run: in the run cache's folder (it lasts as long as
 * the `vitest run`), or, without it, a temporary folder of this worker's own.
 */
export function cacheFolder(name: string): string {
  const dir = inject("runCache");
  if (dir !== undefined && existsSync(dir)) return join(dir, name);
  if (ownFolder === null) {
    const made = mkdtempSync(join(tmpdir(), "fedseq-run-cache-"));
    // Called from within tests, where no hook can be added: removed when the worker exits.
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
    ownFolder = made;
  }
  return join(ownFolder, name);
}

/** The value of `key` in this `vitest run`, computed by `compute` at most once across files. */
export function cachedRun<T>(key: string, compute: () => Promise<T>): Promise<T> {
  let value = inMemory.get(key) as Promise<T> | undefined;
  if (value === undefined) {
    value = fromCache(key, compute);
    inMemory.set(key, value);
  }
  return value;
}

async function fromCache<T>(key: string, compute: () => Promise<T>): Promise<T> {
  const dir = inject("runCache");
  if (dir === undefined || !existsSync(dir)) return compute();
  const file = join(dir, `${key.replace(/[^\w.-]+/g, "_")}.v8`);
  const lock = `${file}.lock`;
  for (;;) {
    if (existsSync(file)) return ownBuffers(deserialize(readFileSync(file))) as T;
    if (takeLock(lock)) {
      try {
        const value = await compute();
        writeFileSync(`${file}.tmp`, serialize(value));
        renameSync(`${file}.tmp`, file);
        return value;
      } finally {
        rmSync(lock, { force: true });
      }
    }
    // Another worker computes it: wait without blocking this worker's event loop.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * `value` with each typed array given a buffer of its own (in place; shared references stay
 * shared). v8's deserialize makes every typed array a view into the one buffer it read, the
 * whole cached file: a structured clone or a message to a worker thread of any of them would
 * copy all of it (replaying recorded requests to worker-thread centers took minutes of system
 * time so).
 */
function ownBuffers(value: unknown, copies = new Map<object, unknown>()): unknown {
  if (typeof value !== "object" || value === null) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
    const copy = Buffer.isBuffer(value)
      ? Buffer.from(bytes.buffer)
      : value instanceof DataView
        ? new DataView(bytes.buffer)
        : new (value.constructor as new (buffer: ArrayBufferLike) => ArrayBufferView)(bytes.buffer);
    copies.set(value, copy);
    return copy;
  }
  copies.set(value, value);
  if (value instanceof Map) {
    for (const [k, v] of value) value.set(k, ownBuffers(v, copies));
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = ownBuffers(value[i], copies);
  } else if (!(value instanceof Set)) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = ownBuffers(record[key], copies);
  }
  return value;
}

/** Take the lock file (holding this process's pid); a lock whose process is gone is taken over. */
function takeLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, "wx"));
    writeFileSync(lock, String(process.pid));
    return true;
  } catch {
    let pid = 0;
    try {
      pid = Number(readFileSync(lock, "utf8"));
    } catch {
      return false; // released meanwhile: the caller looks again
    }
    if (pid > 0 && !alive(pid)) rmSync(lock, { force: true });
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
