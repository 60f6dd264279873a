/**
 * How the aggregator combines the summed fields of the centers' replies (registry reduction
 * "sum"): the correctly rounded exact sum over centers ({@link exactSum}), whatever the
 * centers' order and whether the replies came in clear or masked. Under secure aggregation the
 * layer decodes the masked ring sums to this same double (secureAggregation/layer.ts); in clear
 * the runner pools the shares here. Both hand the algorithms the pooled value in the first
 * center's share and zeros in the others', so the algorithms' own sum over shares
 * (`sumOverCenters`) gives it back exactly, and a run gives the same doubles with and without
 * secure aggregation.
 */
import { sharedPooledZeroVector } from "../algorithms/shares.js";
import { exactSum, exactSumAcross } from "../math/exactSum.js";
import type { FieldKind } from "./records.js";
import { type Reduction, STEPS } from "./registry.js";
import type { StepName, StepOutput } from "./steps.js";

const summedCache = new Map<StepName, readonly string[]>();

/** The reply fields of `step` that the aggregator sums over centers. */
export function summedFields(step: StepName): readonly string[] {
  const cached = summedCache.get(step);
  if (cached !== undefined) return cached;
  const reductions = STEPS[step].reductions as Record<string, Reduction>;
  const names = Object.entries(reductions)
    .filter(([, reduction]) => reduction === "sum")
    .map(([name]) => name);
  summedCache.set(step, names);
  return names;
}

/**
 * The shares with every summed field pooled: the first share holds the correctly rounded exact
 * sum over centers, the others zeros; every other field as the center sent it. The shares given
 * are not changed.
 * @throws Error when the centers' vectors of a summed field differ in length
 */
export function poolSums<K extends StepName>(
  step: K,
  shares: readonly StepOutput<K>[],
): StepOutput<K>[] {
  const fields = summedFields(step);
  const out = shares.map((s) => ({ ...s }) as Record<string, unknown>);
  if (fields.length === 0 || shares.length < 2) return out as unknown as StepOutput<K>[];
  const centers = shares.length;
  for (const name of fields) {
    const first = (shares[0] as unknown as Record<string, unknown>)[name];
    if (typeof first === "number") {
      const values = new Float64Array(centers);
      for (let c = 0; c < centers; c++) {
        values[c] = (shares[c] as unknown as Record<string, number>)[name];
      }
      out[0][name] = exactSum(values);
      for (let c = 1; c < centers; c++) out[c][name] = 0;
      continue;
    }
    const vectors = shares.map((s) => (s as unknown as Record<string, Float64Array>)[name]);
    const length = vectors[0].length;
    for (let c = 1; c < centers; c++) {
      if (vectors[c].length !== length) {
        throw new Error(
          `share ${c}: ${step}.${name} has ${vectors[c].length} values, expected ${length}`,
        );
      }
    }
    out[0][name] =
      replyFieldKind(step, name) === "counts" ? wholeSumAcross(vectors) : exactSumAcross(vectors);
    for (let c = 1; c < centers; c++) out[c][name] = sharedPooledZeroVector(length);
  }
  return out as unknown as StepOutput<K>[];
}

/** The kind the registry declares for a field of `step`'s reply. */
function replyFieldKind(step: StepName, name: string): FieldKind {
  return (STEPS[step].reply.fields as Record<string, FieldKind>)[name];
}

/**
 * Element-wise sums of `counts` fields: whole numbers 0 … 2³²−1 (every received reply is checked
 * against its schema), so that each partial sum over fewer than 2²¹ centers is a whole number
 * below 2⁵³, exact in a double: the plain sum is the exact sum {@link exactSumAcross} would give.
 */
function wholeSumAcross(vectors: readonly Float64Array[]): Float64Array {
  const out = Float64Array.from(vectors[0]);
  for (let c = 1; c < vectors.length; c++) {
    const v = vectors[c];
    for (let i = 0; i < out.length; i++) out[i] += v[i];
  }
  return out;
}
