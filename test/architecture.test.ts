/**
 * The layering the README's architecture table promises, checked on the import specifiers of
 * every `src/**` file (static, type-only, re-exports and dynamic `import()` alike): no import
 * circle; the pure layers (core, math, design, stats, algorithms) and the compute pool import
 * only the layers below them and no Node built-in; nothing but the CLI and the library's entry
 * point imports the CLI.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { root } from "./helpers/shared.js";

/** One import: the importing file, the specifier as written, and the file it resolves to. */
interface Import {
  readonly from: string;
  readonly specifier: string;
  /** Path relative to the project root (`src/…/x.ts`), or undefined for a package. */
  readonly to: string | undefined;
}

const SRC = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The `.ts` file a relative specifier names (`./x.js` → `./x.ts`), relative to the root. */
function resolveSpecifier(file: string, specifier: string): string {
  const target = resolve(dirname(file), specifier);
  for (const candidate of [
    target.replace(/\.js$/, ".ts"),
    `${target}.ts`,
    join(target, "index.ts"),
  ]) {
    if (existsSync(candidate)) return relative(root, candidate);
  }
  throw new Error(`${relative(root, file)}: cannot resolve import "${specifier}"`);
}

/** The module specifiers a source text imports or re-exports, dynamic `import()` included. */
function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Every import of every source file. */
function importsOf(files: readonly string[]): Import[] {
  return files.flatMap((file) => {
    return specifiersOf(readFileSync(file, "utf8")).map((specifier) => ({
      from: relative(root, file),
      specifier,
      to: specifier.startsWith(".") ? resolveSpecifier(file, specifier) : undefined,
    }));
  });
}

/** The layer of a source file: its folder under `src/` (`index` for `src/index.ts`). */
function layerOf(path: string): string {
  const parts = relative("src", path).split("/");
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.ts$/, "");
}

/** What each checked layer may import (besides itself). */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  core: [],
  math: [],
  design: ["core"],
  stats: [],
  algorithms: ["core", "math", "design", "stats"],
  compute: ["core", "math", "algorithms"],
};

/** Layers that may import no Node built-in (no files, clocks, threads): pure functions. */
const PURE = new Set(["core", "math", "design", "stats", "algorithms"]);

const BUILTINS = new Set(builtinModules);

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]);
}

function describeImport(i: Import): string {
  return `${i.from} imports "${i.specifier}"${i.to === undefined ? "" : ` (${i.to})`}`;
}

/** Layering violations: one line per offending import. */
function layeringViolations(imports: readonly Import[]): string[] {
  const problems: string[] = [];
  for (const i of imports) {
    const from = layerOf(i.from);
    if (i.to === undefined) {
      if (PURE.has(from) && isBuiltin(i.specifier)) {
        problems.push(`${describeImport(i)}: ${from}/ is pure and may not use Node built-ins`);
      }
      continue;
    }
    const to = layerOf(i.to);
    const allowed = ALLOWED[from];
    if (allowed !== undefined && to !== from && !allowed.includes(to)) {
      const may = allowed.length === 0 ? "nothing outside itself" : `only ${allowed.join(", ")}`;
      problems.push(`${describeImport(i)}: ${from}/ may import ${may}`);
    }
    if (to === "cli" && from !== "cli" && from !== "index") {
      problems.push(`${describeImport(i)}: only src/cli/ and src/index.ts may import src/cli/`);
    }
  }
  return problems;
}

/**
 * The import circles of the graph, each as the chain of imports that closes it (one circle per
 * strongly connected component, found by Tarjan's algorithm, then walked from its first file).
 */
function importCycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Import[]>();
  for (const i of imports) {
    if (i.to === undefined) continue;
    edges.set(i.from, [...(edges.get(i.from) ?? []), i]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (to === undefined) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w === undefined) break;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    const selfImport = (edges.get(v) ?? []).some((i) => i.to === v);
    if (component.length > 1 || selfImport) components.push(component);
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0];
    // Breadth-first from `start` within the component, back to `start`: the shortest circle.
    const previous = new Map<string, Import>();
    const queue = [start];
    let closing: Import | undefined;
    while (queue.length > 0 && closing === undefined) {
      const v = queue.shift() as string;
      for (const i of edges.get(v) ?? []) {
        if (i.to === undefined || !members.has(i.to)) continue;
        if (i.to === start) {
          closing = i;
          break;
        }
        if (!previous.has(i.to)) {
          previous.set(i.to, i);
          queue.push(i.to);
        }
      }
    }
    const chain: Import[] = closing === undefined ? [] : [closing];
    for (let v = closing?.from; v !== undefined && v !== start; v = previous.get(v)?.from) {
      const step = previous.get(v);
      if (step === undefined) break;
      chain.unshift(step);
    }
    return `import circle: ${chain.map(describeImport).join(" → ")}`;
  });
}

describe("architecture", () => {
  const imports = importsOf(sourceFiles(SRC));

  it("sees every kind of import", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "./b.js";',
      'export { c } from "./c.js";',
      'export type * from "./d.js";',
      'import "./e.js";',
      '// import { f } from "./f.js";',
      'const g = await import("./g.js");',
      "const h = \"import('./h.js')\";",
    ].join("\n");
    expect(specifiersOf(text)).toEqual([
      "./a.js",
      "./b.js",
      "./c.js",
      "./d.js",
      "./e.js",
      "./g.js",
    ]);
    expect(imports.length).toBeGreaterThan(500);
  });

  it("has no import circle", () => {
    expect(importCycles(imports)).toEqual([]);
  });

  it("keeps the layers: pure algorithms and math, the compute pool on its own, the CLI on top", () => {
    expect(layeringViolations(imports)).toEqual([]);
  });

  it("reports an offending import by name", () => {
    const fake: Import[] = [
      {
        from: "src/algorithms/a.ts",
        specifier: "../federation/runner.js",
        to: "src/federation/runner.ts",
      },
      { from: "src/math/m.ts", specifier: "node:fs", to: undefined },
      { from: "src/pipeline/p.ts", specifier: "../cli/main.js", to: "src/cli/main.ts" },
      { from: "src/io/a.ts", specifier: "./b.js", to: "src/io/b.ts" },
      { from: "src/io/b.ts", specifier: "./a.js", to: "src/io/a.ts" },
      { from: "src/x/c.ts", specifier: "./d.js", to: "src/x/d.ts" },
      { from: "src/x/d.ts", specifier: "./e.js", to: "src/x/e.ts" },
      { from: "src/x/d.ts", specifier: "./f.js", to: "src/x/f.ts" },
      { from: "src/x/e.ts", specifier: "./c.js", to: "src/x/c.ts" },
    ];
    expect(layeringViolations(fake)).toEqual([
      'src/algorithms/a.ts imports "../federation/runner.js" (src/federation/runner.ts): algorithms/ may import only core, math, design, stats',
      'src/math/m.ts imports "node:fs": math/ is pure and may not use Node built-ins',
      'src/pipeline/p.ts imports "../cli/main.js" (src/cli/main.ts): only src/cli/ and src/index.ts may import src/cli/',
    ]);
    expect(importCycles(fake)).toEqual([
      'import circle: src/io/a.ts imports "./b.js" (src/io/b.ts) → src/io/b.ts imports "./a.js" (src/io/a.ts)',
      'import circle: src/x/c.ts imports "./d.js" (src/x/d.ts) → src/x/d.ts imports "./e.js" (src/x/e.ts) → src/x/e.ts imports "./c.js" (src/x/c.ts)',
    ]);
  });
});
