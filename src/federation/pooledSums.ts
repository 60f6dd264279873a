/**
 * How the aggregator combines the summed fields of the centers' replies (registry reduction
 * "sum"): the correctly rounded exact sum over centers ({@link exactSum}), whatever the
 * centers' order and whether the replies came in clear or masked (values finer than a split
 * field's finest scale, which the fixed point rounds, taken as it holds them: `carryFiner`).
 * Under secure aggregation the layer decodes the masked ring sums to this same double (secureAggregation/layer.ts); in clear
 * the runner pools the shares here. Both hand the algorithms the pooled value in the first
 * center's share and zeros in the others', so the algorithms' own sum over shares
 * (`sumOverCenters`) gives it back exactly, and a run gives the same doubles with and without
 * secure aggregation.
 */
import { sharedPooledZeroVector } from "../algorithms/shares.js";
import { exactSum, exactSumAcross } from "../math/exactSum.js";
import type { FieldKind } from "./records.js";
import { type Reduction, STEPS } from "./registry.js";
import {
  decodeSplit,
  encodeSplitFixed,
  RING_WORDS,
  ringAdd,
  ringVector,
} from "./secureAggregation/fixedPoint.js";
import { fineName, securedFields } from "./secureAggregation/layer.js";
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
      const total = Float64Array.of(exactSum(values));
      carryFiner(
        step,
        name,
        Array.from(values, (x) => Float64Array.of(x)),
        total,
      );
      out[0][name] = total[0];
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
    if (replyFieldKind(step, name) === "counts") {
      out[0][name] = wholeSumAcross(vectors);
    } else {
      const total = exactSumAcross(vectors);
      carryFiner(step, name, vectors, total);
      out[0][name] = total;
    }
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

/** A split field's scale exponents under secure aggregation: coarse e, fine f (f > e). */
interface SplitScales {
  readonly e: number;
  readonly f: number;
  /** 2^f: a value is carried exactly when its product with this is a whole number. */
  readonly finest: number;
}

/** Each split field's scales under secure aggregation (securedFields), by step and name. */
const splitScales = new Map<StepName, ReadonlyMap<string, SplitScales>>();

function scalesOf(step: StepName): ReadonlyMap<string, SplitScales> {
  let scales = splitScales.get(step);
  if (scales === undefined) {
    scales = new Map(
      securedFields(step).flatMap((field) =>
        field.fineExponent === null
          ? []
          : [
              [
                field.name,
                {
                  e: field.scaleExponent,
                  f: field.fineExponent,
                  finest: 2 ** field.fineExponent,
                },
              ] as const,
            ],
      ),
    );
    splitScales.set(step, scales);
  }
  return scales;
}

/**
 * `total` (the exact sums over centers of a summed field's `vectors`) where some center's value
 * is finer than the field's finest scale 2^-f under secure aggregation (a nonzero double below
 * what the split encoding carries, e.g. the NLL 5.6e-87 of a center whose counts of a gene are
 * all 0): there, the values as the split encoding holds them, summed and decoded by the same
 * functions, so that a run gives the same doubles with and without secure aggregation (the
 * exact sum once differed from the decoded one in the last bit: a tie between the other centers'
 * values that the tiny one broke, and one gene's fit by 2e-11). Such values are rare (none in a
 * bodymap run): one tight pass per center finds them.
 */
function carryFiner(
  step: StepName,
  name: string,
  vectors: readonly Float64Array[],
  total: Float64Array,
): void {
  const scales = scalesOf(step).get(name);
  if (scales === undefined) return;
  const finer = new Set<number>();
  for (const v of vectors) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== 0 && x - x === 0 && !Number.isInteger(x * scales.finest)) finer.add(i);
    }
  }
  for (const i of finer) total[i] = asCarried(scales, name, vectors, total[i], i);
}

/** Element `i`'s pooled value as secure aggregation decodes it (`sum`: the exact sum). */
function asCarried(
  scales: SplitScales,
  name: string,
  vectors: readonly Float64Array[],
  sum: number,
  i: number,
): number {
  const values = Float64Array.from(vectors, (v) => v[i]);
  // Non-finite values are pooled apart under secure aggregation too (their counts).
  if (values.some((x) => x - x !== 0)) return sum;
  let parts: { coarse: Uint32Array; fine: Uint32Array };
  try {
    parts = encodeSplitFixed(values, scales.e, scales.f, values.length, name, fineName(name));
  } catch {
    // A value beyond the field's bound, which secure aggregation refuses: in clear, the exact sum.
    return sum;
  }
  const { coarse, fine } = parts;
  const coarseSum = ringVector(1);
  const fineSum = ringVector(1);
  for (let c = 0; c < values.length; c++) {
    ringAdd(coarseSum, coarse.subarray(c * RING_WORDS, (c + 1) * RING_WORDS));
    ringAdd(fineSum, fine.subarray(c * RING_WORDS, (c + 1) * RING_WORDS));
  }
  return decodeSplit(coarseSum, scales.e, fineSum, scales.f)[0];
}
