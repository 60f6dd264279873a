/**
 * Entry point of a center's worker thread: loads the center's data itself (it never passes
 * through the main thread) and answers step requests.
 */
import { parentPort, workerData } from "node:worker_threads";
import { transferables } from "../compute/transferables.js";
import { InputError } from "../io/errors.js";
import { type CenterSource, loadCenterData } from "./centerData.js";
import { CenterSession, centerInfo } from "./centerSession.js";
import { SecureCenter } from "./secureAggregation/layer.js";
import type {
  WorkerKeyRequest,
  WorkerReply,
  WorkerRequest,
  WorkerSecureSetup,
} from "./workerProtocol.js";

const port = parentPort;
if (port === null) throw new Error("workerEntry must run in a worker thread");

function failure(error: unknown): { message: string; userError: boolean } {
  const message = error instanceof Error ? error.message : String(error);
  return { message, userError: error instanceof InputError };
}

try {
  const session = new CenterSession(await loadCenterData(workerData.source as CenterSource));
  const setup = workerData.secure as WorkerSecureSetup | undefined;
  const secure =
    setup === undefined
      ? null
      : new SecureCenter(
          session.name,
          { certificate: setup.certificate, key: setup.key },
          { ca: setup.ca },
        );
  port.on("message", (request: WorkerRequest | WorkerKeyRequest) => {
    let reply: WorkerReply;
    try {
      if (request.type === "announce") {
        const announcement = (secure as SecureCenter).announce(request.runId, request.centers);
        reply = { type: "announced", id: request.id, announcement };
      } else if (request.type === "agree") {
        (secure as SecureCenter).agree(request.runId, request.announcements);
        reply = { type: "agreed", id: request.id };
      } else {
        const output = session.run(request.tag, request.step, request.input);
        reply = {
          type: "reply",
          id: request.id,
          output:
            secure === null
              ? output
              : secure.protect(
                  request.tag,
                  request.step,
                  request.input,
                  output,
                  session.sharedRequestDigest(request.tag, request.step, request.input),
                ),
        };
      }
    } catch (error) {
      reply = { type: "error", id: request.id, ...failure(error) };
    }
    port.postMessage(
      reply,
      reply.type === "reply" && secure === null ? transferables(reply.output) : [],
    );
  });
  port.postMessage({ type: "ready", info: centerInfo(session.data) } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ type: "failed", ...failure(error) } satisfies WorkerReply);
}
