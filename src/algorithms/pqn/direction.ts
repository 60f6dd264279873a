/**
 * The projected Newton direction of the proximal quasi-Newton method for box constraints
 * (Kim, Sra & Dhillon 2010, eqs. 2.2 and 2.3), batched over genes.
 */

/** Distance to a bound under which a coefficient counts as sitting on it (upstream's 1e-14). */
export const BOUND_TOLERANCE = 1e-14;

/**
 * Zero row and column j of the p×p matrix at `offset`.
 */
function zeroRowAndColumn(s: Float64Array, offset: number, p: number, j: number): void {
  for (let k = 0; k < p; k++) {
    s[offset + j * p + k] = 0;
    s[offset + k * p + j] = 0;
  }
}

/** out[g] = S_g · v_g for one gene. */
function multiply(
  s: Float64Array,
  offset: number,
  v: Float64Array,
  vOffset: number,
  p: number,
  out: Float64Array,
): void {
  for (let i = 0; i < p; i++) {
    let acc = 0;
    for (let k = 0; k < p; k++) acc += s[offset + i * p + k] * v[vOffset + k];
    out[vOffset + i] = acc;
  }
}

/**
 * Ascent direction d = S g and Newton decrement δ = gᵀ d, where S is the inverse Fisher with
 * the rows and columns of binding coordinates zeroed: first those on a bound whose gradient
 * points outward (eq. 2.2), then those on a bound whose direction d would move outward (eq. 2.3).
 * The update is β − t·d. As upstream, `scaling` is modified in place.
 * @param scaling - count×p×p inverse Fisher matrices (zeroed in place)
 * @param gradient - count×p gradients
 * @param beta - count×p current coefficients
 * @param maxBeta - the box is [−maxBeta, maxBeta]
 * @param count - number of genes
 * @param p - number of coefficients
 * @param direction - receives count×p directions
 * @param decrement - receives count decrements
 */
export function ascentDirectionAndDecrement(
  scaling: Float64Array,
  gradient: Float64Array,
  beta: Float64Array,
  maxBeta: number,
  count: number,
  p: number,
  direction: Float64Array,
  decrement: Float64Array,
): void {
  const lowerEdge = -maxBeta + BOUND_TOLERANCE;
  const upperEdge = maxBeta - BOUND_TOLERANCE;
  const pp = p * p;
  for (let g = 0; g < count; g++) {
    const m = g * pp;
    const v = g * p;
    for (let j = 0; j < p; j++) {
      const b = beta[v + j];
      const grad = gradient[v + j];
      if ((b < lowerEdge && grad > 0) || (b > upperEdge && grad < 0)) {
        zeroRowAndColumn(scaling, m, p, j);
      }
    }
    multiply(scaling, m, gradient, v, p, direction);
    let second = false;
    for (let j = 0; j < p; j++) {
      const b = beta[v + j];
      const d = direction[v + j];
      if ((b < lowerEdge && d > 0) || (b > upperEdge && d < 0)) {
        zeroRowAndColumn(scaling, m, p, j);
        second = true;
      }
    }
    if (second) multiply(scaling, m, gradient, v, p, direction);
    let dec = 0;
    for (let k = 0; k < p; k++) dec += gradient[v + k] * direction[v + k];
    decrement[g] = dec;
  }
}
