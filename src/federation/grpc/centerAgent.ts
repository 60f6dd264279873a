/**
 * A center's agent in a networked federation: it dials out to the aggregator (mutual TLS),
 * announces itself, answers step requests on its own data, and reconnects if the link drops,
 * until the aggregator says the run is over.
 */
import * as grpc from "@grpc/grpc-js";
import { InputError } from "../../io/errors.js";
import type { CenterSession } from "../centerSession.js";
import { RecordShapeError } from "../records.js";
import { PlanRefusal, sharedRefusal } from "../requestPolicy.js";
import { KeySubstitutionError } from "../secureAggregation/errors.js";
import { SecureCenter } from "../secureAggregation/layer.js";
import { type RequestTag, STATE_STEPS } from "../steps.js";
import { type MessageRecord, messageRecord, protectedRecord } from "../transcript.js";
import { FederationFailure, oneLine } from "../transport.js";
import { permanentCertificateProblem } from "./aggregatorCertificate.js";
import {
  decodeAnnouncement,
  decodeRequest,
  encodeAnnouncement,
  encodeErrorReply,
  encodeProtectedReply,
  encodeReply,
  ProtocolError,
} from "./codec.js";
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

/**
 * A message as a center tells it to the federation: every absolute file path reduced to its file
 * name (`/srv/hospital/rnaseq/metadata.csv: line 4 …` → `metadata.csv: line 4 …`), so that a
 * center's errors do not describe its file system to the aggregator and the other centers. (A
 * folder name with a space ends a path early: only what follows its last space is kept.)
 */
export function withoutDirectories(message: string): string {
  return message.replace(
    /(?<![\w.])(?:[A-Za-z]:)?[\\/](?:[^\s"'`:,;()[\]\\/]+[\\/])+([^\s"'`:,;()[\]\\/]+)/g,
    "$1",
  );
}

/**
 * Options of {@link runCenterAgent}: the center's session, or, for a center whose data could not
 * be loaded, its name and the refusal it tells the aggregator (so that the run ends at once,
 * naming it, instead of waiting out the aggregator's --join-timeout).
 */
export type CenterAgentOptions = CenterAgentSettings &
  (
    | {
        readonly session: CenterSession;
        /**
         * Refuse to take part for this reason (e.g. the center's data does not meet its analysis
         * plan): told to the aggregator before the first round, in this center's name, dialled
         * again until delivered (or --give-up-after). The caller logs why (this text is what the
         * federation reads, which may leave out the center's data).
         */
        readonly refusal?: string;
      }
    | {
        /**
         * No session: the center's data could not be loaded, and it only refuses, in one
         * attempt (the aggregator not reached, it gives up at once).
         */
        readonly session: null;
        readonly name: string;
        readonly refusal: string;
      }
  );

/** {@link CenterAgentOptions} but the center itself. */
export interface CenterAgentSettings {
  /** The aggregator's HOST:PORT. */
  readonly aggregator: string;
  readonly tls: TlsFiles;
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
  /**
   * Refuse to take part unless the aggregator runs secure aggregation (`fedseq center
   * --require-secure-aggregation`). Otherwise the center follows what the aggregator's welcome
   * says, and logs a warning when its replies travel in clear.
   */
  readonly requireSecureAggregation?: boolean;
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
  /** The encoded reply (null under secure aggregation: masked when sent). */
  readonly message: StepReply | null;
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
  /**
   * With `refused`: why the aggregator did not take the refusal (not its run's center, a
   * certificate in another name, the run already started), as it answered; absent when it did.
   */
  readonly refusalNotTaken?: string;
}

type JoinStream = grpc.ClientDuplexStream<CenterMessage, AggregatorMessage__Output>;

/** Connect to the aggregator and serve step requests until the run ends. */
export async function runCenterAgent(options: CenterAgentOptions): Promise<AgentOutcome> {
  const { session, log } = options;
  const name = session === null ? options.name : session.name;
  const samples = session === null ? 0 : session.data.samples.length;
  /** The session answering requests (a center without one refuses before any). */
  const served = (): CenterSession => {
    if (session === null) throw new Error(`center ${name}: no session to serve (it refuses)`);
    return session;
  };
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
  // Secure aggregation: this center's ephemeral keys are signed with its TLS client key and its
  // peers' checked against the federation CA. Its secrets live in memory only, for the run.
  const secure = new SecureCenter(
    name,
    { certificate: options.tls.cert.toString("utf8"), key: options.tls.key.toString("utf8") },
    { ca: options.tls.ca.toString("utf8") },
  );
  /** The run the aggregator welcomed this center to, and whether it masks. */
  let welcomed: { runId: string; secure: boolean } | null = null;
  /** The requests being answered, in the order they came. */
  let answering: Promise<void> = Promise.resolve();
  /** Whether this center has said it refuses (logged once, however many dials it takes). */
  let refusing = false;
  /** Why the last connection failed or dropped (gRPC's error), if it did with an error. */
  let dropped: grpc.ServiceError | null = null;
  try {
    for (;;) {
      dropped = null;
      const outcome = await joinOnce();
      if (outcome !== null) {
        if (replies.hits > 0)
          log(`center ${name}: answered ${replies.hits} repeated requests from its reply cache`);
        return outcome;
      }
      // UNAVAILABLE is both "the aggregator is not up yet" (retried) and a TLS certificate no
      // retry can make valid (a name mismatch, another CA, expired): tell them apart by a
      // handshake of this center's own, and stop at once on the second.
      // (Set by joinOnce's handlers, which TypeScript's narrowing does not see.)
      const failed = dropped as grpc.ServiceError | null;
      if (failed?.code === grpc.status.UNAVAILABLE) {
        const problem = await permanentCertificateProblem(
          options.aggregator,
          options.tls,
          Math.min(Math.max(options.retryDelayMs, 5000), 30_000),
        );
        if (problem !== null) throw new FederationFailure(`center ${name}: ${problem}`);
      }
      if (failed !== null && session !== null && !refusing) {
        log(
          `center ${name}: connection to ${options.aggregator} lost or refused (${failed.details || failed.message}); retrying`,
        );
      }
      // A center without a session (its data could not be read) dials once: its own error is
      // what its operator needs at once, not a wait for an aggregator that is not there.
      if (session === null) {
        throw new FederationFailure(
          `center ${name}: the aggregator at ${options.aggregator} was not reached to be told`,
        );
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
      // Until the aggregator's first message, the connection may hang in its TCP or TLS
      // handshake (a firewall that accepts and drops, a stopped aggregator process): gRPC sets
      // no deadline there, so this attempt is cancelled when the time left before giving up
      // has passed (then the loop above gives up, naming the aggregator's address).
      // A center without a session dials once and waits no longer than between two attempts.
      const patience =
        session === null
          ? options.retryDelayMs
          : Math.max(options.retryDelayMs, options.giveUpAfterMs - (Date.now() - lastContact));
      const handshake = setTimeout(() => {
        log(`center ${name}: no answer from ${options.aggregator} within ${patience / 1000} s`);
        call.cancel();
      }, patience);
      const settle = (value: AgentOutcome | null) => {
        clearTimeout(handshake);
        if (!settled) {
          settled = true;
          resolve(value);
        }
      };
      const reason =
        options.refusal ??
        (samples < options.minSamples
          ? `it holds ${samples} samples, fewer than its minimum of ${options.minSamples} (--min-samples)`
          : undefined);
      if (reason !== undefined) {
        if (!refusing && options.refusal === undefined)
          log(`center ${name}: refusing to take part: ${reason}`);
        refusing = true;
        call.write({ refusal: { center: name, reason: withoutDirectories(reason) } });
        call.end();
        const refused = { success: false, refused: true, message: reason };
        // An aggregator not listening yet is dialled again, as a center that takes part would
        // (until --give-up-after): the refusal is what ends its wait for this center.
        call.on("error", (error: grpc.ServiceError) => {
          if (error.code === grpc.status.UNAVAILABLE) dropped = error;
          // Any other error is the aggregator's answer: it did not take the refusal.
          settle(
            error.code === grpc.status.UNAVAILABLE
              ? null
              : { ...refused, refusalNotTaken: oneLine(error.details || error.message) },
          );
        });
        call.on("end", () => settle(refused));
        call.on("data", () => {});
        return;
      }
      call.write({
        hello: {
          protocol: PROTOCOL_VERSION,
          center: name,
          genes: [...served().data.genes],
          // Its own ids only where the aggregator needs them (CenterSession.sharesSampleIds).
          samples: served().helloSamples,
          // The run whose state this center holds: a restarted center holds none, and the
          // aggregator then replays the requests that built it.
          preparedRun: served().heldRun ?? "",
          secureKey: secure.agreedKey(),
          requireSecureAggregation: options.requireSecureAggregation === true,
        },
      });
      call.on("data", (message: AggregatorMessage__Output) => {
        clearTimeout(handshake);
        lastContact = Date.now();
        if (message.body === "welcome") {
          log(`center ${name}: joined run ${message.welcome?.runId}`);
          const masking = message.welcome?.secureAggregation === true;
          welcomed = { runId: message.welcome?.runId ?? "", secure: masking };
          if (!masking && options.requireSecureAggregation === true) {
            const text =
              "the aggregator runs without secure aggregation and this center requires it (--require-secure-aggregation)";
            log(`center ${name}: refusing the run: ${text}`);
            call.end();
            settle({ success: false, refused: true, message: text });
            return;
          }
          if (!masking) {
            log(
              `center ${name}: the aggregator runs without secure aggregation: this center's sums travel in clear`,
            );
          }
          const runs = message.welcome?.plan ?? "";
          const approved = served().planHash ?? "";
          if (runs !== approved) {
            log(
              `center ${name}: the aggregator runs ${runs === "" ? "no analysis plan" : `plan ${runs}`}, this center approved ${approved === "" ? "none" : `plan ${approved}`}: it will refuse every request outside its plan`,
            );
          }
        } else if (message.body === "shutdown") {
          const success = message.shutdown?.success ?? false;
          const text = oneLine(message.shutdown?.message ?? "");
          log(
            `center ${name}: the aggregator ended the run${success ? "" : " with an error"}: ${text}`,
          );
          call.end();
          settle({ success, refused: false, message: text });
        } else if (message.body === "request" && message.request) {
          // In order: a request may wait on this center's replay of the plan.
          answering = answering
            .then(() => answer(call, message))
            .catch((error: unknown) => {
              // answer() replies to every failure itself; this keeps the queue going regardless.
              log(`center ${name}: could not answer a request: ${(error as Error).message}`);
            });
        } else if (message.body === "keyRequest" && message.keyRequest) {
          const k = message.keyRequest;
          try {
            if (welcomed === null || !welcomed.secure) {
              throw new Error("key request, but the aggregator's welcome said the run is in clear");
            }
            const announcement = secure.announce(k.runId, k.centers);
            call.write({ announcement: encodeAnnouncement(announcement, k.epoch) });
          } catch (error) {
            const text = (error as Error).message;
            log(`center ${name}: cannot take part in secure aggregation: ${text}`);
            call.write({ keyAgreement: { runId: k.runId, epoch: k.epoch, error: text } });
          }
        } else if (message.body === "keyRelay" && message.keyRelay) {
          const k = message.keyRelay;
          try {
            secure.agree(k.runId, k.announcements.map(decodeAnnouncement));
            log(
              `center ${name}: secure aggregation keys agreed with ${k.announcements.length - 1} peers`,
            );
            call.write({ keyAgreement: { runId: k.runId, epoch: k.epoch, error: "" } });
          } catch (error) {
            const text = (error as Error).message;
            const rejected = error instanceof KeySubstitutionError ? error.center : "";
            log(`center ${name}: refusing the run: ${text}`);
            call.write({
              keyAgreement: {
                runId: k.runId,
                epoch: k.epoch,
                error: text,
                rejectedCenter: rejected,
              },
            });
            call.end();
            settle({ success: false, refused: true, message: text });
          }
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
        dropped = error;
        settle(null);
      });
      call.on("end", () => settle(null));
    });
  }

  async function answer(call: JoinStream, message: AggregatorMessage__Output): Promise<void> {
    let tag: RequestTag = { runId: "", phase: "", round: 0 };
    try {
      const request = decodeRequest(message.request as NonNullable<typeof message.request>);
      tag = request.tag;
      const masking = welcomed?.secure === true;
      await served().admit(
        request.tag,
        request.step,
        request.input as never,
        request.evidence,
        masking ? secure : null,
      );
      const key = `${tag.runId}\u0000${tag.phase}\u0000${tag.round}\u0000${request.step}`;
      // A step that builds the center's state is always run again, so that a replay in the
      // original order leaves the state as it was; only the others are answered from the cache.
      // The request answered last is computed again too: it is repeated when its reply was lost
      // or rejected (e.g. malformed or oversized), not when a resumed aggregator replays history.
      const cacheable = !STATE_STEPS.has(request.step);
      let reply = cacheable && key !== lastKey ? replies.get(key) : undefined;
      lastKey = key;
      if (reply === undefined) {
        const output = served().run(request.tag, request.step, request.input as never);
        // Under secure aggregation the output is cached and masked as it is sent, with the
        // keys of the moment (a new key agreement changes every mask, not the values).
        reply = {
          message: masking ? null : encodeReply(request.tag, request.step, output as never),
          output,
        };
        if (cacheable) replies.set(key, reply);
      }
      let sending = reply.message;
      if (masking) {
        const sent = secure.protect(
          request.tag,
          request.step,
          request.input as never,
          reply.output as never,
          served().sharedRequestDigest(request.tag, request.step, request.input as never),
        );
        sending = encodeProtectedReply(request.tag, request.step, sent);
        options.audit?.(protectedRecord(name, request.step, tag, sent));
      } else {
        options.audit?.(messageRecord(name, request.step, tag, reply.output));
      }
      call.write({ reply: sending as StepReply });
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (error instanceof ProtocolError || error instanceof RecordShapeError)
        log(`center ${name}: rejected a malformed request: ${text}`);
      else if (error instanceof PlanRefusal) {
        log(
          `center ${name}: refused ${error.step} (${tag.phase} round ${tag.round}): ${error.reason}`,
        );
        const refusal: MessageRecord = {
          center: name,
          step: error.step,
          round: tag.round,
          fields: {},
          refused: error.reason,
        };
        options.audit?.(refusal);
      } else log(`center ${name}: step failed: ${text}`);
      // The aggregator (and, when the run ends on it, every other center) reads this message:
      // it names the center's files, not where they sit on its disks, and the center's data
      // only in its shared form (sharedRefusal), as a refusal before round 1 would.
      call.write({
        reply: encodeErrorReply(
          tag,
          withoutDirectories(sharedRefusal(error)),
          error instanceof InputError,
        ),
      });
    }
  }
}
