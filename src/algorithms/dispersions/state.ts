/**
 * Requests, shares and states of federated dispersion estimation (plain, serialisable data).
 *
 * Shapes: G is the number of genes of the dataset (every center holds the same genes in the
 * same order), A the number of genes set in a request's `mask` (arrays "on mask" list those
 * genes in increasing order), p the number of design columns, q = p(p+1)/2 the number of
 * distinct entries of a symmetric p×p matrix (its upper triangle, row by row:
 * (0,0), (0,1), …, (0,p−1), (1,1), …, (p−1,p−1)). All arrays are gene-major.
 *
 * Step names (wired by the federation runtime): "dispersionMoments", "dispersionResiduals",
 * "dispersionMu", "dispersionGrid".
 */
import type { GeneMask } from "../masks.js";

// ---------------------------------------------------------------------------------------------
// Step "dispersionMoments"

/**
 * Request of step "dispersionMoments": the design rows the aggregator can list without any
 * center sending its own (every combination of the factors' levels, D×p); empty when the design
 * has a continuous covariate (whose values are not enumerable and never travel).
 */
export interface DispersionMomentsRequest {
  readonly kind: "dispersion-moments-request";
  readonly candidateRows: Float64Array;
}

/** A center's first-round sums: per-gene sums of normalised counts, and design summaries. */
export interface DispersionMomentsShare {
  readonly kind: "dispersion-moments-share";
  /** n_c, the center's sample count. */
  readonly samples: number;
  /** Σ_i 1/s_i over the center's samples. */
  readonly inverseSizeFactorSum: number;
  /** X_cᵀX_c, p×p row-major. */
  readonly gram: Float64Array;
  /**
   * Per candidate row of the request, how many of the center's samples have it (D): summed,
   * the rows present in the pooled design (DESeq2's linear-μ shortcut, the grid's row groups).
   */
  readonly rowCounts: Float64Array;
  /** Σ_i y_i/s_i per gene, G. */
  readonly normalizedSum: Float64Array;
  /** X_cᵀ(y/s) per gene, G×p. */
  readonly designTimesNormalized: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Step "dispersionResiduals"

/**
 * Request of step "dispersionResiduals": the pooled means and least-squares coefficients of
 * the normalised counts, on the non-zero genes. Fields below `minMu` are the aggregator's own
 * (scalars, harmless to send).
 */
export interface DispersionResidualsRequest {
  readonly kind: "dispersion-residuals-request";
  /** Non-zero genes (a gene with a count somewhere), G. */
  readonly mask: GeneMask;
  /** Mean normalised count (DESeq2's baseMean) on mask, A. */
  readonly baseMean: Float64Array;
  /** Least-squares coefficients of y/s on X on mask, A×p. */
  readonly linearBeta: Float64Array;
  /** Also set the center's μ = max(s·xβ, minMu) (DESeq2's `linearModelMuNormalized`). */
  readonly setLinearMu: boolean;
  /** Floor on μ. */
  readonly minMu: number;
  /** Pooled sample count m. */
  readonly samples: number;
  /** Design columns p. */
  readonly designColumns: number;
  /** Mean of 1/s over all samples (DESeq2's `xim`). */
  readonly meanInverseSizeFactor: number;
  /** Whether the design's distinct rows number p (DESeq2's `linearMu`). */
  readonly linearMu: boolean;
  /** The distinct rows of the pooled design, D×p (in order of first appearance over centers). */
  readonly designRows: Float64Array;
}

/** A center's second-round sums, on the request's mask. */
export interface DispersionResidualsShare {
  readonly kind: "dispersion-residuals-share";
  /** Σ_i (y_i/s_i − baseMean)², A. */
  readonly squaredDeviations: Float64Array;
  /** Σ_i ((y_i/s_i − μ̃_i)² − μ̃_i)/μ̃_i² with μ̃ = max(1, x_iβ), A (DESeq2's rough estimate). */
  readonly roughResiduals: Float64Array;
}

/** What the two first rounds give the aggregator (G arrays, NaN on all-zero genes). */
export interface InitialDispersions {
  readonly kind: "dispersion-initial";
  /** Non-zero genes, G. */
  readonly mask: GeneMask;
  /** Pooled sample count m. */
  readonly samples: number;
  /** Design columns p. */
  readonly p: number;
  /** Whether μ is the linear-model μ (group design) rather than an NB GLM fit's. */
  readonly linearMu: boolean;
  /** The distinct rows of the pooled design, D×p. */
  readonly designRows: Float64Array;
  /** Mean normalised count, G. */
  readonly baseMean: Float64Array;
  /** mean(1/s) over every sample (DESeq2's xim). */
  readonly meanInverseSizeFactor: number;
  /** Variance of the normalised counts (denominator m − 1), G. */
  readonly baseVar: Float64Array;
  /** DESeq2's `roughDispEstimate`, G. */
  readonly roughDispersion: Float64Array;
  /** DESeq2's `momentsDispEstimate`, G. */
  readonly momentsDispersion: Float64Array;
  /** Starting dispersion clamp(min(rough, moments), minDisp, maxDisp), G. */
  readonly alphaInit: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// Step "dispersionMu"

/** Request of step "dispersionMu": NB GLM coefficients (natural log) on mask. */
export interface DispersionMuRequest {
  readonly kind: "dispersion-mu-request";
  /** Genes whose μ to set, G (the others get NaN). */
  readonly mask: GeneMask;
  /** Coefficients on mask, A×p (natural-log scale, as the LFC fit's). */
  readonly beta: Float64Array;
  /** How μ depends on xβ: "log" (NB GLM: s·exp(xβ)) or "identity" (linear model: s·xβ). */
  readonly link: "log" | "identity";
  /** Floor on μ. */
  readonly minMu: number;
}

/** A center's acknowledgement of step "dispersionMu" (no data leaves the center). */
export interface DispersionMuShare {
  readonly kind: "dispersion-mu-share";
  /** Genes whose μ was set. */
  readonly genes: number;
}

// ---------------------------------------------------------------------------------------------
// Step "dispersionGrid": the log-posterior pieces at given log α values

/** What a center needs to evaluate a round of the dispersion search (a subset of the state). */
export interface DispersionEvalRequest {
  /** Round number (echoed in the share). */
  readonly round: number;
  /** Genes evaluated this round, G. */
  readonly mask: GeneMask;
  /** log α values, gene-major: K per gene (A×K), or each gene's {@link pointCounts}. */
  readonly points: Float64Array;
  /** K, the same for every gene; 0 when {@link pointCounts} gives each gene's. */
  readonly pointsPerGene: number;
  /**
   * Points per gene on mask (A whole numbers ≥ 1, summing to the points' length) when genes
   * differ in their number of points (pointsPerGene 0); absent or empty: K for every gene.
   */
  readonly pointCounts?: Float64Array;
  /** Whether to return the derivative pieces too. */
  readonly derivatives: boolean;
  /**
   * With derivatives: per gene on mask, how many of its first points get them (A whole
   * numbers, each at most the gene's points); absent or empty: every point.
   */
  readonly derivativeCounts?: Float64Array;
  /**
   * The pooled design's distinct rows x_d (D×p), when D < q: the centers then return B and B'
   * as their sums over each row's samples (D per point instead of q), from which the
   * aggregator rebuilds B = Σ_d (Σ_{i: x_i = x_d} w_i) x_d x_dᵀ. Null or absent: upper
   * triangles (the aggregation recognises either layout from the shares' lengths).
   */
  readonly designRows?: Float64Array | null;
}

/**
 * A center's sums at each requested point (P points in the request's order: A×K, or the sum of
 * its point counts; gene-major). With α = e^a, r = 1/α,
 * w_i = 1/(1/μ_i + α):
 *
 *   logLikelihood      Σ_i lnΓ(y_i + r) − lnΓ(r) − y_i ln(μ_i + r) − r ln(1 + μ_i α)
 *   logLikelihoodSlope Σ_i ψ(r) + ln(1 + μ_i α) − μ_i α/(1 + μ_i α) − ψ(y_i + r) + y_i/(μ_i + r)
 *   gram               Σ_i w_i x_i x_iᵀ          (upper triangle, q per point; or, when the
 *                                                 request lists design rows, Σ_{i: x_i = x_d} w_i,
 *                                                 D per point)
 *   gramSlope          the same with −w_i² (dW/dα) in place of w_i
 *
 * i.e. DESeq2's `log_posterior` / `dlog_posterior` summands (its ll part omits the
 * α-independent −lnΓ(y+1) + y ln μ). The slope arrays hold the points with derivatives only
 * (every point, or each gene's first derivativeCounts), in the same order.
 */
export interface DispersionEvalShare {
  readonly kind: "dispersion-eval-share";
  readonly round: number;
  /** The request's K (0 with point counts). */
  readonly pointsPerGene: number;
  /** P. */
  readonly logLikelihood: Float64Array;
  /** One per point with derivatives (empty without). */
  readonly logLikelihoodSlope: Float64Array;
  /** P×c, c = q or D (see the request's designRows). */
  readonly gram: Float64Array;
  /** c per point with derivatives (empty without). */
  readonly gramSlope: Float64Array;
}

// ---------------------------------------------------------------------------------------------
// The iterative search (gene-wise MLE and MAP)

/** Which DESeq2 fit a search runs. */
export type DispersionSearchMode = "genewise" | "map";

/** Per-gene progress codes of {@link DispersionSearchState.status}. */
export const SearchStatus = Object.freeze({
  /** Not fitted (all-zero gene). */
  excluded: 0,
  /** Waiting for the evaluation at the starting point. */
  starting: 1,
  /** Waiting for the evaluation of a line-search proposal. */
  proposing: 2,
  /** Line search over. */
  done: 3,
});

/** Constants a search needs (copied into its state so that the state is self-contained). */
export interface DispersionSearchSettings {
  /** Design columns p. */
  readonly p: number;
  readonly minDisp: number;
  readonly maxDisp: number;
  readonly kappa0: number;
  readonly dispTol: number;
  readonly maxit: number;
  /** The line search stops once log α falls below (log(minDisp/10)). */
  readonly minLogAlpha: number;
}

/**
 * State of a dispersion search round (step "dispersionGrid"). The fields of
 * {@link DispersionEvalRequest} are the request ({@link DispersionEvalRequest}); the rest is the aggregator's bookkeeping, which a
 * wire encoding may leave behind. G arrays are indexed by gene.
 */
export interface DispersionSearchState extends DispersionEvalRequest {
  readonly kind: "dispersion-search";
  /** Points per gene on mask when they differ (pointsPerGene 0); empty otherwise. */
  readonly pointCounts: Float64Array;
  /** Points with derivatives per gene on mask when not all have them; empty otherwise. */
  readonly derivativeCounts: Float64Array;
  readonly mode: DispersionSearchMode;
  /**
   * Per gene on mask, the grid points after its line-search points this round: 1 the coarse
   * grid's 20, 2 the fine grid's 20, 0 none (A; the aggregator's bookkeeping, not sent).
   */
  readonly gridParts: Uint8Array;
  readonly settings: DispersionSearchSettings;
  /** Genes fitted at all (non-zero genes), G. */
  readonly fitted: GeneMask;
  /** {@link SearchStatus} per gene, G. */
  readonly status: Uint8Array;
  /** Starting dispersion, G (gene-wise: alpha_init; MAP: dispInit). */
  readonly startDispersion: Float64Array;
  /** Prior mean of log α (MAP: log dispFit), G; null for the gene-wise search. */
  readonly priorMean: Float64Array | null;
  /** Prior variance of log α (MAP), 1 for the gene-wise search (unused there). */
  readonly priorVariance: number;
  /** Current log α of the line search, G. */
  readonly logAlpha: Float64Array;
  /** Log posterior at logAlpha, G. */
  readonly logPosterior: Float64Array;
  /** Its derivative in log α, G. */
  readonly slope: Float64Array;
  /** Step size κ, G. */
  readonly stepSize: Float64Array;
  /** Proposals made, G. */
  readonly iterations: Int32Array;
  /** Proposals accepted, G. */
  readonly acceptedSteps: Int32Array;
  /**
   * Proposals rejected since the last accepted one (or the start), G: how many of the next
   * halvings a round evaluates ahead (search.ts).
   */
  readonly rejections: Int32Array;
  /** Log posterior at the start, G. */
  readonly initialLogPosterior: Float64Array;
  /** Genes refitted on DESeq2's grid, G. */
  readonly gridRefit: GeneMask;
  /** log α chosen on the coarse grid, G (NaN until evaluated). */
  readonly coarseLogAlpha: Float64Array;
  /** log α chosen on the fine grid (DESeq2's grid estimate), G (NaN until evaluated). */
  readonly gridLogAlpha: Float64Array;
}

/** Outcome of a search (G arrays; NaN / 0 on genes not fitted). */
export interface DispersionSearchResult {
  readonly kind: "dispersion-search-result";
  readonly mode: DispersionSearchMode;
  /** The estimate, clamped to [minDisp, maxDisp] (gene-wise: dispGeneEst; MAP: dispMAP). */
  readonly dispersion: Float64Array;
  /** log α where the line search stopped, G. */
  readonly lineSearchLogAlpha: Float64Array;
  /** Line-search proposals (DESeq2's dispIter / dispGeneIter), G. */
  readonly iterations: Int32Array;
  /** Log posterior at the start and where the line search stopped, G. */
  readonly initialLogPosterior: Float64Array;
  readonly lastLogPosterior: Float64Array;
  /** Gene-wise: DESeq2 kept alpha_init (the search did not raise the log posterior enough). */
  readonly keptStart: GeneMask;
  /** Genes whose estimate comes from DESeq2's grid refit, G. */
  readonly gridRefit: GeneMask;
  /** Rounds the search took (its last round index + 1). */
  readonly rounds: number;
}
