/**
 * The mask thread (maskThread.ts): masks each split field it is sent, answers on its port with
 * the vectors (their memory moved, not copied), and raises its counter so that a center's
 * thread blocked in `Atomics.wait` picks the answer up.
 */
import { workerData } from "node:worker_threads";
import { answer, type MaskReply, type MaskRequest, type MaskWorkerData } from "./maskThread.js";

const { port, replies } = workerData as MaskWorkerData;

port.on("message", (request: MaskRequest) => {
  const reply: MaskReply = answer(request);
  port.postMessage(
    reply,
    reply.ok
      ? [reply.rings.coarse.buffer as ArrayBuffer, reply.rings.fine.buffer as ArrayBuffer]
      : [],
  );
  Atomics.add(replies, 0, 1);
  Atomics.notify(replies, 0);
});
