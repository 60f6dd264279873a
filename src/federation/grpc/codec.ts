/**
 * Conversion between the federated steps' records and the protobuf messages of
 * `proto/fedseq.proto`: every step's request and reply is a flat record (registry.ts), encoded
 * field by field as its schema declares (float64 arrays as raw bytes: exact; masks as bit sets).
 * Decoding checks the message's structure (every declared field present, whole float64 values);
 * what the values must be is checked once, for every transport, by the registry's
 * `checkRequest` (at the center) and `checkReply` (at the aggregator, called here).
 */
import { endianness } from "node:os";
import type { GeneMask } from "../../algorithms/masks.js";
import {
  type FieldKind,
  type FlatRecord,
  type RecordSchema,
  RecordShapeError,
} from "../records.js";
import { checkReply, isStep, STEPS } from "../registry.js";
import type { KeyAnnouncement } from "../secureAggregation/keyAgreement.js";
import {
  clearSchema,
  maskedNames,
  type ProtectedReply,
  type RelayedEvidence,
} from "../secureAggregation/layer.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../steps.js";
import type { BitMask, BitMask__Output } from "./generated/fedseq/v1/BitMask.js";
import type { Evidence__Output } from "./generated/fedseq/v1/Evidence.js";
import type { Float64Tensor, Float64Tensor__Output } from "./generated/fedseq/v1/Float64Tensor.js";
import type {
  KeyAnnouncement__Output,
  KeyAnnouncement as KeyAnnouncementMessage,
} from "./generated/fedseq/v1/KeyAnnouncement.js";
import type { Record__Output, Record as RecordMessage } from "./generated/fedseq/v1/Record.js";
import type { StepReply, StepReply__Output } from "./generated/fedseq/v1/StepReply.js";
import type { StepRequest, StepRequest__Output } from "./generated/fedseq/v1/StepRequest.js";
import type { Tag__Output } from "./generated/fedseq/v1/Tag.js";

if (endianness() !== "LE") throw new Error("fedseq's wire format assumes a little-endian machine");

/** A received message that does not fit the protocol. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

// ---- primitives ----

/** A float64 array as a tensor (raw little-endian bytes: exact). */
export function encodeTensor(values: Float64Array): Float64Tensor {
  return {
    shape: [values.length],
    data: Buffer.from(values.buffer, values.byteOffset, values.byteLength),
  };
}

/**
 * Decode a tensor, checking its length (when `length` is given) and, with `finite`, that every
 * value is finite.
 */
export function decodeTensor(
  t: Float64Tensor__Output | null | undefined,
  what: string,
  length?: number,
  finite = false,
): Float64Array {
  if (t === null || t === undefined) throw new ProtocolError(`${what}: missing`);
  const bytes = t.data;
  if (bytes.length % 8 !== 0)
    throw new ProtocolError(`${what}: ${bytes.length} bytes is not a whole number of float64`);
  const n = bytes.length / 8;
  const declared = t.shape.reduce((a, b) => a * b, 1);
  if (declared !== n)
    throw new ProtocolError(`${what}: shape [${t.shape.join(", ")}] does not match ${n} values`);
  if (length !== undefined && n !== length)
    throw new ProtocolError(`${what}: ${n} values, expected ${length}`);
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(bytes);
  if (finite) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i]))
        throw new ProtocolError(`${what}: value ${i} is not finite (${out[i]})`);
    }
  }
  return out;
}

/** A gene mask as a bit set (least significant bit first). */
export function encodeMask(mask: GeneMask): BitMask {
  const bits = Buffer.alloc(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) bits[i >> 3] |= 1 << (i & 7);
  return { length: mask.length, bits };
}

/** Decode a bit set, checking its length. */
export function decodeMask(
  b: BitMask__Output | null | undefined,
  what: string,
  length?: number,
): GeneMask {
  if (b === null || b === undefined) throw new ProtocolError(`${what}: missing`);
  if (length !== undefined && b.length !== length)
    throw new ProtocolError(`${what}: ${b.length} genes, expected ${length}`);
  if (b.bits.length !== Math.ceil(b.length / 8))
    throw new ProtocolError(`${what}: ${b.bits.length} bytes for ${b.length} bits`);
  const mask = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) mask[i] = (b.bits[i >> 3] >> (i & 7)) & 1;
  return mask;
}

/** A tag as received (a missing tag is a protocol error). */
export function decodeTag(tag: Tag__Output | null): RequestTag {
  if (tag === null) throw new ProtocolError("message without a tag");
  const decoded = { runId: tag.runId, phase: tag.phase, round: tag.round };
  return tag.plan === "" ? decoded : { ...decoded, plan: tag.plan };
}

// ---- requests (aggregator → center) and replies (center → aggregator) ----

/** The schema of a step's request or reply. */
function schemaOf(step: StepName, side: "request" | "reply"): RecordSchema {
  return STEPS[step][side] as RecordSchema;
}

/**
 * Encode a step request, with the replies to the previous request when the centers verify
 * requests (verifiedRequests.ts): the recipient's own place holds an empty record.
 */
export function encodeRequest<K extends StepName>(
  tag: RequestTag,
  step: K,
  input: StepInput<K>,
  evidence: RelayedEvidence | null = null,
): StepRequest {
  const request: StepRequest = {
    tag,
    record: encodeRecord(step, schemaOf(step, "request"), input as FlatRecord),
  };
  if (evidence !== null) {
    request.evidence = {
      tag: evidence.tag,
      step: evidence.step,
      replies: evidence.replies.map((r) => (r === null ? {} : protectedRecord(evidence.step, r))),
    };
  }
  return request;
}

/** A decoded request (its values are checked by the center: registry.ts's `checkRequest`). */
export type DecodedRequest = {
  [K in StepName]: {
    tag: RequestTag;
    step: K;
    input: StepInput<K>;
    /** The replies to the previous request, relayed (null: none). */
    evidence: RelayedEvidence | null;
  };
}[StepName];

function decodeEvidence(e: Evidence__Output | null | undefined): RelayedEvidence | null {
  if (e === null || e === undefined) return null;
  if (!isStep(e.step)) throw new ProtocolError(`relayed replies of an unknown step ${e.step}`);
  const step = e.step;
  const replies = e.replies.map((r, c) => {
    if (r.step !== "") return protectedReplyOf(r, step);
    if (isEmptyRecord(r)) return null;
    throw new ProtocolError(`relayed reply ${c + 1}: a record without a step that is not empty`);
  });
  return { tag: decodeTag(e.tag), step, replies };
}

/** Whether a record holds no field: the one that stands for the recipient's own reply. */
function isEmptyRecord(r: Record__Output): boolean {
  return [
    r.tensors,
    r.masks,
    r.numbers,
    r.booleans,
    r.texts,
    r.textLists,
    r.byteArrays,
    r.counts,
    r.masked,
    r.authenticators,
  ].every((m) => Object.keys(m ?? {}).length === 0);
}

/** Decode a step request (at the center). */
export function decodeRequest(message: StepRequest__Output): DecodedRequest {
  const tag = decodeTag(message.tag);
  const r = message.record;
  if (message.step !== "record" || r === null || r === undefined || !isStep(r.step))
    throw new ProtocolError(`request names no known step (${String(r?.step ?? message.step)})`);
  const input = decodeRecord(r, schemaOf(r.step, "request"), r.step);
  return { tag, step: r.step, input, evidence: decodeEvidence(message.evidence) } as DecodedRequest;
}

/** Encode a step's output. */
export function encodeReply<K extends StepName>(
  tag: RequestTag,
  step: K,
  output: StepOutput<K>,
): StepReply {
  return { tag, record: encodeRecord(step, schemaOf(step, "reply"), output as FlatRecord) };
}

/**
 * Encode a reply under secure aggregation: the clear fields as a record of the step's reply
 * schema minus the masked fields, the masked vectors' bytes in the record's `masked` map.
 */
export function encodeProtectedReply<K extends StepName>(
  tag: RequestTag,
  step: K,
  reply: ProtectedReply,
): StepReply {
  return { tag, record: protectedRecord(step, reply) };
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A protected reply as a record: its clear fields, masked vectors and authenticators. */
function protectedRecord(step: StepName, reply: ProtectedReply): RecordMessage {
  const record = encodeRecord(step, clearSchema(step), reply.clear as unknown as FlatRecord);
  const masked: Record<string, Buffer> = {};
  for (const [name, bytes] of Object.entries(reply.masked)) masked[name] = bufferOf(bytes);
  record.masked = masked;
  if (reply.authenticators !== undefined) {
    const authenticators: Record<string, Buffer> = {};
    for (const [peer, mac] of Object.entries(reply.authenticators))
      authenticators[peer] = bufferOf(mac);
    record.authenticators = authenticators;
  }
  return record;
}

/**
 * Decode a reply sent under secure aggregation (at the aggregator): the clear fields against
 * the clear part of the step's schema, and exactly the masked vectors the step declares (their
 * lengths are checked when they are summed, the rebuilt shares by the registry's `checkReply`).
 */
export function decodeProtectedReply<K extends StepName>(
  message: StepReply__Output,
  step: K,
): ProtectedReply {
  const r = message.record;
  if (message.step !== "record" || r === null || r === undefined || r.step !== step)
    throw new ProtocolError(`reply to ${step} carries ${String(r?.step ?? message.step)}`);
  return protectedReplyOf(r, step);
}

/** A protected reply from its record (clear part, masked vectors, authenticators), checked. */
function protectedReplyOf(r: Record__Output, step: StepName): ProtectedReply {
  if (r.step !== step) throw new ProtocolError(`reply to ${step} carries ${r.step}`);
  const clear = decodeRecord(r, clearSchema(step), step) as unknown as Record<string, unknown>;
  const expected = maskedNames(step);
  const masked: Record<string, Uint8Array> = {};
  for (const [name, bytes] of Object.entries(r.masked ?? {})) {
    if (!expected.has(name)) throw new ProtocolError(`${step}: unexpected masked field ${name}`);
    masked[name] = new Uint8Array(bytes);
  }
  for (const name of expected) {
    if (masked[name] === undefined) throw new ProtocolError(`${step}.${name}: not masked`);
  }
  const authenticators: Record<string, Uint8Array> = {};
  for (const [peer, mac] of Object.entries(r.authenticators ?? {}))
    authenticators[peer] = new Uint8Array(mac);
  return { clear, masked, authenticators };
}

/** A key announcement as sent. */
export function encodeAnnouncement(a: KeyAnnouncement, epoch: number): KeyAnnouncementMessage {
  return { ...a, centers: [...a.centers], epoch };
}

/** A key announcement as received (its content is checked by every center). */
export function decodeAnnouncement(m: KeyAnnouncement__Output): KeyAnnouncement {
  return {
    runId: m.runId,
    center: m.center,
    centers: [...m.centers],
    publicKey: m.publicKey,
    certificate: m.certificate,
    signature: m.signature,
  };
}

/** An error reply. */
export function encodeErrorReply(tag: RequestTag, message: string, userError: boolean): StepReply {
  return { tag, error: { message, userError } };
}

/**
 * Decode and validate a center's reply to `input` (at the aggregator): the registry's
 * `checkReply`, e.g. every length the one the request implies.
 */
export function decodeReply<K extends StepName>(
  message: StepReply__Output,
  step: K,
  input: StepInput<K>,
): StepOutput<K> {
  const r = message.record;
  if (message.step !== "record" || r === null || r === undefined || r.step !== step)
    throw new ProtocolError(`reply to ${step} carries ${String(r?.step ?? message.step)}`);
  const output = decodeRecord(r, schemaOf(step, "reply"), step);
  try {
    return checkReply(step, input, output);
  } catch (error) {
    if (error instanceof RecordShapeError) throw new ProtocolError(error.message);
    throw error;
  }
}

// ---- flat records ----

/**
 * Whole numbers 0 … 2³²−1 as a width byte (1, 2 or 4) and that many little-endian bytes each:
 * the narrowest width that holds the largest value.
 */
export function encodeCounts(values: Float64Array): Buffer {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  const width = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
  const out = Buffer.allocUnsafe(1 + values.length * width);
  out[0] = width;
  if (width === 1) for (let i = 0; i < values.length; i++) out[1 + i] = values[i];
  else if (width === 2)
    for (let i = 0; i < values.length; i++) out.writeUInt16LE(values[i], 1 + 2 * i);
  else for (let i = 0; i < values.length; i++) out.writeUInt32LE(values[i], 1 + 4 * i);
  return out;
}

/** Decode {@link encodeCounts}, checking the width and the length. */
export function decodeCounts(bytes: Buffer, what: string): Float64Array {
  const width = bytes.length === 0 ? 0 : bytes[0];
  if (width !== 1 && width !== 2 && width !== 4)
    throw new ProtocolError(`${what}: counts of width ${width}`);
  if ((bytes.length - 1) % width !== 0)
    throw new ProtocolError(`${what}: ${bytes.length - 1} bytes is not a whole number of counts`);
  const out = new Float64Array((bytes.length - 1) / width);
  if (width === 1) for (let i = 0; i < out.length; i++) out[i] = bytes[1 + i];
  else if (width === 2) for (let i = 0; i < out.length; i++) out[i] = bytes.readUInt16LE(1 + 2 * i);
  else for (let i = 0; i < out.length; i++) out[i] = bytes.readUInt32LE(1 + 4 * i);
  return out;
}

/** Encode a record field by field, as its schema declares. */
function encodeRecord<T extends FlatRecord>(
  step: string,
  schema: RecordSchema<T>,
  value: T,
): RecordMessage {
  const out: Required<Omit<RecordMessage, "step" | "authenticators">> & { step: string } = {
    step,
    tensors: {},
    masks: {},
    numbers: {},
    booleans: {},
    texts: {},
    textLists: {},
    byteArrays: {},
    counts: {},
    masked: {},
  };
  const fields = value as unknown as Record<string, unknown>;
  for (const [field, kind] of Object.entries(schema.fields) as [string, FieldKind][]) {
    const v = fields[field];
    switch (kind) {
      case "f64":
      case "finite":
        out.tensors[field] = encodeTensor(v as Float64Array);
        break;
      case "mask":
        out.masks[field] = encodeMask(v as GeneMask);
        break;
      case "counts":
        out.counts[field] = encodeCounts(v as Float64Array);
        break;
      case "u8": {
        const bytes = v as Uint8Array;
        out.byteArrays[field] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        break;
      }
      case "number":
        out.numbers[field] = v as number;
        break;
      case "boolean":
        out.booleans[field] = v as boolean;
        break;
      case "text":
        out.texts[field] = v as string;
        break;
      case "texts":
        out.textLists[field] = { values: [...(v as readonly string[])] };
        break;
    }
  }
  return out;
}

/**
 * Decode a record's fields as its schema declares (every field present, of its wire type); what
 * the values must be is the registry's check.
 */
function decodeRecord<T extends FlatRecord>(
  r: Record__Output,
  schema: RecordSchema<T>,
  what: string,
): T {
  const value: Record<string, unknown> = { kind: schema.kind };
  for (const [field, kind] of Object.entries(schema.fields) as [string, FieldKind][]) {
    const where = `${what}.${field}`;
    const missing = () => new ProtocolError(`${where}: missing`);
    switch (kind) {
      case "f64":
      case "finite":
        value[field] = decodeTensor(r.tensors[field], where);
        break;
      case "mask":
        value[field] = decodeMask(r.masks[field], where);
        break;
      case "counts": {
        const bytes = r.counts[field];
        if (bytes === undefined) throw missing();
        value[field] = decodeCounts(bytes, where);
        break;
      }
      case "u8": {
        const bytes = r.byteArrays[field];
        if (bytes === undefined) throw missing();
        value[field] = Uint8Array.from(bytes);
        break;
      }
      case "number":
        if (!(field in r.numbers)) throw missing();
        value[field] = r.numbers[field];
        break;
      case "boolean":
        if (!(field in r.booleans)) throw missing();
        value[field] = r.booleans[field];
        break;
      case "text":
        if (!(field in r.texts)) throw missing();
        value[field] = r.texts[field];
        break;
      case "texts": {
        const list = r.textLists[field];
        if (list === undefined) throw missing();
        value[field] = list.values;
        break;
      }
    }
  }
  return value as T;
}
