/**
 * The fixed-point ring encoding against closed-form truth in BigInt: each element is
 * round(x·2^e) mod 2^128, ring sums are exact, and decoded sums are the correctly rounded
 * float64 of the exact fixed-point sum, within n·2^-(e+1) + 2^-53·|sum| of the exact real sum
 * of the float64 terms, and equal to its correct rounding when every term is in the exact window.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeSplitFixed,
  encodeSplitRange,
  ringAdd3Into,
  ringAddSigned2,
} from "../../../src/federation/secureAggregation/fixedPoint.js";
import {
  decodeFixed,
  decodeSplit,
  encodeFixed,
  encodeLimit,
  exactFrom,
  FixedPointError,
  headroomBits,
  MAX_SCALE_EXPONENT,
  MIN_SCALE_EXPONENT,
  ringAdd,
  ringBytes,
  ringFromBytes,
  ringSub,
  ringVector,
  scaleExponentFor,
  sumErrorBound,
  sumRings,
} from "../../../src/federation/secureAggregation/index.js";
import {
  exactOf,
  isCorrectlyRounded,
  referenceEncode,
  ringSigned,
  SHIFT,
  setRing,
} from "../../helpers/exactFloat.js";

/** Encode each center's vector, add them in the ring, decode. */
function ringSum(centers: readonly Float64Array[], e: number): Float64Array {
  const acc = ringVector(centers[0].length);
  for (const values of centers) ringAdd(acc, encodeFixed(values, e, centers.length, "f"));
  return decodeFixed(acc, e);
}

/**
 * Check a decoded sum against the truth: the fixed-point sum of the reference encodings,
 * correctly rounded; the stated error bound against the exact real sum; and, if every term
 * is a multiple of 2^-e, the correctly rounded exact real sum.
 */
function checkSum(centers: readonly Float64Array[], e: number, decoded: Float64Array): void {
  const n = centers.length;
  for (let i = 0; i < decoded.length; i++) {
    let fixed = 0n;
    let real = 0n;
    let allExact = true;
    for (const values of centers) {
      const q = referenceEncode(values[i], e);
      fixed += q;
      const x = exactOf(values[i]);
      real += x;
      if (x !== q << BigInt(SHIFT - e)) allExact = false;
    }
    const fixedScaled = fixed << BigInt(SHIFT - e);
    expect(isCorrectlyRounded(decoded[i], fixedScaled), `element ${i}: ${decoded[i]}`).toBe(true);
    const error = exactOf(decoded[i]) - real;
    // n·2^-(e+1) + 2^-53·|decoded|, scaled by 2^SHIFT; in BigInt, rounded up.
    const bound =
      (BigInt(n) << BigInt(SHIFT - e - 1)) +
      ((exactOf(Math.abs(decoded[i])) + (1n << 53n) - 1n) >> 53n);
    expect(error <= bound && -error <= bound, `element ${i}: error beyond bound`).toBe(true);
    if (allExact) expect(isCorrectlyRounded(decoded[i], real), `element ${i} exact`).toBe(true);
  }
}

describe("fixed-point encoding", () => {
  it("encodes round(x·2^e) in two's complement, as BigInt does", () => {
    const xs = new Float64Array([
      0,
      -0,
      1,
      -1,
      0.5,
      -0.5,
      1.5,
      -2.5,
      1e-10,
      -1e11,
      123.456,
      2 ** 80,
    ]);
    for (const e of [0, 7, 40, -20]) {
      const ring = encodeFixed(xs, e, 3, "f");
      for (const [i, x] of xs.entries()) expect(ringSigned(ring, i)).toBe(referenceEncode(x, e));
    }
  });

  it("splits at JavaScript's Math.round, ties towards +∞ on either sign (against BigInt)", () => {
    const below = 0.49999999999999994; // the largest double below 1/2: rounds to 0, not 1
    const xs = Float64Array.of(
      0.5,
      -0.5,
      1.5,
      -1.5,
      -2.5,
      2.5,
      below,
      -below,
      1 + below,
      -(1 + below),
      2 ** 52 - 0.5,
      -(2 ** 52 - 0.5),
      2 ** 53 + 2,
      -(2 ** 53 + 2),
      -0,
    );
    for (const e of [0, 3, -2]) {
      // At e: the same halves and near-halves of 2^-e.
      const scaled = xs.map((x) => x * 2 ** -e);
      const f = e + 121;
      const { coarse, fine } = encodeSplitFixed(scaled, e, f, 3, "x", "fine:x");
      scaled.forEach((x, i) => {
        const h = Math.round(x * 2 ** e) * 2 ** -e;
        expect(ringSigned(coarse, i), `${x} at 2^${e}`).toBe(referenceEncode(h, e));
        expect(ringSigned(fine, i), `${x} at 2^${e}`).toBe(referenceEncode(x - h, f));
      });
    }
    // Math.round's ties, written out: towards +∞ whatever the sign.
    expect([0.5, -0.5, -2.5, below].map(Math.round)).toEqual([1, -0, -2, 0]);
  });

  it("encodes a split field in one pass as its two parts encoded apart (property, against BigInt)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -40, max: 120 }),
        fc.array(
          fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -200, max: 0 })),
          { minLength: 1, maxLength: 30 },
        ),
        (e, terms) => {
          const f = e + 121;
          const limit = encodeLimit(e, 3);
          const xs = Float64Array.from(terms, ([m, k]) => m * limit * 2 ** k * 0.999);
          const { coarse, fine } = encodeSplitFixed(xs, e, f, 3, "x", "fine:x");
          xs.forEach((x, i) => {
            const h = Math.round(x * 2 ** e) * 2 ** -e;
            expect(ringSigned(coarse, i)).toBe(referenceEncode(h, e));
            expect(ringSigned(fine, i)).toBe(referenceEncode(x - h, f));
          });
          expect(coarse).toEqual(
            encodeFixed(
              Float64Array.from(xs, (x) => Math.round(x * 2 ** e) * 2 ** -e),
              e,
              3,
              "x",
            ),
          );
        },
      ),
      { numRuns: 300, seed: 21 },
    );
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => encodeSplitFixed(Float64Array.of(1, bad), 10, 131, 3, "x", "fine:x")).toThrow(
        /"x"\[1\]/,
      );
    }
    expect(() =>
      encodeSplitFixed(Float64Array.of(0, encodeLimit(10, 3)), 10, 131, 3, "x", "fine:x"),
    ).toThrow(/"x"\[1\].*beyond/);
  });

  it("adds a range's mask words as it encodes: each part's encoding plus Σ sign·words mod 2^128 (against BigInt)", () => {
    // 0 to 5 masks of mixed signs over 9,000 values (three of the kernel's 4,096-value blocks),
    // the range starting at value 300 of the input; the words random, edge words included.
    const e = 20;
    const f = e + 121;
    const limit = encodeLimit(e, 6);
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    const values = Float64Array.from({ length: 9_300 }, (_, i) =>
      i % 97 === 0 ? 0 : ((next() / 2 ** 32) * 2 - 1) * limit * 2 ** -(next() % 180),
    );
    const from = 300;
    const to = values.length;
    const words = (to - from) * 4;
    const randomWords = () =>
      Uint32Array.from({ length: words }, (_, k) => (k % 13 === 0 ? 0xffffffff : next()));
    const modulus = 1n << 128n;
    for (const signs of [
      [],
      [1],
      [-1],
      [1, -1],
      [-1, -1, 1],
      [1, 1, -1, -1],
      [-1, 1, 1, -1, 1],
    ] as (1 | -1)[][]) {
      const masks = { coarse: signs.map(randomWords), fine: signs.map(randomWords), signs };
      const coarse = ringVector(to - from);
      const fine = ringVector(to - from);
      encodeSplitRange(values, from, to, e, f, 6, "x", "fine:x", coarse, fine, masks);
      for (let i = 0; i < to - from; i++) {
        const x = values[from + i];
        const h = Math.round(x * 2 ** e) * 2 ** -e;
        let c = referenceEncode(h, e);
        let g = referenceEncode(x - h, f);
        signs.forEach((s, m) => {
          c += BigInt(s) * ringSigned(masks.coarse[m], i);
          g += BigInt(s) * ringSigned(masks.fine[m], i);
        });
        const wrap = (n: bigint) => BigInt.asIntN(128, ((n % modulus) + modulus) % modulus);
        expect(ringSigned(coarse, i), `coarse ${i}, ${signs.length} masks`).toBe(wrap(c));
        expect(ringSigned(fine, i), `fine ${i}, ${signs.length} masks`).toBe(wrap(g));
      }
    }
    // Refusals name the value's index in the input, masks or not; words too short are refused.
    const bad = Float64Array.from(values);
    bad[5_000] = Number.NaN;
    const masks = { coarse: [randomWords()], fine: [randomWords()], signs: [1 as const] };
    const out = () => [ringVector(to - from), ringVector(to - from)] as const;
    expect(() => encodeSplitRange(bad, from, to, e, f, 6, "x", "fine:x", ...out(), masks)).toThrow(
      /"x"\[5000\]/,
    );
    const short = { ...masks, fine: [masks.fine[0].subarray(4)] };
    expect(() =>
      encodeSplitRange(values, from, to, e, f, 6, "x", "fine:x", ...out(), short),
    ).toThrow(/masks' words/);
  });

  it("round-trips values that are multiples of 2^-e, at both ends of the scale range", () => {
    for (const e of [MIN_SCALE_EXPONENT, -100, 0, 52, 300, MAX_SCALE_EXPONENT]) {
      const limit = encodeLimit(e, 4);
      const from = exactFrom(e);
      const xs = new Float64Array([from, -from, limit / 3, -limit / 2, from * 1234567, 0]);
      expect(Array.from(decodeFixed(encodeFixed(xs, e, 4, "f"), e))).toEqual(Array.from(xs));
    }
  });

  it("encodes exactly any term within 75−h binary orders of the bound (≈21 decimal for 32 centers)", () => {
    const e = scaleExponentFor(1e11, 32);
    expect(e).toBe(127 - 5 - 37); // 1e11 < 2^37
    expect(Math.log2(encodeLimit(e, 32) / exactFrom(e))).toBe(70);
    expect(Math.log10(encodeLimit(e, 32) / exactFrom(e))).toBeGreaterThan(21);
    // Four centers leave 73 orders: 1e-10 … 1e11 (21 decimal orders) all exact.
    const e4 = scaleExponentFor(1e11, 4);
    expect(exactFrom(e4)).toBeLessThan(1e-10);
  });

  it("sums terms spanning 1e-10 … 1e11 in one field: the exact sum, correctly rounded", () => {
    const e = scaleExponentFor(1e11, 4);
    const a = new Float64Array([1e11, 1e-10, -3.3e7, 0.1, 1e11, -1e-10, 7e-5]);
    const b = new Float64Array([1e-10, 1e11, 0.3, 2.2e-3, -1e11 + 1, 1e-10, -7e-5]);
    const c = new Float64Array([-1e11, 5.5e-9, 1e10, -0.4, 1e-10, 9.99e10, 1.3e-10]);
    const decoded = ringSum([a, b, c], e);
    checkSum([a, b, c], e, decoded);
    // Float64 left-to-right sums lose the small terms; the ring does not.
    expect(decoded[0]).toBe(1e-10); // 1e11 + 1e-10 − 1e11, exactly
    expect(1e11 + 1e-10 + -1e11).toBe(0);
  });

  it("with the widest headroom, small terms round within the stated bound", () => {
    const e = scaleExponentFor(1e11, 32);
    const centers = [1e-10, -3e-11, 7.77e-12, 1e11].map((x) => new Float64Array([x, -x, x / 3]));
    const decoded = ringSum(centers, e);
    checkSum(centers, e, decoded);
    for (let i = 0; i < decoded.length; i++) {
      let exact = 0;
      for (const c of centers) exact += c[i];
      expect(Math.abs(decoded[i] - exact)).toBeLessThanOrEqual(
        sumErrorBound(e, centers.length, decoded[i]) + 2 ** -52 * Math.abs(exact),
      );
    }
  });

  it("sums random vectors of random magnitudes exactly as BigInt does (property)", () => {
    const scale = fc.integer({ min: -60, max: 200 });
    fc.assert(
      fc.property(
        scale,
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.infiniteStream(
          fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -80, max: 0 })),
        ),
        (e, n, length, stream) => {
          // Values of mixed magnitudes up to the per-center limit.
          const limit = encodeLimit(e, n);
          const it = stream[Symbol.iterator]();
          const centers = Array.from({ length: n }, () =>
            Float64Array.from({ length }, () => {
              const [m, k] = it.next().value as [number, number];
              return m * limit * 2 ** k * 0.999;
            }),
          );
          const encoded = centers.map((c) => encodeFixed(c, e, n, "f"));
          for (const [c, ring] of encoded.entries()) {
            for (const [i, x] of centers[c].entries()) {
              expect(ringSigned(ring, i)).toBe(referenceEncode(x, e));
            }
          }
          checkSum(centers, e, ringSum(centers, e));
        },
      ),
      { numRuns: 200, seed: 12 },
    );
  });

  it("decodes any ring element to the correctly rounded double (sticky bits, ties to even)", () => {
    const e = 10;
    const cases = [
      (1n << 64n) + (1n << 11n), // tie between 2^64 and 2^64+2^12: to even (2^64)
      (1n << 64n) + (1n << 11n) + 1n, // just above the tie: up
      (1n << 64n) + (3n << 11n), // tie, odd below: up
      (1n << 127n) - 1n,
      -(1n << 127n),
      (1n << 53n) + 1n,
      -((1n << 100n) + (1n << 47n)),
      -((1n << 100n) + (1n << 47n) + (1n << 3n)),
      (1n << 96n) + (1n << 43n) + 1n, // sticky from word 0 when the window starts in word 1
      (1n << 95n) + (1n << 42n) + 1n,
    ];
    const v = ringVector(cases.length);
    for (const [i, c] of cases.entries()) setRing(v, i, c);
    const d = decodeFixed(v, e);
    for (const [i, c] of cases.entries()) {
      expect(isCorrectlyRounded(d[i], c << BigInt(SHIFT - e)), `case ${i}`).toBe(true);
    }
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 127n), max: (1n << 127n) - 1n }),
        fc.integer({ min: 0, max: 127 }),
        fc.integer({ min: MIN_SCALE_EXPONENT, max: MAX_SCALE_EXPONENT }),
        (big, shift, scale) => {
          const n = big >> BigInt(shift); // all magnitudes, not only huge ones
          const one = ringVector(1);
          setRing(one, 0, n);
          const [x] = decodeFixed(one, scale);
          const truth = scale <= SHIFT ? n << BigInt(SHIFT - scale) : 0n;
          expect(isCorrectlyRounded(x, truth)).toBe(true);
        },
      ),
      { numRuns: 3000, seed: 5 },
    );
  });

  it("decodes a split pair C·2^-e + F·2^-f to the correctly rounded double of the whole (property)", () => {
    // The double-rounding trap: C alone rounds to 1, F alone to 2^-53 (a tie), yet the pair
    // lies just above 1 + 2^-53 (F carries a further 2^-140): correct is 1 + 2^-52.
    const e = 58;
    const f = 179;
    const coarse = ringVector(1);
    const fine = ringVector(1);
    setRing(coarse, 0, 1n << 58n); // 1 at scale 2^-58
    setRing(fine, 0, (1n << 126n) + (1n << 39n)); // 2^-53 + 2^-140 at scale 2^-179
    expect(decodeSplit(coarse, e, fine, f)[0]).toBe(1 + 2 ** -52);
    expect(decodeFixed(coarse, e)[0] + decodeFixed(fine, f)[0]).toBe(1);
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(1n << 120n), max: (1n << 120n) - 1n }),
        fc.bigInt({ min: -(1n << 120n), max: (1n << 120n) - 1n }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: -100, max: 120 }),
        (c, x, cShift, xShift, scale) => {
          const C = c >> BigInt(cShift);
          const F = x >> BigInt(xShift);
          const fineScale = scale + 121;
          const a = ringVector(1);
          const b = ringVector(1);
          setRing(a, 0, C);
          setRing(b, 0, F);
          const [d] = decodeSplit(a, scale, b, fineScale);
          const truth = (C << BigInt(SHIFT - scale)) + (F << BigInt(SHIFT - fineScale));
          expect(isCorrectlyRounded(d, truth), `${C}, ${F} at ${scale}`).toBe(true);
        },
      ),
      { numRuns: 3000, seed: 9 },
    );
  });

  it("decodes a split pair at any exponents, full-range words included (property, against BigInt)", () => {
    const edges = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
    const word = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: 0xffffffff }));
    const element = fc.tuple(word, word, word, word);
    // Every shift at a limb's edge (whole 64-bit limbs, no bit shift), with every edge word.
    for (const shift of [0, 1, 31, 32, 63, 64, 65, 96, 127]) {
      const f = 200;
      const e = f - shift;
      const a = ringVector(edges.length ** 2);
      const b = ringVector(edges.length ** 2);
      for (const [i, x] of edges.entries()) {
        for (const [j, y] of edges.entries()) {
          const k = i * edges.length + j;
          a.set([y, x, y, x], 4 * k);
          b.set([x, y, x, y], 4 * k);
        }
      }
      const d = decodeSplit(a, e, b, f);
      d.forEach((value, i) => {
        const truth =
          (ringSigned(a, i) << BigInt(SHIFT - e)) + (ringSigned(b, i) << BigInt(SHIFT - f));
        expect(isCorrectlyRounded(value, truth), `element ${i} at shift ${shift}`).toBe(true);
      });
    }
    fc.assert(
      fc.property(
        fc.array(fc.tuple(element, element), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 140 }),
        fc.integer({ min: -20, max: MAX_SCALE_EXPONENT }),
        (pairs, shift, f) => {
          const e = Math.max(MIN_SCALE_EXPONENT, f - shift);
          const a = ringVector(pairs.length);
          const b = ringVector(pairs.length);
          pairs.forEach(([x, y], i) => {
            a.set(x, 4 * i);
            b.set(y, 4 * i);
          });
          const d = decodeSplit(a, e, b, f);
          pairs.forEach((_, i) => {
            const truth =
              (ringSigned(a, i) << BigInt(SHIFT - e)) + (ringSigned(b, i) << BigInt(SHIFT - f));
            expect(isCorrectlyRounded(d[i], truth), `element ${i} at ${e}, ${f}`).toBe(true);
            expect(Object.is(d[i], -0)).toBe(false);
          });
        },
      ),
      { numRuns: 2000, seed: 11 },
    );
  });

  it("adds and subtracts ring vectors mod 2^128 (property, against BigInt)", () => {
    const element = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(element, element), { minLength: 1, maxLength: 20 }),
        (pairs) => {
          const a = ringVector(pairs.length);
          const b = ringVector(pairs.length);
          pairs.forEach(([x, y], i) => {
            setRing(a, i, x);
            setRing(b, i, y);
          });
          const sum = Uint32Array.from(a);
          ringAdd(sum, b);
          const diff = Uint32Array.from(a);
          ringSub(diff, b);
          const wrap = (z: bigint) => {
            const u = ((z % (1n << 128n)) + (1n << 128n)) % (1n << 128n);
            return u >= 1n << 127n ? u - (1n << 128n) : u;
          };
          pairs.forEach(([x, y], i) => {
            expect(ringSigned(sum, i)).toBe(wrap(x + y));
            expect(ringSigned(diff, i)).toBe(wrap(x - y));
          });
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });

  it("propagates carries and borrows through every word (edge words, against BigInt)", () => {
    // Words next to the wrap points, where a carry chain runs through all four words.
    const edges = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const element = fc.tuple(
      fc.constantFrom(...edges),
      fc.constantFrom(...edges),
      fc.constantFrom(...edges),
      fc.constantFrom(...edges),
    );
    const big = ([w0, w1, w2, w3]: [number, number, number, number]) =>
      BigInt(w0) + (BigInt(w1) << 32n) + (BigInt(w2) << 64n) + (BigInt(w3) << 96n);
    const wrap = (z: bigint) => {
      const u = ((z % (1n << 128n)) + (1n << 128n)) % (1n << 128n);
      return u >= 1n << 127n ? u - (1n << 128n) : u;
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(element, element), { minLength: 1, maxLength: 40 }),
        (pairs) => {
          const a = ringVector(pairs.length);
          const b = ringVector(pairs.length);
          pairs.forEach(([x, y], i) => {
            a.set(x, 4 * i);
            b.set(y, 4 * i);
          });
          const sum = Uint32Array.from(a);
          ringAdd(sum, b);
          const diff = Uint32Array.from(a);
          ringSub(diff, b);
          pairs.forEach(([x, y], i) => {
            expect(ringSigned(sum, i)).toBe(wrap(big(x) + big(y)));
            expect(ringSigned(diff, i)).toBe(wrap(big(x) - big(y)));
          });
        },
      ),
      { numRuns: 500, seed: 4 },
    );
  });

  it("adds two signed terms, or three shares, in one pass mod 2^128 (edge and random words, against BigInt)", () => {
    const edges = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const word = fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max: 0xffffffff }));
    const element = fc.tuple(word, word, word, word);
    const big = ([w0, w1, w2, w3]: [number, number, number, number]) =>
      BigInt(w0) + (BigInt(w1) << 32n) + (BigInt(w2) << 64n) + (BigInt(w3) << 96n);
    const wrap = (z: bigint) => {
      const u = ((z % (1n << 128n)) + (1n << 128n)) % (1n << 128n);
      return u >= 1n << 127n ? u - (1n << 128n) : u;
    };
    const sign = fc.constantFrom(1 as const, -1 as const);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(element, element, element), { minLength: 1, maxLength: 40 }),
        sign,
        sign,
        (triples, s1, s2) => {
          const a = ringVector(triples.length);
          const b1 = ringVector(triples.length);
          const b2 = ringVector(triples.length);
          triples.forEach(([x, y, z], i) => {
            a.set(x, 4 * i);
            b1.set(y, 4 * i);
            b2.set(z, 4 * i);
          });
          const acc = Uint32Array.from(a);
          ringAddSigned2(acc, b1, s1, b2, s2);
          triples.forEach(([x, y, z], i) => {
            expect(ringSigned(acc, i)).toBe(
              wrap(big(x) + BigInt(s1) * big(y) + BigInt(s2) * big(z)),
            );
          });
          // Three shares into a fresh vector, the inputs untouched.
          const before = [Uint32Array.from(a), Uint32Array.from(b1), Uint32Array.from(b2)];
          const sum3 = ringVector(triples.length);
          ringAdd3Into(sum3, a, b1, b2);
          triples.forEach(([x, y, z], i) => {
            expect(ringSigned(sum3, i)).toBe(wrap(big(x) + big(y) + big(z)));
          });
          expect([a, b1, b2]).toEqual(before);
          // sumRings over 2 … 7 shares (one pass for the first two or three, then pairs).
          const vectors = [a, b1, b2, b1, a, b2, b2];
          for (let m = 2; m <= vectors.length; m++) {
            const total = sumRings(
              "f",
              vectors.slice(0, m).map((v) => ({ f: v })),
            );
            triples.forEach(([x, y, z], i) => {
              const terms = [x, y, z, y, x, z, z].slice(0, m).map(big);
              expect(ringSigned(total, i)).toBe(wrap(terms.reduce((u, v) => u + v, 0n)));
            });
          }
        },
      ),
      { numRuns: 500, seed: 5 },
    );
  });

  it("refuses values at or beyond the bound, naming the field and index, rather than wrapping", () => {
    const e = scaleExponentFor(1000, 8);
    const limit = encodeLimit(e, 8);
    expect(limit).toBeGreaterThan(1000);
    const below = limit * (1 - 2 ** -53); // the largest double below the limit
    expect(() => encodeFixed(new Float64Array([below, -below]), e, 8, "beta")).not.toThrow();
    const attempt = () => encodeFixed(new Float64Array([1, -limit]), e, 8, "beta");
    expect(attempt).toThrow(FixedPointError);
    expect(attempt).toThrow(/"beta"\[1\].*beyond the field's bound/);
    // More centers, less room: the same value fits for 8 centers but not for 9.
    expect(() => encodeFixed(new Float64Array([below]), e, 9, "beta")).toThrow(FixedPointError);
    // The bound holds for the sum: 8 centers at the limit's edge cannot wrap.
    const edge = Array.from({ length: 8 }, () => new Float64Array([-below, below]));
    const sum = ringSum(edge, e);
    expect(sum[0]).toBe(-8 * below);
    expect(sum[1]).toBe(8 * below);
  });

  it("refuses NaN and ±∞, naming the field", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const attempt = () => encodeFixed(new Float64Array([0, 1, bad]), 10, 3, "sumWeights");
      expect(attempt).toThrow(FixedPointError);
      expect(attempt).toThrow(new RegExp(`"sumWeights"\\[2\\]: ${bad} cannot be summed`));
    }
  });

  it("chooses the scale from a public bound and refuses impossible ones", () => {
    expect(headroomBits(1)).toBe(0);
    expect(headroomBits(2)).toBe(1);
    expect(headroomBits(32)).toBe(5);
    expect(headroomBits(33)).toBe(6);
    expect(scaleExponentFor(1, 1)).toBe(126); // 1 < 2^1
    expect(scaleExponentFor(0.999, 1)).toBe(127); // 0.999 < 2^0
    expect(scaleExponentFor(2 ** 40, 16)).toBe(127 - 4 - 41);
    expect(() => scaleExponentFor(Number.NaN, 2)).toThrow(/magnitude bound/);
    expect(() => scaleExponentFor(1e-300, 2)).toThrow(/scale exponent/);
    expect(() => encodeFixed(new Float64Array(1), 0.5, 2, "f")).toThrow(/scale exponent/);
  });

  it("gives little-endian bytes: element i is bytes 16i … 16i+15", () => {
    const v = encodeFixed(new Float64Array([1, -1, 2 ** 70]), 0, 2, "f");
    const bytes = ringBytes(v);
    expect(Array.from(bytes.subarray(0, 16))).toEqual([1, ...new Array(15).fill(0)]);
    expect(Array.from(bytes.subarray(16, 32))).toEqual(new Array(16).fill(255));
    expect(bytes[32 + 8]).toBe(64); // 2^70 = byte 8, bit 6
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(ringFromBytes(shifted.subarray(1)))).toEqual(Array.from(v));
    expect(() => ringFromBytes(new Uint8Array(15))).toThrow(/multiple of 16/);
  });
});
