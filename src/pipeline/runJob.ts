/**
 * The job of a `run`, as the aggregator holds it (its own module so that the plan, which
 * describes the same choices, can be converted to and from it without an import circle).
 */
import type { FitType } from "../algorithms/dispersions/trend.js";
import type { FitHyperparameters } from "../algorithms/hyperparameters.js";
import type { LfcMode, LfcSolver } from "../algorithms/lfc/computeLfc.js";
import type { SizeFactorsType } from "../algorithms/sizeFactors/state.js";
import type { References } from "../design/designMatrix.js";
import type { ContrastSpec } from "../results/contrast.js";
import type { LfcShrinkType } from "../results/lfcShrink.js";
import type { WaldOptions } from "../stats/wald.js";

/** What the aggregator of a `run` is given: the model and the test, no data. */
export interface RunJob {
  readonly design: string;
  readonly references: References;
  readonly mode: LfcMode;
  readonly solver: LfcSolver;
  /** DESeq2's `maxit`: IRLS iterations of the `deseq2` path before L-BFGS-B (default 100). */
  readonly maxit?: number;
  /** DESeq2's `fitType`: the dispersion trend (default "parametric"). */
  readonly fitType?: FitType;
  /** DESeq2's `estimateSizeFactors` type (default "ratio"). */
  readonly sizeFactorsType?: SizeFactorsType;
  readonly hp: FitHyperparameters;
  readonly outDir: string;
  /** The contrast tested (default: DESeq2's, the last coefficient). */
  readonly contrast?: ContrastSpec;
  readonly wald: WaldOptions;
  /** Significance level of the independent filtering. */
  readonly alpha: number;
  readonly independentFiltering: boolean;
  /**
   * DESeq's `minReplicatesForReplace`: outlier counts are replaced (and their genes refitted) in
   * cells of at least this many samples (default 7; `Infinity`: never, `--no-refit-cooks`).
   */
  readonly minReplicatesForReplace?: number;
  /** `results()`' Cook's filter: p-values of outlier genes set to NA (default true). */
  readonly cooksFilter?: boolean;
  /**
   * `results(cooksCutoff = X)`: the Cook's distance above which a gene's p-value is set to NA
   * (default: DESeq2's qf(0.99, p, m − p); the replacement always uses that one).
   */
  readonly cooksCutoff?: number;
  /** DESeq2's vst (blind = FALSE): each center transforms its own samples (default false). */
  /**
   * Keep, per gene and factor level, whether any sample of the level has a count (one round per
   * factor), so that `fedseq results --from` can test other contrasts of levels (default: true).
   */
  readonly levelPresence?: boolean;
  readonly vst?: boolean;
  /**
   * With `vst`: the centers send their samples' coordinates on the PCA's two axes (DESeq2's
   * `plotPCA`), so that the report plots them; otherwise they keep them (default false).
   */
  readonly pcaCoordinates?: boolean;
  /**
   * With `vst` and a local dispersion trend: let the federation's largest normalised count be
   * found (one sample's value), which DESeq2's vst of a local trend needs (default false: no vst
   * of a local trend).
   */
  readonly vstMaxCount?: boolean;
  /**
   * The reduced design of a likelihood-ratio test (`--test LRT --reduced`), e.g. "~ batch";
   * absent: the Wald test.
   */
  readonly reduced?: string;
  /**
   * DESeq2's `lfcShrink(coef = <the results' coefficient>, type)` (`--lfc-shrink`; absent: none):
   * shrunk.csv.
   */
  readonly lfcShrink?: LfcShrinkType;
  /** A reference results table to compare with in the report (`--compare`). */
  readonly compareFile?: string;
}
