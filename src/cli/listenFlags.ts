/**
 * The flags of an aggregator that listens for centers (`run --listen`, `aggregate`): checked
 * together before anything listens, and the listening itself, whose failure (a port in use, an
 * address not of this machine) is a mistake in `--listen`.
 */
import { createServer } from "node:net";
import { splitAddress } from "../federation/grpc/address.js";
import type { GrpcAggregator, GrpcAggregatorOptions } from "../federation/grpc/aggregatorServer.js";
import type { TlsFiles } from "../federation/grpc/proto.js";
import { InputError } from "../io/errors.js";
import { readTlsFiles } from "./tlsFlags.js";

/** The largest `--max-message-mb`: gRPC's limits are 32-bit. */
export const MAX_MESSAGE_MB = 2047;

/** The parsed flags of a listening aggregator (those a command lacks are undefined). */
export interface ListenFlags {
  listen?: string;
  centers?: string[];
  ca?: string;
  cert?: string;
  key?: string;
  joinTimeout: number;
  reconnectTimeout?: number;
  roundTimeout: number;
  maxMessageMb?: number;
  /** False with `--no-secure-aggregation`. */
  secureAggregation?: boolean;
}

/** A listening aggregator's checked settings. */
export interface ListenSetup {
  readonly listen: string;
  readonly centers: string[];
  readonly tls: TlsFiles;
  readonly joinTimeoutMs: number;
  readonly reconnectTimeoutMs: number;
  readonly roundTimeoutMs: number;
  readonly maxMessageBytes?: number;
  /** Secure aggregation (on unless `--no-secure-aggregation`). */
  readonly secureAggregation: boolean;
}

/**
 * Check the flags of a listening aggregator: `--listen` with `--centers`, `--ca`, `--cert` and
 * `--key`, the PEM files readable and matching. (Each value's own syntax and range is its
 * parser's.)
 * @param command - how the command is called, for the message (`run --listen`)
 * @throws InputError naming the missing flags or the file at fault
 */
export function listenSetupFromFlags(flags: ListenFlags, command: string): ListenSetup {
  const missing = (["listen", "centers", "ca", "cert", "key"] as const).filter(
    (f) => flags[f] === undefined,
  );
  if (missing.length > 0) {
    throw new InputError(`${command} also needs ${missing.map((f) => `--${f}`).join(", ")}`);
  }
  const tls = readTlsFiles(flags as { ca: string; cert: string; key: string });
  return {
    listen: flags.listen as string,
    centers: flags.centers as string[],
    tls,
    joinTimeoutMs: flags.joinTimeout * 1000,
    reconnectTimeoutMs: (flags.reconnectTimeout ?? flags.joinTimeout) * 1000,
    roundTimeoutMs: flags.roundTimeout * 1000,
    maxMessageBytes: flags.maxMessageMb === undefined ? undefined : flags.maxMessageMb * 2 ** 20,
    secureAggregation: flags.secureAggregation !== false,
  };
}

/**
 * Start listening (the gRPC module is loaded only now). A failure to bind is the user's:
 * an {@link InputError} naming `--listen`.
 */
export async function startAggregator(
  setup: ListenSetup,
  runId: string,
  log: (line: string) => void,
  plan?: { readonly hash: string; readonly verifyRequests: boolean },
): Promise<GrpcAggregator> {
  await probeListen(setup.listen);
  const { GrpcAggregator } = await import("../federation/grpc/aggregatorServer.js");
  const options: GrpcAggregatorOptions = {
    ...setup,
    runId,
    log,
    ...(plan === undefined ? {} : { plan: plan.hash, relayReplies: plan.verifyRequests }),
  };
  try {
    return await GrpcAggregator.listen(options);
  } catch (error) {
    const message = ((error as Error).message ?? String(error)).split("\n")[0];
    throw new InputError(`--listen ${setup.listen}: cannot listen there (${message})`, {
      cause: error,
    });
  }
}

/**
 * Try the address with a plain TCP server first, so that a port in use or an address not of this
 * machine is reported in one line (gRPC would also log its own error lines).
 */
async function probeListen(listen: string): Promise<void> {
  const { host, port } = splitAddress(listen);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const reasons: Record<string, string> = {
        EADDRINUSE: "the port is in use",
        EADDRNOTAVAIL: "not an address of this machine",
        EACCES: "permission denied",
        ENOTFOUND: "unknown host",
        EAI_AGAIN: "unknown host",
      };
      const reason = (error.code && reasons[error.code]) ?? error.code ?? error.message;
      reject(new InputError(`--listen ${listen}: cannot listen there (${reason})`));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
