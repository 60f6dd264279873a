/**
 * In-process transport: every center lives in this process (a simulated federation).
 */
import { InputError } from "../io/errors.js";
import { type CenterSession, centerInfo } from "./centerSession.js";
import { secureReplyBytes } from "./grpc/wireBytes.js";
import { SecureAggregationError } from "./secureAggregation/errors.js";
import {
  agreeKeys,
  type ProtectedReply,
  SecureAggregator,
  SecureCenter,
} from "./secureAggregation/layer.js";
import { simulationPki } from "./secureAggregation/simulationCertificates.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import {
  byName,
  CenterError,
  type CenterInfo,
  receivedReply,
  type Transport,
  type TransportOptions,
} from "./transport.js";

/** Centers called directly, in federation (sorted name) order. */
export class InProcessTransport implements Transport {
  readonly centers: readonly CenterInfo[];
  readonly secure: SecureAggregator | null;
  readonly #sessions: readonly CenterSession[];
  /** Each center's side of secure aggregation (null: replies in clear). */
  readonly #secureCenters: readonly SecureCenter[] | null;
  #agreedRun: string | null = null;
  /** Whether a center verifies requests: each request then carries the previous replies. */
  readonly relaysReplies: boolean;

  /**
   * @param options - `secureAggregation`: mask the summed fields (default false here; the CLI's
   *   simulations turn it on), with a throwaway CA and center certificates made in memory
   */
  constructor(sessions: readonly CenterSession[], options: TransportOptions = {}) {
    this.#sessions = byName(sessions);
    this.centers = this.#sessions.map((s) => centerInfo(s.data));
    if (options.secureAggregation === true) {
      const names = this.#sessions.map((s) => s.name);
      const pki = simulationPki(names);
      this.secure = new SecureAggregator(names);
      this.#secureCenters = names.map((n) => new SecureCenter(n, pki.centers[n], pki.trust));
    } else {
      this.secure = null;
      this.#secureCenters = null;
    }
    this.relaysReplies = this.secure !== null && this.#sessions.some((s) => s.verifiesRequests);
  }

  async #agree(runId: string): Promise<void> {
    const centers = this.#secureCenters;
    if (centers === null || this.#agreedRun === runId) return;
    const names = this.#sessions.map((s) => s.name);
    await agreeKeys(runId, names, {
      announce: async (c, run, list) => (centers[c] as SecureCenter).announce(run, list),
      relay: async (c, run, announcements) => {
        try {
          (centers[c] as SecureCenter).agree(run, announcements);
        } catch (error) {
          throw new CenterError(names[c], `refused the run: ${(error as Error).message}`, false);
        }
      },
    });
    this.#agreedRun = runId;
  }

  async request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    // The centers compute synchronously in this thread: one macrotask per round lets the process
    // handle its events between rounds (signals, progress output, a test runner's messages)
    // instead of blocking for a whole run.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.#agree(tag.runId);
    const secureCenters = this.#secureCenters;
    // The replies of the last request, relayed for the centers that verify requests.
    const evidence = this.relaysReplies ? (this.secure?.evidence(tag.runId) ?? null) : null;
    const sent: unknown[] = [];
    for (const [c, session] of this.#sessions.entries()) {
      try {
        const secure = secureCenters === null ? null : (secureCenters[c] as SecureCenter);
        await session.admit(tag, step, inputs[c], evidence, secure);
        const output = session.run(tag, step, inputs[c]);
        sent.push(
          secure === null
            ? output
            : secure.protect(
                tag,
                step,
                inputs[c],
                output,
                session.sharedRequestDigest(tag, step, inputs[c]),
              ),
        );
      } catch (error) {
        if (error instanceof InputError) throw new CenterError(session.name, error.message, true);
        if (error instanceof SecureAggregationError)
          throw new CenterError(session.name, error.message, false);
        throw error;
      }
    }
    const outputs =
      this.secure === null
        ? (sent as StepOutput<K>[])
        : this.secure.open(tag, step, inputs, sent as ProtectedReply[], (r) =>
            secureReplyBytes(tag, step, r),
          );
    return outputs.map((output, c) =>
      receivedReply(this.#sessions[c].name, step, inputs[c], output),
    );
  }

  async close(): Promise<void> {}
}
