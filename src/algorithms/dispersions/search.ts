/**
 * DESeq2's dispersion fit (C++ `fitDisp`, then `fitDispGrid` for the genes it flags), run in
 * lockstep over genes, one round trip per accepted line-search step (and per run of up to 8
 * rejected proposals).
 *
 * DESeq2's estimate is where its Armijo line search on log α stops, not the maximiser of the
 * log posterior: started at alpha_init = 1e-8 (the moments estimate of an under-dispersed
 * gene), the slope α·∂lp/∂α is ~1e-8 and the search stops at once, wherever the maximum is; it
 * stops once an accepted step gains less than 1e-6; it keeps alpha_init when the gain is below
 * 1e-6 of |lp|. The exact maximiser disagrees with DESeq2's gene-wise estimate by more than 5%
 * on 53% of li_lncap's genes, and the exact MAP maximiser with DESeq2's MAP by more than 1e-4 on
 * 28% (li_lncap) to 40% (bodymap) of the genes. So the aggregator
 * replays DESeq2's search exactly: each round every gene still searching sends its proposal
 * (one log α) to the centers, which return the sums DESeq2's `log_posterior` and
 * `dlog_posterior` need there ({@link DispersionEvalShare}); the aggregator then takes exactly
 * the decision DESeq2 takes (accept or halve κ, stop or propose again). A rejected proposal is
 * followed by another from the same log α and slope with κ halved, known in advance: after a
 * rejection a gene also sends the halvings that follow, up to the first one a quadratic through
 * the posterior's values and slope accepts ({@link halvingsToAccept}, at most 8 points), and the
 * aggregator walks DESeq2's decisions along them until one is accepted (whose new slope the
 * next proposal needs) or they run out. Every point is evaluated as alone, so the path and the
 * estimates are DESeq2's, bit for bit; a round only goes further along it. The genes DESeq2 refits
 * on its grid (gene-wise: line search not converged, or stopped after one proposal, and estimate
 * above 10·minDisp; MAP: not converged) take two more rounds once their line search is over,
 * while the others search: the 20-point coarse grid of log α over [ln 1e-8, ln maxDisp], then
 * 20 points around its best. A gene that may reach maxit proposals (unconverged) within two
 * rounds sends those grids ahead, with its last proposals (the grid's points do not depend on
 * the line search), so that the slowest genes' grid takes no round of its own.
 *
 * Rounds: 1 + the largest number over genes of accepted proposals plus runs of rejected ones
 * (each run of r rejections takes one round when the quadratic guesses right, r/2 at worst; at
 * most maxit = 100 in all), + 2 when a gene that ends last needs the grid without having
 * reached maxit. Shares: per line-search point 2 + 2c doubles (1 point per searching gene, or
 * up to 8 after rejections), per grid point 1 + c (20 per grid; no derivatives), where c is the
 * number of the design's distinct rows D when D < p(p+1)/2 (B then travels as per-row sums of
 * the weights: c = p for group designs), p(p+1)/2 otherwise (B as an upper triangle).
 * Requests: the mask and the log α values per gene (with their count per gene when genes
 * send different numbers, and the line-search points' count when grid points come along).
 */

import { triangleSize } from "../../math/linalg.js";
import { maskCount, maskIndices } from "../masks.js";
import { sumOverCenters } from "../shares.js";
import { derivativeOffsets, LogPosterior, pointOffsets } from "./logPosterior.js";
import {
  ARMIJO_EPSILON,
  DESEQ2_DISPERSION_OPTIONS,
  type DispersionOptions,
  GRID_POINTS,
  LOG_ALPHA_CEILING,
  LOG_ALPHA_FLOOR,
  maxDispersion,
} from "./options.js";
import {
  type DispersionEvalShare,
  type DispersionSearchMode,
  type DispersionSearchResult,
  type DispersionSearchSettings,
  type DispersionSearchState,
  type InitialDispersions,
  SearchStatus,
} from "./state.js";

/** Lower end of DESeq2's dispersion grid (`fitDispGridWrapper`: log(1e-8), whatever minDisp). */
const GRID_MIN_LOG_ALPHA = Math.log(1e-8);

/** The most points a gene's line search sends in one round (its proposal and the halvings). */
const MAX_LOOKAHEAD = 8;

/**
 * Points a gene's next round evaluates: its proposal, and after r rejections in a row the
 * 2^r − 1 halvings that follow if it too is rejected (at most {@link MAX_LOOKAHEAD} in all).
 */
function lookahead(rejections: number): number {
  return rejections >= 3 ? MAX_LOOKAHEAD : 2 ** rejections;
}

/**
 * Points a gene's next round evaluates after a rejected step κ from log posterior `lp` with
 * slope `dlp` (where the posterior was `lpRejected`): up to the first halving κ/2^j that a
 * quadratic through lp, the slope along the step (dlp²) and lpRejected accepts — Armijo's rule
 * accepts s ≤ 2(1 − ε)·dlp²/C there, C the quadratic's curvature — and, from the second
 * rejection in a row on, one more (the quadratic, fitted further from where the search lands,
 * guesses worse). At most {@link MAX_LOOKAHEAD}; {@link lookahead}'s schedule when the quadratic
 * says nothing. Only the points sent and the round trips depend on it, never a decision: the
 * aggregator walks DESeq2's decisions along whatever points come back. Against the schedule
 * alone (1, 2, then 4–8 points after rejections) it sent 18% fewer dispersion bytes on a
 * 20,000 × 500 cohort, 25% fewer on outliers_sim and 3% fewer on bodymap, each in as many rounds.
 */
export function halvingsToAccept(
  lp: number,
  dlp: number,
  kappa: number,
  lpRejected: number,
  rejections: number,
): number {
  const gain = dlp * dlp;
  const curvature = (2 * (lp + kappa * gain - lpRejected)) / (kappa * kappa);
  const accepted = (2 * (1 - ARMIJO_EPSILON) * gain) / curvature;
  const j = Math.ceil(Math.log2(kappa / accepted));
  if (!(curvature > 0) || !Number.isFinite(j)) return lookahead(rejections);
  return Math.min(MAX_LOOKAHEAD, Math.max(1, j) + (rejections >= 2 ? 1 : 0));
}

/** The constants of a search for a dataset of `samples` samples and `p` design columns. */
export function searchSettings(
  samples: number,
  p: number,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
): DispersionSearchSettings {
  return {
    p,
    minDisp: options.minDisp,
    maxDisp: maxDispersion(samples),
    kappa0: options.kappa0,
    dispTol: options.dispTol,
    maxit: options.maxit,
    minLogAlpha: Math.log(options.minDisp / 10),
  };
}

/**
 * DESeq2's coarse grid: R's `seq(log(1e-8), log(maxDisp), length = 20)` (first and last points
 * exact, the others from + k·(to − from)/19).
 */
export function coarseGrid(maxDisp: number): Float64Array {
  const from = GRID_MIN_LOG_ALPHA;
  const to = Math.log(maxDisp);
  const n1 = GRID_POINTS - 1;
  const grid = new Float64Array(GRID_POINTS);
  grid[0] = from;
  for (let k = 1; k < n1; k++) grid[k] = from + k * ((to - from) / n1);
  grid[n1] = to;
  return grid;
}

/** Armadillo's `linspace(start, end, n)`: start + i·(end − start)/(n − 1), last point exact. */
function linspace(start: number, end: number, out: Float64Array, offset: number, n: number): void {
  const delta = (end - start) / (n - 1);
  for (let i = 0; i < n - 1; i++) out[offset + i] = start + i * delta;
  out[offset + n - 1] = end;
}

/**
 * Index of the largest of `n` values from `offset`, as Armadillo's `max(index)` (two
 * interleaved scans; NaN never wins; ties go to the odd-indexed scan).
 */
function armaArgmax(values: Float64Array, offset: number, n: number): number {
  let maxI = Number.NEGATIVE_INFINITY;
  let maxJ = Number.NEGATIVE_INFINITY;
  let bestI = 0;
  let bestJ = 0;
  let i = 0;
  let j = 1;
  for (; j < n; i += 2, j += 2) {
    const xi = values[offset + i];
    const xj = values[offset + j];
    if (xi > maxI) {
      maxI = xi;
      bestI = i;
    }
    if (xj > maxJ) {
      maxJ = xj;
      bestJ = j;
    }
  }
  if (i < n) {
    const xi = values[offset + i];
    if (xi > maxI) {
      maxI = xi;
      bestI = i;
    }
  }
  return maxI > maxJ ? bestI : bestJ;
}

/** A search state starting every fitted gene at `startDispersion`. */
function startState(
  mode: DispersionSearchMode,
  designRows: Float64Array,
  fitted: Uint8Array,
  startDispersion: Float64Array,
  priorMean: Float64Array | null,
  priorVariance: number,
  settings: DispersionSearchSettings,
): DispersionSearchState {
  const nGenes = fitted.length;
  const genes = maskIndices(fitted);
  const status = new Uint8Array(nGenes);
  const points = new Float64Array(genes.length);
  for (let a = 0; a < genes.length; a++) {
    status[genes[a]] = SearchStatus.starting;
    points[a] = Math.log(startDispersion[genes[a]]);
  }
  const nan = () => new Float64Array(nGenes).fill(Number.NaN);
  return searchState({
    round: 0,
    mask: fitted.slice(),
    points,
    pointsPerGene: 1,
    pointCounts: new Float64Array(0),
    derivatives: true,
    derivativeCounts: new Float64Array(0),
    designRows:
      designRows.length > 0 && designRows.length / settings.p < triangleSize(settings.p)
        ? designRows
        : null,
    mode,
    gridParts: new Uint8Array(genes.length),
    settings,
    fitted,
    status,
    startDispersion,
    priorMean,
    priorVariance,
    logAlpha: nan(),
    logPosterior: nan(),
    slope: nan(),
    stepSize: nan(),
    iterations: new Int32Array(nGenes),
    acceptedSteps: new Int32Array(nGenes),
    rejections: new Int32Array(nGenes),
    initialLogPosterior: nan(),
    gridRefit: new Uint8Array(nGenes),
    coarseLogAlpha: nan(),
    gridLogAlpha: nan(),
  });
}

/**
 * The gene-wise search (DESeq2's `estimateDispersionsGeneEst` after μ): DESeq2's line search
 * from alpha_init, without prior.
 * @param initial - from {@link dispersionResidualsAggregate}
 * @param options - DESeq2's constants
 */
export function genewiseSearchStart(
  initial: InitialDispersions,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
): DispersionSearchState {
  return startState(
    "genewise",
    initial.designRows,
    initial.mask,
    initial.alphaInit,
    null,
    1,
    searchSettings(initial.samples, initial.p, options),
  );
}

/** Inputs of the MAP search (G arrays, NaN on genes not fitted). */
export interface MapSearchInput {
  /** Non-zero genes, G. */
  readonly mask: Uint8Array;
  /** Pooled sample count m and design columns p. */
  readonly samples: number;
  readonly p: number;
  /** DESeq2's dispGeneEst, G. */
  readonly dispGeneEst: Float64Array;
  /** DESeq2's dispFit (the trend at baseMean), G. */
  readonly dispFit: Float64Array;
  /** dispPriorVar. */
  readonly priorVariance: number;
  /**
   * Whether dispPriorVar was given rather than estimated from these genes (DESeq2's refit after
   * Cook's replacement passes the first estimation's): then every gene is searched, also when
   * none reaches 100·minDisp (DESeq2's shortcut to 10·minDisp is for an estimated prior only).
   */
  readonly priorGiven?: boolean;
  /**
   * The pooled design's distinct rows, D×p ({@link InitialDispersions.designRows}); absent:
   * B travels as upper triangles.
   */
  readonly designRows?: Float64Array;
}

/**
 * The MAP search (DESeq2's `estimateDispersionsMAP`): DESeq2's line search from
 * dispInit = dispGeneEst if above 0.1·dispFit, else dispFit, with the normal prior
 * N(log dispFit, dispPriorVar) on log α. When no gene-wise estimate reaches 100·minDisp and the
 * prior is estimated here, DESeq2 fits nothing (every dispersion is 10·minDisp, see
 * {@link finalDispersions}): the state then fits no gene.
 */
export function mapSearchStart(
  input: MapSearchInput,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
): DispersionSearchState {
  const { mask, dispGeneEst, dispFit } = input;
  const nGenes = mask.length;
  const fitted = mask.slice();
  let usable = 0;
  for (let g = 0; g < nGenes; g++) if (mask[g] && dispGeneEst[g] >= options.minDisp * 100) usable++;
  if (usable === 0 && input.priorGiven !== true) fitted.fill(0);
  const start = new Float64Array(nGenes).fill(Number.NaN);
  const priorMean = new Float64Array(nGenes).fill(Number.NaN);
  for (let g = 0; g < nGenes; g++) {
    if (!fitted[g]) continue;
    const init = dispGeneEst[g] > 0.1 * dispFit[g] ? dispGeneEst[g] : dispFit[g];
    start[g] = Number.isNaN(init) ? dispFit[g] : init;
    priorMean[g] = Math.log(dispFit[g]);
  }
  return startState(
    "map",
    input.designRows ?? new Float64Array(0),
    fitted,
    start,
    priorMean,
    input.priorVariance,
    searchSettings(input.samples, input.p, options),
  );
}

/**
 * The MAP search after the gene-wise one, on the genes and design of `initial`.
 * @param dispGeneEst - the gene-wise search's dispersions, G
 * @param dispFit - the trend at each gene's mean, G
 * @param priorGiven - the prior variance is the first estimation's (a refit's): {@link MapSearchInput.priorGiven}
 */
export function mapSearchAfter(
  initial: InitialDispersions,
  dispGeneEst: Float64Array,
  dispFit: Float64Array,
  priorVariance: number,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
  priorGiven = false,
): DispersionSearchState {
  return mapSearchStart(
    {
      mask: initial.mask,
      samples: initial.samples,
      p: initial.p,
      dispGeneEst,
      dispFit,
      priorVariance,
      priorGiven,
      designRows: initial.designRows,
    },
    options,
  );
}

/**
 * The design rows the shares' B values are summed over (null: upper triangles), from the number
 * c of values per point they carry.
 */
function gramLayout(state: DispersionSearchState, c: number): Float64Array | null {
  const p = state.settings.p;
  if (c === triangleSize(p)) return null;
  const rows = state.designRows ?? null;
  if (rows !== null && c === rows.length / p) return rows;
  throw new Error(
    `dispersion shares carry ${c} values of B per point, expected ${triangleSize(p)}`,
  );
}

/** Mutable copies of a state's bookkeeping. */
interface Book {
  status: Uint8Array;
  logAlpha: Float64Array;
  logPosterior: Float64Array;
  slope: Float64Array;
  stepSize: Float64Array;
  iterations: Int32Array;
  acceptedSteps: Int32Array;
  rejections: Int32Array;
  initialLogPosterior: Float64Array;
  gridRefit: Uint8Array;
  coarseLogAlpha: Float64Array;
  gridLogAlpha: Float64Array;
}

function copyBook(state: DispersionSearchState): Book {
  return {
    status: state.status.slice(),
    logAlpha: state.logAlpha.slice(),
    logPosterior: state.logPosterior.slice(),
    slope: state.slope.slice(),
    stepSize: state.stepSize.slice(),
    iterations: state.iterations.slice(),
    acceptedSteps: state.acceptedSteps.slice(),
    rejections: state.rejections.slice(),
    initialLogPosterior: state.initialLogPosterior.slice(),
    gridRefit: state.gridRefit.slice(),
    coarseLogAlpha: state.coarseLogAlpha.slice(),
    gridLogAlpha: state.gridLogAlpha.slice(),
  };
}

/**
 * A search state, built in one place: every state then has one shape (V8 map), so that the
 * aggregation's code, compiled for it, is not thrown away and compiled again when a state built
 * elsewhere (by a spread, say) arrives — on bodymap it was compiled 27 times, 0.66 s of a 9.8 s run.
 */
function searchState(s: Omit<DispersionSearchState, "kind">): DispersionSearchState {
  return {
    kind: "dispersion-search",
    round: s.round,
    mask: s.mask,
    points: s.points,
    pointsPerGene: s.pointsPerGene,
    pointCounts: s.pointCounts,
    derivatives: s.derivatives,
    derivativeCounts: s.derivativeCounts,
    designRows: s.designRows,
    mode: s.mode,
    gridParts: s.gridParts,
    settings: s.settings,
    fitted: s.fitted,
    status: s.status,
    startDispersion: s.startDispersion,
    priorMean: s.priorMean,
    priorVariance: s.priorVariance,
    logAlpha: s.logAlpha,
    logPosterior: s.logPosterior,
    slope: s.slope,
    stepSize: s.stepSize,
    iterations: s.iterations,
    acceptedSteps: s.acceptedSteps,
    rejections: s.rejections,
    initialLogPosterior: s.initialLogPosterior,
    gridRefit: s.gridRefit,
    coarseLogAlpha: s.coarseLogAlpha,
    gridLogAlpha: s.gridLogAlpha,
  };
}

/** DESeq2's step κ from log α `a` with slope `dlp`, clipped so that a + κ·dlp stays in [−30, 10]. */
function clippedStep(a: number, dlp: number, kappa: number): number {
  const aPropose = a + kappa * dlp;
  let clipped = kappa;
  if (aPropose < LOG_ALPHA_FLOOR) clipped = (LOG_ALPHA_FLOOR - a) / dlp;
  if (aPropose > LOG_ALPHA_CEILING) clipped = (LOG_ALPHA_CEILING - a) / dlp;
  return clipped;
}

/**
 * DESeq2's next proposal for gene g (its loop head: count the iteration, clip κ so that
 * log α stays in [−30, 10]). Returns the point, or NaN when the gene's search is over: a NaN
 * proposal (or a NaN log posterior) makes DESeq2 reject every remaining proposal, so the gene
 * ends at maxit where it stands.
 */
function propose(book: Book, g: number, maxit: number): number {
  book.iterations[g]++;
  const a = book.logAlpha[g];
  const dlp = book.slope[g];
  const kappa = clippedStep(a, dlp, book.stepSize[g]);
  book.stepSize[g] = kappa;
  const point = a + kappa * dlp;
  if (Number.isNaN(point) || Number.isNaN(book.logPosterior[g])) {
    book.iterations[g] = maxit;
    book.status[g] = SearchStatus.done;
    return Number.NaN;
  }
  book.status[g] = SearchStatus.proposing;
  return point;
}

/**
 * The proposals DESeq2 makes after gene g's pending one if that and each next one are rejected
 * (κ halved, the same log α and slope, while iterations remain), up to `count` points in all
 * with the pending one, appended to `out`: the same arithmetic as {@link propose}, so that the
 * aggregation finds them where the search goes.
 */
function halvings(book: Book, g: number, maxit: number, count: number, out: PointList): void {
  const a = book.logAlpha[g];
  const dlp = book.slope[g];
  let kappa = book.stepSize[g];
  let iterations = book.iterations[g];
  for (let j = 1; j < count && iterations < maxit; j++) {
    iterations++;
    kappa = clippedStep(a, dlp, kappa / 2.0);
    const point = a + kappa * dlp;
    if (Number.isNaN(point)) return;
    out.push(point);
  }
}

/**
 * A round's points as they are appended, in a typed array grown by doubling (a JavaScript
 * array's pushes took a quarter of the aggregator's time on bodymap's rounds).
 */
class PointList {
  #values: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(Math.max(capacity, 16));
  }

  push(x: number): void {
    if (this.length === this.#values.length) {
      const grown = new Float64Array(2 * this.#values.length);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.length++] = x;
  }

  /** The points appended, as an array of their own. */
  toArray(): Float64Array {
    return this.#values.slice(0, this.length);
  }
}

/** Whether the gene-wise search kept gene g's starting dispersion (DESeq2's 1e-6·|lp| rule). */
function keptStartOf(book: Book, g: number): boolean {
  const initial = book.initialLogPosterior[g];
  return book.logPosterior[g] < initial + Math.abs(initial) / 1e6;
}

/** Gene-wise estimate where the line search stopped, before the grid and the final clamp. */
function genewiseLineEstimate(
  startDispersion: Float64Array,
  maxDisp: number,
  book: Book,
  g: number,
): number {
  return keptStartOf(book, g) ? startDispersion[g] : Math.min(Math.exp(book.logAlpha[g]), maxDisp);
}

/** Which genes DESeq2 refits on its grid: a search's constants, read once per round. */
class GridRule {
  readonly #map: boolean;
  readonly #maxit: number;
  readonly #minDisp: number;
  readonly #maxDisp: number;
  readonly #startDispersion: Float64Array;

  constructor(state: DispersionSearchState) {
    this.#map = state.mode === "map";
    this.#maxit = state.settings.maxit;
    this.#minDisp = state.settings.minDisp;
    this.#maxDisp = state.settings.maxDisp;
    this.#startDispersion = state.startDispersion;
  }

  /** Whether DESeq2 refits gene g on its grid, once its line search is over. */
  needsGrid(book: Book, g: number): boolean {
    const iterations = book.iterations[g];
    if (this.#map) return !(iterations < this.#maxit);
    const converged = iterations < this.#maxit && iterations !== 1;
    return (
      !converged &&
      genewiseLineEstimate(this.#startDispersion, this.#maxDisp, book, g) > this.#minDisp * 10
    );
  }
}

/** A gene's grid points in a round ({@link DispersionSearchState.gridParts}): the coarse grid. */
const COARSE = 1;
/** … the fine grid. */
const FINE = 2;

/** The pooled sums of a round's shares. */
interface PooledSums {
  readonly ll: Float64Array;
  readonly gram: Float64Array;
  readonly llSlope: Float64Array;
  readonly gramSlope: Float64Array;
}

/**
 * What a round's decisions read of its state, in one shape whatever built the state (read once
 * per round; the per-gene loops see only these arrays and numbers).
 */
interface RoundView {
  /** The genes on mask, and their first point (A + 1 offsets into the points). */
  readonly genes: Int32Array;
  readonly offsets: Int32Array;
  /** Their first derivative sum (A + 1), or null: every point has derivatives. */
  readonly slopes: Int32Array | null;
  readonly points: Float64Array;
  readonly gridParts: Uint8Array;
  /** MAP: the prior's means (G) and variance; gene-wise: null. */
  readonly priorMean: Float64Array | null;
  readonly variance: number | null;
  readonly kappa0: number;
  readonly dispTol: number;
  readonly maxit: number;
  readonly minLogAlpha: number;
}

/** Per gene after a round's decisions (G arrays). */
interface RoundDecisions {
  /** 1: the gene's line search goes on from {@link proposals}. */
  readonly searching: Uint8Array;
  readonly proposals: Float64Array;
  /** After a rejection: how many points the gene's next round sends (0: the schedule's). */
  readonly nextCount: Int32Array;
}

/**
 * DESeq2's decisions on every gene of a round, point after point along what each gene sent
 * (its grids' best points, then its line search: accept or halve, stop or propose again),
 * written into `book`.
 */
function decideRound(
  view: RoundView,
  sums: PooledSums,
  posterior: LogPosterior,
  book: Book,
): RoundDecisions {
  const { genes, offsets, slopes, points, gridParts, priorMean, variance } = view;
  const { ll, gram, llSlope, gramSlope } = sums;
  const { kappa0, dispTol, maxit, minLogAlpha } = view;
  const nGenes = book.status.length;
  const values = new Float64Array(GRID_POINTS);
  /** Index of the best of the grid's 20 points from `from` (DESeq2's argmax), and its log α. */
  const gridBest = (from: number, mean: number): number => {
    for (let k = 0; k < GRID_POINTS; k++) {
      const i = from + k;
      values[k] = posterior.value(ll, gram, i, points[i], mean, variance);
    }
    return points[from + armaArgmax(values, 0, GRID_POINTS)];
  };
  const proposals = new Float64Array(nGenes);
  const searching = new Uint8Array(nGenes);
  const nextCount = new Int32Array(nGenes);
  for (let a = 0; a < genes.length; a++) {
    const g = genes[a];
    const mean = priorMean === null ? 0 : priorMean[g];
    const parts = gridParts[a];
    const gridFrom =
      offsets[a + 1] - (parts & COARSE ? GRID_POINTS : 0) - (parts & FINE ? GRID_POINTS : 0);
    // DESeq2's grid (its points after the line search's): the coarse grid's best, then the
    // fine grid's around it.
    if (parts & COARSE) book.coarseLogAlpha[g] = gridBest(gridFrom, mean);
    if (parts & FINE)
      book.gridLogAlpha[g] = gridBest(gridFrom + (parts & COARSE ? GRID_POINTS : 0), mean);
    // The line search: its proposal, and after rejections the halvings that would follow
    // (see halvings): DESeq2's decisions are taken point after point, as far as they go.
    for (let i = offsets[a]; i < gridFrom; i++) {
      const point = points[i];
      // Its derivative sums' index (the line-search points are the ones with derivatives).
      const d = slopes === null ? i : slopes[a] + (i - offsets[a]);
      const lpPoint = posterior.value(ll, gram, i, point, mean, variance);
      let accepted = false;
      if (book.status[g] === SearchStatus.starting) {
        book.logAlpha[g] = point;
        book.logPosterior[g] = lpPoint;
        book.slope[g] = posterior.slope(llSlope, gram, gramSlope, i, point, mean, variance, d);
        book.initialLogPosterior[g] = lpPoint;
        book.stepSize[g] = kappa0;
        accepted = true;
      } else {
        const lp = book.logPosterior[g];
        const dlp = book.slope[g];
        let kappa = book.stepSize[g];
        const thetaKappa = -1.0 * lpPoint;
        const thetaHatKappa = -1.0 * lp - kappa * ARMIJO_EPSILON * (dlp * dlp);
        if (thetaKappa <= thetaHatKappa) {
          accepted = true;
          book.acceptedSteps[g]++;
          book.rejections[g] = 0;
          nextCount[g] = 0;
          book.logAlpha[g] = point;
          const change = lpPoint - lp;
          if (change < dispTol) {
            book.logPosterior[g] = lpPoint;
            book.status[g] = SearchStatus.done;
            break;
          }
          // log α heading to −∞: DESeq2 stops, keeping the previous log posterior.
          if (point < minLogAlpha) {
            book.status[g] = SearchStatus.done;
            break;
          }
          book.logPosterior[g] = lpPoint;
          book.slope[g] = posterior.slope(llSlope, gram, gramSlope, i, point, mean, variance, d);
          kappa = Math.min(kappa * 1.1, kappa0);
          if (book.acceptedSteps[g] % 5 === 0) kappa = kappa / 2.0;
        } else {
          book.rejections[g]++;
          nextCount[g] = halvingsToAccept(lp, dlp, kappa, lpPoint, book.rejections[g]);
          kappa = kappa / 2.0;
        }
        book.stepSize[g] = kappa;
        if (book.iterations[g] >= maxit) {
          book.status[g] = SearchStatus.done;
          break;
        }
      }
      const proposal = propose(book, g, maxit);
      if (Number.isNaN(proposal)) break;
      if (accepted || i === gridFrom - 1) {
        // A new slope (or no point left): the proposal is the next round's.
        searching[g] = 1;
        proposals[g] = proposal;
        break;
      }
      // Rejected: the next point sent is this proposal, the halving the round evaluated ahead.
      if (points[i + 1] !== proposal)
        throw new Error(`dispersion search: gene ${g}'s point ${i + 1} is not its next proposal`);
    }
  }
  return { searching, proposals, nextCount };
}

/** The points of a round and how they split over its genes (a request's fields). */
interface RoundPoints {
  /** Genes evaluated, G. */
  readonly mask: Uint8Array;
  readonly points: Float64Array;
  /** Per gene on mask: its points, its line-search points, its grid parts. */
  readonly counts: Float64Array;
  readonly linePoints: Float64Array;
  readonly parts: Uint8Array;
  /** Whether genes send different numbers of points, some a grid, some line-search points. */
  readonly ahead: boolean;
  readonly gridAlong: boolean;
  readonly lineSearch: boolean;
}

/**
 * The next round: each searching gene's proposal and halvings; the grid of each gene DESeq2
 * refits on it, once its line search is over; and ahead of time the grid of each gene whose
 * line search may end within two rounds at maxit proposals (unconverged: DESeq2 then refits
 * it on the grid unless its estimate is at most 10·minDisp), so that its grid ends with its
 * line search. The grid's points do not depend on the line search: the coarse grid is
 * fixed, the fine one is around the coarse grid's best.
 */
function nextRoundPoints(
  state: DispersionSearchState,
  genes: Int32Array,
  book: Book,
  decisions: RoundDecisions,
): RoundPoints {
  const { searching, proposals, nextCount } = decisions;
  const { maxit, maxDisp } = state.settings;
  const rule = new GridRule(state);
  const next = new Uint8Array(state.mask.length);
  // Most genes send one point (their proposal); the list grows for halvings and grids.
  const points = new PointList(2 * genes.length);
  const counts = new Float64Array(genes.length);
  const parts = new Uint8Array(genes.length);
  const linePoints = new Float64Array(genes.length);
  let sending = 0;
  let ahead = false;
  let gridAlong = false;
  let lineSearch = false;
  const grid = coarseGrid(maxDisp);
  const delta = grid[1] - grid[0];
  const fine = new Float64Array(GRID_POINTS);
  // Only this round's genes: a gene off a round's mask is done with its line search and its
  // grids (a gene whose line search ends is sent its grids in the next rounds, one after the
  // other, when DESeq2 refits it), so it is off every later round's mask too.
  for (let a = 0; a < genes.length; a++) {
    const g = genes[a];
    const before = points.length;
    let part = 0;
    const coarseKnown = !Number.isNaN(book.coarseLogAlpha[g]);
    const fineKnown = !Number.isNaN(book.gridLogAlpha[g]);
    if (searching[g]) {
      points.push(proposals[g]);
      halvings(
        book,
        g,
        maxit,
        nextCount[g] > 0 ? nextCount[g] : lookahead(book.rejections[g]),
        points,
      );
      lineSearch = true;
      const last = book.iterations[g] + points.length - before - 1;
      if (!coarseKnown && last >= maxit - 1) part = COARSE;
      else if (coarseKnown && !fineKnown && last >= maxit) part = FINE;
    } else if (book.status[g] === SearchStatus.done && rule.needsGrid(book, g)) {
      if (!coarseKnown) part = COARSE;
      else if (!fineKnown) part = FINE;
    }
    const line = points.length - before;
    if (part === COARSE) for (let k = 0; k < GRID_POINTS; k++) points.push(grid[k]);
    if (part === FINE) {
      linspace(
        book.coarseLogAlpha[g] - delta,
        book.coarseLogAlpha[g] + delta,
        fine,
        0,
        GRID_POINTS,
      );
      for (let k = 0; k < GRID_POINTS; k++) points.push(fine[k]);
    }
    if (points.length === before) continue;
    next[g] = 1;
    counts[sending] = points.length - before;
    parts[sending] = part;
    linePoints[sending] = line;
    if (points.length - before !== counts[0]) ahead = true;
    if (part !== 0) gridAlong = true;
    sending++;
  }
  return {
    mask: next,
    points: points.toArray(),
    counts: counts.slice(0, sending),
    linePoints: linePoints.slice(0, sending),
    parts: parts.slice(0, sending),
    ahead,
    gridAlong,
    lineSearch,
  };
}

/**
 * Aggregate one round of a dispersion search: sum the shares, take DESeq2's decisions, and
 * return the next state (the next proposals and grid points) or the search's result.
 * @param state - the state the centers answered
 * @param shares - one share per center, in federation order
 */
export function dispersionSearchAggregate(
  state: DispersionSearchState,
  shares: readonly DispersionEvalShare[],
): DispersionSearchState | DispersionSearchResult {
  const genes = maskIndices(state.mask);
  const K = state.pointsPerGene;
  const P = state.points.length;
  const offsets = pointOffsets(state, genes.length);
  const slopes = derivativeOffsets(state, offsets);
  const slopeCount = slopes === null ? P : slopes[genes.length];
  if (shares.length === 0) throw new Error("dispersion search needs at least one share");
  for (const [c, s] of shares.entries()) {
    if (
      s.round !== state.round ||
      s.pointsPerGene !== K ||
      s.logLikelihood.length !== P ||
      (state.derivatives && s.logLikelihoodSlope.length !== slopeCount)
    ) {
      throw new Error(
        `dispersion share ${c} does not answer round ${state.round} on ${genes.length} genes`,
      );
    }
  }
  const ll = sumOverCenters(shares, "logLikelihood");
  const gram = sumOverCenters(shares, "gram");
  const sums: PooledSums = {
    ll,
    gram,
    llSlope: state.derivatives ? sumOverCenters(shares, "logLikelihoodSlope") : ll,
    gramSlope: state.derivatives ? sumOverCenters(shares, "gramSlope") : gram,
  };
  const { settings } = state;
  const perPoint = P > 0 ? gram.length / P : triangleSize(settings.p);
  const posterior = new LogPosterior(settings.p, gramLayout(state, perPoint));
  const book = copyBook(state);
  const view: RoundView = {
    genes,
    offsets,
    slopes,
    points: state.points,
    gridParts: state.gridParts,
    priorMean: state.priorMean,
    variance: state.mode === "map" ? state.priorVariance : null,
    kappa0: settings.kappa0,
    dispTol: settings.dispTol,
    maxit: settings.maxit,
    minLogAlpha: settings.minLogAlpha,
  };
  const next = nextRoundPoints(state, genes, book, decideRound(view, sums, posterior, book));
  if (next.counts.length > 0) {
    return searchState({
      ...state,
      ...book,
      round: state.round + 1,
      mask: next.mask,
      points: next.points,
      pointsPerGene: next.ahead ? 0 : next.counts[0],
      pointCounts: next.ahead ? next.counts : new Float64Array(0),
      gridParts: next.parts,
      derivatives: next.lineSearch,
      // The grid's points need no derivatives: only the line-search points get them.
      derivativeCounts: next.lineSearch && next.gridAlong ? next.linePoints : new Float64Array(0),
    });
  }
  // Every line search and grid is over.
  const refit = new Uint8Array(state.mask.length);
  const rule = new GridRule(state);
  for (const g of maskIndices(state.fitted)) if (rule.needsGrid(book, g)) refit[g] = 1;
  book.gridRefit = refit;
  return searchResult(state, book);
}

/** The result of a finished search (every gene's line search and grid over). */
function searchResult(state: DispersionSearchState, book: Book): DispersionSearchResult {
  const nGenes = state.fitted.length;
  const { minDisp, maxDisp } = state.settings;
  const dispersion = new Float64Array(nGenes).fill(Number.NaN);
  const keptStart = new Uint8Array(nGenes);
  for (const g of maskIndices(state.fitted)) {
    let estimate: number;
    if (state.mode === "genewise") {
      keptStart[g] = keptStartOf(book, g) ? 1 : 0;
      estimate = book.gridRefit[g]
        ? Math.exp(book.gridLogAlpha[g])
        : genewiseLineEstimate(state.startDispersion, maxDisp, book, g);
    } else {
      estimate = Math.exp(book.gridRefit[g] ? book.gridLogAlpha[g] : book.logAlpha[g]);
    }
    dispersion[g] = Math.min(Math.max(estimate, minDisp), maxDisp);
  }
  return {
    kind: "dispersion-search-result",
    mode: state.mode,
    dispersion,
    lineSearchLogAlpha: book.logAlpha,
    iterations: book.iterations,
    initialLogPosterior: book.initialLogPosterior,
    lastLogPosterior: book.logPosterior,
    keptStart,
    gridRefit: book.gridRefit,
    rounds: state.round + 1,
  };
}

/**
 * The result a state leads to when no gene is active (a search with no gene to fit; the
 * aggregation never returns a state without genes to evaluate otherwise).
 */
export function finishDispersionSearch(state: DispersionSearchState): DispersionSearchResult {
  if (maskCount(state.mask) > 0) throw new Error("dispersion search still has genes to evaluate");
  const book = copyBook(state);
  return { ...searchResult(state, book), rounds: state.round };
}
