/**
 * The federated PCA against DESeq2's own `plotPCA(returnData = TRUE)` (fixtures/plotPCA.R): the
 * centers hold DESeq2's variance-stabilised counts of their own samples (the shared datasets'
 * `center` column) and only answer the PCA's steps; the coordinates must be DESeq2's up to each
 * component's sign, and the shares of variance DESeq2's. And the pieces: the gene choice is R's
 * `order(rowVars, decreasing = TRUE)`, the products are C·W.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  federatedPca,
  orthonormalColumns,
  type PcaStepTypes,
  rowVariances,
  topVarianceGenes,
} from "../../../src/algorithms/pca/aggregate.js";
import {
  type PcaCenter,
  pcaCoordinatesLocal,
  pcaMomentsLocal,
  pcaProductLocal,
} from "../../../src/algorithms/pca/local.js";
import type {
  PcaCoordinatesRequest,
  PcaProductRequest,
} from "../../../src/algorithms/pca/state.js";
import { readCsv } from "../../../src/io/csv.js";
import { symmetricEigen } from "../../../src/math/symmetricEigen.js";
import { type Deseq2Table, deseq2Table, deseq2TableAt } from "../../helpers/deseq2.js";
import { localRunner } from "../../helpers/localRunner.js";
import { sharedPath } from "../../helpers/shared.js";

const here = dirname(fileURLToPath(import.meta.url));
const measured: string[] = [];
afterAll(() => console.info(`federated PCA vs DESeq2's plotPCA:\n  ${measured.join("\n  ")}`));

/**
 * The centers' own samples of a vst table (genes × samples), by the dataset's `center` column,
 * with each gene's count of samples with a non-zero count (from the dataset's counts).
 */
function centersOf(
  dataset: string,
  vst: Deseq2Table,
): { name: string; samples: string[]; center: PcaCenter }[] {
  const meta = readCsv(sharedPath("data", dataset, "metadata.csv"));
  const centerColumn = meta.header.indexOf("center");
  const centerOf = new Map(meta.rows.map((r) => [r.fields[0], r.fields[centerColumn]]));
  const counts = readCsv(sharedPath("data", dataset, "counts.csv"));
  const countRow = new Map(counts.rows.map((r) => [r.fields[0], r.fields]));
  const samples = vst.header.slice(1);
  const names = [...new Set(samples.map((s) => centerOf.get(s) as string))];
  const genes = vst.ids.length;
  return names.map((name) => {
    const own = samples.filter((s) => centerOf.get(s) === name);
    const n = own.length;
    const values = new Float64Array(genes * n);
    own.forEach((s, i) => {
      vst.numbers(s).forEach((v, g) => {
        values[g * n + i] = v;
      });
    });
    const nonZero = Float64Array.from(vst.ids, (gene) => {
      const row = countRow.get(gene) as string[];
      return own.filter((s) => Number(row[counts.header.indexOf(s)]) > 0).length;
    });
    return { name, samples: own, center: { n, genes, values, rows: identity(genes), nonZero } };
  });
}

/** Rows 0 … G − 1: a table holding exactly the run's genes. */
const identity = (genes: number) => Int32Array.from({ length: genes }, (_, g) => g);

/** The PCA's steps answered by centers in this process. */
function pcaRunner(centers: readonly PcaCenter[]) {
  return localRunner<PcaStepTypes>((step, request) =>
    centers.map((c) => {
      if (step === "pcaMoments") return pcaMomentsLocal(c);
      if (step === "pcaProduct") return pcaProductLocal(c, request as PcaProductRequest);
      const r = request as PcaCoordinatesRequest;
      const coordinates = pcaCoordinatesLocal(c, r);
      return {
        kind: "pca-coordinates-share",
        coordinates: r.send ? coordinates : new Float64Array(0),
      };
    }),
  );
}

/** DESeq2's plotPCA table. */
function plotPca(dataset: string) {
  const t = readCsv(join(here, "fixtures", `plotPCA_${dataset}.csv`));
  const col = (name: string) => t.rows.map((r) => Number(r.fields[t.header.indexOf(name)]));
  return {
    samples: t.rows.map((r) => r.fields[0]),
    pc1: col("PC1"),
    pc2: col("PC2"),
    percentVar: [col("percentVar1")[0], col("percentVar2")[0]],
  };
}

/**
 * Largest difference between our coordinates and R's, up to the component's sign, relative to
 * the component's largest |coordinate|.
 */
function coordinateError(ours: number[], theirs: number[]): number {
  const sign = Math.sign(ours.reduce((s, x, i) => s + x * theirs[i], 0));
  const scale = Math.max(...theirs.map(Math.abs));
  return Math.max(...ours.map((x, i) => Math.abs(sign * x - theirs[i]) / scale));
}

/** Fixture name, dataset (for its centers), DESeq2's vst table. */
const CASES: [string, string, () => Deseq2Table][] = [
  ["bodymap", "bodymap", () => deseq2Table("bodymap", "vst.csv.gz", "deseq2_more")],
  ["outliers_sim", "outliers_sim", () => deseq2Table("outliers_sim", "vst.csv.gz", "deseq2_more")],
  [
    "li_lncap_every10",
    "li_lncap",
    () => deseq2TableAt(join(here, "../../pipeline/fixtures/vst_li_lncap_nudged.csv.gz")),
  ],
];

describe("the federated PCA of DESeq2's vst against DESeq2's plotPCA", () => {
  it.each(CASES)("%s: coordinates and shares of variance", async (name, dataset, table) => {
    const vst = table();
    const centers = centersOf(dataset, vst);
    const runner = pcaRunner(centers.map((c) => c.center));
    const pca = await federatedPca(runner, vst.ids.length, true, 3);
    if (pca === null || pca.coordinates === null) throw new Error("no PCA");
    expect(pca.genes).toBe(Math.min(500, vst.ids.length));
    expect(pca.converged).toBe(true);
    // C's rank is below the samples (≤ 33): the second product's Ritz pairs are exact.
    expect(pca.iterations).toBe(2);
    const r = plotPca(name);
    const ours = new Map<string, [number, number]>();
    centers.forEach((c, k) => {
      c.samples.forEach((s, i) => {
        ours.set(s, [pca.coordinates![k][2 * i], pca.coordinates![k][2 * i + 1]]);
      });
    });
    const pc1 = r.samples.map((s) => (ours.get(s) as [number, number])[0]);
    const pc2 = r.samples.map((s) => (ours.get(s) as [number, number])[1]);
    const e1 = coordinateError(pc1, r.pc1);
    const e2 = coordinateError(pc2, r.pc2);
    const ev = Math.max(
      ...[0, 1].map((j) => Math.abs(pca.percentVariance[j] - r.percentVar[j]) / r.percentVar[j]),
    );
    measured.push(
      `${name} (${centers.length} centers, ${r.samples.length} samples): PC1 ${e1.toExponential(2)}, PC2 ${e2.toExponential(2)}, percentVar ${ev.toExponential(2)}; ${pca.iterations} product rounds`,
    );
    expect(e1).toBeLessThan(1e-10);
    expect(e2).toBeLessThan(1e-10);
    expect(ev).toBeLessThan(1e-10);
  });
});

describe("the subspace iteration with more samples than its basis has columns", () => {
  it("reaches the leading eigenvectors of the explicit covariance (120 genes, 70 samples, 4 centers)", async () => {
    // A structured matrix: two sample groups, a gradient, and noise from a fixed integer hash.
    const genes = 120;
    const n = 70;
    let h = 12345;
    const noise = () => {
      h = (Math.imul(h, 1103515245) + 12345) >>> 0;
      return h / 4294967296 - 0.5;
    };
    const sample = (i: number, g: number) =>
      8 + (g % 7) + (i % 2 === 0 ? 1.5 : 0) * Math.sin(g) + (i / n) * Math.cos(3 * g) + noise();
    const all = Array.from({ length: n }, (_, i) =>
      Array.from({ length: genes }, (__, g) => sample(i, g)),
    );
    const centers: PcaCenter[] = [0, 1, 2, 3].map((c) => {
      const own = all.filter((_, i) => i % 4 === c);
      const values = new Float64Array(genes * own.length);
      own.forEach((row, i) => {
        row.forEach((v, g) => {
          values[g * own.length + i] = v;
        });
      });
      return {
        n: own.length,
        genes,
        values,
        rows: identity(genes),
        nonZero: new Float64Array(genes).fill(own.length),
      };
    });
    const pca = await federatedPca(pcaRunner(centers), genes, true, 3);
    if (pca === null || pca.coordinates === null) throw new Error("no PCA");
    expect(pca.converged).toBe(true);
    expect(pca.iterations).toBeGreaterThan(2);
    // The explicit covariance and its eigenvectors (symmetricEigen: against R in test/math).
    const mean = Array.from({ length: genes }, (_, g) => all.reduce((s, r) => s + r[g], 0) / n);
    const c = new Float64Array(genes * genes);
    for (const row of all)
      for (let a = 0; a < genes; a++)
        for (let b = 0; b < genes; b++) c[a * genes + b] += (row[a] - mean[a]) * (row[b] - mean[b]);
    const { values, vectors } = symmetricEigen(c, genes);
    const total = Array.from({ length: genes }, (_, g) => c[g * genes + g]).reduce(
      (s, x) => s + x,
      0,
    );
    for (const j of [0, 1]) {
      expect(Math.abs(pca.percentVariance[j] - values[j] / total)).toBeLessThan(1e-12);
      // Coordinates: (v − m)ᵀ axis, per sample, up to sign.
      const theirs = all.map((row) =>
        row.reduce((s, v, g) => s + (v - mean[g]) * vectors[g * genes + j], 0),
      );
      const ours: number[] = [];
      const next = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) {
        const k = i % 4;
        ours.push(pca.coordinates[k][2 * next[k] + j]);
        next[k]++;
      }
      expect(coordinateError(ours, theirs)).toBeLessThan(1e-9);
    }
  });
});

describe("the PCA's pieces", () => {
  it("picks R's order(rowVars, decreasing = TRUE) genes: largest first, ties in gene order", () => {
    const variances = Float64Array.of(1, 5, 3, 5, 0, 3);
    expect(Array.from(topVarianceGenes(variances, 3))).toEqual([1, 2, 3]);
    expect(Array.from(topVarianceGenes(variances, 4))).toEqual([1, 2, 3, 5]);
    expect(Array.from(topVarianceGenes(variances, 10))).toEqual([0, 1, 2, 3, 4, 5]);
    // Row variances with n − 1: (1, 2, 3, 6) has mean 3 and Σ(x − 3)² = 14.
    expect(rowVariances(Float64Array.of(12), Float64Array.of(50), 4)[0]).toBeCloseTo(14 / 3, 14);
  });

  it("a center's product is Σ (v − m)(v − m)ᵀW over its samples", () => {
    const center: PcaCenter = {
      n: 3,
      genes: 2,
      values: Float64Array.of(1, 2, 6, 4, 0, 2),
      rows: identity(2),
      nonZero: Float64Array.of(3, 2),
    };
    const mean = Float64Array.of(3, 2);
    const basis = Float64Array.of(1, 0, 0, 1); // identity: the product is C itself
    const share = pcaProductLocal(center, {
      kind: "pca-product-request",
      genes: Uint8Array.of(1, 1),
      mean,
      columns: 2,
      basis,
    });
    // x = (−2, 2), (−1, −2), (3, 0): C = [[14, −2], [−2, 8]].
    expect(Array.from(share.product)).toEqual([14, -2, -2, 8]);
  });

  it("orthonormalises, dropping columns outside the span of the others", () => {
    const a = Float64Array.of(1, 2, 1, 0, 2, 1, 1, 2, 1); // columns (1,0,1), (2,2,2), (1,1,1)
    const { basis, columns } = orthonormalColumns(a, 3, 3);
    expect(columns).toBe(2);
    for (let j = 0; j < columns; j++)
      for (let l = 0; l < columns; l++) {
        let dot = 0;
        for (let i = 0; i < 3; i++) dot += basis[i * columns + j] * basis[i * columns + l];
        expect(Math.abs(dot - (j === l ? 1 : 0))).toBeLessThan(1e-15);
      }
  });
});
