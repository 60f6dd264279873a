/**
 * L-BFGS-B in reverse-communication form, behaving decision for decision like R's
 * `optim(par, fn, method = "L-BFGS-B", lower, upper)` with default controls — the call DESeq2's
 * `fitNbinomGLMsWithOptim` makes for genes whose IRLS did not converge.
 *
 * R wraps the L-BFGS-B 2.x code of Zhu, Byrd, Lu & Nocedal (ACM TOMS 778, 1997; algorithm of
 * Byrd, Lu, Nocedal & Zhu, SIAM J. Sci. Comput. 1995) with the Moré–Thuente line search
 * (ACM TOMS 20, 1994, MINPACK-2 `dcsrch`/`dcstep`). This module implements that algorithm from
 * the papers and the documented behaviour of the reference code, keeping every choice that
 * decides where the next point is: the generalized Cauchy point by breakpoint sweep, subspace
 * minimisation by the direct primal method with backtracking into the box (2.x, not the 3.0
 * projection variant), the first step of a bounded-in-every-coordinate problem being 1, the
 * update-skip rule, the memory refresh when a factorisation or the line search fails, and R's
 * driver (iterations counted at each new iterate, stop when more than `maxit`).
 *
 * Reverse communication: the objective is evaluated elsewhere (by remote parties, in batches),
 * so the optimiser never calls it. {@link Lbfgsb.next} names the point where f and its gradient
 * are needed; {@link Lbfgsb.tell} hands them back. With no gradient function R differentiates
 * numerically ({@link finiteDifferencePoints}, {@link finiteDifferenceGradient}), so a caller
 * evaluates f at the point and at its 2p neighbours in one batch.
 *
 * Floating point: every inner product is summed left to right (reference BLAS), and the three
 * accumulations of the form a ← a + b + c (the Cauchy search's f′ and f″, the reduced gradient,
 * the subspace step) are grouped a + (b + c), the order in which R's build rounds them. Fed R's
 * own function values, this reproduces R's iterates bit for bit (test/math/lbfgsb.test.ts);
 * with left-to-right grouping they agree only to ~1e-12 and drift apart over long runs.
 *
 * The state is plain data ({@link Lbfgsb.toJSON}, {@link Lbfgsb.fromState}) so that a
 * checkpoint can save an optimisation half-way.
 */

/** Machine epsilon as R's L-BFGS-B takes it (C's DBL_EPSILON). */
const EPSMCH = 2.220446049250313e-16;
/** Sufficient-decrease (Armijo) constant of the line search. */
const FTOL = 1e-3;
/** Curvature constant of the line search (strong Wolfe). */
const GTOL = 0.9;
/** Relative width under which the line search's interval counts as collapsed. */
const XTOL = 0.1;
/** Largest step when no coordinate is bounded along the direction. */
const BIG_STEP = 1e10;
/** The line search gives up when it would need a 21st evaluation. */
const MAX_LINE_SEARCH_EVALUATIONS = 20;

/** Bound kinds per coordinate (the reference code's `nbd`). */
const UNBOUNDED = 0;
const LOWER_ONLY = 1;
const BOTH_BOUNDS = 2;
const UPPER_ONLY = 3;

/**
 * Status of a coordinate at the Cauchy point (the reference code's `iwhere`): ≤ 0 free, > 0 held
 * at a bound.
 */
const ALWAYS_FREE = -1;
const FREE_ZERO_GRADIENT = -3;
const FREE = 0;
const AT_LOWER = 1;
const AT_UPPER = 2;
const ALWAYS_FIXED = 3;

const CONVERGED_PGTOL = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL";
const CONVERGED_FACTR = "CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH";
/** R's wording of the reference code's ABNORMAL_TERMINATION_IN_LNSRCH. */
const ABNORMAL = "ERROR: ABNORMAL_TERMINATION_IN_LNSRCH";

/** Controls of {@link Lbfgsb}; the defaults are R's `optim` defaults. */
export interface LbfgsbOptions {
  /** Lower bounds (−Infinity: none). */
  lower: Float64Array;
  /** Upper bounds (+Infinity: none). */
  upper: Float64Array;
  /** Number of correction pairs kept (R's `lmm`), default 5. */
  m?: number;
  /** Relative-reduction tolerance in units of machine epsilon, default 1e7. */
  factr?: number;
  /** Tolerance on the projected gradient's largest component, default 0. */
  pgtol?: number;
  /** Iterations allowed (R's `maxit`), default 100. */
  maxit?: number;
}

/** What R's `optim` returns, for {@link Lbfgsb}. */
export interface LbfgsbResult {
  /** Final point. */
  par: Float64Array;
  /** f at `par`. */
  value: number;
  /** 0 converged, 1 more than `maxit` iterations, 51 warning, 52 error or failed line search. */
  convergence: 0 | 1 | 51 | 52;
  /** R's `message`: the reference code's task string (`"NEW_X"` when `maxit` stopped it). */
  message: string;
  /** Evaluations of f and gradient (R's `counts`, both entries equal). */
  evaluations: number;
}

/** Where the solver waits. */
type Phase = "evaluateStart" | "evaluateLineSearch" | "done";

/** Everything the solver keeps between calls; typed arrays hold the vectors and matrices. */
interface WorkingState {
  phase: Phase;
  n: number;
  m: number;
  factr: number;
  pgtol: number;
  maxit: number;
  lower: Float64Array;
  upper: Float64Array;
  /** Bound kind per coordinate. */
  nbd: Int32Array;
  /** Current point (during a line search: the trial point). */
  x: Float64Array;
  /** Gradient at x. */
  g: Float64Array;
  f: number;
  // ---- outcome
  convergence: number;
  message: string;
  // ---- problem shape
  /** Some coordinate has a bound. */
  constrained: boolean;
  /** Every coordinate has both bounds. */
  boxed: boolean;
  // ---- counters
  /** Iterations as the algorithm counts them. */
  iter: number;
  /** Iterations as R's driver counts them (for maxit). */
  driverIter: number;
  /** f-and-gradient evaluations. */
  evaluations: number;
  /** Updates skipped by the curvature rule. */
  skipped: number;
  // ---- limited-memory matrices: S and Y as n×m column-major rings starting at `head`
  ws: Float64Array;
  wy: Float64Array;
  /** SᵀY (m×m, column-major; lower triangle used). */
  sy: Float64Array;
  /** SᵀS (m×m, column-major; upper triangle used). */
  ss: Float64Array;
  /** Cholesky factor of θSᵀS + L D⁻¹ Lᵀ (m×m, upper triangle). */
  wt: Float64Array;
  /** Factored 2m×2m matrix of the subspace problem. */
  wn: Float64Array;
  /** Unfactored blocks of that matrix, updated as variables enter and leave (2m×2m). */
  wn1: Float64Array;
  col: number;
  head: number;
  tail: number;
  updates: number;
  updated: boolean;
  theta: number;
  // ---- per-iteration vectors
  /** Cauchy point, then subspace minimiser. */
  z: Float64Array;
  /** Reduced gradient, then the start-of-line-search gradient, then y = g − g_old. */
  r: Float64Array;
  /** Search direction, then s. */
  d: Float64Array;
  /** Breakpoints in the Cauchy search, then the start-of-line-search point. */
  t: Float64Array;
  /** Small work vectors of the Cauchy search: p, c, w_b, v (2m each). */
  wa: Float64Array;
  /** Free coordinates first (nfree of them), then the ones held at a bound. */
  index: Int32Array;
  /** Coordinate status at the Cauchy point. */
  iwhere: Int32Array;
  /** Breakpoint order in the Cauchy search, then entering/leaving coordinates. */
  indx2: Int32Array;
  nfree: number;
  nenter: number;
  ileave: number;
  /** The memory matrices changed since wn was factored. */
  refactor: boolean;
  info: number;
  projectedGradientNorm: number;
  // ---- line search
  fold: number;
  gd: number;
  gdold: number;
  stp: number;
  stpmax: number;
  dnorm: number;
  dtd: number;
  /** Evaluations in the current line search. */
  lsEvaluations: number;
  /** Evaluations beyond the first in the current line search. */
  backtracks: number;
  /** Moré–Thuente task: "START", "FG", or a CONVERGENCE / WARNING / ERROR text. */
  lsTask: string;
  bracketed: boolean;
  stage: number;
  ginit: number;
  gtest: number;
  gx: number;
  gy: number;
  finit: number;
  fx: number;
  fy: number;
  stx: number;
  sty: number;
  stmin: number;
  stmax: number;
  width: number;
  width1: number;
}

/**
 * The solver's state as plain JSON data: typed arrays become number arrays, and numbers that JSON
 * cannot hold (±Infinity bounds, NaN) become the strings "Infinity", "-Infinity", "NaN".
 */
export type LbfgsbState = Record<string, string | number | boolean | Array<number | string>>;

/**
 * An optimiser's state as structured-clone data ({@link Lbfgsb.snapshot}): its typed arrays and
 * numbers as they are (v8's serialisation keeps both bit for bit).
 */
export type LbfgsbSnapshot = Readonly<
  Record<string, string | number | boolean | Float64Array | Int32Array>
>;

/** The typed-array fields of a working state (the others are numbers, strings and booleans). */
const ARRAY_FIELDS = [
  "lower",
  "upper",
  "nbd",
  "x",
  "g",
  "ws",
  "wy",
  "sy",
  "ss",
  "wt",
  "wn",
  "wn1",
  "z",
  "r",
  "d",
  "t",
  "wa",
  "index",
  "iwhere",
  "indx2",
] as const satisfies readonly (keyof WorkingState)[];

/** A copy of a working state: its typed arrays copied, everything else as it is. */
function copiedState(state: WorkingState): WorkingState {
  const copy = { ...state };
  for (const key of ARRAY_FIELDS) (copy[key] as Float64Array | Int32Array) = state[key].slice();
  return copy;
}

/**
 * The solver's state as a snapshot, without a copy: for a solver no one uses afterwards (a
 * lockstep's, rebuilt from a snapshot for one evaluation).
 */
function handedOver(solver: Lbfgsb): LbfgsbSnapshot {
  return (solver as unknown as { s: WorkingState }).s as unknown as LbfgsbSnapshot;
}

/** State fields that are integer arrays (all other arrays are float64). */
const INT_ARRAYS = new Set(["nbd", "index", "iwhere", "indx2"]);

function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function decodeNumber(v: number | string): number {
  return typeof v === "number" ? v : Number(v);
}

// ---- BLAS-1 on views (offsets instead of subarrays, so nothing is allocated in the loops) ----

/** Σ a[ao+i]·b[bo+i], summed left to right as the reference BLAS does. */
function dot(len: number, a: Float64Array, ao: number, b: Float64Array, bo: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[ao + i] * b[bo + i];
  return s;
}

/**
 * Cholesky factorisation A = RᵀR of the leading n×n block at offset `off` (leading dimension
 * `lda`, column-major, upper triangle read and overwritten by R), in the column-by-column order of
 * LINPACK's dpofa. Returns 0, or the 1-based column where A stopped being positive definite.
 */
function cholesky(a: Float64Array, off: number, lda: number, n: number): number {
  for (let j = 0; j < n; j++) {
    const cj = off + j * lda;
    let s = 0;
    for (let k = 0; k < j; k++) {
      const ck = off + k * lda;
      let t = a[cj + k] - dot(k, a, ck, a, cj);
      t = t / a[ck + k];
      a[cj + k] = t;
      s = s + t * t;
    }
    s = a[cj + j] - s;
    if (s <= 0) return j + 1;
    a[cj + j] = Math.sqrt(s);
  }
  return 0;
}

/**
 * Solve with the upper-triangular n×n block R at offset `off` (leading dimension `lda`): Rᵀx = b
 * when `transposed`, else Rx = b, overwriting b (at offset `bo`). Returns 0, or the 1-based index
 * of a zero diagonal (then b is untouched), as LINPACK's dtrsl.
 */
function triangularSolve(
  a: Float64Array,
  off: number,
  lda: number,
  n: number,
  b: Float64Array,
  bo: number,
  transposed: boolean,
): number {
  for (let j = 0; j < n; j++) if (a[off + j * lda + j] === 0) return j + 1;
  if (transposed) {
    // Forward substitution, one inner product per row.
    b[bo] = b[bo] / a[off];
    for (let j = 1; j < n; j++) {
      const cj = off + j * lda;
      b[bo + j] = b[bo + j] - dot(j, a, cj, b, bo);
      b[bo + j] = b[bo + j] / a[cj + j];
    }
  } else {
    // Back substitution, column oriented (one axpy per column).
    b[bo + n - 1] = b[bo + n - 1] / a[off + (n - 1) * lda + n - 1];
    for (let j = n - 2; j >= 0; j--) {
      const temp = -b[bo + j + 1];
      const c = off + (j + 1) * lda;
      for (let i = 0; i <= j; i++) b[bo + i] += temp * a[c + i];
      b[bo + j] = b[bo + j] / a[off + j * lda + j];
    }
  }
  return 0;
}

/**
 * Reverse-communication L-BFGS-B equal in behaviour to R's `optim(method = "L-BFGS-B")`.
 *
 * ```ts
 * const solver = new Lbfgsb(x0, { lower, upper });
 * for (let x = solver.next(); x !== null; x = solver.next()) solver.tell(f(x), grad(x));
 * const { par, value, convergence } = solver.result();
 * ```
 */
export class Lbfgsb {
  private readonly s: WorkingState;

  /**
   * Start a minimisation at x0 (projected onto the box, as the reference code does).
   * @param x0 - starting point, length p
   * @param options - bounds (length p, ±Infinity for none) and R's controls
   * @throws when the lengths disagree or a control is not a number of the right kind
   */
  constructor(x0: Float64Array, options: LbfgsbOptions) {
    const n = x0.length;
    const m = options.m ?? 5;
    const factr = options.factr ?? 1e7;
    const pgtol = options.pgtol ?? 0;
    const maxit = options.maxit ?? 100;
    if (options.lower.length !== n || options.upper.length !== n) {
      throw new Error(`Lbfgsb: bounds must have length ${n}`);
    }
    if (!Number.isInteger(m) || !Number.isInteger(maxit)) {
      throw new Error("Lbfgsb: m and maxit must be integers");
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(x0[i])) throw new Error("Lbfgsb: non-finite value supplied by optim");
    }
    const mm = Math.max(m, 1);
    this.s = {
      phase: "evaluateStart",
      n,
      m,
      factr,
      pgtol,
      maxit,
      lower: Float64Array.from(options.lower),
      upper: Float64Array.from(options.upper),
      nbd: new Int32Array(n),
      x: Float64Array.from(x0),
      g: new Float64Array(n),
      f: 0,
      convergence: 0,
      message: "",
      constrained: false,
      boxed: true,
      iter: 0,
      driverIter: 0,
      evaluations: 0,
      skipped: 0,
      ws: new Float64Array(n * mm),
      wy: new Float64Array(n * mm),
      sy: new Float64Array(mm * mm),
      ss: new Float64Array(mm * mm),
      wt: new Float64Array(mm * mm),
      wn: new Float64Array(4 * mm * mm),
      wn1: new Float64Array(4 * mm * mm),
      col: 0,
      head: 0,
      tail: 0,
      updates: 0,
      updated: false,
      theta: 1,
      z: new Float64Array(n),
      r: new Float64Array(n),
      d: new Float64Array(n),
      t: new Float64Array(n),
      wa: new Float64Array(8 * mm),
      index: new Int32Array(n),
      iwhere: new Int32Array(n),
      indx2: new Int32Array(n),
      nfree: n,
      nenter: 0,
      ileave: n,
      refactor: false,
      info: 0,
      projectedGradientNorm: 0,
      fold: 0,
      gd: 0,
      gdold: 0,
      stp: 0,
      stpmax: 0,
      dnorm: 0,
      dtd: 0,
      lsEvaluations: 0,
      backtracks: 0,
      lsTask: "START",
      bracketed: false,
      stage: 1,
      ginit: 0,
      gtest: 0,
      gx: 0,
      gy: 0,
      finit: 0,
      fx: 0,
      fy: 0,
      stx: 0,
      sty: 0,
      stmin: 0,
      stmax: 0,
      width: 0,
      width1: 0,
    };
    this.start();
  }

  /**
   * Rebuild a solver from {@link Lbfgsb.toJSON}'s output (or a JSON round trip of it).
   * @param state - the saved state
   */
  static fromState(state: LbfgsbState): Lbfgsb {
    const restored: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(state)) {
      if (Array.isArray(value)) {
        const numbers = value.map(decodeNumber);
        restored[key] = INT_ARRAYS.has(key) ? Int32Array.from(numbers) : Float64Array.from(numbers);
      } else if (
        typeof value === "string" &&
        key !== "phase" &&
        key !== "message" &&
        key !== "lsTask"
      ) {
        restored[key] = decodeNumber(value);
      } else {
        restored[key] = value;
      }
    }
    const solver = Object.create(Lbfgsb.prototype) as Lbfgsb;
    (solver as unknown as { s: WorkingState }).s = restored as unknown as WorkingState;
    return solver;
  }

  /** The whole state as plain JSON data, restorable with {@link Lbfgsb.fromState}. */
  toJSON(): LbfgsbState {
    const out: LbfgsbState = {};
    for (const [key, value] of Object.entries(this.s)) {
      if (value instanceof Float64Array || value instanceof Int32Array) {
        out[key] = Array.from(value, encodeNumber);
      } else if (typeof value === "number") {
        out[key] = encodeNumber(value);
      } else {
        out[key] = value as string | boolean;
      }
    }
    return out;
  }

  /**
   * The whole state as structured-clone data (typed arrays copied, numbers as they are): what a
   * lockstep keeps between rounds, cheaper than {@link Lbfgsb.toJSON}'s per-number encoding.
   */
  snapshot(): LbfgsbSnapshot {
    return copiedState(this.s) as unknown as LbfgsbSnapshot;
  }

  /** Rebuild a solver from a {@link Lbfgsb.snapshot} (left unchanged). */
  static fromSnapshot(snapshot: LbfgsbSnapshot): Lbfgsb {
    const solver = Object.create(Lbfgsb.prototype) as Lbfgsb;
    (solver as unknown as { s: WorkingState }).s = copiedState(snapshot as unknown as WorkingState);
    return solver;
  }

  /** The point where f and its gradient are needed next (a copy), or null when done. */
  next(): Float64Array | null {
    return this.s.phase === "done" ? null : Float64Array.from(this.s.x);
  }

  /**
   * Tell f and its gradient at the point last returned by {@link Lbfgsb.next}.
   * @param f - objective value (must be finite, as R requires)
   * @param gradient - gradient, length p
   * @throws when no point is pending, f is not finite or the gradient has the wrong length
   */
  tell(f: number, gradient: Float64Array): void {
    const s = this.s;
    if (s.phase === "done") throw new Error("Lbfgsb.tell: the minimisation has finished");
    if (!Number.isFinite(f)) throw new Error("L-BFGS-B needs finite values of 'fn'");
    if (gradient.length !== s.n) throw new Error(`Lbfgsb.tell: gradient must have length ${s.n}`);
    s.f = f;
    s.g.set(gradient);
    if (s.n === 0) {
      // R's driver evaluates f once and stops before the algorithm proper.
      s.evaluations = 1;
      this.finish(0, "NOTHING TO DO");
      return;
    }
    this.run(s.phase === "evaluateStart" ? "afterStart" : "afterTrial");
  }

  /** Outcome; valid once {@link Lbfgsb.next} has returned null. */
  result(): LbfgsbResult {
    const s = this.s;
    if (s.phase !== "done") throw new Error("Lbfgsb.result: the minimisation has not finished");
    return {
      par: Float64Array.from(s.x),
      value: s.f,
      convergence: s.convergence as LbfgsbResult["convergence"],
      message: s.message,
      evaluations: s.evaluations,
    };
  }

  /** Iterations so far, as R's driver counts them. */
  get iterations(): number {
    return this.s.driverIter;
  }

  // ---------------------------------------------------------------------------------------------

  private finish(convergence: number, message: string): void {
    this.s.convergence = convergence;
    this.s.message = message;
    this.s.phase = "done";
  }

  /** Check the input, classify the bounds and project x0 into the box. */
  private start(): void {
    const s = this.s;
    const { n, lower, upper, nbd, x, iwhere } = s;
    if (n === 0) return; // R evaluates f once (at the empty point) and stops: see tell().
    for (let i = 0; i < n; i++) {
      const hasLower = Number.isFinite(lower[i]);
      const hasUpper = Number.isFinite(upper[i]);
      nbd[i] = hasLower ? (hasUpper ? BOTH_BOUNDS : LOWER_ONLY) : hasUpper ? UPPER_ONLY : UNBOUNDED;
    }
    // Input errors end the run before any evaluation, with R's value 0 and x0 as given.
    let error = "";
    if (s.m <= 0) error = "ERROR: M .LE. 0";
    if (s.factr < 0) error = "ERROR: FACTR .LT. 0";
    for (let i = 0; i < n; i++) {
      if (nbd[i] === BOTH_BOUNDS && lower[i] > upper[i]) error = "ERROR: NO FEASIBLE SOLUTION";
    }
    if (error !== "") {
      this.finish(52, error);
      return;
    }
    s.constrained = false;
    s.boxed = true;
    for (let i = 0; i < n; i++) {
      if (nbd[i] > 0) {
        if (nbd[i] <= BOTH_BOUNDS && x[i] <= lower[i]) x[i] = lower[i];
        else if (nbd[i] >= BOTH_BOUNDS && x[i] >= upper[i]) x[i] = upper[i];
      }
      if (nbd[i] !== BOTH_BOUNDS) s.boxed = false;
      if (nbd[i] === UNBOUNDED) {
        iwhere[i] = ALWAYS_FREE;
      } else {
        s.constrained = true;
        iwhere[i] = nbd[i] === BOTH_BOUNDS && upper[i] - lower[i] <= 0 ? ALWAYS_FIXED : FREE;
      }
    }
    s.phase = "evaluateStart";
  }

  /** Forget the correction pairs (after a failed factorisation or line search). */
  private resetMemory(): void {
    const s = this.s;
    s.info = 0;
    s.col = 0;
    s.head = 0;
    s.theta = 1;
    s.updates = 0;
    s.updated = false;
  }

  /**
   * Advance until the next evaluation is needed or the run ends. The labels are the stages of
   * one iteration: Cauchy point, subspace minimisation, line search, termination test, update.
   */
  private run(entry: "afterStart" | "afterTrial"): void {
    const s = this.s;
    let stage: "iterate" | "search" | "accepted" = "iterate";
    if (entry === "afterStart") {
      s.evaluations = 1;
      s.projectedGradientNorm = this.projectedGradientNorm();
      if (s.projectedGradientNorm <= s.pgtol) {
        this.finish(0, CONVERGED_PGTOL);
        return;
      }
    } else {
      stage = "search";
    }
    for (;;) {
      if (stage === "iterate") {
        if (!this.direction()) continue; // memory was reset: start the iteration again
        this.startLineSearch();
        stage = "search";
      }
      if (stage === "search") {
        const outcome = this.lineSearchStep();
        if (outcome === "evaluate") {
          s.phase = "evaluateLineSearch";
          return;
        }
        if (outcome === "failed") {
          // Back to the iterate the line search started from.
          s.x.set(s.t);
          s.g.set(s.r);
          s.f = s.fold;
          if (s.col === 0) {
            // Already steepest descent with no memory: nothing left to try.
            if (s.info === 0) s.evaluations -= 1; // the evaluation asked for was never made
            s.iter += 1;
            this.finish(52, ABNORMAL);
            return;
          }
          if (s.info === 0) s.evaluations -= 1;
          this.resetMemory();
          stage = "iterate";
          continue;
        }
        // A new iterate: the reference code returns "NEW_X", where R's driver counts iterations.
        s.iter += 1;
        s.projectedGradientNorm = this.projectedGradientNorm();
        s.driverIter += 1;
        if (s.driverIter > s.maxit) {
          this.finish(1, "NEW_X");
          return;
        }
        stage = "accepted";
      }
      if (stage === "accepted") {
        if (this.converged()) return;
        this.updateMemory();
        stage = "iterate";
      }
    }
  }

  /** Largest component of the gradient projected onto the box (the reference `projgr`). */
  private projectedGradientNorm(): number {
    const { n, nbd, x, g, lower, upper } = this.s;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      let gi = g[i];
      if (nbd[i] !== UNBOUNDED) {
        if (gi < 0) {
          if (nbd[i] >= BOTH_BOUNDS) gi = Math.max(x[i] - upper[i], gi);
        } else if (nbd[i] <= BOTH_BOUNDS) {
          gi = Math.min(x[i] - lower[i], gi);
        }
      }
      norm = Math.max(norm, Math.abs(gi));
    }
    return norm;
  }

  /**
   * Search direction d = z − x from the generalized Cauchy point and the subspace minimiser.
   * Returns false when a singular system forced a memory reset (then the caller starts over).
   */
  private direction(): boolean {
    const s = this.s;
    const { n, x, z, d } = s;
    if (!s.constrained && s.col > 0) {
      // Unconstrained with memory: the Cauchy point is not needed, z starts at x.
      z.set(x);
      s.refactor = s.updated;
    } else {
      this.cauchyPoint();
      if (s.info !== 0) {
        this.resetMemory();
        return false;
      }
      this.classifyFreeVariables();
    }
    if (s.nfree !== 0 && s.col !== 0) {
      if (s.refactor) this.factorSubspaceMatrix();
      if (s.info === 0) this.reducedGradient();
      if (s.info === 0) this.subspaceMinimisation();
      if (s.info !== 0) {
        this.resetMemory();
        return false;
      }
    }
    for (let i = 0; i < n; i++) d[i] = z[i] - x[i];
    return true;
  }

  /**
   * Product of the 2col×2col middle matrix M of the compact representation B = θI − W M Wᵀ
   * with v (at `vo` in `v`), into out (at `oo`), using the factors of SᵀY and of wt. Sets info
   * when wt has a zero diagonal.
   */
  private middleTimes(v: Float64Array, vo: number, out: Float64Array, oo: number): void {
    const s = this.s;
    const { m, col, sy, wt } = s;
    if (col === 0) return;
    // [D^½ 0; −L D^-½ J] p = v: second half first, J is the factor in wt.
    out[oo + col] = v[vo + col];
    for (let i = 1; i < col; i++) {
      let sum = 0;
      for (let k = 0; k < i; k++) sum += (sy[i + k * m] * v[vo + k]) / sy[k + k * m];
      out[oo + col + i] = v[vo + col + i] + sum;
    }
    s.info = triangularSolve(wt, 0, m, col, out, oo + col, true);
    if (s.info !== 0) return;
    for (let i = 0; i < col; i++) out[oo + i] = v[vo + i] / Math.sqrt(sy[i + i * m]);
    // [−D^½ D^-½ Lᵀ; 0 Jᵀ] p = p.
    s.info = triangularSolve(wt, 0, m, col, out, oo + col, false);
    if (s.info !== 0) return;
    for (let i = 0; i < col; i++) out[oo + i] = -out[oo + i] / Math.sqrt(sy[i + i * m]);
    for (let i = 0; i < col; i++) {
      let sum = 0;
      for (let k = i + 1; k < col; k++) sum += (sy[k + i * m] * out[oo + col + k]) / sy[i + i * m];
      out[oo + i] += sum;
    }
  }

  /**
   * The generalized Cauchy point: first local minimiser of the quadratic model along the
   * projected steepest-descent path, found by visiting the breakpoints in increasing order
   * (a heap, built only once a second breakpoint is needed). Writes z, the coordinate status,
   * and c = Wᵀ(z − x) (in wa) for the reduced gradient.
   */
  private cauchyPoint(): void {
    const s = this.s;
    const { n, m, x, g, lower, upper, nbd, iwhere, d, wa, ws, wy, col, head, theta } = s;
    const xcp = s.z;
    const breaks = s.t;
    const order = s.indx2;
    const P = 0; // p = Wᵀd
    const C = 2 * m; // c = Wᵀ(xcp − x)
    const WBP = 4 * m; // row of W at the breakpoint
    const V = 6 * m; // M times something
    if (s.projectedGradientNorm <= 0) {
      xcp.set(x);
      return;
    }
    let bounded = true;
    let nfreeTail = n; // unbounded-direction coordinates fill `order` from the end
    let nbreak = 0;
    let ibkmin = 0;
    let bkmin = 0;
    const col2 = 2 * col;
    let f1 = 0;
    for (let j = 0; j < col2; j++) wa[P + j] = 0;
    let tl = 0;
    let tu = 0;
    for (let i = 0; i < n; i++) {
      const neggi = -g[i];
      if (iwhere[i] !== ALWAYS_FIXED && iwhere[i] !== ALWAYS_FREE) {
        if (nbd[i] <= BOTH_BOUNDS) tl = x[i] - lower[i];
        if (nbd[i] >= BOTH_BOUNDS) tu = upper[i] - x[i];
        const atLower = nbd[i] <= BOTH_BOUNDS && tl <= 0;
        const atUpper = nbd[i] >= BOTH_BOUNDS && tu <= 0;
        iwhere[i] = FREE;
        if (atLower) {
          if (neggi <= 0) iwhere[i] = AT_LOWER;
        } else if (atUpper) {
          if (neggi >= 0) iwhere[i] = AT_UPPER;
        } else if (Math.abs(neggi) <= 0) {
          iwhere[i] = FREE_ZERO_GRADIENT;
        }
      }
      if (iwhere[i] !== FREE && iwhere[i] !== ALWAYS_FREE) {
        d[i] = 0;
        continue;
      }
      d[i] = neggi;
      f1 -= neggi * neggi;
      let pointr = head;
      for (let j = 0; j < col; j++) {
        wa[P + j] += wy[i + pointr * n] * neggi;
        wa[P + col + j] += ws[i + pointr * n] * neggi;
        pointr = (pointr + 1) % m;
      }
      if (nbd[i] <= BOTH_BOUNDS && nbd[i] !== UNBOUNDED && neggi < 0) {
        order[nbreak] = i;
        breaks[nbreak] = tl / -neggi;
        if (nbreak === 0 || breaks[nbreak] < bkmin) {
          bkmin = breaks[nbreak];
          ibkmin = nbreak;
        }
        nbreak++;
      } else if (nbd[i] >= BOTH_BOUNDS && neggi > 0) {
        order[nbreak] = i;
        breaks[nbreak] = tu / neggi;
        if (nbreak === 0 || breaks[nbreak] < bkmin) {
          bkmin = breaks[nbreak];
          ibkmin = nbreak;
        }
        nbreak++;
      } else {
        nfreeTail--;
        order[nfreeTail] = i;
        if (Math.abs(neggi) > 0) bounded = false;
      }
    }
    if (theta !== 1) for (let j = 0; j < col; j++) wa[P + col + j] *= theta;
    xcp.set(x);
    if (nbreak === 0 && nfreeTail === n) return; // d = 0: x is the Cauchy point
    for (let j = 0; j < col2; j++) wa[C + j] = 0;
    // Model derivatives along d: f1 = gᵀd + …, f2 = dᵀBd.
    let f2 = -theta * f1;
    const f2Original = f2;
    if (col > 0) {
      this.middleTimes(wa, P, wa, V);
      if (s.info !== 0) return;
      f2 -= dot(col2, wa, V, wa, P);
    }
    let dtm = -f1 / f2;
    let tsum = 0;
    let allFixed = false;
    if (nbreak > 0) {
      let nleft = nbreak;
      let visit = 1;
      let tj = 0;
      for (;;) {
        const tj0 = tj;
        let ibp: number;
        if (visit === 1) {
          // The smallest breakpoint is already known: often it is the only one used.
          tj = bkmin;
          ibp = order[ibkmin];
        } else {
          if (visit === 2 && ibkmin !== nbreak - 1) {
            // Drop the breakpoint already used before the heap is built.
            breaks[ibkmin] = breaks[nbreak - 1];
            order[ibkmin] = order[nbreak - 1];
          }
          heapPopMinimum(nleft, breaks, order, visit === 2);
          tj = breaks[nleft - 1];
          ibp = order[nleft - 1];
        }
        const dt = tj - tj0;
        if (dtm < dt) break; // the minimiser lies in this segment
        // Fix coordinate ibp at its bound and move on to the next segment.
        tsum += dt;
        nleft--;
        visit++;
        const dibp = d[ibp];
        d[ibp] = 0;
        let zibp: number;
        if (dibp > 0) {
          zibp = upper[ibp] - x[ibp];
          xcp[ibp] = upper[ibp];
          iwhere[ibp] = AT_UPPER;
        } else {
          zibp = lower[ibp] - x[ibp];
          xcp[ibp] = lower[ibp];
          iwhere[ibp] = AT_LOWER;
        }
        if (nleft === 0 && nbreak === n) {
          dtm = dt;
          allFixed = true;
          break;
        }
        const dibp2 = dibp * dibp;
        // Grouped as f1 += (…): the order R's build rounds in (checked bit for bit on the
        // fixtures; the left-to-right sum differs in the last bits and the paths drift apart).
        f1 = f1 + (dt * f2 + dibp2 - theta * dibp * zibp);
        f2 = f2 - theta * dibp2;
        if (col > 0) {
          for (let j = 0; j < col2; j++) wa[C + j] += dt * wa[P + j];
          let pointr = head;
          for (let j = 0; j < col; j++) {
            wa[WBP + j] = wy[ibp + pointr * n];
            wa[WBP + col + j] = theta * ws[ibp + pointr * n];
            pointr = (pointr + 1) % m;
          }
          this.middleTimes(wa, WBP, wa, V);
          if (s.info !== 0) return;
          const wmc = dot(col2, wa, C, wa, V);
          const wmp = dot(col2, wa, P, wa, V);
          const wmw = dot(col2, wa, WBP, wa, V);
          for (let j = 0; j < col2; j++) wa[P + j] += -dibp * wa[WBP + j];
          f1 += dibp * wmc;
          f2 = f2 + (2.0 * dibp * wmp - dibp2 * wmw);
        }
        // Keep the curvature positive against rounding.
        f2 = Math.max(EPSMCH * f2Original, f2);
        if (nleft > 0) {
          dtm = -f1 / f2;
          continue;
        }
        dtm = bounded ? 0 : -f1 / f2;
        break;
      }
    }
    if (!allFixed) {
      if (dtm <= 0) dtm = 0;
      tsum += dtm;
      for (let i = 0; i < n; i++) xcp[i] += tsum * d[i];
    }
    if (col > 0) for (let j = 0; j < col2; j++) wa[C + j] += dtm * wa[P + j];
  }

  /**
   * Free and held coordinates at the Cauchy point (free ones first in `index`), and which
   * coordinates entered or left the free set since the last iteration (in indx2).
   */
  private classifyFreeVariables(): void {
    const s = this.s;
    const { n, index, indx2, iwhere } = s;
    s.nenter = 0;
    s.ileave = n;
    if (s.iter > 0 && s.constrained) {
      for (let i = 0; i < s.nfree; i++) {
        const k = index[i];
        if (iwhere[k] > 0) indx2[--s.ileave] = k;
      }
      for (let i = s.nfree; i < n; i++) {
        const k = index[i];
        if (iwhere[k] <= 0) indx2[s.nenter++] = k;
      }
    }
    s.refactor = s.ileave < n || s.nenter > 0 || s.updated;
    let nfree = 0;
    let iact = n;
    for (let i = 0; i < n; i++) {
      if (iwhere[i] <= 0) index[nfree++] = i;
      else index[--iact] = i;
    }
    s.nfree = nfree;
  }

  /**
   * Assemble and factor the matrix of the subspace problem,
   *   K = [ −D − YᵀZZᵀY/θ   L_aᵀ − R_zᵀ ; L_a − R_z   θ SᵀAAᵀS ],
   * as an LELᵀ factorisation in wn. Its blocks are kept unfactored in wn1 and only corrected
   * for the coordinates that entered or left the free set (and a new correction pair).
   */
  private factorSubspaceMatrix(): void {
    const s = this.s;
    const { n, m, col, head, theta, ws, wy, sy, wn, wn1, index, indx2, nfree, nenter, ileave } = s;
    const M2 = 2 * m;
    const w1 = (i: number, j: number): number => i + j * M2;
    let upcl: number;
    if (s.updated) {
      if (s.updates > m) {
        // The oldest pair left the ring: shift the stored blocks up and left by one.
        for (let jy = 0; jy < m - 1; jy++) {
          const js = m + jy;
          for (let t = 0; t < m - 1 - jy; t++) wn1[w1(jy + t, jy)] = wn1[w1(jy + 1 + t, jy + 1)];
          for (let t = 0; t < m - 1 - jy; t++) wn1[w1(js + t, js)] = wn1[w1(js + 1 + t, js + 1)];
          for (let t = 0; t < m - 1; t++) wn1[w1(m + t, jy)] = wn1[w1(m + 1 + t, jy + 1)];
        }
      }
      // New last rows of blocks (1,1), (2,1), (2,2): free coordinates for YᵀZZᵀY, held ones
      // for SᵀAAᵀS and L_a.
      const iy = col - 1;
      const is = m + col - 1;
      const ipntr = (head + col - 1) % m;
      let jpntr = head;
      for (let jy = 0; jy < col; jy++) {
        const js = m + jy;
        let temp1 = 0;
        let temp2 = 0;
        let temp3 = 0;
        for (let k = 0; k < nfree; k++) {
          const k1 = index[k];
          temp1 += wy[k1 + ipntr * n] * wy[k1 + jpntr * n];
        }
        for (let k = nfree; k < n; k++) {
          const k1 = index[k];
          temp2 += ws[k1 + ipntr * n] * ws[k1 + jpntr * n];
          temp3 += ws[k1 + ipntr * n] * wy[k1 + jpntr * n];
        }
        wn1[w1(iy, jy)] = temp1;
        wn1[w1(is, js)] = temp2;
        wn1[w1(is, jy)] = temp3;
        jpntr = (jpntr + 1) % m;
      }
      // New last column of block (2,1): R_z over the free coordinates.
      const jy = col - 1;
      const jp = (head + col - 1) % m;
      let ip = head;
      for (let i = 0; i < col; i++) {
        let temp3 = 0;
        for (let k = 0; k < nfree; k++) {
          const k1 = index[k];
          temp3 += ws[k1 + ip * n] * wy[k1 + jp * n];
        }
        ip = (ip + 1) % m;
        wn1[w1(m + i, jy)] = temp3;
      }
      upcl = col - 1;
    } else {
      upcl = col;
    }
    // Correct the older entries for the coordinates that changed status.
    let ipntr = head;
    for (let iy = 0; iy < upcl; iy++) {
      const is = m + iy;
      let jpntr = head;
      for (let jy = 0; jy <= iy; jy++) {
        const js = m + jy;
        let temp1 = 0;
        let temp2 = 0;
        let temp3 = 0;
        let temp4 = 0;
        for (let k = 0; k < nenter; k++) {
          const k1 = indx2[k];
          temp1 += wy[k1 + ipntr * n] * wy[k1 + jpntr * n];
          temp2 += ws[k1 + ipntr * n] * ws[k1 + jpntr * n];
        }
        for (let k = ileave; k < n; k++) {
          const k1 = indx2[k];
          temp3 += wy[k1 + ipntr * n] * wy[k1 + jpntr * n];
          temp4 += ws[k1 + ipntr * n] * ws[k1 + jpntr * n];
        }
        // Grouped as the other accumulations (the fixtures cannot tell the two orders apart).
        wn1[w1(iy, jy)] = wn1[w1(iy, jy)] + (temp1 - temp3);
        wn1[w1(is, js)] = wn1[w1(is, js)] + (-temp2 + temp4);
        jpntr = (jpntr + 1) % m;
      }
      ipntr = (ipntr + 1) % m;
    }
    ipntr = head;
    for (let is = m; is < m + upcl; is++) {
      let jpntr = head;
      for (let jy = 0; jy < upcl; jy++) {
        let temp1 = 0;
        let temp3 = 0;
        for (let k = 0; k < nenter; k++) {
          const k1 = indx2[k];
          temp1 += ws[k1 + ipntr * n] * wy[k1 + jpntr * n];
        }
        for (let k = ileave; k < n; k++) {
          const k1 = indx2[k];
          temp3 += ws[k1 + ipntr * n] * wy[k1 + jpntr * n];
        }
        // On and above the diagonal the entry is R_z (free set), below it L_a (held set).
        if (is <= jy + m) wn1[w1(is, jy)] = wn1[w1(is, jy)] + (temp1 - temp3);
        else wn1[w1(is, jy)] = wn1[w1(is, jy)] + (-temp1 + temp3);
        jpntr = (jpntr + 1) % m;
      }
      ipntr = (ipntr + 1) % m;
    }
    // Upper triangle of [ D + YᵀZZᵀY/θ   −L_aᵀ + R_zᵀ ; ·   θ SᵀAAᵀS ] (2col×2col, ld 2m).
    for (let iy = 0; iy < col; iy++) {
      const is = col + iy;
      const is1 = m + iy;
      for (let jy = 0; jy <= iy; jy++) {
        const js = col + jy;
        const js1 = m + jy;
        wn[jy + iy * M2] = wn1[w1(iy, jy)] / theta;
        wn[js + is * M2] = wn1[w1(is1, js1)] * theta;
      }
      for (let jy = 0; jy < iy; jy++) wn[jy + is * M2] = -wn1[w1(is1, jy)];
      for (let jy = iy; jy < col; jy++) wn[jy + is * M2] = wn1[w1(is1, jy)];
      wn[iy + iy * M2] = wn[iy + iy * M2] + sy[iy + iy * m];
    }
    // LLᵀ of the (1,1) block, then L⁻¹(−L_aᵀ + R_zᵀ) in the (1,2) block, then the Schur
    // complement's Cholesky factor in the (2,2) block.
    if (cholesky(wn, 0, M2, col) !== 0) {
      s.info = -1;
      return;
    }
    const col2 = 2 * col;
    for (let js = col; js < col2; js++) triangularSolve(wn, 0, M2, col, wn, js * M2, true);
    for (let is = col; is < col2; is++) {
      for (let js = is; js < col2; js++) {
        wn[is + js * M2] = wn[is + js * M2] + dot(col, wn, is * M2, wn, js * M2);
      }
    }
    if (cholesky(wn, col + col * M2, M2, col) !== 0) s.info = -2;
  }

  /**
   * Reduced gradient on the free coordinates at the Cauchy point,
   * r = −Zᵀ(B(z − x) + g), using c = Wᵀ(z − x) from the Cauchy search (into r[0..nfree)).
   */
  private reducedGradient(): void {
    const s = this.s;
    const { n, m, x, g, z, r, ws, wy, wa, index, theta, col, head, nfree } = s;
    if (!s.constrained && col > 0) {
      for (let i = 0; i < n; i++) r[i] = -g[i];
      return;
    }
    for (let i = 0; i < nfree; i++) {
      const k = index[i];
      r[i] = -theta * (z[k] - x[k]) - g[k];
    }
    this.middleTimes(wa, 2 * m, wa, 0);
    if (s.info !== 0) {
      s.info = -8;
      return;
    }
    let pointr = head;
    for (let j = 0; j < col; j++) {
      const a1 = wa[j];
      const a2 = theta * wa[col + j];
      for (let i = 0; i < nfree; i++) {
        const k = index[i];
        // r += (…), grouped as R rounds it (see the Cauchy point's f1).
        r[i] = r[i] + (wy[k + pointr * n] * a1 + ws[k + pointr * n] * a2);
      }
      pointr = (pointr + 1) % m;
    }
  }

  /**
   * Minimise the model over the free coordinates from the Cauchy point (direct primal method,
   * Sherman–Morrison–Woodbury through wn), then step back along the segment until every
   * coordinate is inside the box (version 2.x: no projection). Updates z.
   */
  private subspaceMinimisation(): void {
    const s = this.s;
    const { n, m, col, head, theta, ws, wy, wn, wa, index, nbd, lower, upper, nfree } = s;
    const x = s.z;
    const dv = s.r;
    if (nfree <= 0) return;
    const wv = wa; // first 2m entries
    let pointr = head;
    for (let i = 0; i < col; i++) {
      let temp1 = 0;
      let temp2 = 0;
      for (let j = 0; j < nfree; j++) {
        const k = index[j];
        temp1 += wy[k + pointr * n] * dv[j];
        temp2 += ws[k + pointr * n] * dv[j];
      }
      wv[i] = temp1;
      wv[col + i] = theta * temp2;
      pointr = (pointr + 1) % m;
    }
    const M2 = 2 * m;
    const col2 = 2 * col;
    s.info = triangularSolve(wn, 0, M2, col2, wv, 0, true);
    if (s.info !== 0) return;
    for (let i = 0; i < col; i++) wv[i] = -wv[i];
    s.info = triangularSolve(wn, 0, M2, col2, wv, 0, false);
    if (s.info !== 0) return;
    pointr = head;
    for (let jy = 0; jy < col; jy++) {
      const js = col + jy;
      for (let i = 0; i < nfree; i++) {
        const k = index[i];
        // dv += (…), grouped as R rounds it (see the Cauchy point's f1).
        dv[i] = dv[i] + ((wy[k + pointr * n] * wv[jy]) / theta + ws[k + pointr * n] * wv[js]);
      }
      pointr = (pointr + 1) % m;
    }
    for (let i = 0; i < nfree; i++) dv[i] = dv[i] / theta;
    // Largest alpha ≤ 1 keeping z + alpha·dv in the box; the coordinate that limits it is put
    // exactly on its bound.
    let alpha = 1;
    let temp1 = alpha;
    let ibd = 0;
    for (let i = 0; i < nfree; i++) {
      const k = index[i];
      const dk = dv[i];
      if (nbd[k] !== UNBOUNDED) {
        if (dk < 0 && nbd[k] <= BOTH_BOUNDS) {
          const temp2 = lower[k] - x[k];
          if (temp2 >= 0) temp1 = 0;
          else if (dk * alpha < temp2) temp1 = temp2 / dk;
        } else if (dk > 0 && nbd[k] >= BOTH_BOUNDS) {
          const temp2 = upper[k] - x[k];
          if (temp2 <= 0) temp1 = 0;
          else if (dk * alpha > temp2) temp1 = temp2 / dk;
        }
        if (temp1 < alpha) {
          alpha = temp1;
          ibd = i;
        }
      }
    }
    if (alpha < 1) {
      const dk = dv[ibd];
      const k = index[ibd];
      if (dk > 0) {
        x[k] = upper[k];
        dv[ibd] = 0;
      } else if (dk < 0) {
        x[k] = lower[k];
        dv[ibd] = 0;
      }
    }
    for (let i = 0; i < nfree; i++) {
      const k = index[i];
      x[k] = x[k] + alpha * dv[i];
    }
  }

  /** Set up a line search along d from x: the largest feasible step and the first trial step. */
  private startLineSearch(): void {
    const s = this.s;
    const { n, d, x, nbd, lower, upper } = s;
    s.dtd = dot(n, d, 0, d, 0);
    s.dnorm = Math.sqrt(s.dtd);
    let stpmax = BIG_STEP;
    if (s.constrained) {
      if (s.iter === 0) {
        stpmax = 1;
      } else {
        for (let i = 0; i < n; i++) {
          const a1 = d[i];
          if (nbd[i] === UNBOUNDED) continue;
          if (a1 < 0 && nbd[i] <= BOTH_BOUNDS) {
            const a2 = lower[i] - x[i];
            if (a2 >= 0) stpmax = 0;
            else if (a1 * stpmax < a2) stpmax = a2 / a1;
          } else if (a1 > 0 && nbd[i] >= BOTH_BOUNDS) {
            const a2 = upper[i] - x[i];
            if (a2 <= 0) stpmax = 0;
            else if (a1 * stpmax > a2) stpmax = a2 / a1;
          }
        }
      }
    }
    s.stpmax = stpmax;
    // The first iteration of a problem not bounded in every coordinate scales the step to unit
    // length; a fully boxed problem (DESeq2's) tries the Cauchy/subspace point itself.
    s.stp = s.iter === 0 && !s.boxed ? Math.min(1 / s.dnorm, stpmax) : 1;
    s.t.set(x);
    s.r.set(s.g);
    s.fold = s.f;
    s.lsEvaluations = 0;
    s.backtracks = 0;
    s.lsTask = "START";
  }

  /**
   * One pass of the line search with f and g known at the current trial point: either a new
   * trial point is set in x ("evaluate"), the trial point is accepted ("accepted"), or the
   * search failed ("failed": not a descent direction, or 20 evaluations used).
   */
  private lineSearchStep(): "evaluate" | "accepted" | "failed" {
    const s = this.s;
    const { n, g, d, x, t, z } = s;
    s.gd = dot(n, g, 0, d, 0);
    if (s.lsEvaluations === 0) {
      s.gdold = s.gd;
      if (s.gd >= 0) {
        // Not a descent direction (rounding): the search cannot start.
        s.info = -4;
        return "failed";
      }
    }
    this.moreThuente(s.f, s.gd);
    if (s.lsTask.startsWith("CONV") || s.lsTask.startsWith("WARN")) return "accepted";
    s.lsEvaluations += 1;
    s.evaluations += 1;
    s.backtracks = s.lsEvaluations - 1;
    if (s.backtracks >= MAX_LINE_SEARCH_EVALUATIONS) return "failed";
    if (s.stp === 1) {
      x.set(z); // exactly the subspace point, not t + 1·d with its rounding
    } else {
      for (let i = 0; i < n; i++) x[i] = s.stp * d[i] + t[i];
    }
    return "evaluate";
  }

  /**
   * Moré–Thuente search for a step satisfying the strong Wolfe conditions (ftol, gtol) on
   * φ(stp) = f(x + stp·d), given φ and φ′ at the current step; sets the next step in s.stp or
   * ends with a CONVERGENCE / WARNING task. stpmin is 0, stpmax the feasible maximum.
   */
  private moreThuente(f: number, g: number): void {
    const s = this.s;
    const stpmin = 0;
    const stpmax = s.stpmax;
    if (s.lsTask === "START") {
      if (s.stp < stpmin) s.lsTask = "ERROR: STP .LT. STPMIN";
      if (s.stp > stpmax) s.lsTask = "ERROR: STP .GT. STPMAX";
      if (g >= 0) s.lsTask = "ERROR: INITIAL G .GE. ZERO";
      if (stpmax < stpmin) s.lsTask = "ERROR: STPMAX .LT. STPMIN";
      // An error leaves the step unchanged and the trial point is evaluated anyway, as in the
      // reference code; the search then continues from whatever state it has.
      if (s.lsTask.startsWith("ERROR")) return;
      s.bracketed = false;
      s.stage = 1;
      s.finit = f;
      s.ginit = g;
      s.gtest = FTOL * s.ginit;
      s.width = stpmax - stpmin;
      s.width1 = s.width / 0.5;
      s.stx = 0;
      s.fx = s.finit;
      s.gx = s.ginit;
      s.sty = 0;
      s.fy = s.finit;
      s.gy = s.ginit;
      s.stmin = 0;
      s.stmax = s.stp + 4.0 * s.stp;
      s.lsTask = "FG";
      return;
    }
    const ftest = s.finit + s.stp * s.gtest;
    // Stage two once a step has sufficient decrease and a non-negative derivative.
    if (s.stage === 1 && f <= ftest && g >= 0) s.stage = 2;
    // Later tests override earlier ones, and convergence overrides all.
    if (s.bracketed && (s.stp <= s.stmin || s.stp >= s.stmax)) {
      s.lsTask = "WARNING: ROUNDING ERRORS PREVENT PROGRESS";
    }
    if (s.bracketed && s.stmax - s.stmin <= XTOL * s.stmax) {
      s.lsTask = "WARNING: XTOL TEST SATISFIED";
    }
    if (s.stp === stpmax && f <= ftest && g <= s.gtest) s.lsTask = "WARNING: STP = STPMAX";
    if (s.stp === stpmin && (f > ftest || g >= s.gtest)) s.lsTask = "WARNING: STP = STPMIN";
    if (f <= ftest && Math.abs(g) <= GTOL * -s.ginit) s.lsTask = "CONVERGENCE";
    if (s.lsTask.startsWith("WARN") || s.lsTask.startsWith("CONV")) return;

    if (s.stage === 1 && f <= s.fx && f > ftest) {
      // Stage one with a lower but not sufficiently lower value: step on the modified function
      // ψ(stp) = φ(stp) − φ(0) − stp·gtest.
      const fm = f - s.stp * s.gtest;
      const fxm = s.fx - s.stx * s.gtest;
      const fym = s.fy - s.sty * s.gtest;
      const gm = g - s.gtest;
      const gxm = s.gx - s.gtest;
      const gym = s.gy - s.gtest;
      const step = scratchStep;
      step.stx = s.stx;
      step.fx = fxm;
      step.dx = gxm;
      step.sty = s.sty;
      step.fy = fym;
      step.dy = gym;
      step.stp = s.stp;
      step.brackt = s.bracketed;
      safeguardedStep(step, fm, gm, s.stmin, s.stmax);
      s.stx = step.stx;
      s.sty = step.sty;
      s.stp = step.stp;
      s.bracketed = step.brackt;
      s.fx = step.fx + s.stx * s.gtest;
      s.fy = step.fy + s.sty * s.gtest;
      s.gx = step.dx + s.gtest;
      s.gy = step.dy + s.gtest;
    } else {
      const step = scratchStep;
      step.stx = s.stx;
      step.fx = s.fx;
      step.dx = s.gx;
      step.sty = s.sty;
      step.fy = s.fy;
      step.dy = s.gy;
      step.stp = s.stp;
      step.brackt = s.bracketed;
      safeguardedStep(step, f, g, s.stmin, s.stmax);
      s.stx = step.stx;
      s.fx = step.fx;
      s.gx = step.dx;
      s.sty = step.sty;
      s.fy = step.fy;
      s.gy = step.dy;
      s.stp = step.stp;
      s.bracketed = step.brackt;
    }
    if (s.bracketed) {
      // Bisect when the interval did not shrink enough over two steps.
      if (Math.abs(s.sty - s.stx) >= 0.66 * s.width1) s.stp = s.stx + 0.5 * (s.sty - s.stx);
      s.width1 = s.width;
      s.width = Math.abs(s.sty - s.stx);
    }
    if (s.bracketed) {
      s.stmin = Math.min(s.stx, s.sty);
      s.stmax = Math.max(s.stx, s.sty);
    } else {
      s.stmin = s.stp + 1.1 * (s.stp - s.stx);
      s.stmax = s.stp + 4.0 * (s.stp - s.stx);
    }
    s.stp = Math.max(s.stp, stpmin);
    s.stp = Math.min(s.stp, stpmax);
    // No further progress possible: fall back to the best step so far.
    if (
      (s.bracketed && (s.stp <= s.stmin || s.stp >= s.stmax)) ||
      (s.bracketed && s.stmax - s.stmin <= XTOL * s.stmax)
    ) {
      s.stp = s.stx;
    }
    s.lsTask = "FG";
  }

  /**
   * Termination tests at a new iterate (projected gradient, relative reduction of f).
   * Returns true when the run ended.
   */
  private converged(): boolean {
    const s = this.s;
    if (s.projectedGradientNorm <= s.pgtol) {
      this.finish(0, CONVERGED_PGTOL);
      return true;
    }
    const scale = Math.max(Math.abs(s.fold), Math.abs(s.f), 1);
    if (s.fold - s.f <= s.factr * EPSMCH * scale) {
      this.finish(0, CONVERGED_FACTR);
      return true;
    }
    return false;
  }

  /**
   * Add the pair s = x − x_old, y = g − g_old to the memory unless the curvature sᵀy is not
   * safely positive, then refactor the middle matrix θSᵀS + L D⁻¹ Lᵀ.
   */
  private updateMemory(): void {
    const s = this.s;
    const { n, g, r, d } = s;
    for (let i = 0; i < n; i++) r[i] = g[i] - r[i];
    const rr = dot(n, r, 0, r, 0);
    let dr: number;
    let ddum: number;
    if (s.stp === 1) {
      dr = s.gd - s.gdold;
      ddum = -s.gdold;
    } else {
      dr = (s.gd - s.gdold) * s.stp;
      for (let i = 0; i < n; i++) d[i] *= s.stp;
      ddum = -s.gdold * s.stp;
    }
    // The reference code's rule: skip when sᵀy ≤ ε·(−g_oldᵀs) (not ε·yᵀy as in the paper).
    if (dr <= EPSMCH * ddum) {
      s.skipped += 1;
      s.updated = false;
      return;
    }
    s.updated = true;
    s.updates += 1;
    this.storePair(rr, dr);
    if (this.factorMiddle() !== 0) this.resetMemory();
  }

  /** Put (s, y) = (d, r) into the ring and update θ = yᵀy/sᵀy, SᵀS and SᵀY. */
  private storePair(rr: number, dr: number): void {
    const s = this.s;
    const { n, m, ws, wy, sy, ss, d, r } = s;
    if (s.updates <= m) {
      s.col = s.updates;
      s.tail = (s.head + s.updates - 1) % m;
    } else {
      s.tail = (s.tail + 1) % m;
      s.head = (s.head + 1) % m;
    }
    const col = s.col;
    ws.set(d, s.tail * n);
    wy.set(r, s.tail * n);
    s.theta = rr / dr;
    if (s.updates > m) {
      // Drop the oldest pair: shift SᵀS's upper and SᵀY's lower triangle by one.
      for (let j = 0; j < col - 1; j++) {
        for (let t = 0; t <= j; t++) ss[t + j * m] = ss[t + 1 + (j + 1) * m];
        for (let t = 0; t < col - 1 - j; t++) sy[j + t + j * m] = sy[j + 1 + t + (j + 1) * m];
      }
    }
    let pointr = s.head;
    for (let j = 0; j < col - 1; j++) {
      sy[col - 1 + j * m] = dot(n, d, 0, wy, pointr * n);
      ss[j + (col - 1) * m] = dot(n, ws, pointr * n, d, 0);
      pointr = (pointr + 1) % m;
    }
    ss[col - 1 + (col - 1) * m] = s.stp === 1 ? s.dtd : s.stp * s.stp * s.dtd;
    sy[col - 1 + (col - 1) * m] = dr;
  }

  /** Form θSᵀS + L D⁻¹ Lᵀ (upper triangle) in wt and factor it; returns non-zero on failure. */
  private factorMiddle(): number {
    const { m, col, theta, wt, sy, ss } = this.s;
    for (let j = 0; j < col; j++) wt[j * m] = theta * ss[j * m];
    for (let i = 1; i < col; i++) {
      for (let j = i; j < col; j++) {
        let ddum = 0;
        for (let k = 0; k < i; k++) ddum += (sy[i + k * m] * sy[j + k * m]) / sy[k + k * m];
        wt[i + j * m] = ddum + theta * ss[i + j * m];
      }
    }
    return cholesky(wt, 0, m, col) !== 0 ? -3 : 0;
  }
}

/** The interval and trial step {@link safeguardedStep} updates in place. */
interface StepInterval {
  stx: number;
  fx: number;
  dx: number;
  sty: number;
  fy: number;
  dy: number;
  stp: number;
  brackt: boolean;
}

/** Scratch record for {@link safeguardedStep}: filled before each use, so not part of the state. */
const scratchStep: StepInterval = {
  stx: 0,
  fx: 0,
  dx: 0,
  sty: 0,
  fy: 0,
  dy: 0,
  stp: 0,
  brackt: false,
};

/**
 * Moré–Thuente's safeguarded step (dcstep): from the best step stx, the other end sty and the
 * trial stp with value fp and derivative dp, choose the next trial step by cubic, quadratic or
 * secant interpolation according to the four cases of the paper, and update the interval.
 */
function safeguardedStep(
  w: StepInterval,
  fp: number,
  dp: number,
  stpmin: number,
  stpmax: number,
): void {
  const { stx, fx, dx, sty, fy, dy, stp } = w;
  const sgnd = dp * (dx / Math.abs(dx));
  let stpf: number;
  if (fp > fx) {
    // Case 1: higher value — the minimiser is bracketed; cubic if closer to stx, else the mean
    // of cubic and quadratic.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
    if (stp < stx) gamma = -gamma;
    const p = gamma - dx + theta;
    const q = gamma - dx + gamma + dp;
    const r = p / q;
    const stpc = stx + r * (stp - stx);
    const stpq = stx + (dx / ((fx - fp) / (stp - stx) + dx) / 2) * (stp - stx);
    stpf = Math.abs(stpc - stx) < Math.abs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2;
    w.brackt = true;
  } else if (sgnd < 0) {
    // Case 2: lower value, derivatives of opposite sign — bracketed; the step farther from stp.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dx;
    const r = p / q;
    const stpc = stp + r * (stx - stp);
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
    w.brackt = true;
  } else if (Math.abs(dp) < Math.abs(dx)) {
    // Case 3: lower value, same sign, derivative decreasing in magnitude.
    const theta = (3 * (fx - fp)) / (stp - stx) + dx + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dx), Math.abs(dp));
    // gamma = 0 only when the cubic does not tend to infinity in the step's direction.
    let gamma = sc * Math.sqrt(Math.max(0, (theta / sc) * (theta / sc) - (dx / sc) * (dp / sc)));
    if (stp > stx) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma + (dx - dp) + gamma;
    const r = p / q;
    let stpc: number;
    if (r < 0 && gamma !== 0) stpc = stp + r * (stx - stp);
    else if (stp > stx) stpc = stpmax;
    else stpc = stpmin;
    const stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (w.brackt) {
      stpf = Math.abs(stpc - stp) < Math.abs(stpq - stp) ? stpc : stpq;
      if (stp > stx) stpf = Math.min(stp + 0.66 * (sty - stp), stpf);
      else stpf = Math.max(stp + 0.66 * (sty - stp), stpf);
    } else {
      stpf = Math.abs(stpc - stp) > Math.abs(stpq - stp) ? stpc : stpq;
      stpf = Math.min(stpmax, stpf);
      stpf = Math.max(stpmin, stpf);
    }
  } else if (w.brackt) {
    // Case 4: lower value, same sign, derivative not decreasing — cubic on (stp, sty).
    const theta = (3 * (fp - fy)) / (sty - stp) + dy + dp;
    const sc = Math.max(Math.abs(theta), Math.abs(dy), Math.abs(dp));
    let gamma = sc * Math.sqrt((theta / sc) * (theta / sc) - (dy / sc) * (dp / sc));
    if (stp > sty) gamma = -gamma;
    const p = gamma - dp + theta;
    const q = gamma - dp + gamma + dy;
    const r = p / q;
    stpf = stp + r * (sty - stp);
  } else {
    stpf = stp > stx ? stpmax : stpmin;
  }
  // Update the interval of uncertainty.
  if (fp > fx) {
    w.sty = stp;
    w.fy = fp;
    w.dy = dp;
  } else {
    if (sgnd < 0) {
      w.sty = stx;
      w.fy = fx;
      w.dy = dx;
    }
    w.stx = stp;
    w.fx = fp;
    w.dx = dp;
  }
  w.stp = stpf;
}

/**
 * Heap of breakpoints t[0..len) with their coordinates in order[]: when `build`, first arrange it
 * as a min-heap; then move the smallest to t[len−1] and restore the heap on t[0..len−1).
 */
function heapPopMinimum(len: number, t: Float64Array, order: Int32Array, build: boolean): void {
  // 1-based positions inside, as heap arithmetic is simplest that way.
  if (build) {
    for (let k = 2; k <= len; k++) {
      const ddum = t[k - 1];
      const indxin = order[k - 1];
      let i = k;
      while (i > 1) {
        const j = Math.floor(i / 2);
        if (!(ddum < t[j - 1])) break;
        t[i - 1] = t[j - 1];
        order[i - 1] = order[j - 1];
        i = j;
      }
      t[i - 1] = ddum;
      order[i - 1] = indxin;
    }
  }
  if (len > 1) {
    let i = 1;
    const out = t[0];
    const indxou = order[0];
    const ddum = t[len - 1];
    const indxin = order[len - 1];
    for (;;) {
      let j = i + i;
      if (j > len - 1) break;
      if (t[j] < t[j - 1]) j = j + 1;
      if (!(t[j - 1] < ddum)) break;
      t[i - 1] = t[j - 1];
      order[i - 1] = order[j - 1];
      i = j;
    }
    t[i - 1] = ddum;
    order[i - 1] = indxin;
    t[len - 1] = out;
    order[len - 1] = indxou;
  }
}

// ---- R's numerical gradient (optim.c with bounds) ----------------------------------------------

/** Step of coordinate i: one number for all, or one per coordinate (R's `ndeps`). */
function stepOf(ndeps: number | Float64Array, i: number): number {
  return typeof ndeps === "number" ? ndeps : ndeps[i];
}

/**
 * The 2p points where optim evaluates f for its numerical gradient at x, in R's order:
 * x + h₁e₁, x − h₁e₁, x + h₂e₂, x − h₂e₂, …; a point that would leave the box is put on the bound
 * (so the step actually used shrinks, see {@link finiteDifferenceGradient}).
 * @param x - point, length p
 * @param lower - lower bounds (−Infinity: none)
 * @param upper - upper bounds (+Infinity: none)
 * @param ndeps - step h, one for all coordinates or one per coordinate (R's default 1e-3)
 */
export function finiteDifferencePoints(
  x: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  ndeps: number | Float64Array = 1e-3,
): Float64Array[] {
  const p = x.length;
  const points: Float64Array[] = [];
  for (let i = 0; i < p; i++) {
    const h = stepOf(ndeps, i);
    const up = Float64Array.from(x);
    const plus = x[i] + h;
    up[i] = Math.min(plus, upper[i]);
    const down = Float64Array.from(x);
    const minus = x[i] - h;
    down[i] = Math.max(minus, lower[i]);
    points.push(up, down);
  }
  return points;
}

/**
 * optim's numerical gradient from f at the points of {@link finiteDifferencePoints}:
 * g_i = (f(x⁺) − f(x⁻)) / (h⁺ + h⁻), with h⁺ = upper − x_i when x_i + h was clamped (likewise h⁻),
 * computed in R's order of operations so that the result is the same double.
 * @param x - point, length p
 * @param lower - lower bounds
 * @param upper - upper bounds
 * @param values - f at the 2p points, in their order
 * @param ndeps - the step used for the points
 * @throws when a component is not finite (R stops with "non-finite finite-difference value")
 */
export function finiteDifferenceGradient(
  x: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  values: ArrayLike<number>,
  ndeps: number | Float64Array = 1e-3,
): Float64Array {
  const p = x.length;
  if (values.length !== 2 * p) throw new Error(`finiteDifferenceGradient: need ${2 * p} values`);
  const gradient = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    const h = stepOf(ndeps, i);
    let hUp = h;
    if (x[i] + h > upper[i]) hUp = upper[i] - x[i];
    let hDown = h;
    if (x[i] - h < lower[i]) hDown = x[i] - lower[i];
    gradient[i] = (values[2 * i] - values[2 * i + 1]) / (hUp + hDown);
    if (!Number.isFinite(gradient[i])) {
      throw new Error(`non-finite finite-difference value [${i + 1}]`);
    }
  }
  return gradient;
}

/** {@link LbfgsbOptions} plus the finite-difference step. */
export interface MinimiseLbfgsbOptions extends LbfgsbOptions {
  /** R's `ndeps`, default 1e-3. */
  ndeps?: number | Float64Array;
}

/**
 * `optim(x0, fn, method = "L-BFGS-B", lower, upper)` with no gradient function, for a local fn:
 * drives {@link Lbfgsb} with f at each requested point followed by f at its 2p
 * finite-difference points — the batch a remote caller would evaluate at once.
 * @param fn - objective
 * @param x0 - start
 * @param options - bounds, controls and ndeps
 */
export function minimiseLbfgsb(
  fn: (x: Float64Array) => number,
  x0: Float64Array,
  options: MinimiseLbfgsbOptions,
): LbfgsbResult {
  const solver = new Lbfgsb(x0, options);
  const ndeps = options.ndeps ?? 1e-3;
  for (let x = solver.next(); x !== null; x = solver.next()) {
    const f = fn(x);
    if (!Number.isFinite(f)) throw new Error("L-BFGS-B needs finite values of 'fn'");
    const points = finiteDifferencePoints(x, options.lower, options.upper, ndeps);
    const values = points.map(fn);
    solver.tell(f, finiteDifferenceGradient(x, options.lower, options.upper, values, ndeps));
  }
  return solver.result();
}

/**
 * Independent L-BFGS-B minimisations advanced together, one evaluation each per step (a
 * federation's round: every gene's optimiser waits for the sums at its own point). Plain data,
 * so that a phase's state can hold it.
 */
export interface LbfgsbLockstep {
  /** Each minimisation's state ({@link Lbfgsb.snapshot}). */
  readonly optimisers: readonly LbfgsbSnapshot[];
  /** The point each waits to have evaluated, null once it stopped. */
  readonly pending: readonly (Float64Array | null)[];
}

/** Start one minimisation per starting point, all with `options`. */
export function lockstepStart(
  starts: readonly Float64Array[],
  options: LbfgsbOptions,
): LbfgsbLockstep {
  const optimisers: LbfgsbSnapshot[] = [];
  const pending: (Float64Array | null)[] = [];
  for (const x0 of starts) {
    const optimiser = new Lbfgsb(x0, options);
    pending.push(optimiser.next());
    optimisers.push(handedOver(optimiser));
  }
  return { optimisers, pending };
}

/** The points waiting to be evaluated, in order. */
export function lockstepWaiting(state: LbfgsbLockstep): Float64Array[] {
  return state.pending.filter((x): x is Float64Array => x !== null);
}

/**
 * Tell every waiting minimisation f and its gradient at its point, and take its next point.
 * @param evaluate - f and the gradient at a waiting point `x`, the `waiting`-th of
 *   {@link lockstepWaiting}, for the `index`-th minimisation
 */
export function lockstepTell(
  state: LbfgsbLockstep,
  evaluate: (
    x: Float64Array,
    waiting: number,
    index: number,
  ) => { readonly value: number; readonly gradient: Float64Array },
): LbfgsbLockstep {
  const optimisers: LbfgsbSnapshot[] = [];
  const pending: (Float64Array | null)[] = [];
  let waiting = 0;
  state.pending.forEach((x, index) => {
    if (x === null) {
      optimisers.push(state.optimisers[index]);
      pending.push(null);
      return;
    }
    const { value, gradient } = evaluate(x, waiting++, index);
    const optimiser = Lbfgsb.fromSnapshot(state.optimisers[index]);
    optimiser.tell(value, gradient);
    pending.push(optimiser.next());
    optimisers.push(handedOver(optimiser));
  });
  return { optimisers, pending };
}

/** Whether every minimisation has stopped. */
export function lockstepDone(state: LbfgsbLockstep): boolean {
  return state.pending.every((x) => x === null);
}

/** Each minimisation's outcome, once {@link lockstepDone}. */
export function lockstepResults(state: LbfgsbLockstep): LbfgsbResult[] {
  return state.optimisers.map((s) => Lbfgsb.fromSnapshot(s).result());
}
