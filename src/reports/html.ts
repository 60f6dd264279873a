/**
 * A self-contained HTML report of a fit: one file, viewable offline, with inline CSS and
 * inline SVG plots rendered here from Vega-Lite specifications (vega-lite compiles them to
 * Vega, vega renders them headless to SVG, scatter points drawn with vega's scales: svg.ts): no
 * script, no external URL, and a Content-Security-Policy that forbids loading anything.
 *
 * The input is plain data (no dependency on the pipeline): rounds, per-gene base means,
 * log2 fold changes and how each gene was fitted, an optional reference fit, a summary.
 * Every gene with a finite fold change, a positive base mean and a fitting method is drawn:
 * nothing is sampled away (34,000 points make an SVG of a few MB).
 */
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../io/atomic.js";
import { renderSvg, renderSvgWithVega, scatterMark } from "./svg.js";

/** How a gene's coefficients were fitted. */
export type FitMethod = "irls" | "pqn" | "pqn-flagged";

/** The fitting methods, in drawing order (rarer ones on top). */
export const FIT_METHODS: readonly FitMethod[] = ["irls", "pqn", "pqn-flagged"];

/** Genes still active after one round of a phase. */
export interface RoundPoint {
  /** Phase name, e.g. `init`, `irls`, `pqn`. */
  readonly phase: string;
  /** Round within the phase (0-based, as the runner counts). */
  readonly round: number;
  /** Genes still active after the round. */
  readonly activeGenes: number;
}

/** Everything a report shows: plain numbers and strings. */
export interface ReportInput {
  /** Title of the page. */
  readonly title: string;
  /** Rounds in the order they ran (phases one after another). */
  readonly rounds: readonly RoundPoint[];
  /** Gene ids. */
  readonly genes: readonly string[];
  /** Mean normalised count of each gene (aligned with `genes`). */
  readonly baseMean: ArrayLike<number>;
  /** log2 fold change of each gene for `coefficient` (NaN when not fitted). */
  readonly lfc: ArrayLike<number>;
  /** How each gene was fitted; null for genes not fitted (all-zero, not selected). */
  readonly fitted: readonly (FitMethod | null)[];
  /** Name of the coefficient shown, e.g. `tissue_heart_vs_adipose`. */
  readonly coefficient: string;
  /** A reference fit's log2 fold changes for the same coefficient (NaN where it has none). */
  readonly reference?: ArrayLike<number>;
  /** Name of the reference (default `reference`), e.g. `DESeq2`. */
  readonly referenceLabel?: string;
  /** Key figures shown first, as a table: the analysis, gene counts, … */
  readonly summary: Readonly<Record<string, string | number>>;
  /** The samples: per center and design cell, and their size factors where known. */
  readonly samples?: ReportSamples;
  /** How the federation ran (rounds, bytes, solver, seconds): a section of its own, last. */
  readonly federation?: Readonly<Record<string, string | number>>;
  /** Estimated dispersions (a `run`), aligned with `genes`; NaN where a gene has none. */
  readonly dispersions?: ReportDispersions;
  /** Wald tests of a contrast (a `run`), aligned with `genes`: a volcano plot and the top genes. */
  readonly tests?: ReportTests;
  /** DESeq2's plotPCA of the variance-stabilised counts (a `run --vst`). */
  readonly pca?: ReportPca;
}

/** The samples' principal components (DESeq2's `plotPCA`). */
export interface ReportPca {
  /** Genes of largest variance used (500, or fewer genes). */
  readonly genes: number;
  /** PC1's and PC2's share of their variance. */
  readonly percentVariance: readonly [number, number];
  /** Each sample's coordinates; null when they stayed at the centers (the plan's choice). */
  readonly points:
    | readonly {
        readonly sample: string;
        readonly center: string;
        readonly group: string;
        readonly pc1: number;
        readonly pc2: number;
      }[]
    | null;
  /** What `group` is (a design variable, or "center"). */
  readonly groupedBy: string;
}

/** A run's samples, as far as the aggregator knows them. */
export interface ReportSamples {
  /** Samples per center, in federation order. */
  readonly perCenter: readonly { readonly center: string; readonly samples: number }[];
  /**
   * Samples per center and design cell (the plan's `cell_sizes`, e.g. `tissue=heart`); null
   * when the plan does not list them.
   */
  readonly cells: Readonly<Record<string, Readonly<Record<string, number>>>> | null;
  /**
   * Every sample's size factor (a simulation, whose user holds the data); null in a real
   * federation, where each center keeps its own.
   */
  readonly sizeFactors:
    | readonly {
        readonly sample: string;
        readonly center: string;
        readonly value: number;
      }[]
    | null;
}

/** A run's tests, per gene (NaN where DESeq2 has NA). */
export interface ReportTests {
  /** The contrast, e.g. "tissue heart vs adipose". */
  readonly contrast: string;
  /** Significance level of the adjusted p-values. */
  readonly alpha: number;
  readonly baseMean: ArrayLike<number>;
  readonly log2FoldChange: ArrayLike<number>;
  readonly lfcSE: ArrayLike<number>;
  readonly stat: ArrayLike<number>;
  readonly pvalue: ArrayLike<number>;
  readonly padj: ArrayLike<number>;
}

/** A run's dispersion estimates, per gene. */
export interface ReportDispersions {
  /** Gene-wise maximum-likelihood estimates (Cox–Reid adjusted). */
  readonly genewise: ArrayLike<number>;
  /** The fitted mean-dispersion trend at each gene's mean. */
  readonly trend: ArrayLike<number>;
  /** The dispersions used for the fit (MAP, or gene-wise for dispersion outliers). */
  readonly final: ArrayLike<number>;
  /** The trend's kind, as DESeq2's `fitType` names it (e.g. "parametric"). */
  readonly trendType?: string;
}

/** Colours of the fitting methods (Tableau 10, as Vega's default scheme). */
const METHOD_COLORS: Record<FitMethod, string> = {
  irls: "#4c78a8",
  pqn: "#f58518",
  "pqn-flagged": "#e45756",
};

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/** Vega-Lite configuration shared by the plots. */
const CONFIG = {
  font: FONT,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
};

/** Escape text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

/** A number for people: integers with thousands separators, others with 4 significant digits. */
export function formatFigure(value: string | number): string {
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) {
    const digits = String(Math.abs(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return value < 0 ? `-${digits}` : digits;
  }
  return String(Number(value.toPrecision(4)));
}

/** Check that the per-gene arrays are aligned (a programming error otherwise). */
function checkLengths(input: ReportInput): void {
  const n = input.genes.length;
  const lengths: [string, number][] = [
    ["baseMean", input.baseMean.length],
    ["lfc", input.lfc.length],
    ["fitted", input.fitted.length],
  ];
  if (input.reference !== undefined) lengths.push(["reference", input.reference.length]);
  const t = input.tests;
  if (t !== undefined) {
    lengths.push(["tests.baseMean", t.baseMean.length]);
    lengths.push(["tests.log2FoldChange", t.log2FoldChange.length]);
    lengths.push(["tests.lfcSE", t.lfcSE.length]);
    lengths.push(["tests.stat", t.stat.length]);
    lengths.push(["tests.pvalue", t.pvalue.length]);
    lengths.push(["tests.padj", t.padj.length]);
  }
  const d = input.dispersions;
  if (d !== undefined) {
    lengths.push(["dispersions.genewise", d.genewise.length]);
    lengths.push(["dispersions.trend", d.trend.length]);
    lengths.push(["dispersions.final", d.final.length]);
  }
  for (const [name, length] of lengths) {
    if (length !== n) {
      throw new Error(`renderReport: ${name} has ${length} entries, genes has ${n}`);
    }
  }
}

/** Rounds as drawn: position in the run (1-based), phase, active genes. */
function roundsSpec(rounds: readonly RoundPoint[]): TopLevelSpec {
  const values = rounds.map((r, k) => ({
    step: k + 1,
    phase: r.phase,
    round: r.round,
    active: r.activeGenes,
  }));
  return {
    width: 640,
    height: 260,
    config: CONFIG,
    data: { values },
    mark: { type: "line", point: { filled: true, size: 18 }, interpolate: "step-after" },
    encoding: {
      x: {
        field: "step",
        type: "quantitative",
        title: "round of the run (phases in order)",
        axis: { tickMinStep: 1 },
      },
      y: {
        field: "active",
        type: "quantitative",
        title: "genes still active",
        scale: { type: "symlog" },
        axis: { values: [0, ...powersOfTen(1, Math.max(1, ...rounds.map((r) => r.activeGenes)))] },
      },
      color: {
        field: "phase",
        type: "nominal",
        title: "phase",
        sort: [...new Set(rounds.map((r) => r.phase))],
      },
    },
  };
}

/** Bins of the p-value histogram: 20 of width 0.05 over [0, 1]. */
const PVALUE_BINS = 20;

/**
 * How many genes have their p-value in each bin [k/20, (k+1)/20) (the last bin includes 1); genes
 * without a p-value are left out. Counts only: the report carries 20 numbers, not a p-value per gene.
 */
export function pvalueHistogram(pvalue: ArrayLike<number>): Int32Array {
  const counts = new Int32Array(PVALUE_BINS);
  for (let g = 0; g < pvalue.length; g++) {
    const p = pvalue[g];
    if (!(p >= 0 && p <= 1)) continue;
    counts[Math.min(PVALUE_BINS - 1, Math.floor(p * PVALUE_BINS))]++;
  }
  return counts;
}

function pvalueHistogramSpec(counts: Int32Array): TopLevelSpec {
  const values = Array.from(counts, (genes, k) => ({
    start: k / PVALUE_BINS,
    end: (k + 1) / PVALUE_BINS,
    genes,
  }));
  return {
    width: 640,
    height: 220,
    config: CONFIG,
    data: { values },
    mark: { type: "bar", color: "#4c78a8" },
    encoding: {
      x: {
        field: "start",
        type: "quantitative",
        bin: { binned: true, step: 1 / PVALUE_BINS },
        title: "p-value",
        scale: { domain: [0, 1] },
      },
      x2: { field: "end" },
      y: { field: "genes", type: "quantitative", title: "genes" },
    },
  };
}

/** PCA plot: PC1 against PC2 (axes to the same scale, as plotPCA's coord_fixed), by group. */
function pcaSpec(pca: ReportPca): TopLevelSpec {
  const points = pca.points ?? [];
  const percent = (k: 0 | 1) => `PC${k + 1}: ${Math.round(pca.percentVariance[k] * 100)}% variance`;
  const span = (f: (p: (typeof points)[number]) => number) => {
    const values = points.map(f);
    return Math.max(...values) - Math.min(...values) || 1;
  };
  const ratio = span((p) => p.pc2) / span((p) => p.pc1);
  const width = 480;
  return {
    width,
    height: Math.max(120, Math.min(480, Math.round(width * ratio))),
    config: CONFIG,
    data: { values: points.map((p) => ({ ...p })) },
    mark: { type: "point", filled: true, size: 80, opacity: 0.85 },
    encoding: {
      x: { field: "pc1", type: "quantitative", title: percent(0), scale: { zero: false } },
      y: { field: "pc2", type: "quantitative", title: percent(1), scale: { zero: false } },
      color: { field: "group", type: "nominal", title: pca.groupedBy },
      shape: { field: "center", type: "nominal", title: "center" },
      tooltip: [
        { field: "sample", type: "nominal" },
        { field: "center", type: "nominal" },
        { field: "group", type: "nominal", title: pca.groupedBy },
      ],
    },
  };
}

/** The powers of ten from the one at or below `lo` to the one at or above `hi` (lo, hi > 0). */
function powersOfTen(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    out.push(Number(`1e${k}`));
  }
  return out;
}

/** One point of a scatter plot. */
interface Point {
  x: number;
  y: number;
  method: FitMethod;
}

/** Points of the genes drawn, in drawing order (by method), and what was left out. */
function scatterPoints(
  input: ReportInput,
  x: ArrayLike<number>,
  xPositive: boolean,
): { points: (Point & { gene: number })[]; counts: Record<FitMethod, number>; omitted: number } {
  const byMethod: Record<FitMethod, (Point & { gene: number })[]> = {
    irls: [],
    pqn: [],
    "pqn-flagged": [],
  };
  let omitted = 0;
  for (let g = 0; g < input.genes.length; g++) {
    const method = input.fitted[g];
    const xv = x[g];
    const yv = input.lfc[g];
    if (
      method === null ||
      !Number.isFinite(xv) ||
      !Number.isFinite(yv) ||
      (xPositive && !(xv > 0))
    ) {
      omitted++;
      continue;
    }
    byMethod[method].push({ x: xv, y: yv, method, gene: g });
  }
  return {
    points: FIT_METHODS.flatMap((m) => byMethod[m]),
    counts: {
      irls: byMethod.irls.length,
      pqn: byMethod.pqn.length,
      "pqn-flagged": byMethod["pqn-flagged"].length,
    },
    omitted,
  };
}

/** The colour encoding of the fitting methods (all three always in the legend). */
function methodColor() {
  return {
    field: "method",
    type: "nominal" as const,
    title: "fitted by",
    scale: { domain: [...FIT_METHODS], range: FIT_METHODS.map((m) => METHOD_COLORS[m]) },
    sort: [...FIT_METHODS],
  };
}

/** Vega's size of a circle of radius r (its diameter is √size). */
function circleSize(radius: number): number {
  return (2 * radius) ** 2;
}

/**
 * Point marks: small filled circles, translucent, without per-point ARIA labels; smaller as
 * they get many (radius 1.2, 2 or 3 px), genes fitted by PQN a little larger so that the few
 * stand out among the many IRLS genes.
 */
function pointLayer(n: number) {
  const radius = n > 5000 ? 1.2 : n > 500 ? 2 : 3;
  return {
    mark: scatterMark(0.6),
    size: {
      field: "method",
      type: "ordinal" as const,
      scale: {
        domain: [...FIT_METHODS],
        range: [circleSize(radius), circleSize(radius + 1), circleSize(radius + 1)],
      },
      legend: null,
    },
  };
}

/**
 * A log-scale position channel on `field` of the points, ticked at the powers of ten that span
 * their values (all positive).
 */
function logChannel(points: readonly { x: number; y: number }[], field: "x" | "y", title: string) {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const p of points) {
    lo = Math.min(lo, p[field]);
    hi = Math.max(hi, p[field]);
  }
  return {
    field,
    type: "quantitative" as const,
    title,
    scale: { type: "log" as const },
    axis: { values: points.length > 0 ? powersOfTen(lo, hi) : [1] },
  };
}

/** MA plot: log2 fold change against mean normalised count (log scale). */
/** Significance groups of the MA plot of a run, in drawing order (significant genes on top). */
const SIGNIFICANCE = ["no padj", "not significant", "significant"] as const;
type Significance = (typeof SIGNIFICANCE)[number];
const SIGNIFICANCE_COLORS: Record<Significance, string> = {
  "no padj": "#bbbbbb",
  "not significant": "#7f7f7f",
  significant: "#d62728",
};

/**
 * The MA plot's points of a run, coloured by significance (padj below alpha) instead of by fitting
 * method, significant genes drawn last; and how many of each.
 */
function significancePoints(
  points: readonly (Point & { gene: number })[],
  tests: ReportTests,
): {
  points: { x: number; y: number; significance: string }[];
  counts: Record<Significance, number>;
} {
  const groups: Record<Significance, { x: number; y: number; significance: string }[]> = {
    "no padj": [],
    "not significant": [],
    significant: [],
  };
  const label = (group: Significance) =>
    group === "significant" ? `padj < ${tests.alpha}` : group;
  for (const p of points) {
    const q = tests.padj[p.gene];
    const group: Significance = !Number.isFinite(q)
      ? "no padj"
      : q < tests.alpha
        ? "significant"
        : "not significant";
    groups[group].push({ x: p.x, y: p.y, significance: label(group) });
  }
  return {
    points: SIGNIFICANCE.flatMap((g) => groups[g]),
    counts: {
      "no padj": groups["no padj"].length,
      "not significant": groups["not significant"].length,
      significant: groups.significant.length,
    },
  };
}

/** The colour encoding of the significance groups (all three always in the legend). */
function significanceColor(alpha: number) {
  const labels = SIGNIFICANCE.map((g) => (g === "significant" ? `padj < ${alpha}` : g));
  return {
    field: "significance",
    type: "nominal" as const,
    title: "adjusted p-value",
    scale: { domain: labels, range: SIGNIFICANCE.map((g) => SIGNIFICANCE_COLORS[g]) },
    sort: labels,
  };
}

function maSpec(
  points: readonly { readonly x: number; readonly y: number }[],
  coefficient: string,
  color: ReturnType<typeof methodColor> | ReturnType<typeof significanceColor> = methodColor(),
): TopLevelSpec {
  return {
    width: 640,
    height: 380,
    config: CONFIG,
    data: { values: points },
    layer: [
      {
        mark: { type: "rule", color: "#999", strokeDash: [4, 3] },
        data: { values: [{ y: 0 }] },
        encoding: { y: { field: "y", type: "quantitative" } },
      },
      {
        mark: pointLayer(points.length).mark,
        encoding: {
          x: logChannel(points, "x", "mean of normalised counts"),
          y: { field: "y", type: "quantitative", title: `log2 fold change (${coefficient})` },
          color,
          size: pointLayer(points.length).size,
        },
      },
    ],
  };
}

/** Our log2 fold changes against a reference's, with the identity line. */
function referenceSpec(points: Point[], coefficient: string, label: string): TopLevelSpec {
  let lo = 0;
  let hi = 0;
  for (const p of points) {
    lo = Math.min(lo, p.x, p.y);
    hi = Math.max(hi, p.x, p.y);
  }
  return {
    width: 420,
    height: 420,
    config: CONFIG,
    layer: [
      {
        data: {
          values: [
            { x: lo, y: lo },
            { x: hi, y: hi },
          ],
        },
        mark: { type: "line", color: "#999", strokeDash: [4, 3] },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
        },
      },
      {
        data: { values: points },
        mark: pointLayer(points.length).mark,
        encoding: {
          x: {
            field: "x",
            type: "quantitative",
            title: `${label} log2 fold change (${coefficient})`,
          },
          y: { field: "y", type: "quantitative", title: "fedseq log2 fold change" },
          color: methodColor(),
          size: pointLayer(points.length).size,
        },
      },
    ],
  };
}

/** What the dispersion plot is drawn from: each gene's mean and dispersion estimates. */
export interface DispersionFigureSource {
  /** Mean normalised count per gene (NaN where none). */
  readonly baseMean: ArrayLike<number>;
  readonly dispersions: ReportDispersions;
}

/**
 * A dispersion plot rendered ahead of its report (a run's report thread draws it once the
 * dispersions are estimated, while the fit goes on): the report uses it when its own source
 * is the same, number for number.
 */
export interface PrerenderedDispersionFigure {
  readonly source: DispersionFigureSource;
  readonly svg: string;
}

/** Whether two sources hold the same numbers (NaN equal to NaN, +0 not to −0). */
function sameSource(a: DispersionFigureSource, b: DispersionFigureSource): boolean {
  const same = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  };
  return (
    same(a.baseMean, b.baseMean) &&
    same(a.dispersions.genewise, b.dispersions.genewise) &&
    same(a.dispersions.trend, b.dispersions.trend) &&
    same(a.dispersions.final, b.dispersions.final)
  );
}

/** The dispersion plot's SVG, as {@link renderReport} draws it from the same source. */
export async function renderDispersionFigure(source: DispersionFigureSource): Promise<string> {
  const disp = dispersionPoints(source);
  return renderSvg(dispersionSpec(disp.points, disp.trend));
}

/** Whether the dispersion plot draws gene g: a positive mean and a positive final estimate. */
function drawsDispersion(source: DispersionFigureSource, g: number): boolean {
  return source.baseMean[g] > 0 && source.dispersions.final[g] > 0;
}

/** How many genes {@link dispersionPoints} draws, and how many it leaves out. */
function dispersionCounts(source: DispersionFigureSource): {
  readonly genes: number;
  readonly omitted: number;
} {
  let omitted = 0;
  for (let g = 0; g < source.baseMean.length; g++) if (!drawsDispersion(source, g)) omitted++;
  return { genes: source.baseMean.length - omitted, omitted };
}

/** The dispersion estimates drawn, and how many genes have none. */
function dispersionPoints(source: DispersionFigureSource) {
  const { baseMean, dispersions: d } = source;
  const genewise: { x: number; y: number; estimate: string }[] = [];
  const final: { x: number; y: number; estimate: string }[] = [];
  const trend: { x: number; y: number }[] = [];
  let omitted = 0;
  for (let g = 0; g < baseMean.length; g++) {
    const x = baseMean[g];
    if (!drawsDispersion(source, g)) {
      omitted++;
      continue;
    }
    if (d.genewise[g] > 0) genewise.push({ x, y: d.genewise[g], estimate: "gene-wise" });
    final.push({ x, y: d.final[g], estimate: "final" });
    if (d.trend[g] > 0) trend.push({ x, y: d.trend[g] });
  }
  trend.sort((a, b) => a.x - b.x);
  return {
    points: [...genewise, ...final],
    trend: trendVertices(trend),
    genes: final.length,
    omitted,
  };
}

/** Vertices per plot width the trend line keeps at most (four per pixel of a 640-pixel plot). */
const TREND_VERTICES = 2560;

/**
 * The trend's vertices drawn: the trend is a function of the mean, so along the (log) x axis a
 * vertex every 1/{@link TREND_VERTICES} of the range draws the same line to well within a pixel,
 * where every gene's would make a path of 35,000 vertices (vega builds an item for each). Keeps
 * the first, the last, and each next one at least that far along from the one kept before.
 */
export function trendVertices(sorted: { x: number; y: number }[]): { x: number; y: number }[] {
  if (sorted.length <= TREND_VERTICES) return sorted;
  const first = Math.log10(sorted[0].x);
  const step = (Math.log10(sorted[sorted.length - 1].x) - first) / TREND_VERTICES;
  const kept = [sorted[0]];
  let last = first;
  for (let i = 1; i < sorted.length - 1; i++) {
    const at = Math.log10(sorted[i].x);
    if (at - last >= step) {
      kept.push(sorted[i]);
      last = at;
    }
  }
  kept.push(sorted[sorted.length - 1]);
  return kept;
}

/** Dispersion plot: gene-wise and final estimates, and the trend, against the mean (log-log). */
function dispersionSpec(points: { x: number; y: number }[], trend: { x: number; y: number }[]) {
  const radius = points.length > 10000 ? 1 : points.length > 1000 ? 1.5 : 2.5;
  const spec: TopLevelSpec = {
    width: 640,
    height: 380,
    config: CONFIG,
    layer: [
      {
        data: { values: points },
        mark: scatterMark(0.5),
        encoding: {
          x: logChannel(points, "x", "mean of normalised counts"),
          y: logChannel(points, "y", "dispersion"),
          color: {
            field: "estimate",
            type: "nominal",
            title: "estimate",
            scale: {
              domain: ["gene-wise", "final", "trend"],
              range: ["#9d9d9d", "#4c78a8", "#e45756"],
            },
          },
          size: { value: circleSize(radius) },
        },
      },
      {
        data: { values: trend },
        mark: { type: "line", color: "#e45756", strokeWidth: 2 },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
        },
      },
    ],
  };
  return spec;
}

/** Smallest p-value drawn: p = 0 (below double precision) is drawn at −log10 of this. */
const VOLCANO_P_FLOOR = 1e-300;

/** Volcano plot points: log2 fold change against −log10 p, coloured by padj < alpha. */
function volcanoPoints(tests: ReportTests) {
  const points: { x: number; y: number; call: string }[] = [];
  let omitted = 0;
  let significant = 0;
  for (let g = 0; g < tests.pvalue.length; g++) {
    const x = tests.log2FoldChange[g];
    const pv = tests.pvalue[g];
    if (!Number.isFinite(x) || !Number.isFinite(pv)) {
      omitted++;
      continue;
    }
    const hit = tests.padj[g] < tests.alpha;
    if (hit) significant++;
    points.push({
      x,
      y: -Math.log10(Math.max(pv, VOLCANO_P_FLOOR)),
      call: hit ? `padj < ${tests.alpha}` : "not significant",
    });
  }
  // Significant genes drawn last, on top.
  points.sort((a, b) => (a.call === b.call ? 0 : a.call === "not significant" ? -1 : 1));
  return { points, omitted, significant };
}

function volcanoSpec(points: { x: number; y: number; call: string }[], tests: ReportTests) {
  const radius = points.length > 10000 ? 1.2 : points.length > 1000 ? 2 : 3;
  const significant = `padj < ${tests.alpha}`;
  const spec: TopLevelSpec = {
    width: 640,
    height: 380,
    config: CONFIG,
    data: { values: points },
    mark: scatterMark(0.6),
    encoding: {
      x: { field: "x", type: "quantitative", title: `log2 fold change (${tests.contrast})` },
      y: { field: "y", type: "quantitative", title: "−log10 p-value" },
      color: {
        field: "call",
        type: "nominal",
        title: "adjusted p-value",
        scale: { domain: ["not significant", significant], range: ["#9d9d9d", "#e45756"] },
      },
      size: { value: circleSize(radius) },
    },
  };
  return spec;
}

/**
 * The genes with the smallest adjusted p-values, ties (e.g. p-values that underflow to 0) broken
 * by the largest |stat|, at most `count`.
 */
export function topGenes(input: ReportInput, tests: ReportTests, count: number): number[] {
  const order: number[] = [];
  for (let g = 0; g < input.genes.length; g++) if (Number.isFinite(tests.pvalue[g])) order.push(g);
  const key = (g: number) => (Number.isFinite(tests.padj[g]) ? tests.padj[g] : 2);
  const strength = (g: number) => (Number.isFinite(tests.stat[g]) ? Math.abs(tests.stat[g]) : -1);
  order.sort((a, b) => key(a) - key(b) || strength(b) - strength(a));
  return order.slice(0, count);
}

/** A p-value for the table: 0, scientific below 0.001 (9.4e-297), else three digits. */
export function formatProbability(x: number): string {
  if (!Number.isFinite(x)) return "NA";
  if (x === 0) return "0";
  return x < 1e-3 ? x.toExponential(1) : x.toPrecision(3);
}

/** An estimate for the table: four significant digits, 0 as 0. */
function formatEstimate(x: number): string {
  if (!Number.isFinite(x)) return "NA";
  return x === 0 ? "0" : x.toPrecision(4);
}

function topGenesTable(input: ReportInput, tests: ReportTests): string {
  const cell = (text: string) => `<td class="value">${escapeHtml(text)}</td>`;
  const rows = topGenes(input, tests, 20)
    .map(
      (g) =>
        `<tr><th scope="row">${escapeHtml(input.genes[g])}</th>${cell(formatEstimate(tests.baseMean[g]))}${cell(formatEstimate(tests.log2FoldChange[g]))}${cell(formatEstimate(tests.lfcSE[g]))}${cell(formatEstimate(tests.stat[g]))}${cell(formatProbability(tests.pvalue[g]))}${cell(formatProbability(tests.padj[g]))}</tr>`,
    )
    .join("\n");
  return `<table id="top-genes">
<tr><th>gene</th><th>baseMean</th><th>log2FoldChange</th><th>lfcSE</th><th>stat</th><th>pvalue</th><th>padj</th></tr>
${rows}
</table>`;
}

/** Table rows of key figures. */
function keyValueRows(figures: Readonly<Record<string, string | number>>): string {
  return Object.entries(figures)
    .map(
      ([key, value]) =>
        `<tr><th scope="row">${escapeHtml(key)}</th><td class="value">${escapeHtml(formatFigure(value))}</td></tr>`,
    )
    .join("\n");
}

/** Size factors listed one by one up to this many samples; beyond, per center. */
const SIZE_FACTORS_LISTED = 100;

/** The samples: per center and cell, and the size factors (listed, or summarised per center). */
function samplesSection(samples: ReportSamples): string {
  const total = samples.perCenter.reduce((n, c) => n + c.samples, 0);
  const parts: string[] = [];
  const cellNames =
    samples.cells === null
      ? []
      : [...new Set(Object.values(samples.cells).flatMap((c) => Object.keys(c)))].sort();
  const head = `<tr><th>center</th>${cellNames.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}<th>samples</th></tr>`;
  const body = samples.perCenter
    .map(({ center, samples: n }) => {
      const cells = samples.cells?.[center] ?? {};
      return `<tr><th scope="row">${escapeHtml(center)}</th>${cellNames
        .map((c) => `<td class="value">${formatFigure(cells[c] ?? 0)}</td>`)
        .join("")}<td class="value">${formatFigure(n)}</td></tr>`;
    })
    .join("\n");
  parts.push(`<table id="samples-per-center">\n${head}\n${body}\n</table>`);
  parts.push(
    `<p>${formatFigure(total)} samples in ${formatFigure(samples.perCenter.length)} centers${
      samples.cells === null
        ? " (the plan does not list the samples per design cell)"
        : ", per design cell as the analysis plan lists them"
    }.</p>`,
  );
  const factors = samples.sizeFactors;
  if (factors === null) {
    parts.push("<p>Size factors: each center keeps its own (none reach the aggregator).</p>");
  } else if (factors.length <= SIZE_FACTORS_LISTED) {
    const list = factors
      .map(
        (f) =>
          `<tr><th scope="row">${escapeHtml(f.sample)}</th><td>${escapeHtml(f.center)}</td><td class="value">${formatEstimate(f.value)}</td></tr>`,
      )
      .join("\n");
    parts.push(
      `<table id="size-factors">\n<tr><th>sample</th><th>center</th><th>size factor</th></tr>\n${list}\n</table>`,
    );
  } else {
    const byCenter = samples.perCenter.map(({ center }) => {
      const values = factors
        .filter((f) => f.center === center)
        .map((f) => f.value)
        .sort((a, b) => a - b);
      const median =
        values.length === 0
          ? Number.NaN
          : values.length % 2 === 1
            ? values[(values.length - 1) / 2]
            : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
      return `<tr><th scope="row">${escapeHtml(center)}</th><td class="value">${formatEstimate(values[0] ?? Number.NaN)}</td><td class="value">${formatEstimate(median)}</td><td class="value">${formatEstimate(values[values.length - 1] ?? Number.NaN)}</td></tr>`;
    });
    parts.push(
      `<table id="size-factors">\n<tr><th>center</th><th>smallest size factor</th><th>median</th><th>largest</th></tr>\n${byCenter.join("\n")}\n</table>`,
    );
  }
  return `<section id="samples"><h2>Samples</h2>\n${parts.join("\n")}</section>`;
}

/** "1,234 irls, 5 pqn and 0 pqn-flagged". */
function methodCounts(counts: Record<FitMethod, number>): string {
  return FIT_METHODS.map((m) => `${formatFigure(counts[m])} ${m}`).join(", ");
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: ${FONT}; color: #222; background: #fff; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 28px 0 8px; }
p.lead { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 16px 4px 0; border-bottom: 1px solid #eee; }
td.value { text-align: right; }
figure { margin: 0 0 24px; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9rem; margin-top: 6px; max-width: 760px; }
`;

/** How {@link renderReport} draws. */
export interface RenderOptions {
  /**
   * vega draws the scatter plots' points too (the same page, seconds slower: the reference the
   * default is tested against, src/reports/svg.ts)
   */
  readonly everyMarkByVega?: boolean;
  /** The dispersion plot drawn ahead: used when drawn from the same numbers as this report's. */
  readonly dispersionFigure?: PrerenderedDispersionFigure;
}

/**
 * Render the report: a complete HTML page (UTF-8) with a summary table, genes still active
 * per round, an MA plot coloured by fitting method and, when `input.reference` is given, our
 * fold changes against the reference's with the identity line.
 * @throws Error when the per-gene arrays are not all as long as `input.genes`
 */
export async function renderReport(
  input: ReportInput,
  options: RenderOptions = {},
): Promise<string> {
  checkLengths(input);
  const render = options.everyMarkByVega === true ? renderSvgWithVega : renderSvg;
  const title = escapeHtml(input.title);
  const coefficient = input.coefficient;
  const label = input.referenceLabel ?? "reference";

  const rows = keyValueRows(input.summary);

  const sections: string[] = [];
  sections.push(`<section id="summary"><h2>Summary</h2>\n<table>\n${rows}\n</table></section>`);
  if (input.samples !== undefined) sections.push(samplesSection(input.samples));
  const late: string[] = [];

  const phases = [...new Set(input.rounds.map((r) => r.phase))];
  const roundsSvg =
    input.rounds.length > 0
      ? await render(roundsSpec(input.rounds))
      : "<p>No rounds were recorded.</p>";
  late.push(
    `<section><h2>Genes still active per round</h2>
<figure id="rounds-plot">${roundsSvg}
<figcaption>${formatFigure(input.rounds.length)} rounds in ${phases.length} phase${phases.length === 1 ? "" : "s"} (${escapeHtml(phases.join(", "))}); after each round, the genes the phase still works on (symmetric log scale). A phase ends when no gene is left.</figcaption></figure></section>`,
  );

  const ma = scatterPoints(input, input.baseMean, true);
  // A run's MA plot shows what an analyst looks for, significance; a fit's, how genes were fitted.
  const byPadj = input.tests === undefined ? null : significancePoints(ma.points, input.tests);
  const maSvg =
    byPadj === null || input.tests === undefined
      ? await render(
          maSpec(
            ma.points.map(({ gene: _, ...p }) => p),
            coefficient,
          ),
        )
      : await render(maSpec(byPadj.points, coefficient, significanceColor(input.tests.alpha)));
  const maGroups =
    byPadj === null || input.tests === undefined
      ? methodCounts(ma.counts)
      : `${formatFigure(byPadj.counts.significant)} with padj &lt; ${input.tests.alpha} (red), ${formatFigure(byPadj.counts["not significant"])} not, ${formatFigure(byPadj.counts["no padj"])} without padj`;
  sections.push(
    `<section><h2>MA plot</h2>
<figure id="ma-plot">${maSvg}
<figcaption>${formatFigure(ma.points.length)} genes drawn (${maGroups}), every fitted gene with a positive mean; ${formatFigure(ma.omitted)} not drawn (not fitted, or zero mean). Coefficient ${escapeHtml(coefficient)}.</figcaption></figure></section>`,
  );

  if (input.reference !== undefined) {
    const ref = scatterPoints(input, input.reference, false);
    sections.push(
      `<section><h2>Against ${escapeHtml(label)}</h2>
<figure id="reference-plot">${await render(referenceSpec(ref.points, coefficient, label))}
<figcaption>${formatFigure(ref.points.length)} genes with both fits (${methodCounts(ref.counts)}); ${formatFigure(ref.omitted)} without; dashed: identity.</figcaption></figure></section>`,
    );
  }

  if (input.dispersions !== undefined) {
    const source = { baseMean: input.baseMean, dispersions: input.dispersions };
    const ahead = options.dispersionFigure;
    const reused =
      ahead !== undefined && options.everyMarkByVega !== true && sameSource(ahead.source, source);
    // The points only to draw them: a plot drawn ahead needs only their counts.
    let svg: string;
    let disp: { readonly genes: number; readonly omitted: number };
    if (reused) {
      svg = ahead.svg;
      disp = dispersionCounts(source);
    } else {
      const drawn = dispersionPoints(source);
      svg = await render(dispersionSpec(drawn.points, drawn.trend));
      disp = drawn;
    }
    sections.push(
      `<section><h2>Dispersions</h2>
<figure id="dispersion-plot">${svg}
<figcaption>${formatFigure(disp.genes)} genes: gene-wise estimates (grey), final dispersions used for the fit (blue: the maximum a posteriori shrinkage towards the trend, or the gene-wise estimate for dispersion outliers), and the fitted mean–dispersion trend (red${input.dispersions.trendType === undefined ? "" : `, ${escapeHtml(input.dispersions.trendType)}`}); ${formatFigure(disp.omitted)} genes without estimates (all-zero).</figcaption></figure></section>`,
    );
  }

  if (input.tests !== undefined) {
    const tests = input.tests;
    const volcano = volcanoPoints(tests);
    sections.push(
      `<section><h2>Volcano plot</h2>
<figure id="volcano-plot">${await render(volcanoSpec(volcano.points, tests))}
<figcaption>${formatFigure(volcano.points.length)} genes with a p-value (${escapeHtml(tests.contrast)}); ${formatFigure(volcano.significant)} with an adjusted p-value below ${tests.alpha} (red); ${formatFigure(volcano.omitted)} without a p-value (all-zero genes, or p-value set to NA by Cook's filtering). p-values below ${VOLCANO_P_FLOOR} are drawn at ${-Math.log10(VOLCANO_P_FLOOR)}.</figcaption></figure></section>`,
    );
    const histogram = pvalueHistogram(tests.pvalue);
    const withP = histogram.reduce((a, b) => a + b, 0);
    sections.push(
      `<section><h2>p-values</h2>
<figure id="pvalue-histogram">${await render(pvalueHistogramSpec(histogram))}
<figcaption>${formatFigure(withP)} genes with a p-value (${escapeHtml(tests.contrast)}), in bins of 0.05. Under the null the p-values are uniform: a flat floor, with a peak at 0 from the genes that differ.</figcaption></figure></section>`,
    );
    sections.push(
      `<section><h2>Top genes</h2>
${topGenesTable(input, tests)}
<p>The 20 genes with the smallest adjusted p-values (${escapeHtml(tests.contrast)}).</p></section>`,
    );
  }

  if (input.pca !== undefined) {
    const pca = input.pca;
    const shares = `PC1 ${(pca.percentVariance[0] * 100).toFixed(1)}%, PC2 ${(pca.percentVariance[1] * 100).toFixed(1)}% of the variance`;
    sections.push(
      pca.points === null
        ? `<section id="pca"><h2>Samples: principal components</h2>
<p>PCA of the variance-stabilised counts of the ${formatFigure(pca.genes)} genes of largest variance (DESeq2's plotPCA): ${shares}. The samples' coordinates stayed at their centers (the analysis plan does not let them leave: <code>pca_coordinates</code>); each center writes its own with <code>fedseq center --pca-out</code>.</p></section>`
        : `<section id="pca"><h2>Samples: principal components</h2>
<figure id="pca-plot">${await render(pcaSpec(pca))}
<figcaption>${formatFigure(pca.points.length)} samples on the first two principal components of the variance-stabilised counts of the ${formatFigure(pca.genes)} genes of largest variance (DESeq2's plotPCA, vst with blind = FALSE): ${shares}. Colour: ${escapeHtml(pca.groupedBy)}; shape: center.</figcaption></figure></section>`,
    );
  }

  if (input.federation !== undefined) {
    const federationRows = keyValueRows(input.federation);
    late.unshift(
      `<section id="federation"><h2>Federation</h2>\n<table>\n${federationRows}\n</table></section>`,
    );
  }
  sections.push(...late);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${title}</h1>
<p class="lead">fedseq report · ${formatFigure(input.genes.length)} genes · coefficient ${escapeHtml(coefficient)}</p>
${sections.join("\n")}
</main>
</body>
</html>
`;
}

/**
 * Render the report and write it to `file` atomically: a temporary file in the same folder,
 * flushed, then renamed over `file` (readers never see half a report; on failure the
 * temporary file is removed).
 * @throws Error as {@link renderReport}, or when the file system fails
 */
export async function writeReport(file: string, input: ReportInput): Promise<void> {
  writeFileAtomic(file, await renderReport(input));
}
