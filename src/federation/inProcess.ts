/**
 * In-process transport: every center lives in this process (a simulated federation).
 */
import type { FitCenterNode, StepInput, StepName, StepOutput } from "./steps.js";
import type { Transport } from "./transport.js";

/** Centers called directly, in federation (sorted name) order. */
export class InProcessTransport implements Transport {
  readonly centers: readonly string[];
  readonly #nodes: readonly FitCenterNode[];

  constructor(nodes: readonly FitCenterNode[]) {
    this.#nodes = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.centers = this.#nodes.map((n) => n.name);
  }

  async broadcast<K extends StepName>(step: K, input: StepInput<K>): Promise<StepOutput<K>[]> {
    return this.#nodes.map((node) => node.run(step, input));
  }

  async close(): Promise<void> {}
}
