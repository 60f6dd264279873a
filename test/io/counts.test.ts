/**
 * The readers' count buffer (src/io/counts.ts): rows of any width, across many chunks, come back
 * in order and in shared memory (the worker pool reads the counts there without a copy).
 */
import { describe, expect, it } from "vitest";
import { CountBuffer } from "../../src/io/counts.js";

describe("CountBuffer", () => {
  it("gives back every row in order, across chunks, in one array in shared memory", () => {
    const buffer = new CountBuffer();
    const expected: number[] = [];
    // Rows of 1 to 997 values: 3,000 rows, about 1.5 million values (chunks of 2^16 … 2^20
    // values, rows ending just before, at and after their ends).
    let value = 0;
    for (let row = 0; row < 3000; row++) {
      const n = 1 + ((row * 7919) % 997);
      buffer.reserve(n);
      for (let i = 0; i < n; i++) {
        buffer.set(i, value);
        expected.push(value);
        value = (value * 31 + 7) % 100_003;
      }
      buffer.length += n;
    }
    const counts = buffer.result();
    expect(counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(counts.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(1 << 20);
    let differ = 0;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== expected[i]) differ++;
    expect(differ).toBe(0);
  });

  it("holds a row wider than its largest chunk", () => {
    const buffer = new CountBuffer();
    const wide = (1 << 20) + 5;
    buffer.reserve(3);
    for (let i = 0; i < 3; i++) buffer.set(i, i + 1);
    buffer.length += 3;
    buffer.reserve(wide);
    for (let i = 0; i < wide; i++) buffer.set(i, i % 11);
    buffer.length += wide;
    const counts = buffer.result();
    expect(counts.length).toBe(wide + 3);
    expect(Array.from(counts.subarray(0, 5))).toEqual([1, 2, 3, 0, 1]);
    expect(counts[wide + 2]).toBe((wide - 1) % 11);
  });

  it("with a bound on the values, returns the one shared array it filled; past the bound, chunks", () => {
    const bounded = new CountBuffer();
    bounded.expect(10);
    bounded.reserve(4);
    for (let i = 0; i < 4; i++) bounded.set(i, 10 + i);
    bounded.length += 4;
    const counts = bounded.result();
    expect(counts.buffer).toBeInstanceOf(SharedArrayBuffer);
    // No copy: a view of the bounded array itself.
    expect(counts.buffer.byteLength).toBe(10 * 8);
    expect(Array.from(counts)).toEqual([10, 11, 12, 13]);

    const exceeded = new CountBuffer();
    exceeded.expect(5);
    for (let row = 0; row < 4; row++) {
      exceeded.reserve(3);
      for (let i = 0; i < 3; i++) exceeded.set(i, 3 * row + i);
      exceeded.length += 3;
    }
    const all = exceeded.result();
    expect(all.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(all)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});
