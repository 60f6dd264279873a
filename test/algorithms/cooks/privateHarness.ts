/**
 * In-process driver of the private (k-sample) Cook's steps: the centers are simulated by
 * calling the pure local steps, and shares are SUMMED before the aggregator sees them (what
 * secure aggregation delivers). Every message is recorded for the tests that check what
 * travels.
 */
import type { CooksCenter } from "../../../src/algorithms/cooks/center.js";
import {
  type PrivateSumRequest,
  type PrivateSumShare,
  type PrivateTrimEstimates,
  type PrivateTrimSearch,
  privateSumLocalStep,
  privateSumRequest,
  privateTrimAggregateStep,
  privateTrimEstimates,
  privateTrimLocalStep,
  privateTrimRequest,
} from "../../../src/algorithms/cooks/privateTrimmedMean.js";

/** A recorded message. */
export interface Recorded {
  readonly kind: string;
  readonly value: object;
}

/** Element-wise sum of the shares' typed-array fields (secure aggregation's output). */
export function pooledShare<T extends { kind: string }>(shares: readonly T[]): T {
  const out: Record<string, unknown> = { kind: shares[0].kind };
  for (const [field, x] of Object.entries(shares[0] as Record<string, unknown>)) {
    if (!(x instanceof Float64Array)) continue;
    const sum = new Float64Array(x.length);
    for (const share of shares) {
      const y = (share as Record<string, unknown>)[field] as Float64Array;
      for (let i = 0; i < sum.length; i++) sum[i] += y[i];
    }
    out[field] = sum;
  }
  return out as T;
}

/** Result of a private search run. */
export interface PrivateRun {
  readonly countRounds: number;
  readonly sumRequest: PrivateSumRequest;
  readonly estimates: PrivateTrimEstimates;
}

/**
 * Run a private search to its end: counts rounds, then (unless `sums` is false) the sums
 * round; the aggregator receives the pooled share only.
 */
export function runPrivateSearch(
  centers: readonly CooksCenter[],
  search: PrivateTrimSearch,
  messages?: Recorded[],
  sums = true,
): PrivateRun {
  for (;;) {
    const request = privateTrimRequest(search);
    messages?.push({ kind: request.kind, value: request });
    const shares = centers.map((c) => privateTrimLocalStep(c, request));
    for (const share of shares) messages?.push({ kind: share.kind, value: share });
    if (privateTrimAggregateStep(search, [pooledShare(shares)])) break;
  }
  const sumRequest = privateSumRequest(search);
  let shares: PrivateSumShare[] | undefined;
  if (sums) {
    messages?.push({ kind: sumRequest.kind, value: sumRequest });
    shares = centers.map((c) => privateSumLocalStep(c, sumRequest));
    for (const share of shares) messages?.push({ kind: share.kind, value: share });
  }
  const estimates = privateTrimEstimates(
    search,
    sums ? sumRequest : undefined,
    shares === undefined ? undefined : [pooledShare(shares)],
  );
  return { countRounds: search.rounds, sumRequest, estimates };
}
