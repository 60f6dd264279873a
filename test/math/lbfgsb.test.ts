/**
 * L-BFGS-B against R's optim(method = "L-BFGS-B") (fixture: ./fixtures/lbfgsb.json, made by
 * ./fixtures/lbfgsb.R).
 *
 * - Replay: the fixture supplies f at every point R evaluated, so the optimiser alone is checked:
 *   every requested point (bit for bit), the number of evaluations, the convergence code, the
 *   message and the answer.
 * - Live: the same objectives re-implemented here and driven by minimiseLbfgsb. The smooth ones
 *   sum as R's sum() does (x87 extended precision) and follow R's whole path; DESeq2's uses the
 *   repo's lnΓ-based NB terms, which are not R's dnbinom to the last bit (see NB_DRIFT).
 * - R's numerical gradient: the clamped finite-difference points bit for bit, and the gradient
 *   where R's first trial point reveals it.
 */
import { readFileSync } from "node:fs";
import { deserialize, serialize } from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import {
  finiteDifferenceGradient,
  finiteDifferencePoints,
  Lbfgsb,
  type LbfgsbResult,
  minimiseLbfgsb,
} from "../../src/math/lbfgsb.js";
import { lnGamma } from "../../src/math/lnGamma.js";
import { sumLikeR } from "../../src/math/nbDensity.js";
import { nbLogBinomial, nbNllTerm } from "../../src/math/negativeBinomial.js";

interface NbData {
  counts: number[];
  sizeFactors: number[];
  dispersion: number;
  design: number[][];
  lambda: number[];
  start: string;
}

interface FixtureCase {
  name: string;
  x0: number[];
  lower: (number | null)[];
  upper: (number | null)[];
  par: number[];
  value: number;
  counts: number;
  calls: number;
  convergence: number;
  message: string;
  /** Per f-and-gradient evaluation: the point, f there, f at its 2p finite-difference points. */
  x: number[][];
  f: number[];
  fdValues: number[][];
  fdPoints?: number[][][];
  data?: NbData;
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/lbfgsb.json", import.meta.url), "utf8"),
) as { cases: FixtureCase[] };
const cases = fixture.cases;

/** The brief's tolerance on points and values: 1e-8 relative plus 1e-10 absolute. */
const REL = 1e-8;
const ABS = 1e-10;

function bounds(c: FixtureCase): { lower: Float64Array; upper: Float64Array } {
  return {
    lower: Float64Array.from(c.lower, (v) => (v === null ? Number.NEGATIVE_INFINITY : v)),
    upper: Float64Array.from(c.upper, (v) => (v === null ? Number.POSITIVE_INFINITY : v)),
  };
}

/** Worst |a − e| / (REL·|e| + ABS) (≤ 1 passes) and worst plain relative error |a − e| / |e|. */
interface Deviation {
  ratio: number;
  rel: number;
}
function deviation(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  into?: Deviation,
): Deviation {
  const out = into ?? { ratio: 0, rel: 0 };
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    out.ratio = Math.max(out.ratio, err / (REL * Math.abs(expected[i]) + ABS));
    if (expected[i] !== 0) out.rel = Math.max(out.rel, err / Math.abs(expected[i]));
    else out.rel = Math.max(out.rel, err);
  }
  return out;
}

const report: string[] = [];
afterAll(() => {
  console.info(`L-BFGS-B vs R (worst relative deviation):\n  ${report.join("\n  ")}`);
});

function expectSameOutcome(
  result: LbfgsbResult,
  c: FixtureCase,
): { par: Deviation; value: Deviation } {
  expect(result.evaluations).toBe(c.counts);
  expect(result.convergence).toBe(c.convergence);
  expect(result.message).toBe(c.message);
  const par = deviation(result.par, c.par);
  const value = deviation([result.value], [c.value]);
  expect(par.ratio).toBeLessThanOrEqual(1);
  expect(value.ratio).toBeLessThanOrEqual(1);
  return { par, value };
}

/**
 * Drive a solver with R's recorded values; `checkpoint` round-trips the state before every tell,
 * through JSON or (as a lockstep keeps it, and a checkpoint file holds it) through a snapshot and
 * v8's serialisation. Returns the result and the worst deviation of the requested points.
 */
function replay(
  c: FixtureCase,
  checkpoint: false | "json" | "snapshot" = false,
): { result: LbfgsbResult; path: Deviation } {
  const { lower, upper } = bounds(c);
  let solver = new Lbfgsb(Float64Array.from(c.x0), { lower, upper });
  const path: Deviation = { ratio: 0, rel: 0 };
  let b = 0;
  for (let x = solver.next(); x !== null; x = solver.next()) {
    expect(b, `${c.name}: more evaluations than R`).toBeLessThan(c.counts);
    deviation(x, c.x[b], path);
    if (checkpoint === "json") solver = Lbfgsb.fromState(JSON.parse(JSON.stringify(solver)));
    if (checkpoint === "snapshot")
      solver = Lbfgsb.fromSnapshot(deserialize(serialize(solver.snapshot())));
    solver.tell(c.f[b], finiteDifferenceGradient(x, lower, upper, c.fdValues[b]));
    b++;
  }
  return { result: solver.result(), path };
}

describe("L-BFGS-B replaying R's function values (the optimiser alone)", () => {
  for (const c of cases) {
    it(`${c.name}: ${c.counts} evaluations, convergence ${c.convergence}`, () => {
      expect(c.calls).toBe(c.counts * (2 * c.x0.length + 1));
      const { result, path } = replay(c);
      expect(path.ratio, `${c.name}: requested points vs R`).toBeLessThanOrEqual(1);
      const { par, value } = expectSameOutcome(result, c);
      // Stronger than the tolerance: fed R's values, the optimiser reproduces R's doubles.
      expect(path.rel, `${c.name}: requested points bit for bit`).toBe(0);
      expect(par.rel).toBe(0);
      expect(value.rel).toBe(0);
      report.push(
        `replay ${c.name}: path ${path.rel.toExponential(1)}, par ${par.rel.toExponential(1)}, value ${value.rel.toExponential(1)}`,
      );
    });
  }

  it("a snapshot shares nothing with its solver: telling the solver leaves it as it was", () => {
    const c = cases.find((k) => k.name === "rosenbrock4_active")!;
    const { lower, upper } = bounds(c);
    const solver = new Lbfgsb(Float64Array.from(c.x0), { lower, upper });
    for (let b = 0; b < 4; b++) {
      const x = solver.next()!;
      const snapshot = solver.snapshot();
      const before = serialize(snapshot);
      solver.tell(c.f[b], finiteDifferenceGradient(x, lower, upper, c.fdValues[b]));
      expect(serialize(snapshot).equals(before)).toBe(true);
      // And a solver rebuilt from it leaves it as it was too.
      const rebuilt = Lbfgsb.fromSnapshot(snapshot);
      rebuilt.tell(c.f[b], finiteDifferenceGradient(x, lower, upper, c.fdValues[b]));
      expect(serialize(snapshot).equals(before)).toBe(true);
    }
  });

  it("restores from a JSON checkpoint or a snapshot at every evaluation and ends bit for bit the same", () => {
    for (const name of [
      "rosenbrock4_active",
      "helical_abnormal",
      "rosenbrock2_half_bounded",
      "nb_zero_group",
    ]) {
      const c = cases.find((k) => k.name === name)!;
      const straight = replay(c).result;
      expect(replay(c, "json").result).toEqual(straight);
      expect(replay(c, "snapshot").result).toEqual(straight);
    }
  });
});

// ---- The objectives, as the R script defines them ----------------------------------------------

/** R's sum() of doubles (80-bit accumulation): the one in src, checked against R there. */
const sumExtended = (terms: ArrayLike<number>): number => sumLikeR(terms);

function rosenbrock(x: Float64Array): number {
  const terms: number[] = [];
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1] - x[i] * x[i];
    const b = 1 - x[i];
    terms.push(100 * (a * a) + b * b);
  }
  return sumExtended(terms);
}

const A = [4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]; // column-major, symmetric
const bq = [10, -8, 1];
function quadratic(x: Float64Array): number {
  const xAx: number[] = [];
  for (let i = 0; i < 3; i++) {
    let ax = 0;
    for (let j = 0; j < 3; j++) ax += A[i + 3 * j] * x[j];
    xAx.push(x[i] * ax);
  }
  return 0.5 * sumExtended(xAx) - sumExtended(Array.from(x, (v, i) => bq[i] * v));
}

function helical(x: Float64Array): number {
  const th = Math.atan2(x[1], x[0]) / (2 * Math.PI);
  const a = x[2] - 10 * th;
  const r = Math.sqrt(x[0] * x[0] + x[1] * x[1]) - 1;
  return 100 * (a * a + r * r) + x[2] * x[2];
}

function fdFunction(x: Float64Array): number {
  const c = [0.3, -0.2, 0.5];
  const s = sumExtended(Array.from(x, (v, i) => (v - c[i]) * (v - c[i])));
  return 0.1 * s + 0.05 * x[0] ** 3 + 0.02 * x[1] * x[2];
}

function softplus4(x: Float64Array): number {
  const a = [3, -2, 1.5, -4];
  const s = sumExtended(Array.from(x, (v, i) => Math.log1p(Math.exp(a[i] * v))));
  const q = sumExtended(Array.from(x, (v) => (v - 1) * (v - 1)));
  return s + 0.01 * q + 0.2 * x[0] * x[1];
}

function expTowardBounds(x: Float64Array): number {
  const q = sumExtended(Array.from(x, (v) => v * v));
  return Math.exp(2 * x[0]) + Math.exp(-x[1]) + Math.exp(x[2] - x[0]) + 0.05 * q;
}

function concave(x: Float64Array): number {
  return -(x[0] * x[0]) + (x[1] - 0.5) * (x[1] - 0.5) + 0.1 * x[0] * x[1];
}

/** ln √(2π), as R's dnorm uses it. */
const LN_SQRT_2PI = 0.9189385332046728;

/**
 * DESeq2's fitNbinomGLMsWithOptim objective: −(Σ log NB(k; μ, 1/α) + Σ log N(β; 0, 1/λ)) with
 * μ = nf·2^(Xβ), 10^300 when not finite. The NB log density uses the repo's lnΓ-based terms
 * (R's dnbinom uses Loader's saddle-point form instead).
 */
function nbObjective(data: NbData): (beta: Float64Array) => number {
  const { counts, sizeFactors, dispersion, design, lambda } = data;
  const n = counts.length;
  const r = 1 / dispersion;
  const lgr = lnGamma(r);
  const lnB = counts.map((k) => nbLogBinomial(k, r, lgr));
  const offset = r * Math.log(dispersion);
  const sd = lambda.map((l) => Math.sqrt(1 / l));
  return (beta) => {
    const logLikeVector = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let j = 0; j < beta.length; j++) eta += design[i][j] * beta[j];
      const mu = sizeFactors[i] * 2 ** eta;
      logLikeVector[i] = -(nbNllTerm(counts[i], r, mu, lnB[i]) + offset);
    }
    const logLike = sumExtended(logLikeVector);
    const logPrior = sumExtended(
      Array.from(beta, (b, j) => {
        const z = b / sd[j];
        return -(LN_SQRT_2PI + 0.5 * z * z + Math.log(sd[j]));
      }),
    );
    const negLogPost = -1 * (logLike + logPrior);
    return Number.isFinite(negLogPost) ? negLogPost : 1e300;
  };
}

function objectiveOf(c: FixtureCase): (x: Float64Array) => number {
  if (c.data) return nbObjective(c.data);
  if (c.name.startsWith("rosenbrock2_steep")) {
    return (x) => 1e4 * (x[1] - x[0] * x[0]) ** 2 + (1 - x[0]) ** 2;
  }
  if (c.name.startsWith("rosenbrock")) return rosenbrock;
  if (c.name.startsWith("quadratic")) return quadratic;
  if (c.name.startsWith("helical")) return helical;
  if (c.name.startsWith("zero_gradient"))
    return (x) => x[0] * x[0] + x[1] * x[1] + x[0] * x[0] * (x[1] * x[1]);
  if (c.name.startsWith("fd_")) return fdFunction;
  if (c.name.startsWith("softplus4")) return softplus4;
  if (c.name.startsWith("exp_toward")) return expTowardBounds;
  if (c.name.startsWith("concave")) return concave;
  throw new Error(`no objective for ${c.name}`);
}

/** Run minimiseLbfgsb on a case's objective, keeping the points where f and a gradient were needed. */
function live(c: FixtureCase): { result: LbfgsbResult; points: Float64Array[] } {
  const { lower, upper } = bounds(c);
  const fn = objectiveOf(c);
  const requested: Float64Array[] = [];
  const result = minimiseLbfgsb(
    (x) => {
      requested.push(x);
      return fn(x);
    },
    Float64Array.from(c.x0),
    { lower, upper },
  );
  // Every batch is the point, then its 2p finite-difference neighbours.
  const per = 2 * c.x0.length + 1;
  const points = requested.filter((_, i) => i % per === 0);
  return { result, points };
}

describe("L-BFGS-B on the smooth objectives re-implemented here (minimiseLbfgsb)", () => {
  for (const c of cases.filter((k) => k.data === undefined)) {
    it(`${c.name}: R's whole path, evaluations, convergence and answer`, () => {
      const fn = objectiveOf(c);
      const { result, points } = live(c);
      expect(points.length).toBe(c.counts);
      const path: Deviation = { ratio: 0, rel: 0 };
      const fPath: Deviation = { ratio: 0, rel: 0 };
      points.forEach((x, b) => {
        deviation(x, c.x[b], path);
        deviation([fn(x)], [c.f[b]], fPath);
      });
      expect(path.ratio, `${c.name}: path vs R`).toBeLessThanOrEqual(1);
      expect(fPath.ratio, `${c.name}: f along the path vs R`).toBeLessThanOrEqual(1);
      const { par, value } = expectSameOutcome(result, c);
      report.push(
        `live ${c.name}: path ${path.rel.toExponential(1)}, f ${fPath.rel.toExponential(1)}, par ${par.rel.toExponential(1)}, value ${value.rel.toExponential(1)}`,
      );
    });
  }
});

/**
 * DESeq2's objective with the repo's lnΓ-based NB terms is not R's dnbinom to the last bit, and
 * optim differentiates it numerically (f differences over 2h = 2e-3, so f's error is multiplied by
 * 500 in the gradient). Measured per gene, and asserted at the tightest bound that holds:
 * - `objective`: |f − f_R| / |f_R| at R's own points (f and its 2p neighbours). Up to ~3e-15 for
 *   small counts; 1e-13 with a count of 4000; 5e-12–1e-11 with counts of 1e5–2e5, where
 *   lnΓ(y + r) − lnΓ(y + 1) cancels (terms ~1e6, one ulp ~1e-10) while R's saddle-point form
 *   does not.
 * - `agreeFor`: evaluations along which our path stays within 1e-8 relative (+1e-10) of R's.
 *   After that the trial points part: either the line search interpolates between a probe at the
 *   box (f ~ 1e3–1e7, gradient ~1e6) and a moderate point, which magnifies the perturbation, or
 *   the gradient of the all-zero group's coefficient (~1e-6) is mostly rounding noise of f.
 * - The evaluation count, convergence code and message equal R's in every gene; `par` and `value`
 *   bound the final answer (relative). Where `par` exceeds 1e-8 the optimum is flat: the stopping
 *   rule (relative reduction ≤ 2.2e-9) fixes β only to ~√2.2e-9 in its flattest direction.
 */
const NB_DRIFT: Record<
  string,
  { objective: number; agreeFor: number; par: number; value: number }
> = {
  nb_zero_group: { objective: 1e-14, agreeFor: 27, par: 1e-8, value: 1e-14 },
  nb_zero_group_disp10: { objective: 1e-14, agreeFor: 13, par: 1e-7, value: 1e-14 },
  nb_dispersion10: { objective: 1e-15, agreeFor: 9, par: 1e-11, value: 1e-15 },
  nb_large_counts: { objective: 1e-11, agreeFor: 5, par: 1e-7, value: 1e-11 },
  nb_irls_start: { objective: 1e-14, agreeFor: 3, par: 1e-11, value: 1e-14 },
  nb_outlier: { objective: 1e-12, agreeFor: 6, par: 1e-6, value: 1e-13 },
  nb_large_counts_irls: { objective: 2e-11, agreeFor: 1, par: 1e-10, value: 1e-11 },
};

describe("L-BFGS-B on DESeq2's objective with the repo's NB terms (minimiseLbfgsb)", () => {
  for (const c of cases.filter((k) => k.data !== undefined)) {
    it(`${c.name}: R's evaluations and convergence, answer within the objective's drift`, () => {
      const drift = NB_DRIFT[c.name];
      expect(drift, `no drift entry for ${c.name}`).toBeDefined();
      const { lower, upper } = bounds(c);
      const fn = objectiveOf(c);
      // The objective alone, at R's points.
      const objective: Deviation = { ratio: 0, rel: 0 };
      c.x.forEach((x, b) => {
        const at = Float64Array.from(x);
        deviation([fn(at)], [c.f[b]], objective);
        deviation(finiteDifferencePoints(at, lower, upper).map(fn), c.fdValues[b], objective);
      });
      expect(objective.rel, `${c.name}: objective vs R's dnbinom`).toBeLessThanOrEqual(
        drift.objective,
      );
      const { result, points } = live(c);
      const prefix: Deviation = { ratio: 0, rel: 0 };
      for (let b = 0; b < drift.agreeFor; b++) deviation(points[b], c.x[b], prefix);
      expect(prefix.ratio, `${c.name}: first ${drift.agreeFor} points vs R`).toBeLessThanOrEqual(1);
      expect(result.evaluations).toBe(c.counts);
      expect(result.convergence).toBe(c.convergence);
      expect(result.message).toBe(c.message);
      const par = deviation(result.par, c.par);
      const value = deviation([result.value], [c.value]);
      expect(par.rel, `${c.name}: par`).toBeLessThanOrEqual(drift.par);
      expect(value.rel, `${c.name}: value`).toBeLessThanOrEqual(drift.value);
      report.push(
        `live ${c.name}: objective ${objective.rel.toExponential(1)}, path agrees for ${drift.agreeFor}/${c.counts}, par ${par.rel.toExponential(1)}, value ${value.rel.toExponential(1)}`,
      );
    });
  }
});

describe("R's finite-difference gradient (optim.c with bounds)", () => {
  for (const c of cases.filter((k) => k.fdPoints !== undefined)) {
    it(`${c.name}: the 2p points of every evaluation, bit for bit`, () => {
      const { lower, upper } = bounds(c);
      c.x.forEach((x, b) => {
        const points = finiteDifferencePoints(Float64Array.from(x), lower, upper);
        expect(points.map((p) => Array.from(p))).toEqual(c.fdPoints![b]);
      });
    });
  }

  it("clamps at the bounds and divides by the step actually taken", () => {
    const lower = Float64Array.of(-1, -1, 0, Number.NEGATIVE_INFINITY);
    const upper = Float64Array.of(1, 1, Number.POSITIVE_INFINITY, 0.2);
    const x = Float64Array.of(1, -1, 0.0004, 0.1995);
    const points = finiteDifferencePoints(x, lower, upper);
    expect(points.map((p) => Array.from(p))).toEqual([
      [1, -1, 0.0004, 0.1995],
      [1 - 1e-3, -1, 0.0004, 0.1995],
      [1, -1 + 1e-3, 0.0004, 0.1995],
      [1, -1, 0.0004, 0.1995],
      [1, -1, 0.0004 + 1e-3, 0.1995],
      [1, -1, 0, 0.1995],
      [1, -1, 0.0004, 0.2],
      [1, -1, 0.0004, 0.1995 - 1e-3],
    ]);
    // A linear function: every clamped one-sided or shortened difference recovers the slope.
    const slope = [3, -2, 0.5, 7];
    const f = (p: Float64Array): number => p.reduce((s, v, i) => s + slope[i] * v, 0);
    const g = finiteDifferenceGradient(x, lower, upper, points.map(f));
    for (let i = 0; i < 4; i++) expect(g[i]).toBeCloseTo(slope[i], 9);
    // The step actually used, in R's arithmetic: (f⁺ − f⁻) / ((u − x) + h) for coordinate 4.
    const values = points.map(f);
    expect(g[3]).toBe((values[6] - values[7]) / (upper[3] - x[3] + 1e-3));
    expect(() => finiteDifferenceGradient(x, lower, upper, [0])).toThrow();
  });

  it("matches R's gradient where R reveals it: the first trial point of a boxed problem is x − g", () => {
    // With no memory (θ = 1) and every coordinate boxed, the first trial step is 1 to the Cauchy
    // point; when no bound is met on the way that point is fl(x − g), so R's first trial point
    // shows R's finite-difference gradient.
    let checked = 0;
    for (const c of cases) {
      if (c.counts < 2 || !c.lower.every((v) => v !== null) || !c.upper.every((v) => v !== null)) {
        continue;
      }
      const { lower, upper } = bounds(c);
      const x = Float64Array.from(c.x[0]);
      const g = finiteDifferenceGradient(x, lower, upper, c.fdValues[0]);
      const trial = c.x[1];
      if (!trial.every((v, i) => v > lower[i] && v < upper[i])) continue;
      expect(
        Array.from(x, (v, i) => v - g[i]),
        c.name,
      ).toEqual(trial);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});

describe("Lbfgsb interface", () => {
  it("reports R's outcome for infeasible bounds without evaluating", () => {
    const solver = new Lbfgsb(Float64Array.of(0, 0), {
      lower: Float64Array.of(1, 0),
      upper: Float64Array.of(0, 1),
    });
    expect(solver.next()).toBeNull();
    expect(solver.result()).toEqual({
      par: Float64Array.of(0, 0),
      value: 0,
      convergence: 52,
      message: "ERROR: NO FEASIBLE SOLUTION",
      evaluations: 0,
    });
  });

  it("refuses results before the end and non-finite values", () => {
    const solver = new Lbfgsb(Float64Array.of(0.5), {
      lower: Float64Array.of(-1),
      upper: Float64Array.of(1),
    });
    expect(() => solver.result()).toThrow();
    expect(() => solver.tell(Number.NaN, Float64Array.of(0))).toThrow(/finite/);
  });

  it("stops after maxit iterations with R's message", () => {
    const c = cases.find((k) => k.name === "rosenbrock2_box")!;
    const { lower, upper } = bounds(c);
    const result = minimiseLbfgsb(rosenbrock, Float64Array.from(c.x0), { lower, upper, maxit: 3 });
    expect(result.convergence).toBe(1);
    expect(result.message).toBe("NEW_X");
    // The fourth accepted point ends it: the path up to there is R's.
    expect(Array.from(result.par)).toEqual(c.x[result.evaluations - 1]);
  });
});
