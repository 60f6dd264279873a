/**
 * Comparing β's by the objective they reach, for genes where β itself is not reproducible.
 */
import type { FitCenter } from "../../src/algorithms/center.js";

/**
 * objective(βa) − objective(βb) per gene, computed without cancellation: the ln Γ terms drop
 * out, ln μa − ln μb = x·(βa − βb), and ln(r+μa) − ln(r+μb) = log1p((μa − μb)/(r + μb)) with
 * μa − μb = μb·expm1(x·(βa − βb)). Needed for genes with 1e9 counts, whose NLL terms are ~1e11.
 */
export function regularisedNllDifference(
  centers: FitCenter[],
  betaA: Float64Array,
  betaB: Float64Array,
): Float64Array {
  const { p, genes } = centers[0].main.data;
  const out = new Float64Array(genes);
  for (const c of centers) {
    const { n, design, sizeFactors, counts, dispersions } = c.main.data;
    for (let g = 0; g < genes; g++) {
      const r = 1 / dispersions[g];
      for (let i = 0; i < n; i++) {
        let xb = 0;
        let xd = 0;
        for (let k = 0; k < p; k++) {
          xb += design[i * p + k] * betaB[g * p + k];
          xd += design[i * p + k] * (betaA[g * p + k] - betaB[g * p + k]);
        }
        const muB = sizeFactors[i] * Math.exp(xb);
        const y = counts[g * n + i];
        out[g] += (y + r) * Math.log1p((muB * Math.expm1(xd)) / (r + muB)) - y * xd;
      }
    }
  }
  for (let g = 0; g < genes; g++) {
    let d = 0;
    for (let k = 0; k < p; k++) {
      const a = betaA[g * p + k];
      const b = betaB[g * p + k];
      d += (a - b) * (a + b);
    }
    out[g] += 0.5 * 1e-6 * d;
  }
  return out;
}
