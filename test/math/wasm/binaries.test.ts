/**
 * The WebAssembly binaries the library runs are their reviewed text sources' compilation: each
 * src/math/wasm/*.wat, compiled by wabt as scripts/build-wasm.mjs compiles it, gives the bytes
 * committed beside it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module of the build scripts, without type declarations
import { binaryModuleText, compileWat } from "../../../scripts/wasmSources.mjs";
import { root } from "../../helpers/shared.js";

const dir = join(root, "src", "math", "wasm");
const sources = readdirSync(dir).filter((f) => f.endsWith(".wat"));

describe("WebAssembly binaries", () => {
  it("has a source to check", () => {
    expect(sources).toContain("ring128.wat");
  });

  it.each(sources)("%s: the committed binary is the source's compilation", async (file) => {
    const name = file.slice(0, -".wat".length);
    const bytes: Uint8Array = await compileWat(file, readFileSync(join(dir, file), "utf8"));
    expect(readFileSync(join(dir, `${name}Binary.ts`), "utf8")).toBe(binaryModuleText(name, bytes));
  });
});
