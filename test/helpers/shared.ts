/**
 * The one way tests reach `../shared` (read-only data, fixtures and DESeq2 fits that sit
 * beside the project root in every checkout and in CI).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Absolute path of the shared folder (env FEDSEQ_SHARED overrides `../shared`). */
export const sharedRoot = resolve(process.env.FEDSEQ_SHARED ?? join(projectRoot, "..", "shared"));

/**
 * Path of a file or folder inside `../shared`.
 * @throws when the shared folder or the path is missing, with a message saying what to do
 */
export function sharedPath(...parts: string[]): string {
  if (!existsSync(sharedRoot)) {
    throw new Error(
      `fedseq tests need the shared data folder at ${sharedRoot} (a sibling of the project root, or set FEDSEQ_SHARED)`,
    );
  }
  const path = join(sharedRoot, ...parts);
  if (!existsSync(path)) throw new Error(`missing shared file: ${path}`);
  return path;
}

const cache = new Map<string, unknown>();

/** Parse a JSON file of `../shared` (cached: fixtures are large and read by several tests). */
export function sharedJson<T>(...parts: string[]): T {
  const path = sharedPath(...parts);
  let value = cache.get(path);
  if (value === undefined) {
    value = JSON.parse(readFileSync(path, "utf8"));
    cache.set(path, value);
  }
  return value as T;
}

/** The project root (for running bin/fedseq from tests). */
export const root = projectRoot;
