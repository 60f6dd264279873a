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
import type { CenterInfo } from "../centerSession.js";
import {
  type RequestTag,
  STATE_STEPS,
  type StepInput,
  type StepName,
  type StepOutput,
} from "../steps.js";
import { byName, CenterError, type Transport } from "../transport.js";
import { decodeReply, decodeTag, encodeRequest, ProtocolError } from "./codec.js";
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
  /** Where log lines go. */
  readonly log: (line: string) => void;
}

interface Pending {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly input: unknown;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

const MAX_MALFORMED = 3;
const MAX_DROPS = 5;

function sameTag(a: RequestTag, b: RequestTag): boolean {
  return a.runId === b.runId && a.phase === b.phase && a.round === b.round;
}

/** Default of {@link GrpcAggregatorOptions.roundTimeoutMs}. */
export const DEFAULT_ROUND_TIMEOUT_MS = 600_000;

/** A request that built the center's state, as it was sent. */
interface StateRequest {
  readonly tag: RequestTag;
  readonly step: StepName;
  readonly input: unknown;
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
    if (p === null || this.call === null) return;
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
    this.write({ request: encodeRequest(p.tag, p.step, p.input as never) });
  }

  send(tag: RequestTag, step: StepName, input: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending = { tag, step, input, resolve, reject };
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

  fail(error: Error): void {
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
    const output = decodeReply(reply, p.step, p.input as never);
    if (STATE_STEPS.has(p.step)) {
      this.stateLog.push({ tag: p.tag, step: p.step, input: p.input });
      this.heldRun = tag.runId;
    }
    this.malformed = 0;
    this.#settle(p, { output });
  }
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

  private constructor(options: GrpcAggregatorOptions) {
    this.#options = options;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs;
    this.roundTimeoutMs = options.roundTimeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS;
    this.#slots = new Map(options.centers.map((name) => [name, new CenterSlot(name, this)]));
    this.#server = new grpc.Server(
      channelOptions(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES),
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
              `the connection broke ${MAX_DROPS} times during the same step${error ? ` (last: ${error.message})` : ""}`,
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
          `a refusal in the name of ${JSON.stringify(center)} came with a certificate for ${JSON.stringify(commonName)}: ignored`,
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
      this.log(`center ${center} refused to take part: ${reason}`);
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
    call.write({ welcome: { runId: this.#options.runId } });
    this.#joined?.();
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
    return (await Promise.all(
      slots.map((s, c) => s.send(tag, step, inputs[c])),
    )) as StepOutput<K>[];
  }

  async close(
    reason: { success: boolean; message: string } = { success: true, message: "done" },
  ): Promise<void> {
    for (const slot of this.#slots.values()) {
      slot.clearTimers();
      if (slot.call !== null) {
        slot.write({ shutdown: reason });
        slot.call.end();
        slot.call = null;
      }
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
