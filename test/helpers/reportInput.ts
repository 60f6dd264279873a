/**
 * Deterministic report inputs for the HTML report tests: genes with RNA-seq-like means and
 * fold changes, most fitted by IRLS, a few by PQN, a few flagged, some not fitted.
 */
import type { FitMethod, ReportInput, RoundPoint } from "../../src/reports/html.js";
import { seededRandom } from "../../src/simulate/cohort.js";

/** A report input of `genes` genes and what the plots must show of it. */
export interface SyntheticReport {
  readonly input: ReportInput;
  /** Genes the MA plot must draw (fitted, finite fold change, positive mean). */
  readonly maPoints: number;
  /** Genes the reference plot must draw (fitted, both fold changes finite). */
  readonly referencePoints: number;
}

/**
 * Every 13th gene is not fitted (all-zero: mean 0, NaN fold change), every 97th fitted by PQN,
 * every 499th flagged, every 211th has no reference value; the rest IRLS.
 */
export function syntheticReport(genes: number, seed = 1): SyntheticReport {
  const rng = seededRandom(seed);
  const baseMean = new Float64Array(genes);
  const lfc = new Float64Array(genes);
  const reference = new Float64Array(genes);
  const fitted: (FitMethod | null)[] = [];
  let maPoints = 0;
  let referencePoints = 0;
  for (let g = 0; g < genes; g++) {
    const notFitted = g % 13 === 5;
    const method: FitMethod | null = notFitted
      ? null
      : g % 499 === 3
        ? "pqn-flagged"
        : g % 97 === 7
          ? "pqn"
          : "irls";
    baseMean[g] = notFitted ? 0 : Math.exp(rng.normal(5, 2));
    lfc[g] = notFitted ? Number.NaN : rng.normal(0, 1.5);
    reference[g] = g % 211 === 11 ? Number.NaN : lfc[g] + rng.normal(0, 0.05);
    fitted.push(method);
    if (!notFitted) {
      maPoints++;
      if (Number.isFinite(reference[g])) referencePoints++;
    }
  }
  const rounds: RoundPoint[] = [
    { phase: "init", round: 0, activeGenes: genes },
    ...Array.from({ length: 21 }, (_, k) => ({
      phase: "irls",
      round: k,
      activeGenes: Math.round(genes * Math.exp(-k / 2)),
    })),
    ...Array.from({ length: 30 }, (_, k) => ({
      phase: "pqn",
      round: k,
      activeGenes: Math.max(0, 29 - k),
    })),
  ];
  return {
    input: {
      title: "Synthetic fit",
      rounds,
      genes: Array.from({ length: genes }, (_, g) => `gene${g + 1}`),
      baseMean,
      lfc,
      fitted,
      coefficient: "condition_B_vs_A",
      reference,
      referenceLabel: "DESeq2",
      summary: {
        "rounds (total)": rounds.length,
        "bytes to aggregator": 123_456_789,
        seconds: 12.3456,
        "genes fitted": maPoints,
        mode: "irls-pqn",
      },
    },
    maPoints,
    referencePoints,
  };
}

/**
 * The Wald tests of a synthetic report's genes (condition B vs A at alpha 0.1, its means and fold
 * changes) with the given statistics.
 */
export function syntheticTests(
  input: ReportInput,
  columns: Pick<NonNullable<ReportInput["tests"]>, "lfcSE" | "stat" | "pvalue" | "padj">,
): NonNullable<ReportInput["tests"]> {
  return {
    contrast: "condition B vs A",
    alpha: 0.1,
    baseMean: input.baseMean,
    log2FoldChange: input.lfc,
    ...columns,
  };
}

/** A run's report input: the synthetic fit, with tests, dispersions and a PCA. */
export function syntheticRunReport(genes: number): ReportInput {
  const { input } = syntheticReport(genes);
  const rng = seededRandom(7);
  const pvalue = Float64Array.from(input.lfc, (l, g) =>
    Number.isNaN(l) || g % 101 === 9 ? Number.NaN : rng.uniform() ** 4,
  );
  const padj = Float64Array.from(pvalue, (p, g) =>
    g % 17 === 3 ? Number.NaN : Math.min(1, 3 * p),
  );
  const trend = Float64Array.from(input.baseMean, (m) => (m > 0 ? 0.05 + 2 / m : Number.NaN));
  return {
    ...input,
    tests: syntheticTests(input, {
      lfcSE: Float64Array.from(input.lfc, () => 0.2 + rng.uniform()),
      stat: Float64Array.from(input.lfc, (l) => l / 0.3),
      pvalue,
      padj,
    }),
    dispersions: {
      genewise: Float64Array.from(trend, (t, g) =>
        g % 23 === 4 ? 1e-8 : t * Math.exp(rng.normal(0, 0.8)),
      ),
      trend,
      final: Float64Array.from(trend, (t) => t * Math.exp(rng.normal(0, 0.3))),
      trendType: "parametric",
    },
    pca: {
      genes: 500,
      percentVariance: [0.61, 0.22] as [number, number],
      points: Array.from({ length: 12 }, (_, i) => ({
        sample: `s${i}`,
        center: `c${i % 3}`,
        group: i % 2 === 0 ? "A" : "B",
        pc1: rng.normal(0, 5),
        pc2: rng.normal(0, 2),
      })),
      groupedBy: "condition",
    },
  };
}
