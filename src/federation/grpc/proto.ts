/**
 * The gRPC service definition, loaded from `proto/fedseq.proto` (shipped with the package).
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { packageRoot } from "../../io/bundled.js";
import type { ProtoGrpcType } from "./generated/fedseq.js";

/**
 * Protocol version a center announces in its Hello; the aggregator refuses any other at join.
 * 5: the replies relayed to a center under verified requests leave its own out (an empty
 * record at its place: a version-4 center would find its own reply missing and refuse); 4: the
 * public bounds of the information and moment sums are 1e30 and 1e21 (a version-3 center
 * would encode them at another scale, and the sums would be noise); 3: the Cook's requests
 * carry the μ of their residuals (`residualLink`, `residualBeta`: a version-2 center would drop
 * the fields and compute a likelihood-ratio test's distances at the wrong μ, silently); 2: every
 * step's request and reply is a record of the step registry; 1 had messages of their own for
 * the fit's steps.
 */
export const PROTOCOL_VERSION = 5;

let cached: ProtoGrpcType | null = null;

/** The loaded `fedseq.v1` package (message decoding options match the generated types). */
export function fedseqProto(): ProtoGrpcType {
  if (cached === null) {
    const definition = protoLoader.loadSync(join(packageRoot(), "proto", "fedseq.proto"), {
      keepCase: false,
      longs: Number,
      enums: String,
      bytes: Buffer,
      defaults: true,
      oneofs: true,
    });
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}

/** PEM files of one party of a mutual-TLS federation. */
export interface TlsFiles {
  /** The federation's certificate authority. */
  readonly ca: Buffer;
  /** This party's certificate chain. */
  readonly cert: Buffer;
  /** This party's private key. */
  readonly key: Buffer;
}

/**
 * Channel options: message size caps and keep-alives that notice dead peers. The send cap
 * defaults to the receive cap; the aggregator's is the transport's: its `--max-message-mb`
 * bounds what it accepts, while its own requests (under verified requests every center's
 * replies relayed to each) may be several times a reply, and a request over a send cap is
 * dropped by gRPC with no word to the aggregator, whose centers would then retry it in vain.
 */
export function channelOptions(
  maxMessageBytes: number,
  maxSendBytes: number = maxMessageBytes,
): grpc.ChannelOptions {
  return {
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxSendBytes,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 60_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.max_pings_without_data": 0,
  };
}

/** Default cap on one message: 1 GiB (a PQN share of 30k genes × 20 steps × p = 8 is ~320 MB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;
