/**
 * How the aggregator reaches the centers. Implementations: in-process (simulation), and later
 * worker threads and the network; the runner and the algorithms do not know which one runs.
 */
import type { StepInput, StepName, StepOutput } from "./steps.js";

/** A channel from the aggregator to every center of a federation. */
export interface Transport {
  /** Center names in federation order (sorted), the order of the shares returned. */
  readonly centers: readonly string[];
  /** Send `input` to every center, run `step` there, and return their shares in center order. */
  broadcast<K extends StepName>(step: K, input: StepInput<K>): Promise<StepOutput<K>[]>;
  /** Release the transport's resources. */
  close(): Promise<void>;
}
