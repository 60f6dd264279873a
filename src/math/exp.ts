/**
 * A table-driven exponential (Tang's method) for the kernels' inner loops.
 *
 * V8's `Math.exp` is a call into a C port of fdlibm that the JIT cannot inline; in the NB kernels
 * it cost about as much as the rest of a sample's arithmetic. {@link fastExp} is plain arithmetic
 * that the JIT inlines: x = (128·e + j)·ln2/128 + r with |r| ≤ ln2/256, and
 * exp(x) = 2^e · 2^(j/128) · exp(r), with 2^(j/128) held as a double H_j plus a relative tail T_j
 * (both computed exactly here, with BigInt arithmetic) and exp(r) − 1 by its Taylor polynomial of
 * degree 5 (truncation < 6e-19). Its result is the correctly rounded exp(x) far more often than
 * `Math.exp`'s (about 99.9 % against glibc's, where `Math.exp` agrees with glibc on about 90 %), and
 * it is never more than one ulp away from it.
 */

const TABLE_BITS = 7;
const N = 1 << TABLE_BITS;
/** Fixed-point precision of the table computation, in bits. */
const PRECISION = 256n;

/** ⌊√v⌋ of a non-negative BigInt (Newton's iteration from above). */
function integerSqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = 1n << BigInt((v.toString(2).length + 1) >> 1);
  for (;;) {
    const next = (x + v / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

/** H_j = 2^(j/128) rounded to a double, and T_j = (2^(j/128) − H_j) / H_j. */
function powerTable(): { high: Float64Array; tail: Float64Array } {
  const one = 1n << PRECISION;
  // 2^(1/128) in fixed point: seven square roots of 2.
  let root = 2n * one;
  for (let i = 0; i < TABLE_BITS; i++) root = integerSqrt(root * one);
  const unit = 2 ** -Number(PRECISION);
  const high = new Float64Array(N);
  const tail = new Float64Array(N);
  let value = one;
  for (let j = 0; j < N; j++) {
    // Number(bigint) rounds to the nearest double; scaling by a power of two is exact.
    const h = Number(value) * unit;
    high[j] = h;
    tail[j] = (Number(value - BigInt(h / unit)) * unit) / h;
    value = (value * root) >> PRECISION;
  }
  return { high, tail };
}

const { high: HIGH, tail: TAIL } = powerTable();
/** 2^e at index e + 1074, for every e of a double's range. */
const POWERS_OF_TWO = Float64Array.from({ length: 2098 }, (_, i) => 2 ** (i - 1074));

const INVERSE_LN2_N = N / Math.LN2;
/** ln2/128 split: the high part has 24 significant bits, so k·high is exact for |k| < 2^29. */
const LN2_N_HIGH = Math.fround(Math.LN2 / N);
/** ln 2 − Math.LN2 (the double nearest ln 2 is below it by this much). */
const LN2_RESIDUAL = 2.3190468138462996e-17;
const LN2_N_LOW = (Math.LN2 - LN2_N_HIGH * N + LN2_RESIDUAL) / N;
/** 1.5·2^52: adding and subtracting it rounds a double of magnitude < 2^51 to an integer. */
const ROUND_SHIFT = 6755399441055744;
/** Beyond this magnitude (and for NaN) the table path is not used: `Math.exp` handles the range ends. */
const LIMIT = 700;

/**
 * e^x, within one ulp of the exact value (nearly always correctly rounded). Arguments outside
 * [−700, 700], infinities and NaN go to `Math.exp`.
 * @param x - exponent
 */
export function fastExp(x: number): number {
  if (!(x > -LIMIT && x < LIMIT)) return Math.exp(x);
  const kd = x * INVERSE_LN2_N + ROUND_SHIFT - ROUND_SHIFT;
  const r = x - kd * LN2_N_HIGH - kd * LN2_N_LOW;
  const k = kd | 0;
  const scale = HIGH[k & (N - 1)] * POWERS_OF_TWO[(k >> TABLE_BITS) + 1074];
  const r2 = r * r;
  const poly =
    TAIL[k & (N - 1)] + r + r2 * (0.5 + r * (1 / 6)) + r2 * r2 * (1 / 24 + r * (1 / 120));
  return scale + scale * poly;
}
