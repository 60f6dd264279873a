/**
 * The dispersion trend (DESeq2's `estimateDispersionsFit` with fitType "parametric"), computed
 * by the aggregator from gene-level quantities only (baseMean and dispGeneEst per gene).
 *
 * DESeq2's `parametricDispersionFit` fits dispersion = a₀ + a₁/mean by repeated Gamma-family
 * identity-link GLMs (R's `glm`), each on the genes whose ratio to the current curve lies in
 * (1e-4, 15), until the coefficients move by less than 1e-6 in Σ log² and the GLM converged;
 * it fails (and DESeq2 switches to a local regression, see {@link localDispersionFit}) when a
 * coefficient is not positive, after 10 refits, or when `glm` itself stops with an error.
 */
import { LocfitError, localDispersionFit } from "./locfit.js";
import { DESEQ2_DISPERSION_OPTIONS, type DispersionOptions } from "./options.js";

/** Raised where R's `glm.fit` stops with an error (DESeq2 then falls back). */
export class GlmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GlmError";
  }
}

/** Raised where DESeq2's `parametricDispersionFit` fails. */
export class TrendFitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrendFitError";
  }
}

/** Outcome of {@link gammaIdentityGlm}. */
export interface GammaGlmFit {
  /** Coefficients (intercept, slope). */
  readonly coefficients: Float64Array;
  /** R's `fit$converged`. */
  readonly converged: boolean;
  /** IRLS iterations. */
  readonly iterations: number;
  /** Final deviance. */
  readonly deviance: number;
}

/** Σ of the Gamma family's deviance residuals, −2(ln(y/μ) − (y − μ)/μ) (y = 0 counts ln 1). */
function gammaDeviance(y: Float64Array, mu: Float64Array): number {
  let dev = 0;
  for (let i = 0; i < y.length; i++) {
    const ratio = y[i] === 0 ? 1 : y[i] / mu[i];
    dev += -2 * (Math.log(ratio) - (y[i] - mu[i]) / mu[i]);
  }
  return dev;
}

/** The Gamma family's `validmu`: all finite and positive. */
function validMu(mu: Float64Array): boolean {
  for (let i = 0; i < mu.length; i++) if (!(Number.isFinite(mu[i]) && mu[i] > 0)) return false;
  return true;
}

/**
 * Weighted least squares for the two columns (1, x): minimise Σ (w_i(b₀ + b₁x_i − z_i))² by a
 * Householder QR (as R's `Cdqrls`).
 * @throws GlmError when the weighted design is rank-deficient at R's tolerance 1e-11 (R would
 *   return an NA coefficient, on which DESeq2's fit fails)
 */
function weightedLeastSquares(
  x: Float64Array,
  z: Float64Array,
  w: Float64Array,
  out: Float64Array,
): void {
  const n = x.length;
  // Column-major n×2 matrix and right-hand side.
  const a = new Float64Array(2 * n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = w[i];
    a[n + i] = w[i] * x[i];
    b[i] = w[i] * z[i];
  }
  const diagonal = new Float64Array(2);
  for (let col = 0; col < 2; col++) {
    const c0 = col * n;
    let originalNorm = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) originalNorm += a[c0 + i] * a[c0 + i];
    for (let i = col; i < n; i++) norm += a[c0 + i] * a[c0 + i];
    norm = Math.sqrt(norm);
    originalNorm = Math.sqrt(originalNorm);
    if (!(norm > 1e-11 * originalNorm) || col >= n) {
      throw new GlmError("the weighted design is rank-deficient (R: NA coefficient)");
    }
    const alpha = a[c0 + col] > 0 ? -norm : norm;
    // v = column − alpha·e_col, stored in place; H = I − 2vvᵀ/vᵀv.
    a[c0 + col] -= alpha;
    let vv = 0;
    for (let i = col; i < n; i++) vv += a[c0 + i] * a[c0 + i];
    const reflect = (target: Float64Array, offset: number) => {
      let dot = 0;
      for (let i = col; i < n; i++) dot += a[c0 + i] * target[offset + i];
      const f = (2 * dot) / vv;
      for (let i = col; i < n; i++) target[offset + i] -= f * a[c0 + i];
    };
    for (let other = col + 1; other < 2; other++) reflect(a, other * n);
    reflect(b, 0);
    diagonal[col] = alpha;
  }
  // R = [[d0, a[n]], [0, d1]] (a[n] is row 0 of column 1 after the first reflection).
  const b1 = b[1] / diagonal[1];
  const b0 = (b[0] - a[n] * b1) / diagonal[0];
  out[0] = b0;
  out[1] = b1;
}

/**
 * R's `glm.fit` for `y ~ x` with `family = Gamma(link = "identity")` and `start`: IRLS with
 * weights 1/μ², working response z = η + (y − μ), convergence when
 * |dev − devold|/(|dev| + 0.1) < epsilon, step halving towards the previous coefficients when
 * the deviance is not finite or some μ ≤ 0.
 * @param x - covariate, n
 * @param y - positive responses, n
 * @param start - starting coefficients (intercept, slope)
 * @param epsilon - R's `glm.control` epsilon (1e-8)
 * @param maxit - R's `glm.control` maxit (25)
 * @throws GlmError where R stops with an error
 */
export function gammaIdentityGlm(
  x: Float64Array,
  y: Float64Array,
  start: readonly [number, number],
  epsilon = 1e-8,
  maxit = 25,
): GammaGlmFit {
  const n = y.length;
  if (n === 0) throw new GlmError("no observations");
  for (let i = 0; i < n; i++) {
    if (!(y[i] > 0)) throw new GlmError("non-positive values not allowed for the 'Gamma' family");
  }
  const mu = new Float64Array(n);
  const z = new Float64Array(n);
  const w = new Float64Array(n);
  const predict = (c: Float64Array) => {
    for (let i = 0; i < n; i++) mu[i] = c[0] + c[1] * x[i];
  };
  let coef = Float64Array.of(start[0], start[1]);
  let coefOld = coef.slice();
  predict(coef);
  if (!validMu(mu)) throw new GlmError("cannot find valid starting values: please specify some");
  let devOld = gammaDeviance(y, mu);
  let dev = devOld;
  let converged = false;
  let iterations = 0;
  const next = new Float64Array(2);
  for (let iter = 1; iter <= maxit; iter++) {
    iterations = iter;
    for (let i = 0; i < n; i++) {
      const v = mu[i] * mu[i];
      if (Number.isNaN(v)) throw new GlmError("NAs in V(mu)");
      if (v === 0) throw new GlmError("0s in V(mu)");
      z[i] = mu[i] + (y[i] - mu[i]);
      w[i] = Math.sqrt(1 / v);
    }
    weightedLeastSquares(x, z, w, next);
    if (!(Number.isFinite(next[0]) && Number.isFinite(next[1]))) {
      converged = false;
      break;
    }
    let current = next.slice();
    predict(current);
    dev = gammaDeviance(y, mu);
    if (!Number.isFinite(dev)) {
      for (let ii = 1; !Number.isFinite(dev); ii++) {
        if (ii > maxit) throw new GlmError("inner loop 1; cannot correct step size");
        current = Float64Array.of((current[0] + coefOld[0]) / 2, (current[1] + coefOld[1]) / 2);
        predict(current);
        dev = gammaDeviance(y, mu);
      }
    }
    if (!validMu(mu)) {
      for (let ii = 1; !validMu(mu); ii++) {
        if (ii > maxit) throw new GlmError("inner loop 2; cannot correct step size");
        current = Float64Array.of((current[0] + coefOld[0]) / 2, (current[1] + coefOld[1]) / 2);
        predict(current);
      }
      dev = gammaDeviance(y, mu);
    }
    if (Math.abs(dev - devOld) / (0.1 + Math.abs(dev)) < epsilon) {
      converged = true;
      coef = current;
      break;
    }
    devOld = dev;
    coef = current;
    coefOld = current;
  }
  return { coefficients: coef, converged, iterations, deviance: dev };
}

/** Coefficients of DESeq2's parametric trend dispersion = asymptDisp + extraPois/mean. */
export interface ParametricTrend {
  readonly asymptDisp: number;
  readonly extraPois: number;
  /** Refits of the GLM it took. */
  readonly refits: number;
}

/**
 * DESeq2's `parametricDispersionFit` on the genes given.
 * @param means - baseMean of the genes used for the fit
 * @param disps - their gene-wise dispersions
 * @throws TrendFitError when DESeq2's fit fails (DESeq2 then switches to a local fit)
 */
export function parametricDispersionFit(means: Float64Array, disps: Float64Array): ParametricTrend {
  let coefs: [number, number] = [0.1, 1];
  const n = means.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  for (let iter = 0; ; ) {
    let good = 0;
    for (let i = 0; i < n; i++) {
      const residual = disps[i] / (coefs[0] + coefs[1] / means[i]);
      if (residual > 1e-4 && residual < 15) {
        x[good] = 1 / means[i];
        y[good] = disps[i];
        good++;
      }
    }
    let fit: GammaGlmFit;
    try {
      fit = gammaIdentityGlm(x.subarray(0, good), y.subarray(0, good), coefs);
    } catch (error) {
      if (error instanceof GlmError) throw new TrendFitError(`glm: ${error.message}`);
      throw error;
    }
    const old = coefs;
    coefs = [fit.coefficients[0], fit.coefficients[1]];
    if (!(coefs[0] > 0 && coefs[1] > 0))
      throw new TrendFitError("parametric dispersion fit failed");
    const l0 = Math.log(coefs[0] / old[0]);
    const l1 = Math.log(coefs[1] / old[1]);
    if (l0 * l0 + l1 * l1 < 1e-6 && fit.converged) {
      return { asymptDisp: coefs[0], extraPois: coefs[1], refits: iter + 1 };
    }
    iter++;
    if (iter > 10) throw new TrendFitError("dispersion fit did not converge");
  }
}

/** R's `mean(x)`: the sum's mean refined by the mean of the residuals. */
export function rMean(x: Float64Array): number {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i];
  s /= n;
  if (!Number.isFinite(s)) return s;
  let t = 0;
  for (let i = 0; i < n; i++) t += x[i] - s;
  return s + t / n;
}

/** R's `mean(x, trim)`: drop floor(n·trim) values at each end of the sorted values. */
export function trimmedMean(x: Float64Array, trim: number): number {
  const n = x.length;
  if (n === 0) return Number.NaN;
  const sorted = x.slice().sort();
  const lo = Math.floor(n * trim);
  return rMean(sorted.subarray(lo, n - lo));
}

/** DESeq2's `fitType` values, in DESeq2's order (the CLI's choices and the plan's). */
export const FIT_TYPES = ["parametric", "local", "mean"] as const;

/** DESeq2's `fitType`: which dispersion trend `estimateDispersionsFit` fits. */
export type FitType = (typeof FIT_TYPES)[number];

/** The trend DESeq2 fitted, and its value at every gene. */
export interface DispersionTrend {
  /**
   * "parametric": DESeq2's parametric fit. "local": asked for (`fitType`), or the parametric
   * fit failed and DESeq2's substitute, the locfit of log dispersion on log mean
   * ({@link localDispersionFit}), was used. "mean": asked for, or the locfit failed too (not
   * seen on real data; DESeq2 would stop with locfit's error): DESeq2's fitType "mean", the
   * 0.1%-trimmed mean of the gene-wise dispersions above 10·minDisp (PyDESeq2's fallback).
   */
  readonly type: "parametric" | "local" | "mean";
  /** (asymptDisp, extraPois) for "parametric", null otherwise. */
  readonly coefficients: ParametricTrend | null;
  /** The trimmed mean for "mean", NaN otherwise. */
  readonly meanDispersion: number;
  /** Why the parametric fit (and the local one, for "mean") failed ("" when it did not). */
  readonly failure: string;
  /** DESeq2's dispFit: the trend at baseMean, G (NaN on genes not fitted). */
  readonly dispFit: Float64Array;
  /**
   * The trend at any mean (DESeq2's `dispersionFunction(dds)`): the refit after Cook's
   * replacement evaluates it at the replaced counts' means.
   */
  readonly at: (mean: number) => number;
}

/**
 * DESeq2's `estimateDispersionsFit`: with fitType "parametric" (the default) its parametric fit
 * and its automatic substitution of the local fit; with "local" the local fit (on whose failure
 * DESeq2 stops); with "mean" the 0.1%-trimmed mean of the gene-wise estimates above 10·minDisp.
 * @param mask - non-zero genes, G
 * @param baseMean - mean normalised counts, G
 * @param dispGeneEst - gene-wise dispersions, G
 * @throws TrendFitError when no gene-wise estimate exceeds 100·minDisp (DESeq2 stops too), or
 *   when the local fit asked for fails
 */
export function dispersionTrend(
  mask: Uint8Array,
  baseMean: Float64Array,
  dispGeneEst: Float64Array,
  options: DispersionOptions = DESEQ2_DISPERSION_OPTIONS,
  fitType: FitType = "parametric",
): DispersionTrend {
  const nGenes = mask.length;
  const means: number[] = [];
  const disps: number[] = [];
  const forMean: number[] = [];
  for (let g = 0; g < nGenes; g++) {
    if (!mask[g]) continue;
    if (dispGeneEst[g] > 100 * options.minDisp) {
      means.push(baseMean[g]);
      disps.push(dispGeneEst[g]);
    }
    if (dispGeneEst[g] > 10 * options.minDisp) forMean.push(dispGeneEst[g]);
  }
  if (means.length === 0) {
    throw new TrendFitError(
      "all gene-wise dispersion estimates are within 2 orders of magnitude from the minimum value: no trend can be fitted (use the gene-wise estimates)",
    );
  }
  const dispFit = new Float64Array(nGenes).fill(Number.NaN);
  const useMeans = Float64Array.from(means);
  const useDisps = Float64Array.from(disps);
  const meanTrend = (failure: string): DispersionTrend => {
    const meanDispersion = trimmedMean(Float64Array.from(forMean), 0.001);
    for (let g = 0; g < nGenes; g++) if (mask[g]) dispFit[g] = meanDispersion;
    return {
      type: "mean",
      coefficients: null,
      meanDispersion,
      failure,
      dispFit,
      at: () => meanDispersion,
    };
  };
  if (fitType === "mean") return meanTrend("");
  let failure = "";
  if (fitType === "parametric") {
    try {
      const coefficients = parametricDispersionFit(useMeans, useDisps);
      const at = (mean: number) => coefficients.asymptDisp + coefficients.extraPois / mean;
      for (let g = 0; g < nGenes; g++) if (mask[g]) dispFit[g] = at(baseMean[g]);
      return {
        type: "parametric",
        coefficients,
        meanDispersion: Number.NaN,
        failure: "",
        dispFit,
        at,
      };
    } catch (error) {
      if (!(error instanceof TrendFitError)) throw error;
      failure = error.message;
    }
  }
  try {
    const trend = localDispersionFit(useMeans, useDisps, options.minDisp);
    for (let g = 0; g < nGenes; g++) if (mask[g]) dispFit[g] = trend(baseMean[g]);
    return {
      type: "local",
      coefficients: null,
      meanDispersion: Number.NaN,
      failure,
      dispFit,
      at: trend,
    };
  } catch (error) {
    if (!(error instanceof LocfitError)) throw error;
    if (fitType === "local")
      throw new TrendFitError(`local dispersion fit failed: ${error.message}`);
    failure = `${failure}; locfit: ${error.message}`;
  }
  return meanTrend(failure);
}
