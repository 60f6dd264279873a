/**
 * The `outliers_sim` dataset split into its three centers for the Cook's tests, DESeq2's
 * outputs, the fixtures of `fixtures/make_fixtures.R`, and an in-process driver that records
 * every message.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CooksCenter } from "../../../src/algorithms/cooks/center.js";
import {
  type TrimSearch,
  trimAggregateStep,
  trimLocalStep,
  trimRequest,
} from "../../../src/algorithms/cooks/trimmedMean.js";
import { centerDataFromDataset } from "../../../src/federation/centerData.js";
import { readCsv } from "../../../src/io/csv.js";
import { readDataset } from "../../../src/io/dataset.js";
import { deseq2Table } from "../../helpers/deseq2.js";
import { sharedPath } from "../../helpers/shared.js";

export const DATASET = "outliers_sim";

/** A center of the test federation, with its sample ids. */
export interface TestCenter extends CooksCenter {
  readonly name: string;
  readonly samples: readonly string[];
}

/** Everything the tests read, loaded once. */
export interface OutliersSim {
  readonly genes: string[];
  readonly samples: string[];
  /** Pooled counts, gene-major (genes × samples, counts.csv order). */
  readonly counts: Float64Array;
  readonly sizeFactors: Float64Array;
  readonly design: Float64Array;
  readonly p: number;
  readonly centers: TestCenter[];
  /** β (natural log, genes×p) and dispersions of the fit whose Cook's DESeq2 used. */
  readonly firstFitBeta: Float64Array;
  readonly firstFitDispersion: Float64Array;
  /** Indices of the genes DESeq2 refitted (their fit.csv rows hold the refit). */
  readonly refitted: Set<number>;
  /**
   * IRLS iterations of the first fit per gene: 100 means IRLS did not converge, optim gave
   * the final β, and DESeq2's hat diagonals belong to IRLS's last iterate instead.
   */
  readonly firstFitIterations: Float64Array;
}

function fixture(name: string): { ids: string[]; column(name: string): Float64Array } {
  const here = dirname(fileURLToPath(import.meta.url));
  const table = readCsv(join(here, "fixtures", name));
  return {
    ids: table.rows.map((r) => r.fields[0]),
    column(col: string): Float64Array {
      const k = table.header.indexOf(col);
      if (k < 0) throw new Error(`${name}: no column ${col}`);
      return Float64Array.from(table.rows, (r) => Number(r.fields[k]));
    },
  };
}

/** DESeq2's robust dispersions (fixture). */
export function robustFixture(): Float64Array {
  return fixture("robust_dispersion.csv").column("robust_dispersion");
}

/** Genes whose p-value `results()` sets to NA without the refit (fixture). */
export function naWithoutRefitFixture(): string[] {
  return fixture("pvalue_na_without_refit.csv").ids;
}

let cached: Promise<OutliersSim> | undefined;

/** Load the dataset and split it into its centers (cached). */
export function loadOutliersSim(): Promise<OutliersSim> {
  cached ??= load();
  return cached;
}

async function load(): Promise<OutliersSim> {
  const dataset = await readDataset(sharedPath("data", DATASET));
  const sfTable = deseq2Table(DATASET, "size_factors.csv");
  const sfById = new Map(sfTable.ids.map((id, i) => [id, sfTable.numbers("size_factor")[i]]));
  const designTable = deseq2Table(DATASET, "design_matrix.csv");
  const columns = designTable.header.slice(1);
  const p = columns.length;
  const designById = new Map(
    designTable.ids.map((id, i) => [id, columns.map((c) => designTable.numbers(c)[i])]),
  );
  const sizeFactors = Float64Array.from(dataset.samples, (s) => sfById.get(s)!);
  const design = Float64Array.from(dataset.samples.flatMap((s) => designById.get(s)!));
  const centers = dataset.centers.map((name): TestCenter => {
    const data = centerDataFromDataset(dataset, name);
    return {
      name,
      samples: data.samples,
      n: data.samples.length,
      p,
      genes: data.genes.length,
      design: Float64Array.from(data.samples.flatMap((s) => designById.get(s)!)),
      sizeFactors: Float64Array.from(data.samples, (s) => sfById.get(s)!),
      counts: data.counts,
    };
  });

  const fit = deseq2Table(DATASET, "fit.csv");
  const genes = dataset.genes;
  const nGenes = genes.length;
  const firstFitBeta = new Float64Array(nGenes * p);
  const firstFitDispersion = fit.numbers("dispersion").slice();
  const firstFitIterations = fit.numbers("beta_iter").slice();
  const betaColumns = columns.map((c) => fit.numbers(`beta_ln.${c}`));
  for (let g = 0; g < nGenes; g++) {
    for (let k = 0; k < p; k++) firstFitBeta[g * p + k] = betaColumns[k][g];
  }
  const prefit = fixture("prefit_replaced.csv");
  const geneIndex = new Map(genes.map((gene, g) => [gene, g]));
  const refitted = new Set<number>();
  const pd = prefit.column("dispersion");
  const pi = prefit.column("beta_iter");
  const pb = [prefit.column("beta_ln_intercept"), prefit.column("beta_ln_conditionB")];
  prefit.ids.forEach((gene, r) => {
    const g = geneIndex.get(gene)!;
    refitted.add(g);
    firstFitDispersion[g] = pd[r];
    firstFitIterations[g] = pi[r];
    for (let k = 0; k < p; k++) firstFitBeta[g * p + k] = pb[k][r];
  });
  return {
    genes,
    samples: dataset.samples,
    counts: dataset.counts,
    sizeFactors,
    design,
    p,
    centers,
    firstFitBeta,
    firstFitDispersion,
    refitted,
    firstFitIterations,
  };
}

/** Every message of a run, by kind, for the no-per-sample-value test. */
export const messages: { kind: string; value: object }[] = [];

/** Run a trimmed-mean search to the end in process; returns the number of rounds. */
export function runSearch(centers: readonly CooksCenter[], search: TrimSearch): number {
  for (;;) {
    const request = trimRequest(search);
    messages.push({ kind: request.kind, value: request });
    const shares = centers.map((c) => trimLocalStep(c, request));
    for (const share of shares) messages.push({ kind: share.kind, value: share });
    if (trimAggregateStep(search, shares)) return search.rounds;
  }
}

/** R's `mean(x, trim)` on pooled values (sorted copy; k = ⌊N·trim⌋ dropped at each end). */
export function pooledTrimmedMean(values: readonly number[], trim: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const lo = Math.floor(sorted.length * trim);
  let sum = 0;
  for (let i = lo; i < sorted.length - lo; i++) sum += sorted[i];
  return sum / (sorted.length - 2 * lo);
}
