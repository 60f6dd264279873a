/**
 * The aggregator's side of a networked federation: a gRPC server (mutual TLS) that the centers
 * dial out to. It implements {@link Transport}: the runner sends step requests, each center's
 * reply is validated, and a center that drops out is waited for and sent its pending request
 * again when it is back. A center that restarted (it holds no state for the run) is first sent
 * again, in order, every request that built its state ({@link STATE_STEPS}), so that it answers
 * the rest of the run as if it had never stopped. Every request has a deadline: a center that
 * stays connected but does not answer ends the run, named.
 */
import * as grpc from "@grpc/grpc-js";
import { SecureAggregationError } from "../secureAggregation/errors.js";
import type { KeyAnnouncement } from "../secureAggregation/keyAgreement.js";
import {
  agreeKeys,
  MaskedReplyError,
  type ProtectedReply,
  type RelayedEvidence,
  relayedTo,
  SecureAggregator,
} from "../secureAggregation/layer.js";
import {
  type RequestTag,
  STATE_STEPS,
  type StepInput,
  type StepName,
  type StepOutput,
} from "../steps.js";
import type { CenterInfo } from "../transport.js";
import {
  byName,
  CenterError,
  FederationFailure,
  oneLine,
  receivedReply,
  type Transport,
} from "../transport.js";
import {
  decodeAnnouncement,
  decodeProtectedReply,
  decodeReply,
  decodeTag,
  encodeAnnouncement,
  encodeRequest,
  ProtocolError,
} from "./codec.js";
import type { AggregatorMessage } from "./generated/fedseq/v1/AggregatorMessage.js";
import type { CenterMessage__Output } from "./generated/fedseq/v1/CenterMessage.js";
import type { Hello__Output } from "./generated/fedseq/v1/Hello.js";
import type { StepReply__Output } from "./generated/fedseq/v1/StepReply.js";
import {
  channelOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  fedseqProto,
  PROTOCOL_VERSION,
  type TlsFiles,
} from "./proto.js";
import { secureReplyBytes } from "./wireBytes.js";

type JoinCall = grpc.ServerDuplexStream<CenterMessage__Output, AggregatorMessage>;

/** Options of {@link GrpcAggregator.start}. */
export interface GrpcAggregatorOptions {
  /** HOST:PORT to listen on. */
  readonly listen: string;
  /** Names of the centers that must join (their certificates' common names). */
  readonly centers: readonly string[];
  readonly tls: TlsFiles;
  /** Run id sent to the centers (kept across an aggregator resume). */
  readonly runId: string;
  /** Hash of the analysis plan the run follows (plan.ts), told to each center as it joins. */
  readonly plan?: string;
  /** How long to wait for every center to join. */
  readonly joinTimeoutMs: number;
  /** How long a center that dropped out is waited for. */
  readonly reconnectTimeoutMs: number;
  /**
   * How long a center may take to answer one request (replaying a restarted center's state
   * included) before the run ends with its name (default: 600 s).
   */
  readonly roundTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  /**
   * Secure aggregation (secureAggregation/layer.ts): key agreement before the first request,
   * summed fields masked by the centers (default false here; the CLI turns it on).
   */
  readonly secureAggregation?: boolean;
  /**
   * Relay with each request the other centers' replies to the previous one, for centers that
   * verify requests (the plan's `verify_requests`; verifiedRequests.ts). Needs secure aggregation.
   */
  readonly relayReplies?: boolean;
  /**
   * For tests of key substitution only: change the announcements before they are relayed (an
   * aggregator that tampers). Never set by the CLI.
   */
  readonly tamperRelay?: (
    center: string,
    announcements: readonly KeyAnnouncement[],
  ) => readonly KeyAnnouncement[];
  /** Where log lines go. */
  readonly log: (line: string) => void;
}

interface Pending {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly input: unknown;
  /** The previous request's replies, relayed with this one (null: none). */
  readonly evidence: RelayedEvidence | null;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

const MAX_MALFORMED = 3;
const MAX_DROPS = 5;

function sameTag(a: RequestTag, b: RequestTag): boolean {
  return a.runId === b.runId && a.phase === b.phase && a.round === b.round;
}

/**
 * How long {@link GrpcAggregator.close}, after a run that succeeded, waits for a center whose
 * connection was lost to dial again, to tell it the run ended: five of a center's default 2 s
 * between attempts. A center not told the run ended dials on until its --give-up-after (600 s by
 * default), then reports a failure.
 */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Default of {@link GrpcAggregatorOptions.roundTimeoutMs}. */
export const DEFAULT_ROUND_TIMEOUT_MS = 600_000;

/** A request that built the center's state, as it was sent. */
interface StateRequest {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly input: unknown;
}

/** Thrown into a key exchange that must start again (a center restarted meanwhile). */
class RestartAgreement extends Error {}

/** A key-agreement message a center owes an answer to. */
interface KeyExchange {
  readonly epoch: number;
  readonly message: AggregatorMessage;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** One expected center: its connection, identity, and the request it owes an answer to. */
class CenterSlot {
  readonly name: string;
  info: CenterInfo | null = null;
  call: JoinCall | null = null;
  /** The run whose state the center holds (as its hello said, then as its replies showed). */
  heldRun = "";
  /** Every state-building request the center answered, in order (replayed after a restart). */
  readonly stateLog: StateRequest[] = [];
  pending: Pending | null = null;
  /** Index into {@link stateLog} of the request being replayed (null: not replaying). */
  replaying: number | null = null;
  malformed = 0;
  /** Secure aggregation: the ephemeral key the center agreed on in the current epoch. */
  agreedKey = "";
  /** The key-agreement message the center owes an answer to. */
  keyExchange: KeyExchange | null = null;
  /** The key-agreement epoch under which the pending request was last sent. */
  dispatchEpoch = 0;
  /** Connections lost while the same request was pending. */
  drops = 0;
  #timer: NodeJS.Timeout | null = null;
  #deadline: NodeJS.Timeout | null = null;
  readonly #owner: GrpcAggregator;

  constructor(name: string, owner: GrpcAggregator) {
    this.name = name;
    this.#owner = owner;
  }

  write(message: AggregatorMessage): void {
    this.call?.write(message);
  }

  /** Send the pending request (after replaying the run's state if the center restarted). */
  dispatch(): void {
    const p = this.pending;
    if (p === null || this.call === null || this.#owner.holdingRequests) return;
    this.dispatchEpoch = this.#owner.epoch;
    if (this.replaying === null && this.heldRun !== p.tag.runId && this.stateLog.length > 0) {
      this.#owner.log(
        `center ${this.name}: restarted, replaying the ${this.stateLog.length} requests that built its state before ${p.step} (${p.tag.phase} round ${p.tag.round})`,
      );
      this.replaying = 0;
    }
    if (this.replaying !== null) {
      const r = this.stateLog[this.replaying];
      this.write({ request: encodeRequest(r.tag, r.step, r.input as never) });
      return;
    }
    this.write({ request: encodeRequest(p.tag, p.step, p.input as never, p.evidence) });
  }

  send(
    tag: RequestTag,
    step: StepName,
    input: unknown,
    evidence: RelayedEvidence | null = null,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending = { tag, step, input, evidence, resolve, reject };
      this.drops = 0;
      this.#startDeadline(step, tag);
      if (this.call !== null) this.dispatch();
      else this.startReconnectTimer();
    });
  }

  #startDeadline(step: StepName, tag: RequestTag): void {
    this.#clearDeadline();
    const ms = this.#owner.roundTimeoutMs;
    this.#deadline = setTimeout(() => {
      this.#deadline = null;
      this.fail(
        new CenterError(
          this.name,
          `did not answer ${step} (${tag.phase} round ${tag.round}) within ${ms / 1000} s (--round-timeout)`,
          false,
        ),
      );
    }, ms);
  }

  #clearDeadline(): void {
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#deadline = null;
  }

  startReconnectTimer(): void {
    if (this.#timer !== null || this.pending === null) return;
    const seconds = this.#owner.reconnectTimeoutMs / 1000;
    this.#owner.log(
      `center ${this.name}: disconnected; waiting up to ${seconds} s for it to come back`,
    );
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.fail(new CenterError(this.name, `did not reconnect within ${seconds} s`, false));
    }, this.#owner.reconnectTimeoutMs);
  }

  clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Stop every timer of the slot (the run is over). */
  clearTimers(): void {
    this.clearTimer();
    this.#clearDeadline();
  }

  /** Send a key-agreement message (again on reconnection) and wait for the center's answer. */
  exchangeKeys(epoch: number, message: AggregatorMessage): Promise<unknown> {
    const ms = this.#owner.roundTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.keyExchange?.epoch !== epoch) return;
        this.abortKeyExchange(
          new CenterError(
            this.name,
            `did not answer the secure-aggregation key agreement within ${ms / 1000} s (--round-timeout)`,
            false,
          ),
        );
      }, ms);
      const settle =
        <T>(f: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          f(value);
        };
      this.keyExchange = { epoch, message, resolve: settle(resolve), reject: settle(reject) };
      this.write(message);
    });
  }

  /** A key-agreement answer: settles the exchange of the same epoch, ignores stale ones. */
  onKeyAnswer(epoch: number, answer: () => unknown): void {
    const k = this.keyExchange;
    if (k === null || k.epoch !== epoch) {
      this.#owner.log(`center ${this.name}: ignored a key-agreement answer of epoch ${epoch}`);
      return;
    }
    this.keyExchange = null;
    try {
      k.resolve(answer());
    } catch (error) {
      k.reject(error as Error);
    }
  }

  /** Abandon the key exchange in progress. */
  abortKeyExchange(error: Error): void {
    const k = this.keyExchange;
    this.keyExchange = null;
    k?.reject(error);
  }

  fail(error: Error): void {
    this.abortKeyExchange(error);
    const p = this.pending;
    this.pending = null;
    this.replaying = null;
    this.clearTimers();
    p?.reject(error);
  }

  /** Settle the pending request. */
  #settle(p: Pending, outcome: { output: unknown } | { error: Error }): void {
    this.pending = null;
    this.#clearDeadline();
    if ("error" in outcome) p.reject(outcome.error);
    else p.resolve(outcome.output);
  }

  onReply(reply: StepReply__Output): void {
    const tag = decodeTag(reply.tag);
    if (this.replaying !== null) {
      const r = this.stateLog[this.replaying];
      // Tags are unique within a run (a record step's reply names its record, not the step).
      if (sameTag(tag, r.tag) && reply.step !== "error") {
        // A replayed request's answer was given once already: only the rebuilt state matters.
        this.replaying++;
        if (this.replaying === this.stateLog.length) {
          this.replaying = null;
          this.heldRun = tag.runId;
        }
        this.dispatch();
        return;
      }
      if (reply.step === "error" && sameTag(tag, r.tag)) {
        this.fail(
          new CenterError(
            this.name,
            `could not rebuild its state after a restart (${r.step}): ${reply.error?.message ?? "unknown error"}`,
            reply.error?.userError ?? false,
          ),
        );
        return;
      }
    }
    const p = this.pending;
    if (p !== null && reply.step === "error" && tag.runId === "") {
      // The center could not even read the request's tag: fail it rather than wait forever.
      this.#settle(p, {
        error: new CenterError(this.name, reply.error?.message ?? "unreadable request", false),
      });
      return;
    }
    if (p === null || !sameTag(tag, p.tag)) {
      this.#owner.log(
        `center ${this.name}: ignored a stale or repeated reply (${tag.phase} round ${tag.round})`,
      );
      return;
    }
    if (reply.step === "error") {
      this.#settle(p, {
        error: new CenterError(
          this.name,
          reply.error?.message ?? "unknown error",
          reply.error?.userError ?? false,
        ),
      });
      return;
    }
    const output = this.#owner.secure
      ? ({
          reply: decodeProtectedReply(reply, p.step),
          epoch: this.dispatchEpoch,
        } as SecureReceived)
      : decodeReply(reply, p.step, p.input as never);
    if (STATE_STEPS.has(p.step)) {
      this.stateLog.push({ tag: p.tag, step: p.step, input: p.input });
      this.heldRun = tag.runId;
    }
    this.malformed = 0;
    this.#settle(p, { output });
  }
}

/** A reply received under secure aggregation and the key epoch it was requested under. */
interface SecureReceived {
  readonly reply: ProtectedReply;
  readonly epoch: number;
}

/** The aggregator's gRPC server; a {@link Transport} once every center has joined. */
export class GrpcAggregator implements Transport {
  centers: readonly CenterInfo[] = [];
  readonly reconnectTimeoutMs: number;
  readonly roundTimeoutMs: number;
  readonly #server: grpc.Server;
  readonly #slots: Map<string, CenterSlot>;
  readonly #options: GrpcAggregatorOptions;
  #joined: (() => void) | null = null;
  /** True once the first request went out: refusals are no longer taken. */
  #started = false;
  #refusal: Error | null = null;
  #refused: ((error: Error) => void) | null = null;
  /** Secure aggregation's layer (null: replies in clear); set once every center has joined. */
  secure: SecureAggregator | null = null;
  /** The current key agreement's epoch (0: none yet). */
  epoch = 0;
  /** True while a key agreement runs: requests wait. */
  holdingRequests = false;
  #agreement: Promise<void> | null = null;
  /** The run id the current key agreement is for (the requests' tags'). */
  #agreedRun: string | null = null;
  #agreementFailure: Error | null = null;
  #restartAgreement = false;
  /**
   * While {@link close} waits for the centers whose connection was lost: how the run ended,
   * those not told yet, and what to call once none is left.
   */
  #closing: {
    readonly reason: { success: boolean; message: string };
    readonly untold: Set<string>;
    readonly allTold: () => void;
  } | null = null;

  /** Whether each request carries the other centers' replies to the previous one. */
  get relaysReplies(): boolean {
    return this.#options.relayReplies === true && this.#options.secureAggregation === true;
  }

  private constructor(options: GrpcAggregatorOptions) {
    this.#options = options;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs;
    this.roundTimeoutMs = options.roundTimeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS;
    this.#slots = new Map(options.centers.map((name) => [name, new CenterSlot(name, this)]));
    this.#server = new grpc.Server(
      channelOptions(
        options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        DEFAULT_MAX_MESSAGE_BYTES,
      ),
    );
    this.#server.addService(fedseqProto().fedseq.v1.Federation.service, {
      join: (call: JoinCall) => this.#onJoin(call),
    });
  }

  /** Log a line. */
  log(line: string): void {
    this.#options.log(line);
  }

  /** The port the server listens on (useful with port 0). */
  port = 0;

  /** Start listening (centers may join from now on). */
  static async listen(options: GrpcAggregatorOptions): Promise<GrpcAggregator> {
    const aggregator = new GrpcAggregator(options);
    const credentials = grpc.ServerCredentials.createSsl(
      options.tls.ca,
      [{ private_key: options.tls.key, cert_chain: options.tls.cert }],
      true,
    );
    aggregator.port = await new Promise<number>((resolve, reject) => {
      aggregator.#server.bindAsync(options.listen, credentials, (error, port) =>
        error ? reject(error) : resolve(port),
      );
    });
    aggregator.log(`listening on ${options.listen}; waiting for ${options.centers.join(", ")}`);
    return aggregator;
  }

  /** Resolve once every expected center has joined (closes the server on failure). */
  async ready(): Promise<this> {
    try {
      await this.#waitForCenters();
    } catch (error) {
      await this.close({ success: false, message: (error as Error).message });
      throw error;
    }
    return this;
  }

  #waitForCenters(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = [...this.#slots.values()].filter((s) => s.info === null).map((s) => s.name);
        reject(
          new CenterError(
            missing[0],
            `did not join within ${this.#options.joinTimeoutMs / 1000} s (missing: ${missing.join(", ")})`,
            false,
          ),
        );
      }, this.#options.joinTimeoutMs);
      this.#joined = () => {
        if ([...this.#slots.values()].every((s) => s.info !== null)) {
          clearTimeout(timer);
          this.centers = byName([...this.#slots.values()].map((s) => s.info as CenterInfo));
          if (this.#options.secureAggregation === true && this.secure === null) {
            this.secure = new SecureAggregator(this.centers.map((c) => c.name));
          }
          resolve();
        }
      };
      this.#refused = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      if (this.#refusal !== null) this.#refused(this.#refusal);
      else this.#joined();
    });
  }

  #reject(call: JoinCall, code: grpc.status, details: string): void {
    this.log(`refused a connection: ${details}`);
    call.emit("error", { code, details });
  }

  #onJoin(call: JoinCall): void {
    let slot: CenterSlot | null = null;
    call.on("data", (message: CenterMessage__Output) => {
      try {
        if (slot === null) {
          slot = this.#admit(call, message);
          return;
        }
        if (message.body === "reply" && message.reply !== null && message.reply !== undefined) {
          slot.onReply(message.reply);
        } else if (message.body === "announcement" && message.announcement) {
          const a = message.announcement;
          slot.onKeyAnswer(a.epoch, () => decodeAnnouncement(a));
        } else if (message.body === "keyAgreement" && message.keyAgreement) {
          const k = message.keyAgreement;
          const name = slot.name;
          slot.onKeyAnswer(k.epoch, () => {
            if (k.error !== "") {
              throw new CenterError(name, `refused the run: ${k.error}`, false);
            }
            return null;
          });
        } else {
          throw new ProtocolError(`unexpected ${String(message.body)} message`);
        }
      } catch (error) {
        if (slot === null) return;
        if (!(error instanceof ProtocolError)) {
          slot.fail(error as Error);
          return;
        }
        slot.malformed++;
        this.log(`center ${slot.name}: rejected a malformed message: ${error.message}`);
        if (slot.malformed >= MAX_MALFORMED) {
          slot.fail(
            new CenterError(
              slot.name,
              `sent ${MAX_MALFORMED} malformed messages in a row (last: ${error.message})`,
              false,
            ),
          );
        } else if (slot.pending !== null) {
          slot.dispatch();
        }
      }
    });
    const detach = (error?: Error) => {
      if (slot !== null && slot.call === call) {
        slot.call = null;
        if (error !== undefined)
          this.log(`center ${slot.name}: connection error: ${error.message}`);
        if (slot.pending !== null && ++slot.drops >= MAX_DROPS) {
          slot.fail(
            new CenterError(
              slot.name,
              `the connection broke ${MAX_DROPS} times during the same step${error ? ` (last: ${error.message})` : ""}${
                this.#options.maxMessageBytes === undefined
                  ? ""
                  : ` (a reply over --max-message-mb ${this.#options.maxMessageBytes / 2 ** 20} is refused by gRPC this way: the center's log gives its size)`
              }`,
              false,
            ),
          );
          return;
        }
        slot.startReconnectTimer();
      }
    };
    call.on("end", () => detach());
    call.on("error", (error: Error) => detach(error));
    call.on("close", () => detach());
  }

  /** Check a joining center's first message and certificate; attach it to its slot. */
  #admit(call: JoinCall, message: CenterMessage__Output): CenterSlot | null {
    if (message.body === "refusal" && message.refusal) {
      const { center, reason } = message.refusal;
      // Only a center can refuse, in its own name (its certificate's), and only before the run
      // starts: otherwise any holder of a federation certificate could abort a run.
      const commonName = call.getAuthContext()?.sslPeerCertificate?.subject?.CN;
      if (!this.#slots.has(center) || commonName !== center) {
        this.#reject(
          call,
          grpc.status.PERMISSION_DENIED,
          commonName !== center
            ? `a refusal in the name of ${JSON.stringify(center)} came with a certificate for ${JSON.stringify(commonName)}: ignored`
            : `a refusal from ${JSON.stringify(center)}, not one of this run's centers (${[...this.#slots.keys()].join(", ")}): ignored`,
        );
        return null;
      }
      if (this.#started) {
        this.#reject(
          call,
          grpc.status.FAILED_PRECONDITION,
          `center ${center} refused after the run started: ignored (a refusal is only taken before round 1)`,
        );
        return null;
      }
      this.log(`center ${center} refused to take part: ${oneLine(reason)}`);
      call.end();
      this.#refusal = new CenterError(center, `refused to take part: ${reason}`, false);
      this.#refused?.(this.#refusal);
      for (const s of this.#slots.values())
        s.fail(new CenterError(center, `refused to take part: ${reason}`, false));
      return null;
    }
    if (message.body !== "hello" || !message.hello) {
      this.#reject(call, grpc.status.INVALID_ARGUMENT, "first message is not a hello");
      return null;
    }
    const hello: Hello__Output = message.hello;
    const slot = this.#slots.get(hello.center);
    const commonName = call.getAuthContext()?.sslPeerCertificate?.subject?.CN;
    if (slot === undefined) {
      this.#reject(
        call,
        grpc.status.PERMISSION_DENIED,
        `unknown center ${JSON.stringify(hello.center)} (expected ${[...this.#slots.keys()].join(", ")})`,
      );
      return null;
    }
    if (commonName !== hello.center) {
      this.#reject(
        call,
        grpc.status.PERMISSION_DENIED,
        `center ${hello.center} presented a certificate for ${JSON.stringify(commonName)}`,
      );
      return null;
    }
    if (hello.protocol !== PROTOCOL_VERSION) {
      this.#reject(
        call,
        grpc.status.FAILED_PRECONDITION,
        `center ${hello.center} speaks protocol ${hello.protocol}, this aggregator ${PROTOCOL_VERSION}`,
      );
      return null;
    }
    const closing = this.#closing;
    if (closing !== null) {
      call.write({ shutdown: closing.reason });
      call.end();
      this.log(`center ${hello.center} dialled again after the run ended: told it so`);
      if (closing.untold.delete(hello.center) && closing.untold.size === 0) closing.allTold();
      return null;
    }
    if (
      slot.info !== null &&
      (slot.info.genes.length !== hello.genes.length ||
        slot.info.samples.join("\u0000") !== hello.samples.join("\u0000"))
    ) {
      this.#reject(
        call,
        grpc.status.FAILED_PRECONDITION,
        `center ${hello.center} came back with different data`,
      );
      return null;
    }
    if (hello.requireSecureAggregation && this.#options.secureAggregation !== true) {
      const reason =
        "requires secure aggregation (fedseq center --require-secure-aggregation) but this aggregator runs without it (--no-secure-aggregation)";
      this.#reject(call, grpc.status.FAILED_PRECONDITION, `center ${hello.center} ${reason}`);
      this.#refusal = new CenterError(hello.center, reason, false);
      this.#refused?.(this.#refusal);
      for (const s of this.#slots.values()) s.fail(new CenterError(hello.center, reason, false));
      return null;
    }
    if (slot.call !== null && slot.call !== call) slot.call.end();
    slot.call = call;
    slot.heldRun = hello.preparedRun;
    // A replay cut short by this reconnection starts again from the first request.
    slot.replaying = null;
    slot.clearTimer();
    const rejoined = slot.info !== null;
    slot.info ??= { name: hello.center, genes: hello.genes, samples: hello.samples };
    this.log(
      `center ${hello.center} ${rejoined ? "reconnected" : "joined"} (${hello.samples.length} samples)`,
    );
    call.write({
      welcome: {
        runId: this.#options.runId,
        plan: this.#options.plan ?? "",
        secureAggregation: this.#options.secureAggregation === true,
      },
    });
    this.#joined?.();
    if (this.secure !== null && this.epoch > 0 && hello.secureKey !== slot.agreedKey) {
      // A restarted center holds no pair secrets: every center agrees on new keys, and the
      // current request is asked again of every center under them.
      this.log(
        `center ${hello.center} holds no keys of this run's secure aggregation: new key agreement`,
      );
      this.#rekey();
    } else if (slot.keyExchange !== null) {
      slot.write(slot.keyExchange.message);
    }
    if (slot.pending !== null) slot.dispatch();
    return slot;
  }

  async request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    this.#started = true;
    const slots = this.centers.map((c) => this.#slots.get(c.name) as CenterSlot);
    const secure = this.secure;
    if (secure === null) {
      return (await Promise.all(
        slots.map((s, c) => s.send(tag, step, inputs[c])),
      )) as StepOutput<K>[];
    }
    for (;;) {
      await this.#ensureAgreement(tag.runId);
      const evidence = this.relaysReplies ? secure.evidence(tag.runId) : null;
      const received = (await Promise.all(
        slots.map((s, c) =>
          s.send(tag, step, inputs[c], evidence === null ? null : relayedTo(evidence, c)),
        ),
      )) as SecureReceived[];
      if (this.holdingRequests || received.some((r) => r.epoch !== this.epoch)) {
        this.log(`secure aggregation: keys changed during ${step}; asking every center again`);
        continue;
      }
      let outputs: StepOutput<K>[];
      try {
        outputs = secure.open(
          tag,
          step,
          inputs,
          received.map((r) => r.reply),
          (r) => secureReplyBytes(tag, step, r),
        );
      } catch (error) {
        if (error instanceof MaskedReplyError)
          throw new CenterError(error.center, `malformed reply: ${error.message}`, false);
        if (error instanceof SecureAggregationError) throw new FederationFailure(error.message);
        throw error;
      }
      return outputs.map((o, c) => receivedReply(slots[c].name, step, inputs[c], o));
    }
  }

  /** The run's key agreement (the first, or the one a restarted center made necessary). */
  async #ensureAgreement(runId: string): Promise<void> {
    if (this.#agreementFailure !== null) throw this.#agreementFailure;
    if (this.#agreement === null || this.#agreedRun !== runId) {
      this.#agreedRun = runId;
      this.#agreement = this.#agree(runId);
      this.#agreement.catch(() => {});
    }
    await this.#agreement;
  }

  /** Start a new key agreement (or restart the one in progress). */
  #rekey(): void {
    if (this.holdingRequests) {
      this.#restartAgreement = true;
      for (const s of this.#slots.values()) s.abortKeyExchange(new RestartAgreement());
      return;
    }
    this.#agreement = this.#agree(this.#agreedRun ?? this.#options.runId);
    this.#agreement.catch(() => {});
  }

  async #agree(runId: string): Promise<void> {
    const names = this.centers.map((c) => c.name);
    const slots = names.map((n) => this.#slots.get(n) as CenterSlot);
    const tamper = this.#options.tamperRelay;
    this.holdingRequests = true;
    try {
      for (;;) {
        this.#restartAgreement = false;
        const epoch = ++this.epoch;
        let keys: readonly KeyAnnouncement[] = [];
        try {
          await agreeKeys(runId, names, {
            announce: async (c, run, centers) =>
              (await slots[c].exchangeKeys(epoch, {
                keyRequest: { runId: run, centers: [...centers], epoch },
              })) as KeyAnnouncement,
            relay: async (c, run, announcements) => {
              keys = announcements;
              const relayed =
                tamper === undefined ? announcements : tamper(names[c], announcements);
              await slots[c].exchangeKeys(epoch, {
                keyRelay: {
                  runId: run,
                  epoch,
                  announcements: relayed.map((a) => encodeAnnouncement(a, epoch)),
                },
              });
            },
          });
        } catch (error) {
          if (error instanceof RestartAgreement || this.#restartAgreement) continue;
          throw error;
        }
        if (this.#restartAgreement) continue;
        slots.forEach((s, c) => {
          s.agreedKey = keys[c].publicKey;
        });
        this.log(`secure aggregation: ${names.length} centers agreed on keys (epoch ${epoch})`);
        break;
      }
    } catch (error) {
      const failure =
        error instanceof CenterError || error instanceof FederationFailure
          ? error
          : error instanceof MaskedReplyError
            ? new CenterError(error.center, error.message, false)
            : new FederationFailure(`secure aggregation: ${(error as Error).message}`);
      this.#agreementFailure = failure;
      for (const s of slots) s.abortKeyExchange(failure);
      throw failure;
    } finally {
      this.holdingRequests = false;
    }
    for (const s of slots) if (s.pending !== null) s.dispatch();
  }

  /**
   * Tell every center the run ended (`reason`) and stop listening. After a run that succeeded, a
   * center that had joined but whose connection is lost is waited for up to {@link SHUTDOWN_GRACE_MS},
   * and told when it dials again: otherwise it would go on dialling until its --give-up-after
   * and report a failure.
   */
  async close(
    reason: { success: boolean; message: string } = { success: true, message: "done" },
  ): Promise<void> {
    const untold = new Set<string>();
    for (const slot of this.#slots.values()) {
      slot.clearTimers();
      if (slot.call !== null) {
        slot.write({ shutdown: reason });
        slot.call.end();
        slot.call = null;
      } else if (slot.info !== null) {
        untold.add(slot.name);
      }
    }
    // Only after a run that succeeded: after a failure (a center lost for good, say) the wait
    // would only delay the exit, and a center not told ends with a failure either way. Once: a
    // second close finds the first one's wait over.
    if (reason.success && untold.size > 0 && this.#closing === null) {
      const names = [...untold].join(", ");
      this.log(
        `waiting up to ${SHUTDOWN_GRACE_MS / 1000} s for ${names} (connection lost) to be told the run ended`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.log(
            `${[...untold].join(", ")} did not dial again: not told the run ended (it stops after its --give-up-after)`,
          );
          resolve();
        }, SHUTDOWN_GRACE_MS);
        this.#closing = {
          reason,
          untold,
          allTold: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    }
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, 2000);
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
