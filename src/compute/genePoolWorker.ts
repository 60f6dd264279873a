/**
 * A worker thread of a center's gene pool: keeps the datasets it is sent (shared memory, sent
 * once) and runs kernels on the slices of genes it is given, answering on its port and raising
 * its flag so that the center's thread, blocked in `Atomics.wait`, picks the reply up.
 */
import { workerData } from "node:worker_threads";
import {
  FLAG_DONE,
  FLAG_READY,
  type PoolDataset,
  type PoolReply,
  type PoolRequest,
  type PoolWorkerData,
  runKernelSlice,
} from "./genePoolProtocol.js";
import { transferables } from "./transferables.js";

const { port, flags, index } = workerData as PoolWorkerData;
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
  let reply: PoolReply;
  try {
    const dataset = datasets.get(request.id);
    if (dataset === undefined) throw new Error(`gene pool: unknown dataset ${request.id}`);
    reply = { ok: true, output: runKernelSlice(dataset, request.args) };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply, reply.ok ? transferables(reply.output) : []);
  Atomics.store(flags, index, FLAG_DONE);
  Atomics.notify(flags, index);
});

Atomics.store(flags, index, FLAG_READY);
Atomics.notify(flags, index);
