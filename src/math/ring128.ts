/**
 * Vector arithmetic in the ring Z/2^128, where secure aggregation adds its pairwise masks and
 * sums the centers' masked vectors (federation/secureAggregation/fixedPoint.ts defines the
 * representation: 4 little-endian 32-bit words per element, two 64-bit limbs).
 *
 * The carry chains run in WebAssembly (wasm/ring128.wat) on 64-bit limbs: JavaScript's 32-bit
 * chains took some 9.3 ns per element of a two-mask sum, the i64 kernel 3.5, copies in and out of
 * its memory included. Operands go through the module's memory a block at a time. So do the
 * fixed-point encoding of doubles into the ring ({@link encodeFixedWords}: 9.4 ns a split value,
 * two elements, copies included, where the same float64 steps in JavaScript took 16) and the
 * decoding of split sums ({@link decodeSplitWords}: 9.9 ns a value against 21).
 */
import { RING128_WASM } from "./wasm/ring128Binary.js";

/** The kernel's exports (wasm/ring128.wat). */
interface Ring128Exports {
  readonly memory: WebAssembly.Memory;
  addSigned(out: number, a: number, b: number, n: number, x: number): void;
  addSigned2(
    out: number,
    a: number,
    b1: number,
    b2: number,
    n: number,
    x1: number,
    x2: number,
  ): void;
  encode(
    values: number,
    n: number,
    scale: number,
    inverse: number,
    fineScale: number,
    limit: number,
    coarse: number,
    fine: number,
  ): number;
  decodeSplit(
    coarse: number,
    fine: number,
    n: number,
    shift: number,
    unscale: number,
    out: number,
  ): void;
}

/** 32-bit words per element. */
const WORDS = 4;

/** Elements per kernel call: 64 KiB per operand, the four operands 256 KiB of the memory. */
const BLOCK = 4096;
const BLOCK_WORDS = BLOCK * WORDS;
const BLOCK_BYTES = BLOCK_WORDS * 4;

const kernel = new WebAssembly.Instance(
  new WebAssembly.Module(Uint8Array.from(atob(RING128_WASM), (c) => c.charCodeAt(0))),
  {},
).exports as unknown as Ring128Exports;

/** The module's memory as words and as doubles (it never grows, so these views stay attached). */
const memory = new Uint32Array(kernel.memory.buffer);
const doubles = new Float64Array(kernel.memory.buffer);

/** Where each operand sits in the memory, in bytes and in words. */
const OUT_AT = 0;
const A_AT = BLOCK_BYTES;
const B1_AT = 2 * BLOCK_BYTES;
const B2_AT = 3 * BLOCK_BYTES;
/** The encoder's block of doubles, and where it writes a split value's fine part. */
const VALUES_AT = 4 * BLOCK_BYTES;
const FINE_AT = VALUES_AT + BLOCK * 8;

/**
 * out ← run(a block's elements) over the vectors a block at a time: each operand copied in at
 * its place (words), the kernel run, its result copied out.
 */
function blockwise(
  out: Uint32Array,
  operands: readonly (readonly [Uint32Array, number])[],
  run: (elements: number) => void,
): void {
  const n = out.length;
  for (let from = 0; from < n; from += BLOCK_WORDS) {
    const to = Math.min(n, from + BLOCK_WORDS);
    for (const [v, at] of operands) memory.set(v.subarray(from, to), at / 4);
    run((to - from) / WORDS);
    out.set(memory.subarray(OUT_AT / 4, OUT_AT / 4 + (to - from)), from);
  }
}

/**
 * out ← a + s·b (mod 2^128, element by element, s ∈ {1, −1}) for ring vectors of equal length
 * (a multiple of 4 words; the caller checks). out may be a.
 */
export function ringAddSignedWords(
  out: Uint32Array,
  a: Uint32Array,
  b: Uint32Array,
  s: 1 | -1,
): void {
  const x = s === 1 ? 0 : -1;
  blockwise(
    out,
    [
      [a, A_AT],
      [b, B1_AT],
    ],
    (elements) => kernel.addSigned(OUT_AT, A_AT, B1_AT, elements, x),
  );
}

/**
 * out ← a + s1·b1 + s2·b2 (mod 2^128, element by element, s1, s2 ∈ {1, −1}) for ring vectors of
 * equal length (a multiple of 4 words; the caller checks). out may be a.
 */
export function ringAddSigned2Words(
  out: Uint32Array,
  a: Uint32Array,
  b1: Uint32Array,
  s1: 1 | -1,
  b2: Uint32Array,
  s2: 1 | -1,
): void {
  const x1 = s1 === 1 ? 0 : -1;
  const x2 = s2 === 1 ? 0 : -1;
  blockwise(
    out,
    [
      [a, A_AT],
      [b1, B1_AT],
      [b2, B2_AT],
    ],
    (elements) => kernel.addSigned2(OUT_AT, A_AT, B1_AT, B2_AT, elements, x1, x2),
  );
}

const NO_STREAMS: readonly Uint32Array[] = [];
const NO_SIGNS: readonly (1 | -1)[] = [];

/**
 * Encode `values[from, to)` as ring elements into the first (to − from)·4 words of `coarse` and
 * (split, `fine` not null) of `fine`: the fixed-point encoding federation/secureAggregation/
 * fixedPoint.ts states (round(x·scale), ties up, in two's complement; split: the coarse part
 * h = round(x·scale)·inverse and the exact remainder x − h at `fineScale`), run in the ring
 * module's WebAssembly a block at a time. `limit` is the magnitude no element may reach.
 *
 * With pair masks' keystream words, each part leaves the module's memory with them added:
 * `coarse` ← its encoding + Σ_m signs[m]·coarseStreams[m] and `fine` ← its encoding +
 * Σ_m signs[m]·fineStreams[m] (mod 2^128), the words that encoding and then
 * {@link ringAddSignedWords} of each stream in turn leave (the ring's sums are exact). A block
 * is encoded, masked where it was encoded and copied out once: encoding and masking apart
 * copied both parts out of the memory and back in, 264 bytes of copies a split value of a
 * center of four instead of 136.
 * @param coarseStreams - per mask, at least (to − from)·4 words of keystream for the coarse part
 * @param fineStreams - per mask, as many for the fine part (unread when `fine` is null)
 * @param signs - per mask, the sign its stream enters with
 * @returns −1 when every value was encoded; else 2i for values[i] not finite (split: its
 *   rounded part h not finite) or its (coarse) element at or beyond the limit, 2i + 1 for its
 *   fine part beyond it (what was written from that block on is unspecified)
 */
export function encodeFixedWords(
  values: Float64Array,
  from: number,
  to: number,
  scale: number,
  inverse: number,
  fineScale: number,
  limit: number,
  coarse: Uint32Array,
  fine: Uint32Array | null,
  coarseStreams: readonly Uint32Array[] = NO_STREAMS,
  fineStreams: readonly Uint32Array[] = NO_STREAMS,
  signs: readonly (1 | -1)[] = NO_SIGNS,
): number {
  for (let start = from; start < to; start += BLOCK) {
    const n = Math.min(BLOCK, to - start);
    doubles.set(values.subarray(start, start + n), VALUES_AT / 8);
    const refused = kernel.encode(
      VALUES_AT,
      n,
      scale,
      inverse,
      fineScale,
      limit,
      A_AT,
      fine === null ? -1 : FINE_AT,
    );
    if (refused >= 0) return 2 * start + refused;
    const at = (start - from) * WORDS;
    const words = n * WORDS;
    addStreamsInMemory(A_AT, coarseStreams, signs, at, n);
    coarse.set(memory.subarray(A_AT / 4, A_AT / 4 + words), at);
    if (fine === null) continue;
    addStreamsInMemory(FINE_AT, fineStreams, signs, at, n);
    fine.set(memory.subarray(FINE_AT / 4, FINE_AT / 4 + words), at);
  }
  return -1;
}

/**
 * The n elements at `target` in the module's memory ← themselves + Σ_m signs[m]·(streams[m]'s
 * n elements from word `at`), two streams a pass.
 */
function addStreamsInMemory(
  target: number,
  streams: readonly Uint32Array[],
  signs: readonly (1 | -1)[],
  at: number,
  n: number,
): void {
  const words = n * WORDS;
  let m = 0;
  for (; m + 1 < streams.length; m += 2) {
    memory.set(streams[m].subarray(at, at + words), B1_AT / 4);
    memory.set(streams[m + 1].subarray(at, at + words), B2_AT / 4);
    kernel.addSigned2(
      target,
      target,
      B1_AT,
      B2_AT,
      n,
      signs[m] === 1 ? 0 : -1,
      signs[m + 1] === 1 ? 0 : -1,
    );
  }
  if (m < streams.length) {
    memory.set(streams[m].subarray(at, at + words), B1_AT / 4);
    kernel.addSigned(target, target, B1_AT, n, signs[m] === 1 ? 0 : -1);
  }
}

/**
 * The doubles C_i·2^-e + F_i·2^-f of the signed 128-bit ring elements C (`coarse`) and F
 * (`fine`), each correctly rounded from the exact 256-bit C·2^shift + F (shift = f − e in
 * 0 … 127, f ≥ 0, `unscale` = 2^-f), into `out`: federation/secureAggregation/fixedPoint.ts'
 * decodeSplit, run in the ring module's WebAssembly a block at a time.
 */
export function decodeSplitWords(
  coarse: Uint32Array,
  fine: Uint32Array,
  shift: number,
  unscale: number,
  out: Float64Array,
): void {
  const length = out.length;
  for (let start = 0; start < length; start += BLOCK) {
    const n = Math.min(BLOCK, length - start);
    const from = start * WORDS;
    memory.set(coarse.subarray(from, from + n * WORDS), A_AT / 4);
    memory.set(fine.subarray(from, from + n * WORDS), FINE_AT / 4);
    kernel.decodeSplit(A_AT, FINE_AT, n, shift, unscale, VALUES_AT);
    out.set(doubles.subarray(VALUES_AT / 8, VALUES_AT / 8 + n), start);
  }
}
