/**
 * Message logs a data protection officer can read: one JSON object per line for every reply a
 * center sends (its audit, `fedseq center --audit FILE`) or an aggregator receives (its transcript,
 * `--transcript FILE`): `{"center", "step", "round", "fields": {NAME: values}}`, every value as
 * sent (numbers; masks as 0/1; level names as strings; NaN and ±∞ as null, JSON having no such
 * numbers; under secure aggregation the masked fields' ring bytes). The transcript is every
 * reply an honest-but-curious aggregator holds; the messages around them (joining, refusals,
 * key agreement, authenticators) are listed in docs/privacy.md.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { isStep, STEPS } from "./registry.js";
import type { ProtectedReply } from "./secureAggregation/layer.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import type { Transport } from "./transport.js";

/** One message, as logged. */
export interface MessageRecord {
  readonly center: string;
  readonly step: string;
  readonly round: number;
  readonly fields: Record<string, unknown>;
  /** A request the center refused (requestPolicy.ts): why. Nothing else was sent. */
  readonly refused?: string;
  /**
   * Under secure aggregation, the fields that travelled masked: each is the base64 of its ring
   * vector as sent (16 bytes per element, uniformly distributed; only the sum over every center
   * means anything), `nonfinite:<field>` the masked counts of a field's NaN/±∞ values.
   */
  readonly masked?: readonly string[];
}

/** A field's value as JSON can hold it. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number>, (x) =>
      Number.isFinite(x) ? x : null,
    );
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * The record of a center's reply to a request: its fields named and ordered as the step's reply
 * declares them (registry.ts), so that a center's audit and the aggregator's transcript agree
 * line for line.
 */
export function messageRecord(
  center: string,
  step: string,
  tag: RequestTag,
  output: unknown,
): MessageRecord {
  const values = output as Record<string, unknown>;
  const names = isStep(step)
    ? Object.keys(STEPS[step].reply.fields)
    : Object.keys(values).filter((name) => name !== "kind");
  const fields: Record<string, unknown> = {};
  for (const name of names) fields[name] = plain(values[name]);
  return { center, step, round: tag.round, fields };
}

/**
 * The record of a reply sent under secure aggregation: the clear fields as {@link messageRecord}
 * gives them, the masked ones as base64 of their ring bytes, in the reply's declared order.
 */
export function protectedRecord(
  center: string,
  step: string,
  tag: RequestTag,
  reply: ProtectedReply,
): MessageRecord {
  const names = isStep(step) ? Object.keys(STEPS[step].reply.fields) : Object.keys(reply.clear);
  const fields: Record<string, unknown> = {};
  for (const name of names) {
    const ring = reply.masked[name];
    fields[name] =
      ring === undefined
        ? plain(reply.clear[name])
        : Buffer.from(ring.buffer, ring.byteOffset, ring.byteLength).toString("base64");
  }
  for (const [name, ring] of Object.entries(reply.masked)) {
    if (!(name in fields)) {
      fields[name] = Buffer.from(ring.buffer, ring.byteOffset, ring.byteLength).toString("base64");
    }
  }
  return { center, step, round: tag.round, fields, masked: Object.keys(reply.masked) };
}

/** A JSON Lines file written as messages pass (synchronously, in order). */
export class JsonLinesLog {
  readonly #fd: number;

  /** Create (or truncate) `file`. */
  constructor(file: string) {
    this.#fd = openSync(file, "w");
  }

  write(record: MessageRecord): void {
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** A transport that logs every reply it receives (the aggregator's transcript). */
export function recordingTransport(inner: Transport, log: JsonLinesLog): Transport {
  // Under secure aggregation: the replies as received, masked, not the sums the layer recovers.
  const secure = inner.secure ?? null;
  secure?.listen((center, step, tag, reply) =>
    log.write(protectedRecord(center, step, tag, reply)),
  );
  return {
    get centers() {
      return inner.centers;
    },
    secure,
    // The runner meters the relayed replies by it: without it a run recorded with --transcript
    // reported a verified federation's bytes from the aggregator without them.
    get relaysReplies() {
      return inner.relaysReplies;
    },
    async request<K extends StepName>(
      tag: RequestTag,
      step: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const shares = await inner.request(tag, step, inputs);
      if (secure === null) {
        shares.forEach((share, c) => {
          log.write(messageRecord(inner.centers[c].name, step, tag, share));
        });
      }
      return shares;
    },
    close: (reason) => inner.close(reason),
  };
}
