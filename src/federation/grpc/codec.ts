/**
 * Conversion between the federated steps' typed states and the protobuf messages of
 * `proto/fedseq.proto`, with validation of everything received: shapes consistent with the
 * request, exact float64 payloads, finite values where the mathematics requires them.
 */
import { endianness } from "node:os";
import type { FitHyperparameters } from "../../algorithms/hyperparameters.js";
import type { GeneMask } from "../../algorithms/masks.js";
import type { DesignLevels } from "../../design/designMatrix.js";
import { isRecordStep, RECORD_STEPS, type RecordStepName } from "../recordSteps.js";
import { checkRecord, type FieldKind, type FlatRecord, type RecordSchema } from "../records.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "../steps.js";
import type { BitMask, BitMask__Output } from "./generated/fedseq/v1/BitMask.js";
import type { FactorLevels, FactorLevels__Output } from "./generated/fedseq/v1/FactorLevels.js";
import type { Float64Tensor, Float64Tensor__Output } from "./generated/fedseq/v1/Float64Tensor.js";
import type { Hyperparameters__Output } from "./generated/fedseq/v1/Hyperparameters.js";
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

/**
 * `count` symmetric p×p matrices as their upper triangles (p(p+1)/2 distinct entries each, row
 * by row): lossless, since the kernels build them exactly symmetric.
 */
export function encodeSymmetric(values: Float64Array, p: number): Float64Tensor {
  const pp = p * p;
  const half = (p * (p + 1)) / 2;
  const count = values.length / pp;
  const packed = new Float64Array(count * half);
  let j = 0;
  for (let m = 0; m < count; m++) {
    for (let k = 0; k < p; k++)
      for (let l = k; l < p; l++) packed[j++] = values[m * pp + k * p + l];
  }
  return {
    shape: [count, half],
    data: Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength),
  };
}

/** Unpack {@link encodeSymmetric}: `count` full p×p matrices. */
export function decodeSymmetric(
  t: Float64Tensor__Output | null | undefined,
  what: string,
  count: number,
  p: number,
  finite = false,
): Float64Array {
  const half = (p * (p + 1)) / 2;
  const packed = decodeTensor(t, what, count * half, finite);
  const pp = p * p;
  const out = new Float64Array(count * pp);
  let j = 0;
  for (let m = 0; m < count; m++) {
    for (let k = 0; k < p; k++) {
      for (let l = k; l < p; l++) {
        const v = packed[j++];
        out[m * pp + k * p + l] = v;
        out[m * pp + l * p + k] = v;
      }
    }
  }
  return out;
}

/**
 * The rows of a G×p coefficient matrix for the genes set in `mask` (shape [A, p]): a center
 * evaluates only the active genes, so the others need not travel.
 */
export function encodeActiveRows(beta: Float64Array, mask: GeneMask): Float64Tensor {
  const p = mask.length === 0 ? 0 : beta.length / mask.length;
  const rows: number[] = [];
  mask.forEach((v, g) => {
    if (v) rows.push(g);
  });
  const out = new Float64Array(rows.length * p);
  rows.forEach((g, a) => {
    out.set(beta.subarray(g * p, g * p + p), a * p);
  });
  return { shape: [rows.length, p], data: Buffer.from(out.buffer, out.byteOffset, out.byteLength) };
}

/** Unpack {@link encodeActiveRows} into a G×p matrix (rows of inactive genes left at 0, unread). */
export function decodeActiveRows(
  t: Float64Tensor__Output | null | undefined,
  what: string,
  mask: GeneMask,
  finite: boolean,
): Float64Array {
  if (t === null || t === undefined) throw new ProtocolError(`${what}: missing`);
  if (
    t.shape.length !== 2 ||
    t.shape[0] !== count(mask) ||
    !(t.shape[1] >= 1) ||
    t.shape[1] > 1000
  ) {
    throw new ProtocolError(`${what}: shape [${t.shape.join(", ")}], expected [${count(mask)}, p]`);
  }
  const p = t.shape[1];
  const rows = decodeTensor(t, what, count(mask) * p, finite);
  const out = new Float64Array(mask.length * p);
  let a = 0;
  for (let g = 0; g < mask.length; g++) {
    if (!mask[g]) continue;
    out.set(rows.subarray(a * p, a * p + p), g * p);
    a++;
  }
  return out;
}

/** Placeholder for a per-gene field a center does not read (it stays with the aggregator). */
const NOT_SENT: Float64Tensor = { shape: [0], data: Buffer.alloc(0) };

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

function count(mask: GeneMask): number {
  let c = 0;
  for (let i = 0; i < mask.length; i++) c += mask[i];
  return c;
}

function encodeLevels(levels: DesignLevels): FactorLevels[] {
  return Object.entries(levels).map(([factor, values]) => ({ factor, levels: values }));
}

function decodeLevels(list: FactorLevels__Output[]): DesignLevels {
  const levels: DesignLevels = {};
  for (const f of list) {
    if (Object.hasOwn(levels, f.factor))
      throw new ProtocolError(`levels: factor ${f.factor} twice`);
    levels[f.factor] = [...f.levels];
  }
  return levels;
}

function decodeHyperparameters(h: Hyperparameters__Output | null): FitHyperparameters {
  if (h === null) throw new ProtocolError("prepare: hyper-parameters missing");
  const hp: FitHyperparameters = {
    minMu: h.minMu,
    betaTol: h.betaTol,
    maxBeta: h.maxBeta,
    irlsNumIter: h.irlsNumIter,
    pqnC1: h.pqnC1,
    pqnFtol: h.pqnFtol,
    pqnNumItersLs: h.pqnNumItersLs,
    pqnNumIters: h.pqnNumIters,
    pqnMinMu: h.pqnMinMu,
  };
  if (!(hp.maxBeta > 0) || !(hp.pqnNumItersLs >= 1) || !(hp.minMu >= 0) || !(hp.pqnMinMu >= 0)) {
    throw new ProtocolError("prepare: hyper-parameters out of range");
  }
  return hp;
}

/** A tag as received (a missing tag is a protocol error). */
export function decodeTag(tag: Tag__Output | null): RequestTag {
  if (tag === null) throw new ProtocolError("message without a tag");
  return { runId: tag.runId, phase: tag.phase, round: tag.round };
}

// ---- requests (aggregator → center) ----

/** Encode a step request. */
export function encodeRequest<K extends StepName>(
  tag: RequestTag,
  step: K,
  input: StepInput<K>,
): StepRequest {
  const message: StepRequest = { tag };
  switch (step) {
    case "presence":
      message.presence = { genes: [...(input as StepInput<"presence">).genes] };
      break;
    case "levels":
      message.levels = { formula: (input as StepInput<"levels">).formula };
      break;
    case "prepare": {
      const r = input as StepInput<"prepare">;
      message.prepare = {
        formula: r.formula,
        levels: encodeLevels(r.levels),
        references: { ...r.references },
        genes: [...r.genes],
        dispersions: encodeTensor(r.dispersions),
        sizeFactors: encodeTensor(r.sizeFactors),
        hyperparameters: { ...r.hyperparameters },
      };
      break;
    }
    case "init":
      message.init = { refit: (input as StepInput<"init">).refit };
      break;
    case "irls": {
      const s = input as StepInput<"irls">;
      message.irls = {
        round: s.round,
        refit: s.refit,
        beta: encodeActiveRows(s.beta, s.mask),
        mask: encodeMask(s.mask),
        // The aggregator's: the centers do not read them.
        diverged: encodeMask(new Uint8Array(0)),
        nll: NOT_SENT,
      };
      break;
    }
    case "pqn": {
      const s = input as StepInput<"pqn">;
      message.pqn = {
        round: s.round,
        refit: s.refit,
        beta: encodeActiveRows(s.beta, s.mask),
        mask: encodeMask(s.mask),
        // The aggregator's: the centers do not read them.
        diverged: encodeMask(new Uint8Array(0)),
        irlsDiverged: encodeMask(new Uint8Array(0)),
        regNll: NOT_SENT,
        direction: s.direction === null ? null : encodeTensor(s.direction),
        decrement: null,
      };
      break;
    }
    case "newton": {
      const st = input as StepInput<"newton">;
      message.newton = {
        round: st.round,
        refit: st.refit,
        beta: encodeActiveRows(st.beta, st.mask),
        mask: encodeMask(st.mask),
        step: st.step === null ? null : encodeTensor(st.step),
        stepSizes: encodeTensor(st.stepSizes),
      };
      break;
    }
    default:
      if (!isRecordStep(step)) throw new Error(`cannot encode step ${String(step)}`);
      message.record = encodeRecord(step, schemaOf(step, "input"), input as FlatRecord);
  }
  return message;
}

/** A decoded, validated request. */
export type DecodedRequest = {
  [K in StepName]: { tag: RequestTag; step: K; input: StepInput<K> };
}[StepName];

/** Decode and validate a step request (at the center). */
export function decodeRequest(message: StepRequest__Output): DecodedRequest {
  const tag = decodeTag(message.tag);
  switch (message.step) {
    case "presence":
      return {
        tag,
        step: "presence",
        input: { kind: "presence-request", genes: message.presence?.genes ?? [] },
      };
    case "levels":
      return {
        tag,
        step: "levels",
        input: { kind: "levels-request", formula: message.levels?.formula ?? "" },
      };
    case "prepare": {
      const r = message.prepare;
      if (r === null || r === undefined) throw new ProtocolError("prepare: empty");
      const dispersions = decodeTensor(r.dispersions, "prepare.dispersions", r.genes.length, true);
      const sizeFactors = decodeTensor(r.sizeFactors, "prepare.size_factors", undefined, true);
      if (dispersions.some((d) => !(d > 0)))
        throw new ProtocolError("prepare.dispersions: not all positive");
      if (sizeFactors.some((s) => !(s > 0)))
        throw new ProtocolError("prepare.size_factors: not all positive");
      return {
        tag,
        step: "prepare",
        input: {
          kind: "prepare-request",
          formula: r.formula,
          levels: decodeLevels(r.levels),
          references: { ...r.references },
          genes: r.genes,
          dispersions,
          sizeFactors,
          hyperparameters: decodeHyperparameters(r.hyperparameters),
        },
      };
    }
    case "init":
      return {
        tag,
        step: "init",
        input: { kind: "init-request", refit: message.init?.refit ?? false },
      };
    case "irls": {
      const s = message.irls;
      if (s === null || s === undefined) throw new ProtocolError("irls: empty");
      const mask = decodeMask(s.mask, "irls.mask");
      const genes = mask.length;
      const beta = decodeActiveRows(s.beta, "irls.beta", mask, false);
      return {
        tag,
        step: "irls",
        input: {
          kind: "irls-round",
          round: s.round,
          refit: s.refit,
          beta,
          mask,
          // Not sent: the aggregator's bookkeeping.
          divergedMask: new Uint8Array(genes),
          nll: new Float64Array(genes).fill(Number.NaN),
        },
      };
    }
    case "pqn": {
      const s = message.pqn;
      if (s === null || s === undefined) throw new ProtocolError("pqn: empty");
      const mask = decodeMask(s.mask, "pqn.mask");
      const genes = mask.length;
      const beta = decodeActiveRows(s.beta, "pqn.beta", mask, true);
      const p = genes === 0 ? 0 : beta.length / genes;
      const active = count(mask);
      const direction =
        s.direction === null ? null : decodeTensor(s.direction, "pqn.direction", active * p, true);
      // Not sent: the aggregator's bookkeeping.
      const decrement = null;
      if (s.round > 0 && direction === null)
        throw new ProtocolError("pqn: round > 0 without a direction");
      return {
        tag,
        step: "pqn",
        input: {
          kind: "pqn-round",
          round: s.round,
          refit: s.refit,
          beta,
          mask,
          divergedMask: new Uint8Array(genes),
          irlsDivergedMask: new Uint8Array(genes),
          regNll: new Float64Array(genes).fill(Number.NaN),
          direction,
          decrement,
        },
      };
    }
    case "newton": {
      const st = message.newton;
      if (st === null || st === undefined) throw new ProtocolError("newton: empty");
      const mask = decodeMask(st.mask, "newton.mask");
      const genes = mask.length;
      const beta = decodeActiveRows(st.beta, "newton.beta", mask, true);
      const p = genes === 0 ? 0 : beta.length / genes;
      const stepSizes = decodeTensor(st.stepSizes, "newton.step_sizes", undefined, true);
      if (stepSizes.length === 0 || stepSizes.length > 64)
        throw new ProtocolError("newton.step_sizes: 1 to 64 values");
      const stepVector =
        st.step === null ? null : decodeTensor(st.step, "newton.step", count(mask) * p, true);
      if (st.round > 0 && stepVector === null)
        throw new ProtocolError("newton: round > 0 without a step");
      return {
        tag,
        step: "newton",
        input: {
          kind: "newton-round",
          round: st.round,
          refit: st.refit,
          beta,
          mask,
          step: stepVector,
          stepSizes,
          // The aggregator's own bookkeeping does not travel.
          merit: null,
          metric: null,
          regNll: new Float64Array(0),
          finishedRound: new Int32Array(0),
          unconverged: new Uint8Array(0),
        },
      };
    }
    case "record": {
      const r = message.record;
      if (r === null || r === undefined || !isRecordStep(r.step))
        throw new ProtocolError(`request names no known step (${String(r?.step)})`);
      const input = decodeRecord(r, schemaOf(r.step, "input"), r.step);
      return { tag, step: r.step, input } as DecodedRequest;
    }
    default:
      throw new ProtocolError(`request names no known step (${String(message.step)})`);
  }
}

// ---- replies (center → aggregator) ----

/** Encode a step's output. */
export function encodeReply<K extends StepName>(
  tag: RequestTag,
  step: K,
  output: StepOutput<K>,
): StepReply {
  const message: StepReply = { tag };
  switch (step) {
    case "presence":
      message.presence = { present: encodeMask((output as StepOutput<"presence">).present) };
      break;
    case "levels":
      message.levels = { factors: encodeLevels((output as StepOutput<"levels">).levels) };
      break;
    case "prepare": {
      const o = output as StepOutput<"prepare">;
      message.prepare = {
        gram: encodeTensor(o.gram),
        samples: o.samples,
        normalizedSums: encodeTensor(o.normalizedSums),
      };
      break;
    }
    case "init": {
      const o = output as StepOutput<"init">;
      message.init = { gram: encodeTensor(o.gram), logFeatures: encodeTensor(o.logFeatures) };
      break;
    }
    case "irls": {
      const o = output as StepOutput<"irls">;
      message.irls = {
        round: o.round,
        nll: encodeTensor(o.nll),
        hatMatrix: encodeSymmetric(
          o.hatMatrix,
          o.nll.length === 0 ? 1 : o.features.length / o.nll.length,
        ),
        features: encodeTensor(o.features),
      };
      break;
    }
    case "pqn": {
      const o = output as StepOutput<"pqn">;
      message.pqn = {
        round: o.round,
        steps: o.steps,
        nll: encodeTensor(o.nll),
        gradient: encodeTensor(o.gradient),
        fisher: encodeSymmetric(
          o.fisher,
          o.nll.length === 0 ? 1 : o.gradient.length / o.nll.length,
        ),
      };
      break;
    }
    case "newton": {
      const o = output as StepOutput<"newton">;
      message.newton = {
        round: o.round,
        points: o.points,
        nll: encodeTensor(o.nll),
        residual: encodeTensor(o.residual),
        information: encodeSymmetric(
          o.information,
          o.nll.length === 0 ? 1 : o.residual.length / o.nll.length,
        ),
      };
      break;
    }
    default:
      if (!isRecordStep(step)) throw new Error(`cannot encode step ${String(step)}`);
      message.record = encodeRecord(step, schemaOf(step, "output"), output as FlatRecord);
  }
  return message;
}

/** An error reply. */
export function encodeErrorReply(tag: RequestTag, message: string, userError: boolean): StepReply {
  return { tag, error: { message, userError } };
}

/**
 * Decode and validate a center's reply to `input` (at the aggregator): every shape must be the
 * one the request implies.
 */
export function decodeReply<K extends StepName>(
  message: StepReply__Output,
  step: K,
  input: StepInput<K>,
): StepOutput<K> {
  type Out = StepOutput<K>;
  if (isRecordStep(step)) {
    const r = message.record;
    if (message.step !== "record" || r === null || r === undefined || r.step !== step)
      throw new ProtocolError(`reply to ${step} carries ${String(r?.step ?? message.step)}`);
    const spec = RECORD_STEPS[step];
    const output = decodeRecord(r, schemaOf(step, "output"), step);
    // biome-ignore lint/suspicious/noExplicitAny: the spec matches the step by construction
    const lengths = (spec.replyLengths as (i: any) => Record<string, number>)(input);
    for (const [field, length] of Object.entries(lengths)) {
      const value = (output as unknown as Record<string, { length: number }>)[field];
      if (value.length !== length)
        throw new ProtocolError(`${step}.${field}: ${value.length} values, expected ${length}`);
    }
    return output as unknown as Out;
  }
  if (message.step !== step)
    throw new ProtocolError(`reply to ${step} carries ${String(message.step)}`);
  switch (step) {
    case "presence": {
      const request = input as StepInput<"presence">;
      return {
        kind: "presence-share",
        present: decodeMask(message.presence?.present, "presence", request.genes.length),
      } as Out;
    }
    case "levels":
      return { kind: "levels-share", levels: decodeLevels(message.levels?.factors ?? []) } as Out;
    case "prepare": {
      const gram = decodeTensor(message.prepare?.gram, "prepare.gram", undefined, true);
      const p = Math.round(Math.sqrt(gram.length));
      if (p * p !== gram.length || p === 0)
        throw new ProtocolError("prepare.gram: not a square matrix");
      const request = input as StepInput<"prepare">;
      const normalizedSums = decodeTensor(
        message.prepare?.normalizedSums,
        "prepare.normalized_sums",
        request.genes.length,
        true,
      );
      return {
        kind: "prepare-share",
        gram,
        samples: message.prepare?.samples ?? 0,
        normalizedSums,
      } as Out;
    }
    case "init": {
      const gram = decodeTensor(message.init?.gram, "init.gram", undefined, true);
      const p = Math.round(Math.sqrt(gram.length));
      if (p * p !== gram.length || p === 0)
        throw new ProtocolError("init.gram: not a square matrix");
      const logFeatures = decodeTensor(
        message.init?.logFeatures,
        "init.log_features",
        undefined,
        true,
      );
      if (logFeatures.length % p !== 0)
        throw new ProtocolError("init.log_features: not genes × coefficients");
      return { kind: "init-share", gram, logFeatures } as Out;
    }
    case "irls": {
      const s = input as StepInput<"irls">;
      const p = s.beta.length / s.mask.length;
      const active = count(s.mask);
      const r = message.irls;
      if (r === null || r === undefined || r.round !== s.round)
        throw new ProtocolError(`irls reply for round ${r?.round}, expected ${s.round}`);
      return {
        kind: "irls-share",
        round: r.round,
        nll: decodeTensor(r.nll, "irls.nll", active),
        hatMatrix: decodeSymmetric(r.hatMatrix, "irls.hat_matrix", active, p, true),
        features: decodeTensor(r.features, "irls.features", active * p, true),
      } as Out;
    }
    case "pqn": {
      const s = input as StepInput<"pqn">;
      const p = s.beta.length / s.mask.length;
      const active = count(s.mask);
      const r = message.pqn;
      if (r === null || r === undefined || r.round !== s.round)
        throw new ProtocolError(`pqn reply for round ${r?.round}, expected ${s.round}`);
      if (s.round === 0 ? r.steps !== 1 : r.steps < 1)
        throw new ProtocolError(`pqn reply with ${r.steps} steps at round ${s.round}`);
      return {
        kind: "pqn-share",
        round: r.round,
        steps: r.steps,
        nll: decodeTensor(r.nll, "pqn.nll", r.steps * active),
        gradient: decodeTensor(r.gradient, "pqn.gradient", r.steps * active * p),
        fisher: decodeSymmetric(r.fisher, "pqn.fisher", r.steps * active, p),
      } as Out;
    }
    case "newton": {
      const st = input as StepInput<"newton">;
      const p = st.beta.length / st.mask.length;
      const active = count(st.mask);
      const r = message.newton;
      const points = st.step === null ? 1 : st.stepSizes.length;
      if (r === null || r === undefined || r.round !== st.round || r.points !== points) {
        throw new ProtocolError(
          `newton reply for round ${r?.round} with ${r?.points} points, expected ${st.round} and ${points}`,
        );
      }
      return {
        kind: "newton-share",
        round: r.round,
        points,
        nll: decodeTensor(r.nll, "newton.nll", points * active),
        residual: decodeTensor(r.residual, "newton.residual", points * active * p),
        information: decodeSymmetric(r.information, "newton.information", points * active, p),
      } as Out;
    }
    default:
      throw new ProtocolError(`unknown step ${String(step)}`);
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

/** The schema of a record step's input or output, for the generic codec. */
function schemaOf(step: RecordStepName, side: "input" | "output"): RecordSchema {
  return RECORD_STEPS[step][side] as RecordSchema;
}

/** Encode a record field by field, as its schema declares. */
function encodeRecord<T extends FlatRecord>(
  step: string,
  schema: RecordSchema<T>,
  value: T,
): RecordMessage {
  const out: Required<Omit<RecordMessage, "step">> & { step: string } = {
    step,
    tensors: {},
    masks: {},
    numbers: {},
    booleans: {},
    texts: {},
    textLists: {},
    byteArrays: {},
    counts: {},
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

/** Decode a record and check it against its schema (every field present, of its kind). */
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
        value[field] = decodeTensor(r.tensors[field], where, undefined, kind === "finite");
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
  try {
    return checkRecord(schema, value, what);
  } catch (e) {
    throw new ProtocolError((e as Error).message);
  }
}
