/**
 * A center's agent in a networked federation: it dials out to the aggregator (mutual TLS),
 * announces itself, answers step requests on its own data, and reconnects if the link drops,
 * until the aggregator says the run is over.
 */
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../../io/errors.js";
import type { CenterSession } from "../centerSession.js";
import { RecordShapeError } from "../records.js";
import { type RequestTag, STATE_STEPS } from "../steps.js";
import { type MessageRecord, messageRecord } from "../transcript.js";
import { FederationFailure } from "../transport.js";
import { decodeRequest, encodeErrorReply, encodeReply, ProtocolError } from "./codec.js";
import type { AggregatorMessage__Output } from "./generated/fedseq/v1/AggregatorMessage.js";
import type { CenterMessage } from "./generated/fedseq/v1/CenterMessage.js";
import type { StepReply } from "./generated/fedseq/v1/StepReply.js";
import {
  channelOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  fedseqProto,
  PROTOCOL_VERSION,
  type TlsFiles,
} from "./proto.js";

/** Options of {@link runCenterAgent}. */
export interface CenterAgentOptions {
  /** The aggregator's HOST:PORT. */
  readonly aggregator: string;
  readonly tls: TlsFiles;
  readonly session: CenterSession;
  /** Refuse to take part with fewer samples than this (disclosure control). */
  readonly minSamples: number;
  /** Delay between connection attempts. */
  readonly retryDelayMs: number;
  /** Give up when the aggregator cannot be reached for this long. */
  readonly giveUpAfterMs: number;
  readonly maxMessageBytes?: number;
  /**
   * Bytes of replies kept to answer repeated requests without recomputing them, e.g. every round
   * of an aggregator resumed after a crash, which asks again from the start (default 512 MiB;
   * the oldest are dropped first, and a dropped one is computed again, to the same bytes).
   */
  readonly replyCacheBytes?: number;
  /** Called with every message the center sends, as it sends it (`fedseq center --audit`). */
  readonly audit?: (record: MessageRecord) => void;
  readonly log: (line: string) => void;
}

/** Default of {@link CenterAgentOptions.replyCacheBytes}. */
export const DEFAULT_REPLY_CACHE_BYTES = 512 * 1024 * 1024;

/** Approximate size of a reply: its binary payloads and strings. */
function replyBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value === "string") return value.length;
  if (typeof value !== "object") return 8;
  let total = 0;
  for (const v of Object.values(value as Record<string, unknown>)) total += replyBytes(v);
  return total;
}

/** A reply as sent, and the output it encodes (for the audit log). */
interface CachedReply {
  readonly message: StepReply;
  readonly output: unknown;
}

/** The replies a center sent in this run, by request, oldest first, within a byte budget. */
class ReplyCache {
  readonly #entries = new Map<string, { reply: CachedReply; bytes: number }>();
  #bytes = 0;
  hits = 0;
  constructor(readonly budget: number) {}

  get(key: string): CachedReply | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.hits++;
    return entry?.reply;
  }

  set(key: string, reply: CachedReply): void {
    const bytes = replyBytes(reply);
    if (bytes > this.budget) return;
    this.#entries.set(key, { reply, bytes });
    this.#bytes += bytes;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.budget) break;
      this.#entries.delete(k);
      this.#bytes -= e.bytes;
    }
  }
}

/** How a center's participation ended. */
export interface AgentOutcome {
  /** True when the aggregator ended the run successfully. */
  readonly success: boolean;
  readonly message: string;
  /** True when this center refused to take part. */
  readonly refused: boolean;
}

type JoinStream = grpc.ClientDuplexStream<CenterMessage, AggregatorMessage__Output>;

/** Connect to the aggregator and serve step requests until the run ends. */
export async function runCenterAgent(options: CenterAgentOptions): Promise<AgentOutcome> {
  const { session, log } = options;
  const name = session.name;
  const samples = session.data.samples.length;
  const Federation = fedseqProto().fedseq.v1.Federation;
  const credentials = grpc.credentials.createSsl(options.tls.ca, options.tls.key, options.tls.cert);
  const client = new Federation(
    options.aggregator,
    credentials,
    channelOptions(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
  );
  let lastContact = Date.now();
  const replies = new ReplyCache(options.replyCacheBytes ?? DEFAULT_REPLY_CACHE_BYTES);
  let lastKey = "";
  try {
    for (;;) {
      const outcome = await joinOnce();
      if (outcome !== null) {
        if (replies.hits > 0)
          log(`center ${name}: answered ${replies.hits} repeated requests from its reply cache`);
        return outcome;
      }
      if (Date.now() - lastContact > options.giveUpAfterMs) {
        throw new FederationFailure(
          `center ${name}: could not reach the aggregator at ${options.aggregator} for ${options.giveUpAfterMs / 1000} s`,
        );
      }
      await new Promise((r) => setTimeout(r, options.retryDelayMs));
    }
  } finally {
    client.close();
  }

  /** One connection: resolves with the outcome when the run ends, null when the link dropped. */
  function joinOnce(): Promise<AgentOutcome | null> {
    return new Promise((resolve) => {
      const call: JoinStream = client.join();
      let settled = false;
      const settle = (value: AgentOutcome | null) => {
        if (!settled) {
          settled = true;
          resolve(value);
        }
      };
      if (samples < options.minSamples) {
        const reason = `it holds ${samples} samples, fewer than its minimum of ${options.minSamples} (--min-samples)`;
        log(`center ${name}: refusing to take part: ${reason}`);
        call.write({ refusal: { center: name, reason } });
        call.end();
        call.on("error", () => settle({ success: false, refused: true, message: reason }));
        call.on("end", () => settle({ success: false, refused: true, message: reason }));
        call.on("data", () => {});
        return;
      }
      call.write({
        hello: {
          protocol: PROTOCOL_VERSION,
          center: name,
          genes: [...session.data.genes],
          samples: [...session.data.samples],
          // The run whose state this center holds: a restarted center holds none, and the
          // aggregator then replays the requests that built it.
          preparedRun: session.heldRun ?? "",
        },
      });
      call.on("data", (message: AggregatorMessage__Output) => {
        lastContact = Date.now();
        if (message.body === "welcome") {
          log(`center ${name}: joined run ${message.welcome?.runId}`);
        } else if (message.body === "shutdown") {
          const success = message.shutdown?.success ?? false;
          const text = message.shutdown?.message ?? "";
          log(
            `center ${name}: the aggregator ended the run${success ? "" : " with an error"}: ${text}`,
          );
          call.end();
          settle({ success, refused: false, message: text });
        } else if (message.body === "request" && message.request) {
          answer(call, message);
        } else {
          log(`center ${name}: ignored an unexpected message (${String(message.body)})`);
        }
      });
      call.on("error", (error: grpc.ServiceError) => {
        if (
          error.code === grpc.status.PERMISSION_DENIED ||
          error.code === grpc.status.FAILED_PRECONDITION
        ) {
          log(`center ${name}: the aggregator refused this center: ${error.details}`);
          settle({ success: false, refused: false, message: error.details });
          return;
        }
        log(
          `center ${name}: connection to ${options.aggregator} lost or refused (${error.details || error.message}); retrying`,
        );
        settle(null);
      });
      call.on("end", () => settle(null));
    });
  }

  function answer(call: JoinStream, message: AggregatorMessage__Output): void {
    let tag: RequestTag = { runId: "", phase: "", round: 0 };
    try {
      const request = decodeRequest(message.request as NonNullable<typeof message.request>);
      tag = request.tag;
      const key = `${tag.runId}\u0000${tag.phase}\u0000${tag.round}\u0000${request.step}`;
      // A step that builds the center's state is always run again, so that a replay in the
      // original order leaves the state as it was; only the others are answered from the cache.
      // The request answered last is computed again too: it is repeated when its reply was lost
      // or rejected (e.g. malformed or oversized), not when a resumed aggregator replays history.
      const cacheable = !STATE_STEPS.has(request.step);
      let reply = cacheable && key !== lastKey ? replies.get(key) : undefined;
      lastKey = key;
      if (reply === undefined) {
        const output = session.run(request.tag, request.step, request.input as never);
        reply = { message: encodeReply(request.tag, request.step, output as never), output };
        if (cacheable) replies.set(key, reply);
      }
      options.audit?.(messageRecord(name, request.step, tag, reply.output));
      call.write({ reply: reply.message });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (error instanceof ProtocolError || error instanceof RecordShapeError)
        log(`center ${name}: rejected a malformed request: ${text}`);
      else log(`center ${name}: step failed: ${text}`);
      call.write({ reply: encodeErrorReply(tag, text, error instanceof InputError) });
    }
  }
}
