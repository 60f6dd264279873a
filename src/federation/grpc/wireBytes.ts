/**
 * Exact sizes of messages as the gRPC transport sends them (protobuf encoding of
 * `proto/fedseq.proto`, HTTP/2 framing aside): what `run.json` reports as bytes, for every
 * transport, so that a simulated run tells what a real one would move.
 */
import type { RequestTag, StepInput, StepName, StepOutput } from "../steps.js";
import { encodeReply, encodeRequest } from "./codec.js";
import { fedseqProto } from "./proto.js";

/** Bytes of the request the aggregator sends one center. */
export function requestBytes<K extends StepName>(
  tag: RequestTag,
  step: K,
  input: StepInput<K>,
): number {
  const join = fedseqProto().fedseq.v1.Federation.service.Join;
  return join.responseSerialize({ request: encodeRequest(tag, step, input) }).length;
}

/** Bytes of a center's reply. */
export function replyBytes<K extends StepName>(
  tag: RequestTag,
  step: K,
  output: StepOutput<K>,
): number {
  const join = fedseqProto().fedseq.v1.Federation.service.Join;
  return join.requestSerialize({ reply: encodeReply(tag, step, output) }).length;
}
