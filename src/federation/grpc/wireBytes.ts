/**
 * Exact sizes of messages as the gRPC transport sends them (protobuf encoding of
 * `proto/fedseq.proto`, HTTP/2 framing aside): what `run.json` reports as bytes, for every
 * transport, so that a simulated run tells what a real one would move.
 *
 * Computed from the step's declaration (registry.ts) without encoding anything: the size of the
 * `Record` message the codec (codec.ts) builds, field by field, as protobuf.js writes it (every
 * field the codec sets is written, defaults included; map entries carry their key and value).
 * The registry test checks these sizes against the encoder's for every step.
 */
import type { FieldKind, RecordSchema } from "../records.js";
import { STEPS } from "../registry.js";
import { clearSchema, type ProtectedReply } from "../secureAggregation/layer.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../steps.js";

/** Bytes of a varint holding a uint32 (or a length). */
function varint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes of a length-delimited field (tag below 16) holding `length` bytes. */
function delimited(length: number): number {
  return 1 + varint(length) + length;
}

/** Bytes of a string's UTF-8 encoding. */
function utf8(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Bytes of a `Float64Tensor` of shape [n]. */
function tensor(n: number): number {
  return delimited(varint(n)) + delimited(8 * n);
}

/** Bytes of a `BitMask` of n bits. */
function bitMask(n: number): number {
  return 1 + varint(n) + delimited(Math.ceil(n / 8));
}

/** Bytes of counts in the narrowest width that holds them (codec.ts's `encodeCounts`). */
function counts(values: Float64Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  return 1 + values.length * width;
}

/** Bytes of a `TextList`. */
function textList(values: readonly string[]): number {
  let total = 0;
  for (const v of values) total += delimited(utf8(v));
  return total;
}

/** Bytes of the value part (field 2) of a map entry holding one field of the given kind. */
function entryValue(kind: FieldKind, value: unknown): number {
  switch (kind) {
    case "f64":
    case "finite":
      return delimited(tensor((value as Float64Array).length));
    case "mask":
      return delimited(bitMask((value as Uint8Array).length));
    case "counts":
      return delimited(counts(value as Float64Array));
    case "u8":
      return delimited((value as Uint8Array).length);
    case "number":
      return 1 + 8;
    case "boolean":
      return 1 + 1;
    case "text":
      return delimited(utf8(value as string));
    case "texts":
      return delimited(textList(value as readonly string[]));
  }
}

/** Bytes of the `Record` message of `value` (its step name and one map entry per field). */
export function recordBytes(step: string, schema: RecordSchema, value: object): number {
  let total = delimited(utf8(step));
  const fields = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(schema.fields) as [string, FieldKind][]) {
    total += delimited(delimited(utf8(field)) + entryValue(kind, fields[field]));
  }
  return total;
}

/** Bytes of a `Tag`. */
function tagBytes(tag: RequestTag): number {
  const plan = tag.plan === undefined || tag.plan === "" ? 0 : delimited(utf8(tag.plan));
  return delimited(utf8(tag.runId)) + delimited(utf8(tag.phase)) + 1 + varint(tag.round) + plan;
}

/** Bytes of the stream message (field 2) carrying a step message with this tag and record. */
function streamMessage(tag: RequestTag, record: number): number {
  return delimited(delimited(tagBytes(tag)) + delimited(record));
}

/** Bytes of the request the aggregator sends one center. */
export function requestBytes<K extends StepName>(
  tag: RequestTag,
  step: K,
  input: StepInput<K>,
): number {
  return streamMessage(tag, recordBytes(step, STEPS[step].request as RecordSchema, input));
}

/** Bytes of a center's reply. */
export function replyBytes<K extends StepName>(
  tag: RequestTag,
  step: K,
  output: StepOutput<K>,
): number {
  return streamMessage(tag, recordBytes(step, STEPS[step].reply as RecordSchema, output));
}

/**
 * Bytes of a center's reply under secure aggregation: the record of its clear fields plus the
 * `masked` map (field 10 of `Record`), one entry of ring bytes per masked vector.
 */
export function secureReplyBytes<K extends StepName>(
  tag: RequestTag,
  step: K,
  reply: ProtectedReply,
): number {
  let record = recordBytes(step, clearSchema(step), reply.clear);
  for (const [name, bytes] of Object.entries(reply.masked)) {
    record += delimited(delimited(utf8(name)) + delimited(bytes.byteLength));
  }
  // The `authenticators` map (field 11): one HMAC per peer.
  for (const [peer, mac] of Object.entries(reply.authenticators ?? {})) {
    record += delimited(delimited(utf8(peer)) + delimited(mac.byteLength));
  }
  return streamMessage(tag, record);
}
