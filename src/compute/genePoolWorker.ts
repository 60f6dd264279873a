/**
 * A worker thread of a center's gene pool: keeps the datasets it is sent (shared memory, sent
 * once) and runs kernels on the slices of genes it claims, answering on its port and raising the
 * pool's reply counter so that the center's thread, blocked in `Atomics.wait`, picks the reply up.
 */
import { workerData } from "node:worker_threads";
import {
  claimSlice,
  FLAG_READY,
  type PoolDataset,
  type PoolReply,
  type PoolRequest,
  type PoolWorkerData,
  runKernelSlice,
  type SliceOutput,
} from "./genePoolProtocol.js";
import { transferables } from "./transferables.js";

const { port, flags, index, claims, replies } = workerData as PoolWorkerData;
const datasets = new Map<number, PoolDataset>();

port.on("message", (request: PoolRequest) => {
  if (request.type === "dataset") {
    datasets.set(request.id, request.dataset);
    return;
  }
  if (request.type === "drop") {
    datasets.delete(request.id);
    return;
  }
  const { call, slices } = request;
  let reply: PoolReply;
  try {
    const dataset = datasets.get(request.id);
    if (dataset === undefined) throw new Error(`gene pool: unknown dataset ${request.id}`);
    const outputs: SliceOutput[] = [];
    const claim = () => claimSlice(claims, call, slices.length);
    for (let s = claim(); s >= 0; s = claim())
      outputs.push({ slice: s, output: runKernelSlice(dataset, slices[s]) });
    // Nobody waits for a worker that ran none of the call's slices: no answer (unread answers
    // would pile up on the port while the calling thread claims every slice itself).
    if (outputs.length === 0) return;
    reply = { ok: true, call, outputs };
  } catch (error) {
    reply = { ok: false, call, message: error instanceof Error ? error.message : String(error) };
  }
  try {
    // Each buffer once, whichever slices share it (a repeated one fails the whole message).
    port.postMessage(reply, reply.ok ? transferables(reply.outputs) : []);
  } catch (error) {
    port.postMessage({
      ok: false,
      call,
      message: `cannot send its slices: ${error instanceof Error ? error.message : String(error)}`,
    } satisfies PoolReply);
  }
  Atomics.add(replies, 0, 1);
  Atomics.notify(replies, 0);
});

Atomics.store(flags, index, FLAG_READY);
Atomics.notify(flags, index);
