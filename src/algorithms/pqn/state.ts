/**
 * Shared states and local shares of the federated proximal quasi-Newton (PQN) solver.
 *
 * Everything here is plain data (typed arrays, numbers, booleans): it can be cloned,
 * serialised and sent across a process or network boundary. Per-gene arrays run over the
 * G non-zero genes of the fit; arrays "on mask" run over the A genes set in `mask`, in
 * increasing gene order.
 */
import type { GeneMask } from "../masks.js";

/** What the aggregator sends to every center before a PQN round (upstream's PQN shared state). */
export interface PqnRoundState {
  readonly kind: "pqn-round";
  /** Round number t (0 … pqnNumIters). */
  readonly round: number;
  /** Run on the centers' refit datasets (outlier-replaced counts) instead of the main ones. */
  readonly refit: boolean;
  /** Current coefficients, G×p (natural log). */
  readonly beta: Float64Array;
  /** Genes still iterating. */
  readonly mask: GeneMask;
  /** Genes that failed the line search (or ran out of rounds). */
  readonly divergedMask: GeneMask;
  /** Carried through for the caller: genes IRLS did not finish (irls_catch) or upstream's input. */
  readonly irlsDivergedMask: GeneMask;
  /** Regularised NLL at `beta`, G (NaN for genes never evaluated). */
  readonly regNll: Float64Array;
  /** Ascent direction on mask, A×p (null at round 0). */
  readonly direction: Float64Array | null;
  /** Newton decrement gᵀd on mask, A (null at round 0). */
  readonly decrement: Float64Array | null;
}

/** What one center returns for a PQN round: its sums over its own samples, nothing per sample. */
export interface PqnLocalShare {
  readonly kind: "pqn-share";
  /** The round this share answers. */
  readonly round: number;
  /** Number of evaluation points per gene S (1 at round 0, the line-search length after). */
  readonly steps: number;
  /** Un-regularised NLL at each point, S×A. */
  readonly nll: Float64Array;
  /** Gradient at each point, S×A×p. */
  readonly gradient: Float64Array;
  /** Fisher information at each point, S×A×p×p. */
  readonly fisher: Float64Array;
}

/** The aggregator's output after the last PQN round. */
export interface PqnFinalState {
  readonly kind: "pqn-final";
  /** Final coefficients, G×p. */
  readonly beta: Float64Array;
  /** Genes flagged during the run or still iterating when rounds ran out. */
  readonly divergedMask: GeneMask;
  /** As carried by the round states. */
  readonly irlsDivergedMask: GeneMask;
}
