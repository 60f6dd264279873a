/**
 * Random federations for property tests: centers with a shared design, NB-like counts.
 */
import fc from "fast-check";
import { type FitCenter, prepareCenterData } from "../../src/algorithms/center.js";

/** A generated federation. */
export interface Federation {
  p: number;
  genes: number;
  centers: FitCenter[];
  /** The same samples pooled into one center. */
  pooled: FitCenter;
}

/** Build a federation from explicit per-center rows (design rows, size factors, counts). */
export function federation(
  p: number,
  genes: number,
  dispersions: Float64Array,
  centers: { design: number[][]; sizeFactors: number[]; counts: number[][] /* [sample][gene] */ }[],
): Federation {
  const make = (design: number[][], sizeFactors: number[], counts: number[][]): FitCenter => {
    const n = design.length;
    const geneMajor = new Float64Array(genes * n);
    for (let i = 0; i < n; i++) for (let g = 0; g < genes; g++) geneMajor[g * n + i] = counts[i][g];
    return {
      main: prepareCenterData({
        n,
        p,
        genes,
        design: Float64Array.from(design.flat()),
        sizeFactors: Float64Array.from(sizeFactors),
        counts: geneMajor,
        dispersions,
      }),
    };
  };
  return {
    p,
    genes,
    centers: centers.map((c) => make(c.design, c.sizeFactors, c.counts)),
    pooled: make(
      centers.flatMap((c) => c.design),
      centers.flatMap((c) => c.sizeFactors),
      centers.flatMap((c) => c.counts),
    ),
  };
}

/** Arbitrary federations: 1–4 centers of 1–6 samples, p = 1–4, up to 6 genes. */
export function arbitraryFederation(): fc.Arbitrary<Federation> {
  return fc
    .record({
      p: fc.integer({ min: 1, max: 4 }),
      genes: fc.integer({ min: 1, max: 6 }),
      sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
      seed: fc.integer(),
    })
    .chain(({ p, genes, sizes, seed }) => {
      const samples = sizes.reduce((a, b) => a + b, 0);
      return fc
        .record({
          design: fc.array(
            fc.array(fc.oneof(fc.constantFrom(0, 1), fc.double({ min: -2, max: 2, noNaN: true })), {
              minLength: p - 1,
              maxLength: p - 1,
            }),
            { minLength: samples, maxLength: samples },
          ),
          sizeFactors: fc.array(fc.double({ min: 0.2, max: 5, noNaN: true }), {
            minLength: samples,
            maxLength: samples,
          }),
          counts: fc.array(
            fc.array(
              fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 50_000 })),
              {
                minLength: genes,
                maxLength: genes,
              },
            ),
            { minLength: samples, maxLength: samples },
          ),
          dispersions: fc.array(fc.double({ min: 1e-4, max: 3, noNaN: true }), {
            minLength: genes,
            maxLength: genes,
          }),
        })
        .map((r) => {
          void seed;
          let offset = 0;
          const centers = sizes.map((size) => {
            const rows = r.design.slice(offset, offset + size).map((row) => [1, ...row]);
            const c = {
              design: rows,
              sizeFactors: r.sizeFactors.slice(offset, offset + size),
              counts: r.counts.slice(offset, offset + size),
            };
            offset += size;
            return c;
          });
          return federation(p, genes, Float64Array.from(r.dispersions), centers);
        });
    });
}
