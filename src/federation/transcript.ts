/**
 * Message logs a data protection officer can read: one JSON object per line for every message a
 * center sends (its audit, `fedseq center --audit FILE`) or an aggregator receives (its transcript,
 * `--transcript FILE`): `{"center", "step", "round", "fields": {NAME: values}}`, every value in
 * clear as sent (numbers; masks as 0/1; level names as strings; NaN and ±∞ as null, JSON having
 * no such numbers). The transcript is everything an honest-but-curious aggregator holds.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { isStep, STEPS } from "./registry.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import type { Transport } from "./transport.js";

/** One message, as logged. */
export interface MessageRecord {
  readonly center: string;
  readonly step: string;
  readonly round: number;
  readonly fields: Record<string, unknown>;
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
  return {
    get centers() {
      return inner.centers;
    },
    async request<K extends StepName>(
      tag: RequestTag,
      step: K,
      inputs: readonly StepInput<K>[],
    ): Promise<StepOutput<K>[]> {
      const shares = await inner.request(tag, step, inputs);
      shares.forEach((share, c) => {
        log.write(messageRecord(inner.centers[c].name, step, tag, share));
      });
      return shares;
    },
    close: (reason) => inner.close(reason),
  };
}
