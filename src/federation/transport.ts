/**
 * How the aggregator reaches the centers. Implementations: in-process (simulation), worker
 * threads (one per center) and gRPC (centers dial out over mutual TLS); the runner and the
 * algorithms do not know which one runs.
 */
import { RecordShapeError } from "./records.js";
import { checkReply } from "./registry.js";
import type { SecureAggregator } from "./secureAggregation/layer.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";

/** A center as the aggregator knows it: the public identity of its data. */
export interface CenterInfo {
  readonly name: string;
  /** Sample ids (identifiers only). */
  readonly samples: readonly string[];
  /** Gene ids, in the center's row order. */
  readonly genes: readonly string[];
}

/** A channel from the aggregator to every center of a federation. */
export interface Transport {
  /** The centers, in federation order (sorted by name): the order of the shares returned. */
  readonly centers: readonly CenterInfo[];
  /**
   * Send `inputs[c]` to center c, run `step` there, and return the centers' shares in order.
   * @throws CenterError when a center fails the step (its message says why)
   */
  request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]>;
  /** Release the transport's resources (tell the centers the run is over). */
  close(reason?: { success: boolean; message: string }): Promise<void>;
  /**
   * The secure-aggregation layer the transport unmasks replies with (null or absent: replies
   * travel in clear). Its listeners see every center's reply as received (masked).
   */
  readonly secure?: SecureAggregator | null;
  /**
   * Whether each request carries the other centers' replies to the previous one, for centers
   * that verify requests (verifiedRequests.ts): the runner counts those bytes too.
   */
  readonly relaysReplies?: boolean;
}

/** Options every transport takes. */
export interface TransportOptions {
  /**
   * Secure aggregation (secureAggregation/layer.ts): the centers mask every summed field and the
   * aggregator only sees sums over centers. Off unless asked for here; the CLI turns it on.
   */
  readonly secureAggregation?: boolean;
}

/**
 * Text from another party (a center's error or refusal, an aggregator's shutdown message) as one
 * printable line: control characters (line breaks, terminal escapes) become spaces, so that it
 * cannot add lines of its own to this side's output or drive its terminal.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
}

/** A step failed at a center. `userError` marks a mistake in the center's input data. */
export class CenterError extends Error {
  readonly center: string;
  readonly userError: boolean;
  constructor(center: string, message: string, userError: boolean) {
    message = oneLine(message);
    super(message.startsWith(`center ${center}`) ? message : `center ${center}: ${message}`);
    this.name = "CenterError";
    this.center = center;
    this.userError = userError;
  }
}

/**
 * A center's reply as a transport delivers it: checked against the step's declaration
 * (registry.ts's `checkReply`, the one validation of replies for every transport).
 * @throws CenterError naming the center when the reply does not fit
 */
export function receivedReply<K extends StepName>(
  center: string,
  step: K,
  input: StepInput<K>,
  output: unknown,
): StepOutput<K> {
  try {
    return checkReply(step, input, output);
  } catch (error) {
    if (error instanceof RecordShapeError)
      throw new CenterError(center, `malformed reply: ${error.message}`, false);
    throw error;
  }
}

/** Order centers by name (the federation order). */
export function byName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The federation itself failed (a center lost for good, a peer unreachable, a refusal). */
export class FederationFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FederationFailure";
  }
}
