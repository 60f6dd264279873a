/**
 * In-process transport: every center lives in this process (a simulated federation).
 *
 * The centers take their turns on this thread. With secure aggregation and a mask thread
 * (`maskThread`), each center's reply is masked there (its large vectors: split fields, packed
 * and non-finite counts) while this thread runs the next center's step; the replies are
 * finished (fingerprinted, authenticated) once every center has run: the same bytes as masking
 * each at once.
 */
import { InputError } from "../io/errors.js";
import { type CenterSession, centerInfo } from "./centerSession.js";
import { secureReplyBytes } from "./grpc/wireBytes.js";
import { SecureAggregationError } from "./secureAggregation/errors.js";
import {
  agreeKeys,
  type ProtectedReply,
  relayedTo,
  SecureAggregator,
  SecureCenter,
} from "./secureAggregation/layer.js";
import { inlineMasker, type Masker, MaskThread } from "./secureAggregation/maskThread.js";
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

/** {@link InProcessTransport}'s options. */
export interface InProcessOptions extends TransportOptions {
  /**
   * Mask the centers' replies on a thread of their own (maskThread.ts), overlapping the next
   * center's step: true for a {@link MaskThread} with its defaults, or the one to use (closed
   * with the transport); default false: on this thread, at once. Only with secure aggregation.
   */
  readonly maskThread?: boolean | MaskThread;
}

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
  /** Where the centers' replies are masked. */
  readonly #masker: Masker;

  /**
   * @param options - `secureAggregation`: mask the summed fields (default false here; the CLI's
   *   simulations turn it on), with a throwaway CA and center certificates made in memory
   */
  constructor(sessions: readonly CenterSession[], options: InProcessOptions = {}) {
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
    this.#masker =
      this.secure === null || options.maskThread === undefined || options.maskThread === false
        ? inlineMasker
        : options.maskThread === true
          ? new MaskThread()
          : options.maskThread;
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
    // Each center's reply, taken once every center has run.
    const replies: (() => unknown)[] = [];
    for (const [c, session] of this.#sessions.entries()) {
      try {
        const secure = secureCenters === null ? null : (secureCenters[c] as SecureCenter);
        await session.admit(
          tag,
          step,
          inputs[c],
          evidence === null ? null : relayedTo(evidence, c),
          secure,
        );
        const output = session.run(tag, step, inputs[c]);
        replies.push(
          secure === null
            ? () => output
            : secure.beginProtect(
                tag,
                step,
                output,
                session.sharedRequestDigest(tag, step, inputs[c]),
                this.#masker,
              ).finish,
        );
      } catch (error) {
        throw centerError(session.name, error);
      }
    }
    const sent = replies.map((take, c) => {
      try {
        return take();
      } catch (error) {
        throw centerError(this.#sessions[c].name, error);
      }
    });
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

  async close(): Promise<void> {
    if (this.#masker instanceof MaskThread) await this.#masker.close();
  }
}

/** A center's failure as the transport reports it: its name, and whose mistake it was. */
function centerError(center: string, error: unknown): unknown {
  if (error instanceof InputError) return new CenterError(center, error.message, true);
  if (error instanceof SecureAggregationError) return new CenterError(center, error.message, false);
  return error;
}
