/**
 * Invariants of the kernels and of the federated PQN on random federations.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CenterFitData, withSampleTerms } from "../../src/algorithms/center.js";
import { DEFAULT_HYPERPARAMETERS } from "../../src/algorithms/hyperparameters.js";
import { pqnAggregate } from "../../src/algorithms/pqn/aggregate.js";
import { ascentDirectionAndDecrement } from "../../src/algorithms/pqn/direction.js";
import { pqnLocalStep } from "../../src/algorithms/pqn/local.js";
import { pqnStart } from "../../src/algorithms/pqn/start.js";
import {
  type PqnFinalState,
  type PqnRoundState,
  pqnReply,
  pqnRequest,
} from "../../src/algorithms/pqn/state.js";
import {
  nbFisherGradientNllAtSteps,
  nbIrlsSummandsAndNll,
} from "../../src/math/negativeBinomial.js";
import { arbitraryFederation } from "../helpers/generate.js";
import { stepPoints, termScales } from "../helpers/scales.js";

const BOX = { lower: -30, upper: 30 };

describe("pooling invariant: Σ over centers of local quantities = pooled quantity", () => {
  it("NLL, gradient and Fisher at β and along the line-search grid (1e-10 relative)", () => {
    fc.assert(
      fc.property(
        arbitraryFederation(),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.boolean(),
        (fed, betaValues, directionValues, withSteps) => {
          const { p, genes } = fed;
          const idx = Int32Array.from({ length: genes }, (_, g) => g);
          const beta = Float64Array.from(betaValues.slice(0, genes * p));
          const direction = withSteps
            ? Float64Array.from(directionValues.slice(0, genes * p))
            : null;
          const steps = withSteps ? Float64Array.of(1, 0.5, 0.25) : null;
          const local = fed.centers.map((c) =>
            nbFisherGradientNllAtSteps(
              c.main.data,
              withSampleTerms(c.main).constants,
              idx,
              beta,
              direction,
              steps,
              BOX,
              0,
            ),
          );
          const pooled = nbFisherGradientNllAtSteps(
            fed.pooled.main.data,
            withSampleTerms(fed.pooled.main).constants,
            idx,
            beta,
            direction,
            steps,
            BOX,
            0,
          );
          // NLL and gradient are sums of terms that cancel (−Xᵀy + Σ x·score): summed in another
          // order, they agree to 1e-10 of the terms' magnitude Σ|term|, not of a near-zero result.
          const points = stepPoints(beta, direction, steps, BOX.lower, BOX.upper);
          const scales = termScales(fed.pooled.main.data, idx, points, 0);
          const scaleOf = { nll: scales.nll, gradient: scales.gradient, fisher: null } as const;
          for (const field of ["nll", "gradient", "fisher"] as const) {
            const sum = local.map((l) => l[field]).reduce((a, b) => a.map((v, i) => v + b[i]));
            sum.forEach((v, i) => {
              const e = pooled[field][i];
              const scale = Math.max(Math.abs(e), scaleOf[field]?.[i] ?? 0);
              // Components that cancel to ~0 are compared in absolute terms.
              if (scale < 1e-6) expect(Math.abs(v - e)).toBeLessThan(1e-9);
              else
                expect(Math.abs(v - e) / scale, `${field}[${i}]: ${v} vs ${e}`).toBeLessThanOrEqual(
                  1e-10,
                );
            });
          }
          const irlsScales = termScales(fed.pooled.main.data, idx, beta, 0.5);
          // XᵀWz sums terms of both signs too: its magnitude is Σ|x w z|.
          const { n, design, sizeFactors, counts } = fed.pooled.main.data;
          const featureScale = new Float64Array(genes * p);
          for (let g = 0; g < genes; g++) {
            for (let i = 0; i < n; i++) {
              let xb = 0;
              for (let k = 0; k < p; k++) xb += design[i * p + k] * beta[g * p + k];
              const m = Math.max(sizeFactors[i] * Math.exp(xb), 0.5);
              const w = m / (1 + m * fed.pooled.main.data.dispersions[g]);
              const z = Math.log(m / sizeFactors[i]) + (counts[g * n + i] - m) / m;
              for (let k = 0; k < p; k++)
                featureScale[g * p + k] += Math.abs(design[i * p + k] * w * z);
            }
          }
          const irlsScaleOf = {
            nll: irlsScales.nll,
            hatMatrix: null,
            features: featureScale,
          } as const;
          // Both forms of the NLL: each sample's term summed whole (upstream's IRLS), and the
          // β-dependent parts less the ln Γ terms' sum (the deseq2 solver's, prepared datasets).
          for (const form of [withSampleTerms, (d: CenterFitData) => d]) {
            const irlsLocal = fed.centers.map((c) =>
              nbIrlsSummandsAndNll(c.main.data, form(c.main).constants, idx, beta, 0.5),
            );
            const pooledData = fed.pooled.main.data;
            const pooledConstants = form(fed.pooled.main).constants;
            const irlsPooled = nbIrlsSummandsAndNll(pooledData, pooledConstants, idx, beta, 0.5);
            for (const field of ["nll", "hatMatrix", "features"] as const) {
              const sum = irlsLocal
                .map((l) => l[field])
                .reduce((a, b) => a.map((v, i) => v + b[i]));
              sum.forEach((v, i) => {
                const e = irlsPooled[field][i];
                const scale = Math.max(Math.abs(e), irlsScaleOf[field]?.[i] ?? 0);
                if (scale < 1e-6) expect(Math.abs(v - e)).toBeLessThan(1e-9);
                else expect(Math.abs(v - e) / scale, `${field}[${i}]`).toBeLessThanOrEqual(1e-10);
              });
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("federated PQN runs", () => {
  it("β stays in the box and accepted steps never increase the regularised NLL", () => {
    const hp = { ...DEFAULT_HYPERPARAMETERS, maxBeta: 8 };
    fc.assert(
      fc.property(
        arbitraryFederation(),
        fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 24, maxLength: 24 }),
        (fed, start) => {
          const { p, genes } = fed;
          const beta = Float64Array.from(start.slice(0, genes * p));
          let state: PqnRoundState | PqnFinalState = pqnStart(beta, new Uint8Array(genes).fill(1));
          while (state.kind === "pqn-round") {
            const s: PqnRoundState = state;
            const request = pqnRequest(s);
            const next: PqnRoundState | PqnFinalState = pqnAggregate(
              s,
              fed.centers.map((c) => pqnReply(pqnLocalStep(c, request, hp))),
              hp,
            );
            for (const b of next.beta) expect(Math.abs(b)).toBeLessThanOrEqual(hp.maxBeta);
            if (s.round > 0 && next.kind === "pqn-round" && s.decrement !== null) {
              let a = 0;
              for (let g = 0; g < genes; g++) {
                if (!s.mask[g]) continue;
                // The Armijo test guarantees a decrease when the Newton decrement is ≥ 0. As
                // upstream, the Fisher "with prior" adds λ(gβᵀ + βgᵀ) + λ²ββᵀ, which can make it
                // indefinite (δ < 0) far from the optimum; then an increase passes the test too.
                if (!next.divergedMask[g] && s.decrement[a] >= 0) {
                  expect(next.regNll[g]).toBeLessThanOrEqual(s.regNll[g]);
                }
                a++;
              }
            }
            state = next;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("projected Newton direction", () => {
  it("a coordinate on a bound whose gradient (then direction) points outward gets a zero component", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 25, maxLength: 25 }),
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 5, maxLength: 5 }),
        fc.array(fc.constantFrom(-30, 30, 0, 1.5), { minLength: 5, maxLength: 5 }),
        (p, entries, grad, position) => {
          // S = AᵀA + I: symmetric positive definite, as an inverse Fisher.
          const s = new Float64Array(p * p);
          for (let i = 0; i < p; i++) {
            for (let j = 0; j < p; j++) {
              let acc = i === j ? 1 : 0;
              for (let k = 0; k < p; k++) acc += entries[k * 5 + i] * entries[k * 5 + j];
              s[i * p + j] = acc;
            }
          }
          const gradient = Float64Array.from(grad.slice(0, p));
          const beta = Float64Array.from(position.slice(0, p));
          const onLower = (j: number) => beta[j] === -30;
          const onUpper = (j: number) => beta[j] === 30;
          // Expected first pass (eq. 2.2): zero S's rows/columns of outward-gradient coordinates.
          const first = Array.from(
            { length: p },
            (_, j) => (onLower(j) && gradient[j] > 0) || (onUpper(j) && gradient[j] < 0),
          );
          const firstPass = new Array<number>(p).fill(0);
          for (let i = 0; i < p; i++) {
            if (first[i]) continue;
            for (let k = 0; k < p; k++) if (!first[k]) firstPass[i] += s[i * p + k] * gradient[k];
          }
          const direction = new Float64Array(p);
          const decrement = new Float64Array(1);
          ascentDirectionAndDecrement(s, gradient, beta, 30, 1, p, direction, decrement);
          for (let j = 0; j < p; j++) {
            // eq. 2.2: on a bound with the gradient pointing outward.
            if (first[j]) expect(direction[j]).toBe(0);
            // eq. 2.3: on a bound with the first-pass direction pointing outward.
            if ((onLower(j) && firstPass[j] > 0) || (onUpper(j) && firstPass[j] < 0))
              expect(direction[j]).toBe(0);
          }
          expect(decrement[0]).toBeGreaterThanOrEqual(-1e-12);
        },
      ),
      { numRuns: 500 },
    );
  });
});
