/**
 * R's dnbinom(log = TRUE), lgamma, log/log1p and sum() against src/math/nbDensity.ts (fixture:
 * ./fixtures/nbDensity.json, made by ./fixtures/nbDensity.R with R 4.2.2 on x86-64 glibc 2.36;
 * the Stirling-error table comes from ./fixtures/stirlerr.py).
 *
 * Every value is required bit for bit; the distances are also counted in ulps and printed as a
 * table at the end, together with what V8's Math.log/Math.log1p and the repo's Cephes lnGamma
 * would give instead (measured, not asserted).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { lnGamma } from "../../src/math/lnGamma.js";
import {
  fusedMultiplyAdd,
  glibcLog,
  glibcLog1p,
  glibcPowerOfTwo,
  NB_DENSITY_CONSTANTS,
  nbLogDensity,
  nbLogDensityAt,
  nbLogDensityConstants,
  rLgamma,
  sumLikeR,
} from "../../src/math/nbDensity.js";

type Num = number | "Inf" | "-Inf" | "NaN";
interface Fixture {
  R: string;
  y: Num[];
  size: Num[];
  grid: Num[][];
  typical: Num[][];
  special: Num[][];
  lgamma: Num[][];
  libm: Num[][];
  sums: Num[][];
  sumCases: { terms: Num[]; sum: Num }[];
}

const here = dirname(fileURLToPath(import.meta.url));
const fixture = JSON.parse(
  readFileSync(join(here, "fixtures", "nbDensity.json"), "utf8"),
) as Fixture;

function num(v: Num): number {
  if (v === "Inf") return Number.POSITIVE_INFINITY;
  if (v === "-Inf") return Number.NEGATIVE_INFINITY;
  if (v === "NaN") return Number.NaN;
  return v;
}

const view = new DataView(new ArrayBuffer(8));
/** The double's position on the number line (consecutive doubles differ by 1). */
function ordinal(x: number): bigint {
  view.setFloat64(0, x);
  const b = view.getBigInt64(0);
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b;
}
/** Distance in ulps; 0 for identical values (NaN = NaN, ∞ = ∞), Infinity if only one is finite. */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
  const d = ordinal(a) - ordinal(b);
  return Number(d < 0n ? -d : d);
}

interface Tally {
  count: number;
  exact: number;
  one: number;
  two: number;
  upTo8: number;
  more: number;
  max: number;
  worst: string;
}
const tallies = new Map<string, Tally>();
function tally(section: string, distance: number, what: string): void {
  let t = tallies.get(section);
  if (t === undefined) {
    t = { count: 0, exact: 0, one: 0, two: 0, upTo8: 0, more: 0, max: 0, worst: "" };
    tallies.set(section, t);
  }
  t.count++;
  if (distance === 0) t.exact++;
  else if (distance === 1) t.one++;
  else if (distance === 2) t.two++;
  else if (distance <= 8) t.upTo8++;
  else t.more++;
  if (distance > t.max) {
    t.max = distance;
    t.worst = what;
  }
}
afterAll(() => {
  const lines = [...tallies.entries()].map(
    ([s, t]) =>
      `${s.padEnd(22)} ${String(t.count).padStart(5)} ${String(t.exact).padStart(6)} ${String(t.one).padStart(5)} ${String(t.two).padStart(5)} ${String(t.upTo8).padStart(5)} ${String(t.more).padStart(5)} ${String(t.max).padStart(6)}  ${t.worst}`,
  );
  console.info(
    `nbDensity vs ${fixture.R} (ulps):\n  ${"section".padEnd(22)} count  exact     1     2  3..8    >8    max  worst\n  ${lines.join("\n  ")}`,
  );
});

describe("nbLogDensity = R's dnbinom(y, size, mu = mu, log = TRUE)", () => {
  const ys = fixture.y.map(num);
  const sizes = fixture.size.map(num);

  it("over the y × size × mu grid", () => {
    for (const [iy, is, mu, value] of fixture.grid.map((r) => r.map(num))) {
      const y = ys[iy];
      const size = sizes[is];
      const ours = nbLogDensity(y, size, mu);
      const d = ulps(ours, value);
      tally("grid", d, `y=${y} size=${size} mu=${mu}: R ${value}, ours ${ours}`);
      expect(d).toBeLessThanOrEqual(MAX_ULPS);
    }
    expect(tallies.get("grid")?.count).toBe(fixture.grid.length);
  });

  it("at typical RNA-seq values", () => {
    for (const [y, size, mu, value] of fixture.typical.map((r) => r.map(num))) {
      const ours = nbLogDensity(y, size, mu);
      const d = ulps(ours, value);
      tally("typical", d, `y=${y} size=${size} mu=${mu}: R ${value}, ours ${ours}`);
      expect(d).toBeLessThanOrEqual(MAX_ULPS);
    }
  });

  it("in the special branches (size 0 or ∞, non-integer y, NaN, μ = 0 or ∞, …)", () => {
    for (const [y, size, mu, value] of fixture.special.map((r) => r.map(num))) {
      const ours = nbLogDensity(y, size, mu);
      const d = ulps(ours, value);
      tally("special", d, `y=${y} size=${size} mu=${mu}: R ${value}, ours ${ours}`);
      if (!Number.isFinite(value)) expect(ours).toBe(value);
      expect(d).toBeLessThanOrEqual(MAX_ULPS);
    }
  });

  it("from its μ-independent constants (nbLogDensityAt): R's, every case, bit for bit", () => {
    const constants = new Float64Array(NB_DENSITY_CONSTANTS);
    const rows = [
      ...fixture.grid.map((r) => r.map(num)).map(([iy, is, mu, v]) => [ys[iy], sizes[is], mu, v]),
      ...fixture.typical.map((r) => r.map(num)),
      ...fixture.special.map((r) => r.map(num)),
    ];
    let binomialForm = 0;
    for (const [y, size, mu, value] of rows) {
      nbLogDensityConstants(y, size, constants, 0);
      if (constants[0] !== 0) binomialForm++;
      const ours = nbLogDensityAt(y, size, mu, constants, 0);
      expect(Object.is(ours, nbLogDensity(y, size, mu)), `y=${y} size=${size} mu=${mu}`).toBe(true);
      expect(ulps(ours, value), `y=${y} size=${size} mu=${mu}`).toBeLessThanOrEqual(MAX_ULPS);
    }
    // Most of R's cases take the precomputed binomial form (the others fall back).
    expect(binomialForm).toBeGreaterThan(rows.length / 2);
  });
});

/** The densities are R's to the last bit. */
const MAX_ULPS = 0;

describe("ln Γ", () => {
  it("rLgamma is R's lgamma", () => {
    for (const [x, value] of fixture.lgamma.map((r) => r.map(num))) {
      const d = ulps(rLgamma(x), value);
      tally("rLgamma", d, `x=${x}: R ${value}, ours ${rLgamma(x)}`);
      expect(d).toBe(0);
    }
  });

  it("lnGamma (Cephes) is not R's lgamma to the last bit (measured)", () => {
    for (const [x, value] of fixture.lgamma.map((r) => r.map(num))) {
      tally(
        x < 1e-300 ? "lnGamma (Cephes) x<1e-300" : "lnGamma (Cephes)",
        ulps(lnGamma(x), value),
        `x=${x}: R ${value}, Cephes ${lnGamma(x)}`,
      );
    }
  });
});

describe("the C library's log, log1p and pow(2, ·) (glibc 2.36, x86-64 with FMA)", () => {
  it("glibcLog, glibcLog1p and glibcPowerOfTwo are R's log(), log1p() and 2^y to the last bit", () => {
    const functions = [
      ["glibcLog", glibcLog, "Math.log (V8)", Math.log],
      ["glibcLog1p", glibcLog1p, "Math.log1p (V8)", Math.log1p],
      ["glibcPowerOfTwo", glibcPowerOfTwo, "2 ** y (V8)", (y: number) => 2 ** y],
    ] as const;
    for (const [which, x, value] of fixture.libm.map((r) => r.map(num))) {
      const [name, ours, v8Name, v8] = functions[which];
      tally(name, ulps(ours(x), value), `x=${x}: R ${value}, ours ${ours(x)}`);
      expect(ulps(ours(x), value)).toBe(0);
      tally(v8Name, ulps(v8(x), value), `x=${x}: R ${value}, V8 ${v8(x)}`);
    }
  });

  it("fusedMultiplyAdd rounds a·b + c once (against exact BigInt arithmetic)", () => {
    const rand = random(7);
    for (let c = 0; c < 50000; c++) {
      const e = () => Math.floor(rand() * 80 - 40);
      const a = (rand() - 0.5) * 2 ** e();
      const b = (rand() - 0.5) * 2 ** e();
      // addends near −a·b make the cancellations and ties that a naive a*b + c gets wrong
      const k = c % 3;
      const add =
        k === 0
          ? -(a * b)
          : k === 1
            ? -(a * b) * (1 + (rand() - 0.5) * 2 ** -50)
            : (rand() - 0.5) * 2 ** e();
      expect(fusedMultiplyAdd(a, b, add)).toBe(exactFma(a, b, add));
    }
    expect(fusedMultiplyAdd(1 + 2 ** -52, 1 - 2 ** -53, -1)).toBe(2 ** -53 - 2 ** -105);
    // exactly 1 + 2^-53 + 2^-104, just above a midpoint: a*b + c rounds twice and lands on 1
    const a = 1 + 2 ** -52;
    expect(a * a + -3 * 2 ** -53).toBe(1);
    expect(fusedMultiplyAdd(a, a, -3 * 2 ** -53)).toBe(1 + 2 ** -52);
  });
});

/** a·b + c correctly rounded, with BigInt (normal-range operands and result). */
function exactFma(a: number, b: number, c: number): number {
  const parts = (x: number): [bigint, number] => {
    if (x === 0) return [0n, 0];
    view.setFloat64(0, x);
    const hi = view.getUint32(0);
    const biased = (hi >>> 20) & 0x7ff;
    const mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4)) | (1n << 52n);
    return [x < 0 ? -mant : mant, biased - 1075];
  };
  const [ma, ea] = parts(a);
  const [mb, eb] = parts(b);
  const [mc, ec] = parts(c);
  let m = ma * mb;
  let e = ea + eb;
  if (mc !== 0n) {
    if (m === 0n) [m, e] = [mc, ec];
    else if (ec >= e) m += mc << BigInt(ec - e);
    else {
      m = (m << BigInt(e - ec)) + mc;
      e = ec;
    }
  }
  if (m === 0n) return 0;
  // keep 62 bits plus a sticky bit, then let Number() round (to nearest, ties to even)
  const neg = m < 0n;
  let mag = neg ? -m : m;
  const len = mag.toString(2).length;
  if (len > 62) {
    const shift = BigInt(len - 62);
    const sticky = (mag & ((1n << shift) - 1n)) !== 0n ? 1n : 0n;
    mag = (mag >> shift) | sticky;
    e += len - 62;
  }
  return (neg ? -1 : 1) * Number(mag) * 2 ** e;
}

// ---- R's sum() -----------------------------------------------------------------------------------

/**
 * Reference: the x87 80-bit accumulation done exactly with BigInt (64-bit significand, each
 * addition rounded to nearest-even, then rounded to double).
 */
function sumExtendedBigInt(terms: ArrayLike<number>): number {
  let num = 0n; // the running sum is num·2^exp
  let exp = 0;
  const roundTo = (bitsKept: number): void => {
    const neg = num < 0n;
    let mag = neg ? -num : num;
    const len = mag.toString(2).length;
    if (mag === 0n || len <= bitsKept) return;
    const shift = BigInt(len - bitsKept);
    const half = 1n << (shift - 1n);
    const rest = mag & ((1n << shift) - 1n);
    mag >>= shift;
    if (rest > half || (rest === half && (mag & 1n) === 1n)) mag += 1n;
    num = neg ? -mag : mag;
    exp += len - bitsKept;
  };
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    if (t === 0) continue;
    view.setFloat64(0, t);
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    const biased = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let e: number;
    if (biased === 0) e = -1074;
    else {
      mant |= 1n << 52n;
      e = biased - 1075;
    }
    if (t < 0) mant = -mant;
    if (num === 0n) {
      num = mant;
      exp = e;
    } else if (e >= exp) num += mant << BigInt(e - exp);
    else {
      num = (num << BigInt(exp - e)) + mant;
      exp = e;
    }
    roundTo(64);
  }
  roundTo(53);
  return Number(num) * 2 ** exp;
}

/** Exact double-double (TwoSum) accumulation rounded once at the end: the cheap alternative. */
function sumDoubleDouble(terms: ArrayLike<number>): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    const s = hi + t;
    const b = s - hi;
    lo += hi - (s - b) + (t - b);
    hi = s;
  }
  return hi + lo;
}

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("sumLikeR = R's sum() of doubles", () => {
  it("equals R on runs of the fixture's densities and on the explicit cases", () => {
    const finite = fixture.grid.map((r) => num(r[3])).filter(Number.isFinite);
    for (const [start, length, value] of fixture.sums.map((r) => r.map(num))) {
      const terms = finite.slice(start, start + length);
      tally("sum (runs)", ulps(sumLikeR(terms), value), `start ${start} length ${length}`);
      expect(sumLikeR(terms)).toBe(value);
      expect(sumLikeR(finite, start, length)).toBe(value);
    }
    for (const { terms, sum } of fixture.sumCases) {
      const t = terms.map(num);
      tally("sum (cases)", ulps(sumLikeR(t), num(sum)), `[${t.join(", ")}]`);
      expect(sumLikeR(t)).toBe(num(sum));
    }
  });

  it("equals an exact BigInt emulation of the 80-bit accumulator on adversarial sums", () => {
    const rand = random(42);
    let differsFromDoubleDouble = 0;
    const cases = 20000;
    for (let c = 0; c < cases; c++) {
      const n = 2 + Math.floor(rand() * 40);
      const terms = new Float64Array(n);
      const kind = c % 4;
      for (let i = 0; i < n; i++) {
        if (kind === 0)
          terms[i] = -(rand() * 60) * 10 ** (rand() * 4 - 2); // NB log-densities
        else if (kind === 1) terms[i] = (rand() - 0.5) * 2 ** Math.floor(rand() * 140 - 70);
        else if (kind === 2) {
          // powers of two and near-ties: 1, ±2^-53, ±2^-64, ±2^-65 …
          const e = [0, -52, -53, -54, -63, -64, -65, -66, -117][Math.floor(rand() * 9)];
          terms[i] = (rand() < 0.5 ? -1 : 1) * 2 ** e * (rand() < 0.7 ? 1 : 1 + 2 ** -52);
        } else terms[i] = (rand() < 0.5 ? 1e16 : -1e16) * rand() + Math.floor(rand() * 8) * 0.25;
      }
      const expected = sumExtendedBigInt(terms);
      expect(sumLikeR(terms)).toBe(expected);
      if (sumDoubleDouble(terms) !== expected) differsFromDoubleDouble++;
    }
    console.info(
      `sumLikeR = BigInt x87 emulation on ${cases} adversarial sums; exact double-double rounded once differs on ${differsFromDoubleDouble}`,
    );
  });

  it("propagates non-finite terms as R does", () => {
    expect(sumLikeR([1, Number.NEGATIVE_INFINITY, 2])).toBe(Number.NEGATIVE_INFINITY);
    expect(sumLikeR([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBeNaN();
    expect(sumLikeR([1, Number.NaN])).toBeNaN();
    expect(sumLikeR([])).toBe(0);
    expect(sumLikeR([1, 2, 3, 4], 1, 2)).toBe(5);
  });
});

it("the fixtures name their generators", () => {
  expect(readFileSync(join(here, "fixtures", "nbDensity.R"), "utf8")).toContain("dnbinom(");
  expect(readFileSync(join(here, "fixtures", "stirlerr.py"), "utf8")).toContain("mpmath");
});
