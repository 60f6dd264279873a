/**
 * The Jacobi eigen-decomposition against R's `eigen(symmetric = TRUE)` (LAPACK) on the cases of
 * fixtures/symmetricEigen.R: eigenvalues to a few ulps of the matrix's norm; eigenvectors up to
 * sign (and, for a repeated eigenvalue, as an orthonormal basis of the same eigenspace).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { symmetricEigen } from "../../src/math/symmetricEigen.js";

interface Case {
  name: string;
  k: number;
  a: number[] | number;
  values: number[] | number;
  vectors: number[] | number;
}

const cases: Case[] = JSON.parse(
  readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), "fixtures/symmetricEigen.json"),
    "utf8",
  ),
);
const list = (x: number[] | number) => (Array.isArray(x) ? x : [x]);

describe("symmetricEigen against R's eigen()", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const { k } = c;
    const a = Float64Array.from(list(c.a));
    const norm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    const { values, vectors } = symmetricEigen(a, k);
    const rValues = list(c.values);
    const rVectors = list(c.vectors);
    for (let j = 0; j < k; j++) expect(Math.abs(values[j] - rValues[j])).toBeLessThan(1e-14 * norm);
    for (let j = 0; j < k; j++) {
      // Orthonormal, and an eigenvector: A v = λ v to within the norm's precision.
      for (let l = 0; l < k; l++) {
        let dot = 0;
        for (let i = 0; i < k; i++) dot += vectors[i * k + j] * vectors[i * k + l];
        expect(Math.abs(dot - (j === l ? 1 : 0))).toBeLessThan(1e-14);
      }
      let residual = 0;
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let l = 0; l < k; l++) s += a[i * k + l] * vectors[l * k + j];
        residual = Math.max(residual, Math.abs(s - values[j] * vectors[i * k + j]));
      }
      expect(residual).toBeLessThan(1e-13 * norm);
      // R's vector, up to sign, where the eigenvalue is simple.
      const simple = rValues.every((x, l) => l === j || Math.abs(x - rValues[j]) > 1e-8 * norm);
      if (!simple) continue;
      let dot = 0;
      for (let i = 0; i < k; i++) dot += vectors[i * k + j] * rVectors[i * k + j];
      const sign = Math.sign(dot);
      for (let i = 0; i < k; i++)
        expect(Math.abs(sign * vectors[i * k + j] - rVectors[i * k + j])).toBeLessThan(1e-12);
    }
  });
});
