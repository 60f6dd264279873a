/**
 * Where a center's split fields are encoded and masked ({@link runSplitMaskJob}): on the
 * calling thread ({@link inlineMasker}), or on a thread of their own ({@link MaskThread}) while
 * the calling thread goes on — in a simulation, with the next center's local step.
 *
 * Masking is most of what secure aggregation costs a center (two AES-256-CTR streams and two
 * 128-bit ring elements per value and peer), and a simulation's centers take their turns on one
 * thread: handed to a thread of its own, one center's masking overlaps the next center's step.
 * The masked vectors are the same bytes wherever they are made (the same function runs), so the
 * replies, and everything downstream, are too.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { FixedPointError, SecureAggregationError } from "./errors.js";
import { runSplitMaskJob, type SplitMaskJob, type SplitRings } from "./masks.js";

/** Starts masking a split field; the function it returns gives the masked vectors. */
export interface SplitMasker {
  /**
   * @returns the masked vectors when called (blocking until they are made)
   * @throws FixedPointError (here or when the result is taken) for a value the ring refuses
   */
  submit(job: SplitMaskJob): () => SplitRings;
}

/** Masking on the calling thread, at once. */
export const inlineMasker: SplitMasker = {
  submit(job) {
    const rings = runSplitMaskJob(job);
    return () => rings;
  },
};

/** A job as the thread receives it. */
export interface MaskRequest {
  readonly id: number;
  readonly job: SplitMaskJob;
}

/** The thread's answer to one job: the vectors, or the error that refused a value. */
export type MaskReply =
  | { readonly id: number; readonly ok: true; readonly rings: SplitRings }
  | {
      readonly id: number;
      readonly ok: false;
      readonly fixedPoint: { field: string; index: number; detail: string } | null;
      readonly message: string;
    };

/** What the thread is started with: its port and the counter it raises after each reply. */
export interface MaskWorkerData {
  readonly port: MessagePort;
  readonly replies: Int32Array;
}

/** How long a result is waited for before the thread is deemed lost (a job takes milliseconds). */
const REPLY_TIMEOUT_MS = 10 * 60 * 1000;

/** The compiled thread entry: beside this module, or (from sources, under a test runner) the build's. */
function workerEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, "maskWorker.js");
  if (existsSync(beside)) return beside;
  for (const built of [
    resolve(here, "..", "..", "..", "dist", "bundle", "maskWorker.js"),
    resolve(here, "..", "..", "..", "dist", "federation", "secureAggregation", "maskWorker.js"),
  ]) {
    if (existsSync(built)) return built;
  }
  throw new Error(`mask thread entry not found next to ${here} nor in dist/ (run npm run build)`);
}

/**
 * Masking on a thread of its own, jobs in the order submitted. The thread starts with the first
 * job and never keeps the process alive; {@link close} ends it.
 */
export class MaskThread implements SplitMasker {
  #worker: Worker | null = null;
  #port: MessagePort | null = null;
  #replies: Int32Array | null = null;
  #nextId = 0;
  /** Answers received for jobs not yet taken. */
  readonly #answers = new Map<number, MaskReply>();

  submit(job: SplitMaskJob): () => SplitRings {
    const port = this.#start();
    const id = this.#nextId++;
    const request: MaskRequest = { id, job };
    port.postMessage(request);
    let taken: SplitRings | null = null;
    return () => {
      taken ??= this.#take(id);
      return taken;
    };
  }

  /** End the thread (jobs not taken are lost). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#port?.close();
    this.#port = null;
    this.#answers.clear();
    if (worker !== null) await worker.terminate();
  }

  #start(): MessagePort {
    if (this.#port !== null) return this.#port;
    const { port1, port2 } = new MessageChannel();
    const replies = new Int32Array(new SharedArrayBuffer(4));
    const data: MaskWorkerData = { port: port2, replies };
    const worker = new Worker(workerEntry(), { workerData: data, transferList: [port2] });
    // An idle thread must not keep the process alive; results are waited for synchronously.
    worker.unref();
    port1.unref();
    this.#worker = worker;
    this.#port = port1;
    this.#replies = replies;
    return port1;
  }

  /** Block until job `id` is answered; its vectors, or its error thrown. */
  #take(id: number): SplitRings {
    const port = this.#port;
    const replies = this.#replies;
    if (port === null || replies === null) {
      throw new SecureAggregationError("the mask thread was closed before its result was taken");
    }
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    for (;;) {
      const answer = this.#answers.get(id);
      if (answer !== undefined) {
        this.#answers.delete(id);
        return unpack(answer);
      }
      const seen = Atomics.load(replies, 0);
      const message = receiveMessageOnPort(port);
      if (message !== undefined) {
        const reply = message.message as MaskReply;
        this.#answers.set(reply.id, reply);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SecureAggregationError(
          `the mask thread did not answer within ${REPLY_TIMEOUT_MS / 1000} s`,
        );
      }
      // The counter is raised right after each reply is posted.
      Atomics.wait(replies, 0, seen, Math.min(left, 1000));
    }
  }
}

function unpack(reply: MaskReply): SplitRings {
  if (reply.ok) return reply.rings;
  const f = reply.fixedPoint;
  if (f !== null) throw new FixedPointError(f.field, f.index, f.detail);
  throw new SecureAggregationError(reply.message);
}

/** The thread's answer to `request` (what maskWorker.ts posts). */
export function answer(request: MaskRequest): MaskReply {
  try {
    return { id: request.id, ok: true, rings: runSplitMaskJob(request.job) };
  } catch (error) {
    return {
      id: request.id,
      ok: false,
      fixedPoint:
        error instanceof FixedPointError
          ? { field: error.field, index: error.index, detail: error.detail }
          : null,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}
