/**
 * The mask thread (maskThread.ts): runs each masking job it is sent (unless the calling thread
 * claimed it first), answers on its port with
 * the vectors (their memory moved, not copied), and raises its counter so that a center's
 * thread blocked in `Atomics.wait` picks the answer up.
 */
import { workerData } from "node:worker_threads";
import {
  answer,
  claim,
  type MaskReply,
  type MaskRequest,
  type MaskWorkerData,
  resultBuffers,
} from "./maskThread.js";

const { port, replies, claims } = workerData as MaskWorkerData;

port.on("message", (request: MaskRequest) => {
  // The calling thread may have run it already, while it waited for another.
  if (!claim(claims, request)) return;
  const reply: MaskReply = answer(request);
  port.postMessage(reply, reply.ok ? resultBuffers(reply.result) : []);
  Atomics.add(replies, 0, 1);
  Atomics.notify(replies, 0);
});
