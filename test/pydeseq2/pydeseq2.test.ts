/**
 * PyDESeq2's public test suite (owkin/PyDESeq2, `tests/`), run on fedseq: every case whose
 * features fedseq has, with PyDESeq2's own comparisons and tolerances. The R DESeq2 references
 * and the test data are in `test/pydeseq2/data/` (provenance, and the cases not run, in its
 * README.md).
 *
 * Each case writes a fedseq dataset folder (counts genes × samples with a `gene` column;
 * metadata with `sample`, the design's columns and `center`, the samples dealt round-robin to
 * three centers), runs the whole analysis in this process with `runSimulated` and the CLI's
 * defaults (`fedseq run`), reads the files it wrote (results.csv, size_factors.csv,
 * dispersions.csv, lfc.csv; shrunk.csv and vst.csv when asked for) and compares them with R's
 * as PyDESeq2's test does: `assert_res_almost_equal` is {@link assertResAlmostEqual}, pandas'
 * NaN-skipping `max()` is {@link nanMax}. Nothing is loosened: a case that fails keeps failing
 * until fedseq matches R. The measured errors of every case are printed at the end (and written
 * to the file named by FEDSEQ_PYDESEQ2_SUMMARY, when set).
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { FitType } from "../../src/algorithms/dispersions/trend.js";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import type { LfcSolver } from "../../src/algorithms/lfc/computeLfc.js";
import type { SizeFactorsType } from "../../src/algorithms/sizeFactors/state.js";
import { CenterError } from "../../src/federation/transport.js";
import { InputError } from "../../src/io/errors.js";
import { type RunJson, runSimulated, type SimulatedRunJob } from "../../src/pipeline/run.js";
import { type ContrastSpec, parseContrast } from "../../src/results/contrast.js";
import type { LfcShrinkType } from "../../src/results/lfcShrink.js";
import type { WaldOptions } from "../../src/stats/wald.js";
import { writeH5ad } from "../helpers/h5ad.js";
import { useTempFolder } from "../helpers/tempFiles.js";
import {
  almostEqual,
  type Frame,
  nanMax,
  nanMismatches,
  readFrame,
  relativeErrors,
} from "./frames.js";

/** The LFC solver of every run (the CLI's `--solver`). */
const SOLVER: LfcSolver = "deseq2";

/** Centers the samples are dealt to, round-robin. */
const CENTERS = 3;

const DATA = join(dirname(fileURLToPath(import.meta.url)), "data");
const tmp = useTempFolder("fedseq-pydeseq2-");

// ---------------------------------------------------------------------------------------------
// Inputs: PyDESeq2's count tables and metadata, as fedseq dataset folders

/** A count table and its metadata (PyDESeq2's `counts_df` and `metadata`). */
interface Input {
  readonly genes: string[];
  readonly samples: string[];
  /** counts[g][i]: gene g, sample i ("" for a missing value, as pandas writes NaN). */
  readonly counts: (number | string)[][];
  /** Metadata columns in file order, each a value per sample, as written. */
  readonly metadata: Map<string, string[]>;
  /** Sample ids of the metadata (default: `samples`). */
  readonly metadataSamples?: string[];
}

/** Read a genes × samples count CSV and its samples × variables metadata CSV. */
function readInput(countsFile: string, metadataFile: string): Input {
  const counts = readFrame(join(DATA, countsFile));
  const metadata = readFrame(join(DATA, metadataFile));
  const samples = [...counts.columns];
  const columns = samples.map((s) => counts.col(s));
  if (metadata.index.join() !== samples.join()) throw new Error(`${metadataFile}: sample order`);
  return {
    genes: [...counts.index],
    samples,
    counts: counts.index.map((_, g) => columns.map((c) => c[g])),
    metadata: new Map(metadata.columns.map((c) => [c, metadata.text(c)])),
  };
}

/** A copy of `input` keeping `samples` (in that order). */
function subset(input: Input, samples: readonly string[]): Input {
  const at = samples.map((s) => input.samples.indexOf(s));
  return {
    genes: input.genes,
    samples: [...samples],
    counts: input.counts.map((row) => at.map((i) => row[i])),
    metadata: new Map([...input.metadata].map(([k, v]) => [k, at.map((i) => v[i])])),
  };
}

/** A copy of `input` with some counts and metadata values changed (as `df.loc[...] = x`). */
function modified(
  input: Input,
  counts: readonly [sample: string, gene: string, value: number][],
  metadata: readonly [sample: string, column: string, value: string][] = [],
): Input {
  const out: Input = {
    ...input,
    counts: input.counts.map((row) => row.slice()),
    metadata: new Map([...input.metadata].map(([k, v]) => [k, v.slice()])),
  };
  for (const [sample, gene, value] of counts) {
    out.counts[input.genes.indexOf(gene)][input.samples.indexOf(sample)] = value;
  }
  for (const [sample, column, value] of metadata) {
    (out.metadata.get(column) as string[])[input.samples.indexOf(sample)] = value;
  }
  return out;
}

/** The center of the i-th sample: round-robin over {@link CENTERS} centers. */
const centerOf = (i: number) => `center${(i % CENTERS) + 1}`;

/** Write `input` as a fedseq dataset folder (counts.csv, metadata.csv with `center`). */
function writeDataset(name: string, input: Input): string {
  const dir = tmp.subdir(name);
  const lines = [["gene", ...input.samples].join(",")];
  input.genes.forEach((gene, g) => {
    lines.push([gene, ...input.counts[g]].join(","));
  });
  writeFileSync(join(dir, "counts.csv"), `${lines.join("\n")}\n`);
  const columns = [...input.metadata.keys()];
  const ids = input.metadataSamples ?? input.samples;
  const meta = [["sample", ...columns, "center"].join(",")];
  ids.forEach((sample, i) => {
    meta.push(
      [sample, ...columns.map((c) => (input.metadata.get(c) as string[])[i]), centerOf(i)].join(
        ",",
      ),
    );
  });
  writeFileSync(join(dir, "metadata.csv"), `${meta.join("\n")}\n`);
  return dir;
}

/** The same dataset as one AnnData `data.h5ad` (int64 counts, categorical factors). */
async function writeH5adDataset(name: string, input: Input): Promise<string> {
  const dir = tmp.subdir(name);
  const n = input.samples.length;
  const p = input.genes.length;
  const matrix = new Float64Array(n * p);
  input.counts.forEach((row, g) => {
    row.forEach((c, i) => {
      matrix[i * p + g] = Number(c);
    });
  });
  await writeH5ad(join(dir, "data.h5ad"), {
    samples: input.samples,
    genes: input.genes,
    matrix,
    countType: "int64",
    obs: [
      ...[...input.metadata].map(([name, values]) => ({ name, values, categorical: true })),
      { name: "center", values: input.samples.map((_, i) => centerOf(i)) },
    ],
    // Fields already filled, one named as PyDESeq2's own (its test fills `dispersions`, etc.).
    layers: { normed_counts: { matrix: matrix.map((x, k) => x + (k % 7)) } },
  });
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Runs: `fedseq run` in this process, with the CLI's defaults

/** What one run wrote. */
interface Outputs {
  readonly report: RunJson;
  readonly results: Frame;
  readonly sizeFactors: Frame;
  readonly dispersions: Frame;
  readonly lfc: Frame;
  /** shrunk.csv (runs that ask for lfcShrink). */
  readonly shrunk: Frame | null;
  /** vst.csv (runs that ask for the vst). */
  readonly vst: Frame | null;
}

/** The options of a case that differ from `fedseq run`'s defaults. */
interface RunSpec {
  readonly design: string;
  readonly contrast?: ContrastSpec;
  readonly wald?: WaldOptions;
  readonly independentFiltering?: boolean;
  /** DESeq's minReplicatesForReplace (PyDESeq2's refit_cooks = False: Infinity). */
  readonly minReplicatesForReplace?: number;
  readonly sizeFactorsType?: SizeFactorsType;
  readonly fitType?: FitType;
  /** `--lfc-shrink` (it runs after the results and leaves them as they are). */
  readonly lfcShrink?: LfcShrinkType;
  /** Secure aggregation, and so verified requests (what `fedseq run --data` does by default). */
  readonly secureAggregation?: boolean;
  /** `--vst`: DESeq2's varianceStabilizingTransformation(blind = FALSE), written to vst.csv. */
  readonly vst?: boolean;
}

/** `fedseq run --data DIR --design … --out OUT` with the CLI's defaults (runCommand.ts). */
function runJob(dataDir: string, outDir: string, spec: RunSpec): SimulatedRunJob {
  return {
    dataDir,
    outDir,
    design: spec.design,
    references: {},
    mode: "irls-pqn",
    solver: SOLVER,
    hp: DEFAULT_HYPERPARAMETERS,
    contrast: spec.contrast,
    wald: spec.wald ?? { lfcThreshold: 0, altHypothesis: "greaterAbs" },
    alpha: 0.1,
    independentFiltering: spec.independentFiltering ?? true,
    ...(spec.minReplicatesForReplace === undefined
      ? {}
      : { minReplicatesForReplace: spec.minReplicatesForReplace }),
    ...(spec.sizeFactorsType === undefined ? {} : { sizeFactorsType: spec.sizeFactorsType }),
    ...(spec.fitType === undefined ? {} : { fitType: spec.fitType }),
    ...(spec.lfcShrink === undefined ? {} : { lfcShrink: spec.lfcShrink }),
    ...(spec.secureAggregation === undefined ? {} : { secureAggregation: spec.secureAggregation }),
    ...(spec.vst === undefined ? {} : { vst: spec.vst }),
    threads: 1,
  };
}

async function runDir(name: string, dataDir: string, spec: RunSpec): Promise<Outputs> {
  const outDir = tmp.subdir(`${name}-out`);
  const report = await runSimulated(runJob(dataDir, outDir, spec));
  return {
    report,
    results: readFrame(join(outDir, "results.csv")),
    sizeFactors: readFrame(join(outDir, "size_factors.csv")),
    dispersions: readFrame(join(outDir, "dispersions.csv")),
    lfc: readFrame(join(outDir, "lfc.csv")),
    shrunk: spec.lfcShrink === undefined ? null : readFrame(join(outDir, "shrunk.csv")),
    vst: spec.vst === true ? readFrame(join(outDir, "vst.csv")) : null,
  };
}

const runs = new Map<string, Promise<Outputs>>();

/** Run `input` once per `name` (cases sharing a run share its outputs). */
function run(name: string, input: Input | (() => Promise<string>), spec: RunSpec) {
  let outputs = runs.get(name);
  if (outputs === undefined) {
    const dir = typeof input === "function" ? input() : Promise.resolve(writeDataset(name, input));
    outputs = dir.then((d) => runDir(name, d, spec));
    runs.set(name, outputs);
  }
  return outputs;
}

const levels = (factor: string, level: string, reference: string): ContrastSpec => ({
  kind: "levels",
  factor,
  level,
  reference,
});
const B_VS_A = levels("condition", "B", "A");

// PyDESeq2's inputs: `load_example_data("synthetic")` (datasets/synthetic), tests/data/….
const synthetic = readInput("synthetic/test_counts.csv", "synthetic/test_metadata.csv");
const continuous = readInput("continuous/test_counts.csv", "continuous/test_metadata.csv");
const wide = readInput("wide/test_counts.csv", "wide/test_metadata.csv");

/** "Introduce outlier counts and a condition level with a single replicate" (PyDESeq2). */
function withOutliers(input: Input): Input {
  return modified(
    input,
    [
      ["sample1", "gene1", 2000],
      ["sample11", "gene7", 1000],
    ],
    [["sample1", "condition", "C"]],
  );
}

const SINGLE: RunSpec = { design: "~condition", contrast: B_VS_A };
const MULTI: RunSpec = { design: "~group + condition", contrast: B_VS_A };
/** PyDESeq2's validation tests: `condition` 0/1 (numeric, a continuous variable in fedseq). */
const SINGLE_NUMERIC: RunSpec = { design: "~condition" };
/** PyDESeq2's contrast vector [0, …, 0, 1]: the last coefficient, fedseq's default. */
const CONTINUOUS: RunSpec = { design: "~group + condition + measurement" };
/**
 * The runs "single", "multi" and "continuous" also ask for apeglm, for PyDESeq2's shrinkage
 * tests: lfcShrink runs after the results and leaves them as they are, so the other cases
 * share these runs.
 */
const withApeglm = (spec: RunSpec): RunSpec => ({ ...spec, lfcShrink: "apeglm" });

// ---------------------------------------------------------------------------------------------
// Comparisons, as PyDESeq2's tests make them; every measure is kept for the summary

interface Measure {
  readonly test: string;
  readonly what: string;
  readonly value: number;
  /** The bound the value must stay below (NaN for a value reported only). */
  readonly bound: number;
  /** The gene (or sample) where a maximum is reached. */
  readonly at?: string;
}
const measures: Measure[] = [];

function record(test: string, what: string, value: number, bound = Number.NaN, at?: string): void {
  measures.push({ test, what, value, bound, at });
}

/** The id where `values` reaches its NaN-skipping maximum. */
function argMax(ids: readonly string[], values: ArrayLike<number>): string | undefined {
  const max = nanMax(values);
  for (let i = 0; i < values.length; i++) if (values[i] === max) return ids[i];
  return undefined;
}

/** Record pandas' `(abs(r - x) / abs(r)).max()` over `ids`, reported only. */
function recordRelative(
  test: string,
  what: string,
  ids: readonly string[],
  r: Float64Array,
  x: Float64Array,
) {
  const errors = relativeErrors(r, x);
  record(test, what, nanMax(errors), Number.NaN, argMax(ids, errors));
}

const fmt = (x: number) => (Number.isNaN(x) ? "NaN" : x.toPrecision(6));

/** Per-gene context for a failure message: what R and fedseq estimated for the gene. */
function geneContext(gene: string, out: Outputs, r: Frame, rDispersions?: Frame): string {
  const at = (f: Frame, c: string) => f.on(c, [gene])[0];
  const parts = [
    `baseMean R ${fmt(at(r, "baseMean"))} / fedseq ${fmt(at(out.results, "baseMean"))}`,
    `lfcSE R ${fmt(at(r, "lfcSE"))} / fedseq ${fmt(at(out.results, "lfcSE"))}`,
  ];
  const fedDisp = `fedseq ${fmt(at(out.dispersions, "dispersion"))} (gene-wise ${fmt(at(out.dispersions, "dispersion_genewise"))}, trend ${fmt(at(out.dispersions, "dispersion_trend"))}, outlier ${out.dispersions.text("dispersion_outlier")[out.dispersions.index.indexOf(gene)]})`;
  parts.push(
    rDispersions === undefined
      ? `dispersion ${fedDisp}`
      : `dispersion R ${fmt(at(rDispersions, "x"))} / ${fedDisp}`,
  );
  // lfc.csv's per-gene fit flags, those this version writes.
  const flags = ["irls_converged", "pqn_caught", "pqn_diverged", "rounds", "betaConv", "betaIter"];
  for (const flag of flags) {
    if (out.lfc.columns.includes(flag)) {
      parts.push(`${flag} ${out.lfc.text(flag)[out.lfc.index.indexOf(gene)]}`);
    }
  }
  return parts.join("; ");
}

/** The genes of `ids` whose error is not below `bound`, with both values and the context. */
function offenders(
  ids: readonly string[],
  errors: Float64Array,
  bound: number,
  r: Float64Array,
  ours: Float64Array,
  context: (gene: string) => string,
): string {
  const lines: string[] = [];
  ids.forEach((gene, i) => {
    if (errors[i] >= bound) {
      lines.push(
        `  ${gene}: R ${fmt(r[i])}, fedseq ${fmt(ours[i])}, rel. error ${fmt(errors[i])} [${context(gene)}]`,
      );
    }
  });
  return lines.join("\n");
}

/** `(abs(r - ours) / abs(r)).max() < tol`, recorded and soft-asserted with the failing genes. */
function expectMaxRelative(
  test: string,
  column: string,
  ids: readonly string[],
  r: Float64Array,
  ours: Float64Array,
  tol: number,
  context: (gene: string) => string,
): void {
  const errors = relativeErrors(r, ours);
  const max = nanMax(errors);
  record(test, `${column} max rel. error`, max, tol, argMax(ids, errors));
  expect
    .soft(
      max,
      `${test}: ${column}, max relative error ${fmt(max)} ≥ ${tol}:\n${offenders(ids, errors, tol, r, ours, context)}`,
    )
    .toBeLessThan(tol);
}

/** `(py.col.isna() == r.col.isna()).all()`, recorded and soft-asserted. */
function expectSameNaN(
  test: string,
  column: string,
  ids: readonly string[],
  r: Float64Array,
  ours: Float64Array,
): void {
  const bad = nanMismatches(r, ours);
  record(test, `${column} NaN mismatches`, bad.length, 0.5);
  expect
    .soft(
      bad.map((i) => `${ids[i]} (R ${fmt(r[i])}, fedseq ${fmt(ours[i])})`),
      `${test}: ${column} NaN in different genes`,
    )
    .toEqual([]);
}

/** Columns reported (not asserted: PyDESeq2 does not compare them) to explain failures. */
function reportOthers(test: string, out: Outputs, r: Frame, rDispersions?: Frame): void {
  for (const column of ["baseMean", "lfcSE", "stat"]) {
    recordRelative(
      test,
      `${column} (info)`,
      r.index,
      r.col(column),
      out.results.on(column, r.index),
    );
  }
  if (rDispersions !== undefined) {
    const ids = rDispersions.index;
    const ours = out.dispersions.on("dispersion", ids);
    recordRelative(test, "dispersion (info)", ids, rDispersions.col("x"), ours);
  }
}

/** PyDESeq2's `assert_res_almost_equal(py_res, r_res, tol)`. */
function assertResAlmostEqual(
  test: string,
  out: Outputs,
  rFile: string,
  tol: number,
  rDispersionsFile?: string,
): void {
  const r = readFrame(join(DATA, rFile));
  const rDispersions =
    rDispersionsFile === undefined ? undefined : readFrame(join(DATA, rDispersionsFile));
  const ids = r.index;
  expect(out.results.index).toEqual(ids);
  const context = (gene: string) => geneContext(gene, out, r, rDispersions);
  for (const column of ["pvalue", "padj"]) {
    expectSameNaN(test, column, ids, r.col(column), out.results.on(column, ids));
  }
  for (const column of ["log2FoldChange", "pvalue", "padj"]) {
    const theirs = r.col(column);
    const ours = out.results.on(column, ids);
    expectMaxRelative(test, column, ids, theirs, ours, tol, context);
  }
  reportOthers(test, out, r, rDispersions);
}

// ---------------------------------------------------------------------------------------------
// tests/test_pydeseq2.py

describe("PyDESeq2 tests/test_pydeseq2.py against R DESeq2", () => {
  it("test_size_factors_ratio: size factors, assert_array_almost_equal (6 decimals)", async () => {
    const test = "test_size_factors_ratio";
    const out = await run("single", synthetic, withApeglm(SINGLE));
    const r = readFrame(join(DATA, "single_factor/r_test_size_factors.csv"));
    const ours = out.sizeFactors.on("size_factor", r.index);
    const { maxAbsError, failing } = almostEqual(ours, r.col("x"), 6);
    record(test, "size_factor max abs. error", maxAbsError, 1.5e-6);
    recordRelative(test, "size_factor max rel. error (info)", r.index, r.col("x"), ours);
    expect(failing.map((i) => r.index[i])).toEqual([]);
  });

  it("test_size_factors_poscounts: size factors, assert_array_almost_equal (6 decimals)", async () => {
    const test = "test_size_factors_poscounts";
    const out = await run("single-poscounts", synthetic, {
      ...SINGLE,
      sizeFactorsType: "poscounts",
    });
    const r = readFrame(join(DATA, "single_factor/r_test_size_factors_poscount.csv"));
    const ours = out.sizeFactors.on("size_factor", r.index);
    const { maxAbsError, failing } = almostEqual(ours, r.col("sizeFactor"), 6);
    record(test, "size_factor max abs. error", maxAbsError, 1.5e-6);
    recordRelative(test, "size_factor max rel. error (info)", r.index, r.col("sizeFactor"), ours);
    expect(failing.map((i) => r.index[i])).toEqual([]);
  });

  it("test_iterative_size_factors (tol 0.02)", async () => {
    const test = "test_iterative_size_factors";
    // DESeq2's iterative size factors run only under verified requests (secure aggregation).
    const out = await run("single-iterate", synthetic, {
      ...SINGLE,
      sizeFactorsType: "iterate",
      secureAggregation: true,
    });
    // R's file numbers the samples 1…100 in the data's order.
    const r = readFrame(join(DATA, "single_factor/r_iterative_size_factors.csv"));
    const samples = r.index.map((i) => synthetic.samples[Number(i) - 1]);
    const ours = out.sizeFactors.on("size_factor", samples);
    expectMaxRelative(test, "size_factor", samples, r.col("x"), ours, 0.02, () => "");
    // run.json says how it went: DESeq2 stops from its second iteration on, at most its tenth.
    const iterations = out.report.dispersions.size_factor_iterations?.iterations ?? 0;
    expect(iterations >= 2 && iterations <= 10, `${iterations} iterations`).toBe(true);
  });

  it("test_deseq_independent_filtering_mean_fit (tol 0.02)", async () => {
    const out = await run("single-mean-fit", synthetic, { ...SINGLE, fitType: "mean" });
    assertResAlmostEqual(
      "test_deseq_independent_filtering_mean_fit",
      out,
      "single_factor/r_test_res_mean_curve.csv",
      0.02,
    );
  });

  it("test_deseq_independent_filtering_parametric_fit (tol 0.02)", async () => {
    const out = await run("single", synthetic, withApeglm(SINGLE));
    assertResAlmostEqual(
      "test_deseq_independent_filtering_parametric_fit",
      out,
      "single_factor/r_test_res.csv",
      0.02,
      "single_factor/r_test_dispersions.csv",
    );
  });

  // PyDESeq2's refit_cooks = False: DESeq2's minReplicatesForReplace = Inf (`--no-refit-cooks`);
  // the synthetic data have no outlier, so R's default results are the reference.
  it("test_deseq_no_refit_cooks (tol 0.02)", async () => {
    const out = await run("single-no-refit", synthetic, {
      ...SINGLE,
      minReplicatesForReplace: Number.POSITIVE_INFINITY,
    });
    assertResAlmostEqual(
      "test_deseq_no_refit_cooks",
      out,
      "single_factor/r_test_res.csv",
      0.02,
      "single_factor/r_test_dispersions.csv",
    );
  });

  it("test_deseq_without_independent_filtering_parametric_fit (tol 0.02)", async () => {
    const out = await run("single-no-filtering", synthetic, {
      ...SINGLE,
      independentFiltering: false,
    });
    assertResAlmostEqual(
      "test_deseq_without_independent_filtering_parametric_fit",
      out,
      "single_factor/r_test_res_no_independent_filtering.csv",
      0.02,
      "single_factor/r_test_dispersions.csv",
    );
  });

  // PyDESeq2's lfc_null = -0.5 for "less", 0.5 otherwise: DESeq2's lfcThreshold = 0.5 (R's
  // "less" tests LFC < -lfcThreshold, fedseq's --lfc-null is DESeq2's non-negative threshold).
  for (const alt of ["lessAbs", "greaterAbs", "less", "greater"] as const) {
    it(`test_alt_hypothesis[${alt}] (tol 0.02)`, async () => {
      const test = `test_alt_hypothesis[${alt}]`;
      const out = await run(`single-${alt}`, synthetic, {
        ...SINGLE,
        wald: { lfcThreshold: 0.5, altHypothesis: alt },
      });
      const r = readFrame(join(DATA, `single_factor/r_test_res_${alt}.csv`));
      const ids = r.index;
      expect(out.results.index).toEqual(ids);
      const context = (gene: string) => geneContext(gene, out, r);
      for (const column of ["pvalue", "padj"]) {
        expectSameNaN(test, column, ids, r.col(column), out.results.on(column, ids));
      }
      const lfc = "log2FoldChange";
      expectMaxRelative(test, lfc, ids, r.col(lfc), out.results.on(lfc, ids), 0.02, context);
      let stat = out.results.on("stat", ids);
      if (alt === "lessAbs") stat = stat.map(Math.abs);
      const rStat = r.col("stat");
      expectMaxRelative(test, "stat", ids, rStat, stat, 0.02, context);
      // p-values where both stats are non-zero (pandas aligns the two filtered Series: genes
      // in one only give NaN, which max() skips).
      const rP = r.col("pvalue");
      const ours = out.results.on("pvalue", ids);
      const both = (values: Float64Array) =>
        values.map((v, i) => (rStat[i] !== 0 && stat[i] !== 0 ? v : Number.NaN));
      expectMaxRelative(test, "pvalue (stat ≠ 0)", ids, both(rP), both(ours), 0.02, context);
      recordRelative(test, "lfcSE (info)", ids, r.col("lfcSE"), out.results.on("lfcSE", ids));
    });
  }

  for (const outliers of [true, false]) {
    it(`test_multifactor_deseq[with_outliers=${outliers}] (tol 0.04)`, async () => {
      const out = outliers
        ? await run("multi-outliers", withOutliers(synthetic), MULTI)
        : await run("multi", synthetic, withApeglm(MULTI));
      assertResAlmostEqual(
        `test_multifactor_deseq[${outliers}]`,
        out,
        `multi_factor/r_test_res${outliers ? "_outliers" : ""}.csv`,
        0.04,
        outliers ? undefined : "multi_factor/r_test_dispersions.csv",
      );
    });
  }

  for (const outliers of [true, false]) {
    it(`test_continuous_deseq[with_outliers=${outliers}] (tol 0.04)`, async () => {
      const out = outliers
        ? await run("continuous-outliers", withOutliers(continuous), CONTINUOUS)
        : await run("continuous", continuous, withApeglm(CONTINUOUS));
      assertResAlmostEqual(
        `test_continuous_deseq[${outliers}]`,
        out,
        `continuous/r_test_res${outliers ? "_outliers" : ""}.csv`,
        0.04,
        outliers ? undefined : "continuous/r_test_dispersions.csv",
      );
    });
  }

  // low_memory is PyDESeq2's memory option, the same analysis either way: one run serves both.
  it("test_wide_deseq[low_memory=True/False] (tol 0.02)", async () => {
    const out = await run("wide", wide, MULTI);
    assertResAlmostEqual(
      "test_wide_deseq",
      out,
      "wide/r_test_res.csv",
      0.02,
      "wide/r_test_dispersions.csv",
    );
  });

  it("test_contrast: B vs A and A vs B agree up to sign (8 decimals)", async () => {
    const test = "test_contrast";
    const ba = await run("multi", synthetic, withApeglm(MULTI));
    const ab = await run("multi-a-vs-b", synthetic, {
      ...MULTI,
      contrast: levels("condition", "A", "B"),
    });
    const ids = ba.results.index;
    expect(ab.results.index).toEqual(ids);
    for (const column of ba.results.columns) {
      const x = ba.results.col(column).map(Math.abs);
      const y = ab.results.col(column).map(Math.abs);
      const { maxAbsError, failing } = almostEqual(x, y, 8);
      record(test, `|${column}| max abs. difference`, maxAbsError, 1.5e-8);
      expect
        .soft(
          failing.map((i) => ids[i]),
          `|${column}|`,
        )
        .toEqual([]);
    }
    for (const column of ["log2FoldChange", "stat"]) {
      const { maxAbsError, failing } = almostEqual(
        ba.results.col(column),
        ab.results.col(column).map((v) => -v),
        8,
      );
      record(test, `${column} + reversed max abs.`, maxAbsError, 1.5e-8);
      expect
        .soft(
          failing.map((i) => ids[i]),
          `${column} sign`,
        )
        .toEqual([]);
    }
  });

  // PyDESeq2's test_vst compares vst(use_design=False) with R's blind = TRUE (r_vst.csv) and
  // vst(use_design=True) with R's varianceStabilizingTransformation(blind = FALSE), fitType
  // parametric, design ~condition (r_vst_with_design.csv). fedseq's --vst is blind = FALSE on the
  // run's design and trend, and it has no blind vst (a design of ~ 1): the second half runs here.
  it("test_vst[use_design=True]: vst.csv against R's blind = FALSE vst (tol 0.02)", async () => {
    const test = "test_vst[use_design=True]";
    const out = await run("single-vst", synthetic, { ...SINGLE, vst: true });
    expect(out.report.vst).toMatchObject({ trend: { fit: "parametric" } });
    const vst = out.vst as Frame;
    // PyDESeq2 reads R's genes × samples table and transposes it, as its own vst_counts: both
    // are compared cell by cell, here gene by gene and sample by sample (vst.csv's samples are in
    // center order).
    const r = readFrame(join(DATA, "single_factor/r_vst_with_design.csv"));
    expect(vst.index).toEqual(r.index);
    expect([...vst.columns].sort()).toEqual([...r.columns].sort());
    const cells = r.columns.flatMap((s) => r.index.map((g) => `${g}/${s}`));
    const theirs = Float64Array.from(r.columns.flatMap((s) => Array.from(r.col(s))));
    const ours = Float64Array.from(r.columns.flatMap((s) => Array.from(vst.on(s, r.index))));
    // PyDESeq2's `(np.abs(r_vst - vst) / r_vst).max().max() < tol` divides by R's signed value;
    // every R value here is positive (4.08 to 8.17), so it is the relative error asserted.
    // (pandas' max() skips NaN: R has none, and fedseq must have none either.)
    expect(Math.min(...theirs)).toBeGreaterThan(0);
    expectSameNaN(test, "vst", cells, theirs, ours);
    expectMaxRelative(test, "vst", cells, theirs, ours, 0.02, () => "");
    const absErrors = ours.map((x, i) => Math.abs(x - theirs[i]));
    record(
      test,
      "vst max abs. error (info)",
      nanMax(absErrors),
      Number.NaN,
      argMax(cells, absErrors),
    );
  });

  it("test_anndata_init: an AnnData (.h5ad) input with extra fields (tol 0.02)", async () => {
    const out = await run("single-h5ad", () => writeH5adDataset("single-h5ad", synthetic), SINGLE);
    assertResAlmostEqual(
      "test_anndata_init",
      out,
      "single_factor/r_test_res.csv",
      0.02,
      "single_factor/r_test_dispersions.csv",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// tests/test_edge_cases.py (the cases fedseq has: no R reference, PyDESeq2's own assertions)

/** A two-gene, two-sample table as PyDESeq2's input-validation tests build it. */
function tiny(
  counts: (number | string)[][],
  condition: string[],
  samples = ["sample1", "sample2"],
) {
  return {
    genes: ["gene1", "gene2"],
    samples: ["sample1", "sample2"],
    counts,
    metadata: new Map([["condition", condition]]),
    metadataSamples: samples,
  } satisfies Input;
}

/** fedseq's user errors: bad input read here, or at a center (reported by the transport). */
const isUserError = (e: unknown) =>
  e instanceof InputError || (e instanceof CenterError && e.userError);

/** Messages of the inputs rejected, for the summary. */
const rejections: string[] = [];

/** Run a dataset that PyDESeq2 rejects with a ValueError: fedseq must reject it as bad input. */
async function expectRejected(name: string, input: Input, spec: RunSpec): Promise<void> {
  const dir = writeDataset(name, input);
  const error = await runDir(name, dir, spec).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isUserError(error), `${name}: ${error === undefined ? "fedseq ran it" : error}`).toBe(
    true,
  );
  rejections.push(`${name}: ${(error as Error).message.replace(/\/tmp\/[^ :]*\//g, "")}`);
}

describe("PyDESeq2 tests/test_edge_cases.py", () => {
  it("test_zero_genes: all-zero genes get NaN dispersion, LFC and statistics, baseMean 0", async () => {
    // np.random.seed(42); np.random.choice(10, size=3, replace=False) = [8, 1, 5]
    const zero = ["gene9", "gene2", "gene6"];
    const input = modified(
      synthetic,
      zero.flatMap((gene) =>
        synthetic.samples.map((s) => [s, gene, 0] as [string, string, number]),
      ),
    );
    const out = await run("zero-genes", input, SINGLE);
    const nan = (f: Frame, c: string) => Array.from(f.on(c, zero), Number.isNaN);
    expect(nan(out.dispersions, "dispersion")).toEqual([true, true, true]);
    // The coefficients of lfc.csv (log2), PyDESeq2's varm["LFC"].
    for (const c of ["Intercept", "condition_B_vs_A"]) {
      expect(nan(out.lfc, c), `lfc.csv ${c}`).toEqual([true, true, true]);
    }
    expect(Array.from(out.results.on("baseMean", zero))).toEqual([0, 0, 0]);
    for (const c of ["log2FoldChange", "lfcSE", "stat", "pvalue", "padj"]) {
      expect(nan(out.results, c), c).toEqual([true, true, true]);
    }
    record("test_zero_genes", "all-zero genes with NaN results", zero.length);
  });

  it("test_nan_counts, test_numeric_counts, test_integer_counts, test_non_negative_counts, test_nan_factors, test_indexes: rejected", async () => {
    // PyDESeq2's counts_df is samples × genes: {"gene1": [0, x], "gene2": [4, 12]}.
    const cases: [string, Input][] = [
      [
        "test_nan_counts",
        tiny(
          [
            [0, ""],
            [4, 12],
          ],
          ["0", "1"],
        ),
      ],
      [
        "test_numeric_counts",
        tiny(
          [
            [0, "a"],
            [4, 12],
          ],
          ["0", "1"],
        ),
      ],
      [
        "test_integer_counts",
        tiny(
          [
            [0, 1.5],
            [4, 12],
          ],
          ["0", "1"],
        ),
      ],
      [
        "test_non_negative_counts",
        tiny(
          [
            [0, -1],
            [4, 12],
          ],
          ["0", "1"],
        ),
      ],
      [
        "test_nan_factors",
        tiny(
          [
            [0, 1],
            [4, 12],
          ],
          ["0", ""],
        ),
      ],
      [
        "test_indexes",
        tiny(
          [
            [0, 1],
            [4, 12],
          ],
          ["0", "1"],
          ["sample01", "sample02"],
        ),
      ],
    ];
    for (const [name, input] of cases) await expectRejected(name, input, SINGLE_NUMERIC);
  });

  it("test_equal_num_vars_num_samples_design: as many coefficients as samples is rejected", async () => {
    const input: Input = {
      genes: ["gene1", "gene2"],
      samples: ["sample1", "sample2", "sample3"],
      counts: [
        [0, 1, 55],
        [4, 12, 60],
      ],
      metadata: new Map([
        ["condition", ["0", "1", "0"]],
        ["batch", ["A", "B", "B"]],
      ]),
    };
    await expectRejected("test_equal_num_vars_num_samples_design", input, {
      design: "~condition + batch",
    });
  });

  it("test_contrast (edge cases): invalid contrasts are rejected", async () => {
    // Too short: ["condition", "B"] (the CLI's --contrast parser).
    expect(() => parseContrast("condition,B")).toThrow(InputError);
    const design = "~condition + group";
    for (const [name, contrast] of [
      ["unknown-factor", levels("batch", "Y", "X")],
      ["unknown-reference", levels("condition", "B", "C")],
      ["unknown-level", levels("condition", "C", "B")],
    ] as const) {
      await expectRejected(`test_contrast-${name}`, synthetic, { design, contrast });
    }
  });

  it("test_lfc_shrinkage_coeff: shrinking a coefficient that does not exist is rejected", async () => {
    await expectRejected("test_lfc_shrinkage_coeff", synthetic, {
      ...SINGLE,
      contrast: { kind: "coefficient", name: "this_coeff_does_not_exist" },
      lfcShrink: "apeglm",
    });
  });

  it("test_few_samples: 2 samples per condition and an outlier, no gene refitted", async () => {
    const input = modified(subset(synthetic, ["sample1", "sample2", "sample99", "sample100"]), [
      ["sample1", "gene1", 1000],
    ]);
    const out = await run("few-samples", input, SINGLE);
    record("test_few_samples", "genes refitted", out.report.cooks.refitted, 0.5);
    expect(out.report.cooks.refitted).toBe(0);
    expect(out.report.cooks.replaced_counts).toBe(0);
  });

  it("test_few_samples_and_outlier: runs", async () => {
    const samples = [
      "sample1",
      "sample2",
      ...Array.from({ length: 9 }, (_, k) => `sample${92 + k}`),
    ];
    const input = modified(subset(synthetic, samples), [
      ["sample1", "gene1", 1000],
      ["sample100", "gene10", 1000],
    ]);
    const out = await run("few-samples-and-outlier", input, SINGLE);
    expect(out.results.index).toEqual(synthetic.genes);
    record("test_few_samples_and_outlier", "genes refitted", out.report.cooks.refitted);
  });
});

// ---------------------------------------------------------------------------------------------
// tests/test_pydeseq2.py, lfcShrink(type = "apeglm"): the whole analysis over three centers

/** PyDESeq2's test_lfc_shrinkage_large_counts input (in its test's code; here as files). */
const largeCounts = readInput("large_counts/test_counts.csv", "large_counts/test_metadata.csv");

/**
 * PyDESeq2's shrinkage tests compare log2FoldChange with R's lfcShrink table at 0.02 (starting
 * from R's size factors, dispersions and MLE; here from fedseq's own, federated).
 */
function assertShrunk(test: string, out: Outputs, rFile: string): void {
  const r = readFrame(join(DATA, rFile));
  const shrunk = out.shrunk as Frame;
  const ids = r.index;
  expect(shrunk.index).toEqual(ids);
  const context = (gene: string) => geneContext(gene, out, r);
  const ours = shrunk.on("log2FoldChange", ids);
  expectMaxRelative(
    test,
    "shrunk log2FoldChange",
    ids,
    r.col("log2FoldChange"),
    ours,
    0.02,
    context,
  );
  recordRelative(test, "shrunk lfcSE (info)", ids, r.col("lfcSE"), shrunk.on("lfcSE", ids));
  expect(out.report.lfc_shrink?.type).toBe("apeglm");
}

describe("PyDESeq2's lfcShrink (apeglm) tests against R DESeq2 + apeglm, whole analysis", () => {
  it("test_lfc_shrinkage (tol 0.02)", async () => {
    const out = await run("single", synthetic, withApeglm(SINGLE));
    assertShrunk("test_lfc_shrinkage", out, "single_factor/r_test_lfc_shrink_res.csv");
  });
  it("test_multifactor_lfc_shrinkage (tol 0.02)", async () => {
    const out = await run("multi", synthetic, withApeglm(MULTI));
    assertShrunk("test_multifactor_lfc_shrinkage", out, "multi_factor/r_test_lfc_shrink_res.csv");
  });
  it("test_continuous_lfc_shrinkage (tol 0.02)", async () => {
    const out = await run("continuous", continuous, withApeglm(CONTINUOUS));
    assertShrunk("test_continuous_lfc_shrinkage", out, "continuous/r_test_lfc_shrink_res.csv");
  });
  it("test_lfc_shrinkage_large_counts (tol 0.02)", async () => {
    const out = await run("large-counts", largeCounts, withApeglm(SINGLE));
    assertShrunk("test_lfc_shrinkage_large_counts", out, "large_counts/r_test_lfc_shrink_res.csv");
  });
});

// ---------------------------------------------------------------------------------------------
// Summary

afterAll(() => {
  const rows = measures.map((m) => {
    const verdict = Number.isNaN(m.bound) ? "" : m.value < m.bound ? "ok" : "FAIL";
    const bound = Number.isNaN(m.bound) ? "" : `< ${m.bound}`;
    const at = m.at === undefined ? "" : `(${m.at})`;
    return `${m.test.padEnd(56)} ${m.what.padEnd(34)} ${fmt(m.value).padStart(12)} ${at.padEnd(10)} ${bound.padEnd(10)} ${verdict}`;
  });
  const text = [
    `PyDESeq2 cases on fedseq (solver ${SOLVER}, ${CENTERS} centers):`,
    ...rows,
    "Inputs rejected:",
    ...rejections.map((r) => `  ${r}`),
  ].join("\n");
  console.log(text);
  if (process.env.FEDSEQ_PYDESEQ2_SUMMARY)
    writeFileSync(process.env.FEDSEQ_PYDESEQ2_SUMMARY, `${text}\n`);
});
