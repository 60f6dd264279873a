/**
 * The ring's WebAssembly additions against BigInt arithmetic mod 2^128, on vectors that span
 * several of its blocks (4,096 elements each) and end inside one.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ringAddSigned2Words, ringAddSignedWords } from "../../src/math/ring128.js";

const MOD = 1n << 128n;

function element(words: Uint32Array, i: number): bigint {
  let z = 0n;
  for (let j = 3; j >= 0; j--) z = (z << 32n) + BigInt(words[4 * i + j]);
  return z;
}

/** Random words, with runs of 0 and 2^32 − 1 that make carries cross every word. */
function randomWords(elements: number, seed: number): Uint32Array {
  const out = new Uint32Array(4 * elements);
  let s = seed >>> 0;
  for (let k = 0; k < out.length; k++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const pick = s >>> 29;
    out[k] = pick === 0 ? 0 : pick === 1 ? 0xffffffff : Math.imul(s, 2654435761) >>> 0;
  }
  return out;
}

describe("the ring's additions", () => {
  it("adds two signed terms mod 2^128 across block boundaries, in place or not (against BigInt)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 * 4096 + 5 }),
        fc.constantFrom(1 as const, -1 as const),
        fc.constantFrom(1 as const, -1 as const),
        fc.boolean(),
        fc.integer(),
        (n, s1, s2, inPlace, seed) => {
          const a = randomWords(n, seed);
          const b1 = randomWords(n, seed + 1);
          const b2 = randomWords(n, seed + 2);
          const expected = Array.from({ length: n }, (_, i) => {
            const z = element(a, i) + BigInt(s1) * element(b1, i) + BigInt(s2) * element(b2, i);
            return ((z % MOD) + MOD) % MOD;
          });
          const out = inPlace ? a : new Uint32Array(4 * n);
          ringAddSigned2Words(out, a, b1, s1, b2, s2);
          for (let i = 0; i < n; i++) expect(element(out, i)).toBe(expected[i]);
        },
      ),
      { numRuns: 24, seed: 7 },
    );
  });

  it("adds one signed term mod 2^128 across block boundaries, in place or not (against BigInt)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 * 4096 + 5 }),
        fc.constantFrom(1 as const, -1 as const),
        fc.boolean(),
        fc.integer(),
        (n, s, inPlace, seed) => {
          const a = randomWords(n, seed);
          const b = randomWords(n, seed + 1);
          const expected = Array.from({ length: n }, (_, i) => {
            const z = element(a, i) + BigInt(s) * element(b, i);
            return ((z % MOD) + MOD) % MOD;
          });
          const out = inPlace ? a : new Uint32Array(4 * n);
          ringAddSignedWords(out, a, b, s);
          for (let i = 0; i < n; i++) expect(element(out, i)).toBe(expected[i]);
        },
      ),
      { numRuns: 24, seed: 8 },
    );
  });

  it("keeps its operands when out is another vector", () => {
    const a = randomWords(5000, 1);
    const b1 = randomWords(5000, 2);
    const b2 = randomWords(5000, 3);
    const before = [a, b1, b2].map((v) => Uint32Array.from(v));
    ringAddSigned2Words(new Uint32Array(a.length), a, b1, -1, b2, 1);
    expect([a, b1, b2]).toEqual(before);
  });
});
