/**
 * Synthetic RNA-seq cohorts in the `fit-lfc` layout, drawn from DESeq2's own model: per-gene
 * base means (log-normal, heavy right tail, a few near-zero genes), dispersions on DESeq2's
 * parametric trend α(μ) = a1/μ + a0 with log-normal scatter, log-normal size factors, a
 * fraction of differentially expressed genes, and negative-binomial counts drawn as a
 * Gamma-Poisson mixture. Everything is a deterministic function of the seed.
 *
 * The random numbers come from stdlib's seeded generators (Mersenne Twister MT19937, and its
 * normal, gamma and Poisson samplers), consumed in a fixed order: the plan (centers,
 * conditions, size factors, genes) first, then the counts gene by gene, sample by sample.
 */
import { join } from "node:path";
import gammaRandom from "@stdlib/random-base-gamma";
import mt19937 from "@stdlib/random-base-mt19937";
import normalRandom from "@stdlib/random-base-normal";
import poissonRandom from "@stdlib/random-base-poisson";
import { formatNumber, writeCsvAtomic } from "../io/csv.js";
import { InputError } from "../io/errors.js";
import { makeFolders } from "../io/folders.js";

/** What to simulate. */
export interface CohortOptions {
  /** Number of genes (≥ 1). */
  readonly genes: number;
  /** Number of samples (≥ `centers × designLevels`: every center holds every condition). */
  readonly samples: number;
  /** Number of centers (≥ 1). */
  readonly centers: number;
  /** Seed of the random generator: a whole number in [0, 2^53). */
  readonly seed: number;
  /** Number of condition levels `A`, `B`, … (2 to 26; default 2). */
  readonly designLevels?: number;
  /** Share of genes that are differentially expressed, in [0, 1] (default 0.1). */
  readonly deFraction?: number;
}

/**
 * The model's constants. {@link DEFAULT_COHORT_MODEL} gives values typical of bulk RNA-seq
 * (DESeq2's dispersion trend fits on real data give a1 ≈ 1–3, a0 ≈ 0.05–0.1).
 */
export interface CohortModel {
  /** ln of the median base mean of expressed genes. */
  readonly meanLog: number;
  /** Standard deviation of ln(base mean) of expressed genes (the heavy right tail). */
  readonly meanSdLog: number;
  /** Share of near-zero genes (not expressed: base mean around `exp(lowMeanLog)`). */
  readonly lowFraction: number;
  /** ln of the median base mean of near-zero genes. */
  readonly lowMeanLog: number;
  /** Standard deviation of ln(base mean) of near-zero genes. */
  readonly lowSdLog: number;
  /** a1 of the dispersion trend α(μ) = a1/μ + a0 ("extra-Poisson" term). */
  readonly a1: number;
  /** a0 of the dispersion trend (the asymptotic dispersion). */
  readonly a0: number;
  /** Standard deviation of ln(α) around the trend. */
  readonly dispersionSdLog: number;
  /** Upper bound on dispersions (DESeq2 caps its estimates at max(10, n)). */
  readonly maxDispersion: number;
  /** Standard deviation of ln(size factor) (size factors are then scaled to geometric mean 1). */
  readonly sizeFactorSdLog: number;
  /** Standard deviation of the log2 fold changes of differentially expressed genes. */
  readonly lfcSd: number;
  /** Standard deviation of the log weights that make center sizes unequal. */
  readonly centerSizeSdLog: number;
}

/** Constants of a typical bulk RNA-seq experiment. */
export const DEFAULT_COHORT_MODEL: CohortModel = {
  meanLog: Math.log(300),
  meanSdLog: 1.8,
  lowFraction: 0.05,
  lowMeanLog: Math.log(0.3),
  lowSdLog: 1,
  a1: 2,
  a0: 0.08,
  dispersionSdLog: 0.5,
  maxDispersion: 10,
  sizeFactorSdLog: 0.2,
  lfcSd: 1.5,
  centerSizeSdLog: 0.5,
};

/** Name of the condition column of the simulated `metadata.csv`. */
export const CONDITION_COLUMN = "condition";

/**
 * The true parameters of a simulated cohort: everything except the counts. Counts of gene g
 * in sample j are NB(mean `sizeFactors[j] · baseMean[g] · 2^lfc(g, level of j)`, dispersion
 * `dispersions[g]`), where the reference level `A` has lfc 0.
 */
export interface CohortPlan {
  /** Gene ids `gene00001`, … */
  readonly genes: string[];
  /** Sample ids `S001`, …, grouped by center. */
  readonly samples: string[];
  /** Condition levels `A`, `B`, … (`A` is the reference). */
  readonly levels: string[];
  /** Center names `center_1`, … */
  readonly centers: string[];
  /** Index into `levels` of each sample's condition. */
  readonly levelOfSample: Int32Array;
  /** Index into `centers` of each sample's center. */
  readonly centerOfSample: Int32Array;
  /** Size factor of each sample (geometric mean 1). */
  readonly sizeFactors: Float64Array;
  /** Mean normalised count of each gene at the reference level. */
  readonly baseMean: Float64Array;
  /** Dispersion α of each gene (variance μ + αμ²). */
  readonly dispersions: Float64Array;
  /** 1 for differentially expressed genes. */
  readonly de: Uint8Array;
  /**
   * True log2 fold changes, gene-major: gene g, level k ≥ 1 versus `A` at
   * `g * (levels.length - 1) + k - 1`; zero for genes that are not differentially expressed.
   */
  readonly lfc: Float64Array;
}

/** A seeded source of the random variates the simulation needs. */
export interface SeededRandom {
  /** Uniform on [0, 1). */
  uniform(): number;
  /** Normal with mean `mean` and standard deviation `sd`. */
  normal(mean: number, sd: number): number;
  /**
   * Negative binomial with mean `mean` ≥ 0 and dispersion `dispersion` > 0 (variance
   * mean + dispersion·mean²), drawn as Poisson(λ) with λ ~ Gamma(shape 1/α, scale α·mean).
   */
  negativeBinomial(mean: number, dispersion: number): number;
}

/**
 * A {@link SeededRandom} on stdlib's MT19937: the same seed always gives the same sequence.
 * @param seed - a whole number in [0, 2^53)
 * @throws RangeError when `seed` is not a whole number in that range
 */
export function seededRandom(seed: number): SeededRandom {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be a whole number in [0, 2^53), got ${seed}`);
  }
  // The seed's two 32-bit halves and a constant tag, as MT19937's array seeding takes them.
  const words = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, 0x66656473];
  // `normalized` (documented, missing from stdlib's typings): uniform on [0, 1), 53 bits.
  const generator = mt19937.factory({ seed: words }) as unknown as { normalized: () => number };
  const uniform = generator.normalized;
  const normal = normalRandom.factory({ prng: uniform });
  const gamma = gammaRandom.factory({ prng: uniform });
  const poisson = poissonRandom.factory({ prng: uniform });
  return {
    uniform,
    normal: (mean, sd) => normal(mean, sd),
    negativeBinomial(mean, dispersion) {
      if (!(mean > 0)) return 0;
      const shape = 1 / dispersion;
      const lambda = gamma(shape, shape / mean);
      // A tiny shape can underflow λ to 0, where stdlib's Poisson returns NaN.
      return lambda > 0 ? poisson(lambda) : 0;
    },
  };
}

/** `prefix` followed by `i` zero-padded to the width of `count`. */
function paddedName(prefix: string, i: number, count: number): string {
  return `${prefix}${String(i).padStart(String(count).length, "0")}`;
}

/** Check the options (the CLI already checks types; this guards programmatic callers). */
function checkOptions(options: CohortOptions): Required<CohortOptions> {
  const designLevels = options.designLevels ?? 2;
  const deFraction = options.deFraction ?? 0.1;
  const whole = (name: string, x: number, min: number) => {
    if (!Number.isSafeInteger(x) || x < min) {
      throw new InputError(`${name}: must be a whole number ≥ ${min}, got ${x}`);
    }
  };
  whole("--genes", options.genes, 1);
  whole("--samples", options.samples, 2);
  whole("--centers", options.centers, 1);
  whole("--seed", options.seed, 0);
  whole("--design-levels", designLevels, 2);
  if (designLevels > 26) {
    throw new InputError(`--design-levels: at most 26 levels (A to Z), got ${designLevels}`);
  }
  if (!(deFraction >= 0 && deFraction <= 1)) {
    throw new InputError(`--de-fraction: must be between 0 and 1, got ${deFraction}`);
  }
  if (options.samples < options.centers * designLevels) {
    throw new InputError(
      `--samples: ${options.samples} samples cannot give each of ${options.centers} centers all ${designLevels} conditions (need at least ${options.centers * designLevels})`,
    );
  }
  return { ...options, designLevels, deFraction };
}

/** Shuffle `a` in place (Fisher–Yates). */
function shuffle<T extends { length: number; [i: number]: number }>(a: T, rng: SeededRandom): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * Center sizes: each center gets `minimum` samples, the rest is split by random log-normal
 * weights (largest remainders), so sizes are unequal but every center holds every condition.
 */
function centerSizes(
  samples: number,
  centers: number,
  minimum: number,
  rng: SeededRandom,
  model: CohortModel,
): number[] {
  const weights = Array.from({ length: centers }, () =>
    Math.exp(rng.normal(0, model.centerSizeSdLog)),
  );
  const total = weights.reduce((a, b) => a + b, 0);
  const rest = samples - centers * minimum;
  const exact = weights.map((w) => (rest * w) / total);
  const sizes = exact.map((x) => minimum + Math.floor(x));
  let left = samples - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((x, c) => ({ c, r: x - Math.floor(x) }))
    .sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (left === 0) break;
    sizes[c]++;
    left--;
  }
  return sizes;
}

/**
 * Draw the true parameters of a cohort (the first part of the random sequence).
 * @returns the plan and the generator, positioned where the counts' draws start
 * @throws InputError for options out of range (the messages name the CLI flags)
 */
export function planCohort(
  options: CohortOptions,
  model: CohortModel = DEFAULT_COHORT_MODEL,
): { plan: CohortPlan; rng: SeededRandom } {
  const o = checkOptions(options);
  const rng = seededRandom(o.seed);
  const L = o.designLevels;
  const levels = Array.from({ length: L }, (_, k) => String.fromCharCode(65 + k));
  const centers = Array.from({ length: o.centers }, (_, c) =>
    paddedName("center_", c + 1, o.centers),
  );

  // Samples grouped by center; conditions balanced within each center (counts differ by at
  // most one, rotated between centers so that the pooled design is balanced too), shuffled.
  const sizes = centerSizes(o.samples, o.centers, L, rng, model);
  const levelOfSample = new Int32Array(o.samples);
  const centerOfSample = new Int32Array(o.samples);
  let start = 0;
  sizes.forEach((size, c) => {
    const block = new Int32Array(size);
    for (let k = 0; k < size; k++) block[k] = (k + start) % L;
    shuffle(block, rng);
    levelOfSample.set(block, start);
    centerOfSample.fill(c, start, start + size);
    start += size;
  });
  const samples = Array.from({ length: o.samples }, (_, j) => paddedName("S", j + 1, o.samples));

  // Size factors: log-normal, scaled to geometric mean 1 as DESeq2's median-of-ratios are.
  const logSf = Float64Array.from({ length: o.samples }, () =>
    rng.normal(0, model.sizeFactorSdLog),
  );
  const meanLogSf = logSf.reduce((a, b) => a + b, 0) / o.samples;
  const sizeFactors = logSf.map((x) => Math.exp(x - meanLogSf));

  // Genes: base mean, dispersion around the trend.
  const baseMean = new Float64Array(o.genes);
  const dispersions = new Float64Array(o.genes);
  for (let g = 0; g < o.genes; g++) {
    const low = rng.uniform() < model.lowFraction;
    const mu = low
      ? Math.exp(rng.normal(model.lowMeanLog, model.lowSdLog))
      : Math.exp(rng.normal(model.meanLog, model.meanSdLog));
    baseMean[g] = mu;
    const trend = model.a1 / mu + model.a0;
    dispersions[g] = Math.min(
      trend * Math.exp(rng.normal(0, model.dispersionSdLog)),
      model.maxDispersion,
    );
  }

  // Differential expression: exactly round(fraction × genes) genes, chosen at random.
  const de = new Uint8Array(o.genes);
  const deCount = Math.round(o.deFraction * o.genes);
  const order = shuffle(
    Int32Array.from({ length: o.genes }, (_, g) => g),
    rng,
  );
  for (let k = 0; k < deCount; k++) de[order[k]] = 1;
  const lfc = new Float64Array(o.genes * (L - 1));
  for (let g = 0; g < o.genes; g++) {
    if (!de[g]) continue;
    for (let k = 1; k < L; k++) lfc[g * (L - 1) + k - 1] = rng.normal(0, model.lfcSd);
  }

  const genes = Array.from({ length: o.genes }, (_, g) =>
    paddedName("gene", g + 1, Math.max(o.genes, 10_000)),
  );
  return {
    plan: {
      genes,
      samples,
      levels,
      centers,
      levelOfSample,
      centerOfSample,
      sizeFactors,
      baseMean,
      dispersions,
      de,
      lfc,
    },
    rng,
  };
}

/**
 * The counts of each gene in turn (one row of `samples.length` counts, reused between
 * calls: copy it to keep it), drawn from the plan with the generator {@link planCohort}
 * returned.
 */
export function* cohortCounts(plan: CohortPlan, rng: SeededRandom): Generator<Float64Array> {
  const n = plan.samples.length;
  const L = plan.levels.length;
  const row = new Float64Array(n);
  const mean = new Float64Array(n);
  for (let g = 0; g < plan.genes.length; g++) {
    const mu = plan.baseMean[g];
    const alpha = plan.dispersions[g];
    for (let j = 0; j < n; j++) {
      const k = plan.levelOfSample[j];
      const fold = k === 0 ? 1 : 2 ** plan.lfc[g * (L - 1) + k - 1];
      mean[j] = plan.sizeFactors[j] * mu * fold;
    }
    for (let j = 0; j < n; j++) row[j] = rng.negativeBinomial(mean[j], alpha);
    yield row;
  }
}

/** Names of the coefficients of `~ condition` as fit-lfc names them (`condition_B_vs_A`, …). */
export function coefficientNames(levels: readonly string[]): string[] {
  return levels.slice(1).map((level) => `${CONDITION_COLUMN}_${level}_vs_${levels[0]}`);
}

/** What {@link writeCohort} wrote. */
export interface CohortSummary {
  /** The true parameters. */
  readonly plan: CohortPlan;
  /** Paths of the files written. */
  readonly files: {
    counts: string;
    metadata: string;
    sizeFactors: string;
    dispersions: string;
    lfc: string;
  };
  /** Number of genes whose counts are all zero. */
  readonly allZeroGenes: number;
}

/**
 * Simulate a cohort and write it in the `fit-lfc` layout:
 *
 * - `dir/counts.csv`: `gene`, then one integer column per sample;
 * - `dir/metadata.csv`: `sample`, `condition` (`A`, `B`, …), `center`;
 * - `dir/truth/size_factors.csv` (`sample,size_factor`), `dir/truth/dispersions.csv`
 *   (`gene,dispersion`): usable as fit-lfc's `--size-factors` and `--dispersions`;
 * - `dir/truth/lfc.csv`: `gene`, `log2FoldChange` (the last level versus `A`, DESeq2's
 *   default `results()` contrast), `de` (`true`/`false`), `baseMean`, `Intercept` (log2 of
 *   the base mean) and one column per coefficient named as fit-lfc's `lfc.csv` names them.
 *
 * The counts are written row by row in 64 KiB chunks (memory stays O(genes + samples)),
 * each file atomically (temporary file, then rename). Folders are created as needed.
 * @throws InputError for options out of range
 */
export function writeCohort(
  dir: string,
  options: CohortOptions,
  model: CohortModel = DEFAULT_COHORT_MODEL,
): CohortSummary {
  const { plan, rng } = planCohort(options, model);
  const truth = join(dir, "truth");
  makeFolders(truth);
  const files = {
    counts: join(dir, "counts.csv"),
    metadata: join(dir, "metadata.csv"),
    sizeFactors: join(truth, "size_factors.csv"),
    dispersions: join(truth, "dispersions.csv"),
    lfc: join(truth, "lfc.csv"),
  };

  let allZeroGenes = 0;
  const genes = plan.genes;
  function* countRows(): Generator<string[]> {
    let g = 0;
    for (const row of cohortCounts(plan, rng)) {
      let zero = true;
      const fields = new Array<string>(row.length + 1);
      fields[0] = genes[g++];
      for (let j = 0; j < row.length; j++) {
        if (row[j] !== 0) zero = false;
        fields[j + 1] = String(row[j]);
      }
      if (zero) allZeroGenes++;
      yield fields;
    }
  }
  writeCsvAtomic(files.counts, ["gene", ...plan.samples], countRows());
  writeCsvAtomic(
    files.metadata,
    ["sample", CONDITION_COLUMN, "center"],
    plan.samples.map((s, j) => [
      s,
      plan.levels[plan.levelOfSample[j]],
      plan.centers[plan.centerOfSample[j]],
    ]),
  );
  writeCsvAtomic(
    files.sizeFactors,
    ["sample", "size_factor"],
    plan.samples.map((s, j) => [s, formatNumber(plan.sizeFactors[j])]),
  );
  writeCsvAtomic(
    files.dispersions,
    ["gene", "dispersion"],
    genes.map((gene, g) => [gene, formatNumber(plan.dispersions[g])]),
  );
  const L = plan.levels.length;
  writeCsvAtomic(
    files.lfc,
    ["gene", "log2FoldChange", "de", "baseMean", "Intercept", ...coefficientNames(plan.levels)],
    genes.map((gene, g) => {
      const coefficients = Array.from(plan.lfc.subarray(g * (L - 1), (g + 1) * (L - 1)));
      return [
        gene,
        formatNumber(coefficients[L - 2]),
        plan.de[g] ? "true" : "false",
        formatNumber(plan.baseMean[g]),
        formatNumber(Math.log2(plan.baseMean[g])),
        ...coefficients.map(formatNumber),
      ];
    }),
  );
  return { plan, files, allZeroGenes };
}
