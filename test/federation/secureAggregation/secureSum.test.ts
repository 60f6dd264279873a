/**
 * The secure-sum core on pair secrets fixed by the test: pairwise masks cancel in the sum over
 * all centers (3, 4, 5 centers) and the sums decode within the stated bound; a center's masked
 * share (and any proper subset's sum) is indistinguishable from uniform bytes by a chi-square
 * test on byte values and a bit-balance test, tests shown to have power on the unmasked
 * encoding; masks are deterministic per label and differ across labels.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  countField,
  decodeFixed,
  decodeOr,
  decodeSplit,
  encodeCount,
  encodeFixed,
  encodeLimit,
  encodeSplitFixed,
  type MaskedShare,
  maskRing,
  maskShare,
  maskSplitField,
  maskStream,
  type PairSecrets,
  ringAdd,
  ringBytes,
  ringVector,
  type SecureSumTag,
  type SummedField,
  scaleExponentFor,
  sumErrorBound,
  sumRings,
  sumSplitRings,
  unmaskSum,
} from "../../../src/federation/secureAggregation/index.js";
import { applyMask, applyMasks } from "../../../src/federation/secureAggregation/masks.js";
import { exactOf, isCorrectlyRounded, referenceEncode, SHIFT } from "../../helpers/exactFloat.js";
import { rng } from "../../helpers/random.js";

const RUN = "run-7";

/** Pair secrets for `n` centers from a seed: the same secret on both sides of each pair. */
function pairSecrets(n: number, seed = "seed"): PairSecrets[] {
  const centers = Array.from({ length: n }, (_, i) => `center${i}`);
  const secret = (i: number, j: number) =>
    new Uint8Array(
      createHash("sha256")
        .update(`${seed}/${Math.min(i, j)}/${Math.max(i, j)}`)
        .digest(),
    );
  return centers.map((_, self) => ({
    runId: RUN,
    centers,
    selfIndex: self,
    secrets: centers.map((_, j) => (j === self ? null : secret(self, j))),
    own: new Uint8Array(createHash("sha256").update(`${seed}/own/${self}`).digest()),
  }));
}

const TAG: SecureSumTag = {
  runId: RUN,
  phase: "irls",
  step: "irlsLocal",
  round: 3,
  request: "ab12",
};

/** A split field's scale exponents for public bound `bound` (as the layer derives them). */
function splitExponents(bound: number): { e: number; f: number } {
  const e = scaleExponentFor(bound, 64);
  return { e, f: scaleExponentFor(2 ** -(e + 1), 64) };
}

/**
 * `length` values of both signs over binary orders `low` … `low + span` (every 97th a zero, −0
 * or subnormal), so that both parts of a split carry words and borrows.
 */
function splitValues(u: () => number, length: number, low: number, span: number): Float64Array {
  return Float64Array.from({ length }, (_, i) =>
    i % 97 === 0
      ? [0, -0, 5e-324, -2.2e-308][i % 4]
      : (u() < 0.5 ? -1 : 1) * u() * 2 ** Math.floor(u() * span + low),
  );
}

/** Values of mixed magnitudes and signs, deterministic. */
function values(length: number, seed: number, scale: number): Float64Array {
  const u = rng(seed);
  return Float64Array.from({ length }, () => (u() - 0.5) * scale * 10 ** (-12 * u()));
}

/** Chi-square statistic of byte values against uniform over 256 values. */
function chiSquareBytes(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]++;
  const expected = bytes.length / 256;
  let chi = 0;
  for (const c of counts) chi += (c - expected) ** 2 / expected;
  return chi;
}

/** Largest |z| over the 128 bit positions of ring elements of the share being 1 with p = 1/2. */
function worstBitImbalance(ring: Uint32Array): number {
  const elements = ring.length / 4;
  let worst = 0;
  for (let bit = 0; bit < 128; bit++) {
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    let ones = 0;
    for (let i = 0; i < elements; i++) if (ring[4 * i + word] & mask) ones++;
    worst = Math.max(worst, Math.abs(ones - elements / 2) / Math.sqrt(elements / 4));
  }
  return worst;
}

// Chi-square with 255 degrees of freedom: P(χ² > 377) ≈ 1e-6 (Wilson–Hilferty); a bit
// imbalance of |z| > 5.5 over 128 positions has probability ≈ 5e-6. Seeds are fixed, so these
// tests are deterministic; the thresholds say how surprising a failure would be.
const CHI_SQUARE_LIMIT = 377;
const Z_LIMIT = 5.5;

describe("secure sums", () => {
  for (const n of [3, 4, 5]) {
    it(`${n} centers: the masks cancel and the sums decode within the stated bound`, () => {
      const fields: SummedField[] = [
        { name: "wide", scaleExponent: scaleExponentFor(1e6, 32) },
        { name: "narrow", scaleExponent: scaleExponentFor(1, n) },
        countField("count"),
      ];
      const pairs = pairSecrets(n);
      const data = pairs.map((_, c) => ({
        wide: values(500, 100 + c, 1e6),
        narrow: values(500, 200 + c, 1),
        count: encodeCount(Array.from({ length: 500 }, (_, i) => (i * (c + 1)) % 3 === 0)),
      }));
      const shares = pairs.map((p, c) => maskShare(p, TAG, fields, data[c]));
      const sums = unmaskSum(fields, shares);
      for (const field of fields) {
        const e = "scaleExponent" in field ? field.scaleExponent : 0;
        const key = field.name as keyof (typeof data)[0];
        // Bit for bit the decoded sum of the plain encodings: the masks left nothing behind.
        const plain = ringVector(500);
        for (const d of data) ringAdd(plain, encodeFixed(d[key], e, n, field.name));
        expect(Array.from(sums[field.name])).toEqual(Array.from(decodeFixed(plain, e)));
        for (let i = 0; i < 500; i++) {
          let fixed = 0n;
          let real = 0;
          for (const d of data) {
            fixed += referenceEncode(d[key][i], e);
            real += d[key][i];
          }
          expect(isCorrectlyRounded(sums[field.name][i], fixed << BigInt(SHIFT - e))).toBe(true);
          const bound = sumErrorBound(e, n, sums[field.name][i]);
          // `real` is a float sum: allow its own rounding (n ulps) on top of the bound.
          const slack = n * 2 ** -52 * data.reduce((s, d) => s + Math.abs(d[key][i]), 0);
          expect(Math.abs(sums[field.name][i] - real)).toBeLessThanOrEqual(bound + slack);
        }
      }
      const counts = sums.count;
      for (let i = 0; i < 500; i++) {
        let expected = 0;
        for (let c = 0; c < n; c++) if ((i * (c + 1)) % 3 === 0) expected++;
        expect(counts[i]).toBe(expected);
      }
      expect(exactOf(counts[0])).toBe(BigInt(n) << BigInt(SHIFT));
    });
  }

  it("each masked share, and the sum of any proper subset of shares, looks uniform", () => {
    const n = 4;
    const length = 40_000; // 640 000 bytes per share
    const e = scaleExponentFor(100, 8);
    const fields: SummedField[] = [{ name: "x", scaleExponent: e }];
    const pairs = pairSecrets(n, "uniform");
    // Very structured values: small integers, mostly zeros.
    const data = pairs.map((_, c) => ({
      x: Float64Array.from({ length }, (_, i) => (i % 7 === c ? 1 : 0)),
    }));
    const shares = pairs.map((p, c) => maskShare(p, TAG, fields, data[c]));
    for (const share of shares) {
      expect(chiSquareBytes(ringBytes(share.x))).toBeLessThan(CHI_SQUARE_LIMIT);
      expect(worstBitImbalance(share.x)).toBeLessThan(Z_LIMIT);
    }
    const partial = Uint32Array.from(shares[0].x);
    ringAdd(partial, shares[1].x);
    ringAdd(partial, shares[2].x);
    expect(chiSquareBytes(ringBytes(partial))).toBeLessThan(CHI_SQUARE_LIMIT);
    expect(worstBitImbalance(partial)).toBeLessThan(Z_LIMIT);
    // The tests have power: the unmasked encoding of the same values fails both by far.
    const plain = encodeFixed(data[0].x, e, n, "x");
    expect(chiSquareBytes(ringBytes(plain))).toBeGreaterThan(100 * CHI_SQUARE_LIMIT);
    expect(worstBitImbalance(plain)).toBeGreaterThan(10 * Z_LIMIT);
    // … and so does a lightly biased generator: uniform bytes but for 1% forced to zero.
    const u = rng(9);
    const biased = new Uint8Array(length * 16).map(() => (u() < 0.01 ? 0 : Math.floor(u() * 256)));
    expect(chiSquareBytes(biased)).toBeGreaterThan(CHI_SQUARE_LIMIT);
  });

  it("masks are the same on both sides of a pair and differ with every part of the label", () => {
    const [a, b] = pairSecrets(2);
    const label = { ...TAG, request: TAG.request ?? "", field: "x", length: 64 };
    const ab = a.secrets[1] as Uint8Array;
    expect(Array.from(maskStream(ab, label))).toEqual(
      Array.from(maskStream(b.secrets[0] as Uint8Array, label)),
    );
    const base = Array.from(maskStream(ab, label));
    for (const change of [
      { runId: "run-8" },
      { phase: "pqn" },
      { step: "other" },
      { round: 4 },
      { request: "ab13" },
      { field: "y" },
    ]) {
      const other = Array.from(maskStream(ab, { ...label, ...change }));
      expect(other, JSON.stringify(change)).not.toEqual(base);
    }
    // A longer field's stream is not an extension of a shorter one's (length is in the label).
    expect(Array.from(maskStream(ab, { ...label, length: 65 })).slice(0, 256)).not.toEqual(base);
    // Streams longer than one keystream chunk (65 536 elements) continue the same stream.
    const long = maskStream(ab, { ...label, length: 70_000 });
    const again = maskStream(ab, { ...label, length: 70_000 });
    expect(Buffer.from(ringBytes(long)).equals(Buffer.from(ringBytes(again)))).toBe(true);
  });

  it("applying several pair masks at once leaves the ring sum of applying each in turn", () => {
    const pairs = pairSecrets(4);
    const secrets = (pairs[0].secrets.slice(1) as Uint8Array[]).concat([
      pairs[1].secrets[2] as Uint8Array,
    ]);
    // Across a keystream chunk (65 536 elements), for one to four masks of either sign.
    const label = { ...TAG, request: TAG.request ?? "", field: "x", length: 70_000 };
    const u = rng(21);
    const start = Uint32Array.from({ length: 4 * label.length }, () => Math.floor(u() * 2 ** 32));
    for (let count = 1; count <= secrets.length; count++) {
      for (const signs of [
        [1, 1, 1, 1],
        [-1, -1, -1, -1],
        [1, -1, 1, -1],
        [-1, 1, -1, 1],
      ] as const) {
        const masks = secrets.slice(0, count).map((secret, m) => ({ secret, sign: signs[m] }));
        const oneByOne = Uint32Array.from(start);
        for (const { secret, sign } of masks) applyMask(oneByOne, secret, label, sign);
        const together = Uint32Array.from(start);
        applyMasks(together, masks, label);
        expect(Buffer.from(together.buffer).equals(Buffer.from(oneByOne.buffer))).toBe(true);
      }
    }
  });

  it("a split field masked as it is encoded is encoding, then masking, word for word, digested", () => {
    // 2 to 5 centers (one to four masks, both signs), lengths within one keystream chunk, at its
    // end and across it, values of every sign and binary order the split covers.
    const u = rng(33);
    const { e, f } = splitExponents(1e15);
    for (const n of [2, 3, 4, 5]) {
      const pairs = pairSecrets(n, `split-${n}`);
      for (const length of [1, 4095, 4096, 4097, 9000]) {
        const xs = splitValues(u, length, -110, 160);
        for (const center of [0, n - 1]) {
          const encoding = {
            values: xs,
            scaleExponent: e,
            fineExponent: f,
            centers: n,
            field: "x",
            fineField: "fine:x",
          };
          const fused = maskSplitField(pairs[center], TAG, encoding);
          const parts = encodeSplitFixed(xs, e, f, n, "x", "fine:x");
          maskRing(pairs[center], TAG, "x", parts.coarse);
          maskRing(pairs[center], TAG, "fine:x", parts.fine);
          expect(
            Buffer.from(ringBytes(fused.coarse)).equals(Buffer.from(ringBytes(parts.coarse))),
          ).toBe(true);
          expect(
            Buffer.from(ringBytes(fused.fine)).equals(Buffer.from(ringBytes(parts.fine))),
          ).toBe(true);
          // Each part's digest (streamed chunk by chunk beyond one chunk) is its bytes' SHA-256.
          for (const [digest, ring] of [
            [fused.coarseDigest, fused.coarse],
            [fused.fineDigest, fused.fine],
          ] as const) {
            const sha = createHash("sha256").update(ringBytes(ring)).digest();
            expect(Buffer.from(digest).equals(sha)).toBe(true);
          }
        }
      }
    }
    // The same refusals, naming the value's index in the whole vector (here past the first chunk).
    const pairs = pairSecrets(3, "split-refusals");
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, encodeLimit(e, 3)]) {
      const xs = new Float64Array(5000).fill(1.5);
      xs[4321] = bad;
      const encoding = {
        values: xs,
        scaleExponent: e,
        fineExponent: f,
        centers: 3,
        field: "x",
        fineField: "fine:x",
      };
      let expected = "";
      try {
        encodeSplitFixed(xs, e, f, 3, "x", "fine:x");
      } catch (error) {
        expected = (error as Error).message;
      }
      expect(expected).toContain("4321");
      expect(() => maskSplitField(pairs[1], TAG, encoding)).toThrow(expected);
    }
  });

  it("a split field's sums decoded chunk by chunk are the whole ring sums decoded", () => {
    // 2 to 5 centers' masked parts, lengths within one chunk, at its end and across it: the
    // doubles of decodeSplit on the whole sumRings of each part, bit for bit.
    const u = rng(55);
    const { e, f } = splitExponents(1e17);
    for (const n of [2, 3, 4, 5]) {
      const pairs = pairSecrets(n, `sums-${n}`);
      for (const length of [1, 4096, 4097, 10_000]) {
        const shares = pairs.map((p) => {
          const values = splitValues(u, length, -95, 150);
          const encoding = {
            values,
            scaleExponent: e,
            fineExponent: f,
            centers: n,
            field: "x",
            fineField: "fine:x",
          };
          const { coarse, fine } = maskSplitField(p, TAG, encoding);
          return { x: coarse, "fine:x": fine };
        });
        const whole = decodeSplit(sumRings("x", shares), e, sumRings("fine:x", shares), f);
        const chunked = sumSplitRings("x", "fine:x", shares, e, f);
        expect(Buffer.from(chunked.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      }
    }
  });

  it("a share is deterministic for a request; different requests under one tag give noise", () => {
    const pairs = pairSecrets(3);
    const fields: SummedField[] = [{ name: "x", scaleExponent: 40 }];
    const data = pairs.map((_, c) => ({ x: values(100, c, 1000) }));
    const shares = pairs.map((p, c) => maskShare(p, TAG, fields, data[c]));
    expect(Array.from(maskShare(pairs[1], TAG, fields, data[1]).x)).toEqual(
      Array.from(shares[1].x),
    );
    const truth = unmaskSum(fields, shares).x;
    // The aggregator sent center 2 a different request under the same tag: no sum comes out.
    const odd = maskShare(pairs[2], { ...TAG, request: "ff00" }, fields, data[2]);
    const garbled = unmaskSum(fields, [shares[0], shares[1], odd]).x;
    let close = 0;
    for (let i = 0; i < 100; i++) if (Math.abs(garbled[i] - truth[i]) < 1e6) close++;
    expect(close).toBe(0);
    // A missing share likewise leaves noise.
    const partial = unmaskSum(fields, [shares[0], shares[1]]).x;
    for (let i = 0; i < 100; i++) expect(Math.abs(partial[i])).toBeGreaterThan(1e6);
  });

  it('"or" fields give only the or; counts give how many', () => {
    const pairs = pairSecrets(3);
    const flags = [
      [1, 0, 0, 0, 1],
      [1, 0, 1, 0, 0],
      [1, 0, 0, 0, 1],
    ];
    const fields: SummedField[] = [{ name: "any", kind: "or" }, countField("how_many")];
    const shares = pairs.map((p, c) =>
      maskShare(p, TAG, fields, {
        any: Uint8Array.from(flags[c]),
        how_many: encodeCount(flags[c]),
      }),
    );
    const sums = unmaskSum(fields, shares);
    expect(Array.from(sums.any)).toEqual([1, 0, 1, 0, 1]);
    // Deterministic, like sum shares: a resent share is the same bytes.
    const again = maskShare(pairs[0], TAG, fields, {
      any: Uint8Array.from(flags[0]),
      how_many: encodeCount(flags[0]),
    });
    expect(Array.from(again.any)).toEqual(Array.from(shares[0].any));
    expect(Array.from(sums.how_many)).toEqual([3, 0, 1, 0, 2]);
    expect(Array.from(decodeOr(sums.how_many))).toEqual([1, 0, 1, 0, 1]);
    expect(() => maskShare(pairs[0], TAG, [{ name: "any", kind: "or" }], { any: [0, 2] })).toThrow(
      /is not 0 or 1/,
    );
  });

  it("refuses inconsistent inputs with errors that say what is wrong", () => {
    const pairs = pairSecrets(3);
    const fields: SummedField[] = [{ name: "x", scaleExponent: 10 }];
    const x = new Float64Array(4);
    expect(() => maskShare(pairs[0], { ...TAG, runId: "other" }, fields, { x })).toThrow(
      /run "other" but pair secrets of run "run-7"/,
    );
    expect(() => maskShare(pairs[0], TAG, fields, {})).toThrow(/no values for field "x"/);
    expect(() => maskShare(pairs[0], TAG, [...fields, ...fields], { x })).toThrow(/twice/);
    expect(() => maskShare(pairs[0], TAG, fields, { x: new Float64Array([Number.NaN]) })).toThrow(
      /"x"\[0\]: NaN/,
    );
    const shares: MaskedShare[] = pairs.map((p) => maskShare(p, TAG, fields, { x }));
    expect(() => unmaskSum(fields, [shares[0]])).toThrow(/at least 2/);
    expect(() => unmaskSum(fields, [shares[0], { x: new Uint32Array(8) }])).toThrow(
      /share 1 of "x": 2 elements, expected 4/,
    );
  });
});
