/**
 * In-process transport: every center lives in this process (a simulated federation).
 */
import { InputError } from "../io/errors.js";
import { type CenterInfo, type CenterSession, centerInfo } from "./centerSession.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import { byName, CenterError, receivedReply, type Transport } from "./transport.js";

/** Centers called directly, in federation (sorted name) order. */
export class InProcessTransport implements Transport {
  readonly centers: readonly CenterInfo[];
  readonly #sessions: readonly CenterSession[];

  constructor(sessions: readonly CenterSession[]) {
    this.#sessions = byName(sessions);
    this.centers = this.#sessions.map((s) => centerInfo(s.data));
  }

  async request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    return this.#sessions.map((session, c) => {
      let output: StepOutput<K>;
      try {
        output = session.run(tag, step, inputs[c]);
      } catch (error) {
        if (error instanceof InputError) throw new CenterError(session.name, error.message, true);
        throw error;
      }
      return receivedReply(session.name, step, inputs[c], output);
    });
  }

  async close(): Promise<void> {}
}
