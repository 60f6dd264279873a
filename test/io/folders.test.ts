import { statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeFolders } from "../../src/io/folders.js";
import { useTempFolder } from "../helpers/tempFiles.js";

const temp = useTempFolder();

describe("makeFolders", () => {
  it("makes a folder and the missing folders above it, and takes one that exists", () => {
    const deep = join(temp.dir, "a", "b", "c");
    makeFolders(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeFolders(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
  });

  it("throws the file system's error at once where a folder cannot be made", () => {
    // Node's recursive mkdirSync never returns here (/proc answers ENOENT under an existing
    // parent); the test's own deadline is what it would fail on.
    expect(() => makeFolders("/proc/fedseq-cannot-be/made")).toThrow(/ENOENT/);
    const file = join(temp.dir, "a-file");
    writeFileSync(file, "");
    expect(() => makeFolders(join(file, "below"))).toThrow(/ENOTDIR/);
    // Not a folder, as Node's mkdirSync says too: a file, a link to nowhere, no path at all.
    expect(() => makeFolders(file)).toThrow(/ENOTDIR/);
    const dangling = join(temp.dir, "dangling");
    symlinkSync(join(temp.dir, "nowhere"), dangling);
    expect(() => makeFolders(dangling)).toThrow(/ENOENT|EEXIST/);
    expect(() => makeFolders("")).toThrow(/ENOENT/);
  });
});
