/**
 * The FMM cubic spline against R's `splinefun(method = "fmm")` (fixtures/spline.R): inside the
 * knots, at them, and beyond them on both sides, from 2 to 998 knots.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fmmSpline, splineAt } from "../../src/math/spline.js";

interface Case {
  name: string;
  x: number[];
  y: number[];
  u: number[];
  value: number[];
}

const cases: Case[] = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures/spline.json"), "utf8"),
);

describe("fmmSpline against R's splinefun(method = 'fmm')", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const s = fmmSpline(Float64Array.from(c.x), Float64Array.from(c.y));
    const scale = Math.max(1, ...c.value.map(Math.abs));
    let worst = 0;
    c.u.forEach((u, k) => {
      worst = Math.max(worst, Math.abs(splineAt(s, u) - c.value[k]) / scale);
    });
    expect(worst).toBeLessThan(1e-13);
  });

  it("refuses knots that do not increase", () => {
    expect(() => fmmSpline(Float64Array.of(0, 0), Float64Array.of(1, 2))).toThrow(/increasing/);
  });
});
