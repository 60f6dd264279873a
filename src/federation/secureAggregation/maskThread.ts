/**
 * Where a center's split fields are encoded and masked, and its own ring vectors (packed and
 * non-finite counts) masked ({@link runMaskJob}): on the
 * calling thread ({@link inlineMasker}), or on a thread of their own ({@link MaskThread}) while
 * the calling thread goes on — in a simulation, with the next center's local step.
 *
 * Masking is most of what secure aggregation costs a center (two AES-256-CTR streams and two
 * 128-bit ring elements per value and peer), and a simulation's centers take their turns on one
 * thread: handed to a thread of its own, one center's masking overlaps the next center's step.
 * The masked vectors are the same bytes wherever they are made (the same function runs), so the
 * replies, and everything downstream, are too.
 *
 * Each job is run once, by whichever thread claims it first (a compare-and-swap on its slot in
 * shared memory): the mask thread takes jobs in the order submitted, and the calling thread,
 * when it needs a result the mask thread has not finished, runs the jobs not yet claimed itself,
 * the last submitted first (those the mask thread would reach last). At a round's end, when the
 * last center's fields wait to be masked, both threads mask them.
 *
 * A job's vector travels through shared memory both threads hold (a staging area, reused once
 * a job is answered), not by structured clone, which serialised it into new memory and made
 * the thread read it out into more; a ring masked there is copied out into memory of its own
 * (results move to the caller, transferred). A job that finds the area full is cloned.
 */

import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from "node:worker_threads";
import { threadEntry } from "../../compute/threadEntry.js";
import { FixedPointError, SecureAggregationError } from "./errors.js";
import { RING_WORDS } from "./fixedPoint.js";
import { type MaskJob, type MaskResult, runMaskJob } from "./masks.js";

/** Starts a masking job; the function it returns gives the job's result. */
export interface Masker {
  /**
   * @returns the masked vectors when called (blocking until they are made)
   * @throws FixedPointError (here or when the result is taken) for a value the ring refuses
   */
  submit<J extends MaskJob>(job: J): () => MaskResult<J>;
}

/** Masking on the calling thread, at once. */
export const inlineMasker: Masker = {
  submit(job) {
    const result = runMaskJob(job);
    return () => result;
  },
};

/** A job as the thread receives it: its id, its claim slot, and what to mask. */
export interface MaskRequest {
  readonly id: number;
  readonly slot: number;
  readonly job: MaskJob;
}

/** The thread's answer to one job: its result, or the error that refused a value. */
export type MaskReply =
  | { readonly id: number; readonly ok: true; readonly result: MaskResult<MaskJob> }
  | {
      readonly id: number;
      readonly ok: false;
      readonly fixedPoint: {
        field: string;
        index: number;
        detail: string;
        sharedDetail: string;
      } | null;
      readonly message: string;
    };

/**
 * What the thread is started with: its port, the counter it raises after each reply, and the
 * claim slots (job j's slot holds {@link openMark}(j) until a thread claims it).
 */
export interface MaskWorkerData {
  readonly port: MessagePort;
  readonly replies: Int32Array;
  readonly claims: Int32Array;
}

/** Claim slots by default, used in turn (a round has some tens of jobs per center). */
const SLOTS = 1 << 14;

/**
 * Least ring elements a job must make to go to the thread by default: below, posting it, waking
 * the thread and taking its answer cost about what masking it here does (some 20 ns per element
 * against tens of microseconds a job), and small replies' many rounds (outliers_sim: 326 rounds
 * of 3,000 genes) only paid for the thread.
 */
const DEFAULT_MIN_THREAD_ELEMENTS = 8192;

/**
 * Doubles of shared memory a mask thread stages jobs' vectors in (32 MB): posting a job then
 * copies its vector into memory both threads already hold, where a structured clone serialised
 * it into new memory and the thread read it out into more (bodymap: posting took 0.55–0.59 s of
 * a center's thread per run, 0.02 s staged). A job that finds no room is cloned as before.
 */
const DEFAULT_STAGING_DOUBLES = 1 << 22;

/** The ring elements a job makes (both parts of a split field). */
function jobElements(job: MaskJob): number {
  return job.kind === "split" ? 2 * job.encoding.values.length : job.ring.length / RING_WORDS;
}

/**
 * What job `id`'s slot holds while it is not claimed: the job's own mark, so that a claim for a
 * job whose slot has since gone to another (a message the thread reads late) fails.
 */
function openMark(id: number): number {
  return (id % 0x3fffffff) + 1;
}

/** Claim `request`'s job for the calling thread: true if no thread had claimed it. */
export function claim(claims: Int32Array, request: MaskRequest): boolean {
  const mark = openMark(request.id);
  return Atomics.compareExchange(claims, request.slot, mark, -1) === mark;
}

/** How long a result is waited for before the thread is deemed lost (a job takes milliseconds). */
const REPLY_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Masking on a thread of its own, jobs in the order submitted, the calling thread helping when
 * it waits. The thread starts with the first job and never keeps the process alive;
 * {@link close} ends it.
 */
export class MaskThread implements Masker {
  #worker: Worker | null = null;
  #port: MessagePort | null = null;
  #replies: Int32Array | null = null;
  #claims: Int32Array | null = null;
  #nextId = 0;
  /** Jobs submitted and not yet answered, by id (in submission order). */
  readonly #open = new Map<number, MaskRequest>();
  /** Answers (the thread's, or this thread's own runs) for jobs not yet taken. */
  readonly #answers = new Map<number, MaskReply>();
  readonly #slots: number;
  /** Jobs run by the calling thread and by the mask thread so far. */
  readonly ran = { here: 0, there: 0 };
  /** Jobs sent to the thread with their vector in the staging area, and cloned (no room). */
  readonly sent = { staged: 0, cloned: 0 };

  readonly #minElements: number;
  readonly #staging: StagingArea;

  /**
   * @param options - `slots`: claim slots (jobs in flight beyond this many wait for the oldest);
   *   `minElements`: smaller jobs run at once on the calling thread; `stagingDoubles`: shared
   *   memory for jobs' vectors (jobs that find no room are cloned)
   */
  constructor(options: { slots?: number; minElements?: number; stagingDoubles?: number } = {}) {
    this.#slots = options.slots ?? SLOTS;
    this.#minElements = options.minElements ?? DEFAULT_MIN_THREAD_ELEMENTS;
    this.#staging = new StagingArea(options.stagingDoubles ?? DEFAULT_STAGING_DOUBLES);
  }

  submit<J extends MaskJob>(job: J): () => MaskResult<J> {
    if (jobElements(job) < this.#minElements) return inlineMasker.submit(job);
    const port = this.#start();
    const id = this.#nextId++;
    // The slot's previous job must be answered before the slot goes to this one.
    if (this.#open.has(id - this.#slots)) this.#settle(id - this.#slots);
    const request: MaskRequest = { id, slot: id % this.#slots, job: this.#stage(id, job) };
    Atomics.store(this.#claims as Int32Array, request.slot, openMark(id));
    this.#open.set(id, request);
    port.postMessage(request);
    let taken: MaskResult<J> | null = null;
    return () => {
      taken ??= this.#take(id) as MaskResult<J>;
      return taken;
    };
  }

  /** End the thread (jobs not taken are lost). */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#port?.close();
    this.#port = null;
    this.#open.clear();
    this.#answers.clear();
    this.#staging.clear();
    if (worker !== null) await worker.terminate();
  }

  /**
   * `job` with its vector (a split field's values, or the ring to mask) in the staging area (as
   * it is when there is no room).
   */
  #stage<J extends MaskJob>(id: number, job: J): J {
    const vector = job.kind === "split" ? job.encoding.values : job.ring;
    const staged = this.#staging.take(id, vector);
    if (staged === null) {
      this.sent.cloned++;
      return job;
    }
    this.sent.staged++;
    return job.kind === "split"
      ? { ...job, encoding: { ...job.encoding, values: staged as Float64Array } }
      : { ...job, ring: staged as Uint32Array };
  }

  #start(): MessagePort {
    if (this.#port !== null) return this.#port;
    const { port1, port2 } = new MessageChannel();
    const replies = new Int32Array(new SharedArrayBuffer(4));
    const claims = new Int32Array(new SharedArrayBuffer(4 * this.#slots));
    const data: MaskWorkerData = { port: port2, replies, claims };
    const worker = new Worker(
      threadEntry(import.meta.url, "federation/secureAggregation", "maskWorker.js"),
      { workerData: data, transferList: [port2] },
    );
    // An idle thread must not keep the process alive; results are waited for synchronously.
    worker.unref();
    port1.unref();
    this.#worker = worker;
    this.#port = port1;
    this.#replies = replies;
    this.#claims = claims;
    return port1;
  }

  /** Job `id`'s vectors (its error thrown), once {@link #settle}d. */
  #take(id: number): MaskResult<MaskJob> {
    this.#settle(id);
    const answer = this.#answers.get(id) as MaskReply;
    this.#answers.delete(id);
    return unpack(answer);
  }

  /**
   * Return once job `id` is answered: run here if the thread has not claimed it, else waited
   * for, running meanwhile the jobs the thread has not claimed, the last first.
   */
  #settle(id: number): void {
    const port = this.#port;
    const replies = this.#replies;
    const claims = this.#claims;
    if (port === null || replies === null || claims === null) {
      throw new SecureAggregationError("the mask thread was closed before its result was taken");
    }
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (!this.#answers.has(id)) {
      const seen = Atomics.load(replies, 0);
      const message = receiveMessageOnPort(port);
      if (message !== undefined) {
        this.#received(message.message as MaskReply);
        this.ran.there++;
        continue;
      }
      if (this.#helpOnce(claims)) continue;
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

  #received(reply: MaskReply): void {
    this.#open.delete(reply.id);
    this.#answers.set(reply.id, reply);
    // Answered: no thread reads its staged values any more.
    this.#staging.release(reply.id);
  }

  /** Run here the last submitted job the thread has not claimed; false if there is none. */
  #helpOnce(claims: Int32Array): boolean {
    // Ids from the newest down to the oldest still open (the map keeps submission order): no
    // copy of the open jobs for each turn of the wait.
    const oldest = this.#open.keys().next().value;
    if (oldest === undefined) return false;
    for (let id = this.#nextId - 1; id >= oldest; id--) {
      const request = this.#open.get(id);
      if (request === undefined || !claim(claims, request)) continue;
      this.#received(answer(request));
      this.ran.here++;
      return true;
    }
    return false;
  }
}

/**
 * Shared memory for the vectors of jobs in flight, taken in submission order around a circle and
 * given back when a job is answered; a region is reused once it and every region taken before it
 * are given back (jobs are answered nearly in order: the thread takes them first to last).
 */
class StagingArea {
  readonly #memory: Float64Array;
  /** Regions in use, oldest first: job id, first double, end. */
  readonly #regions: { readonly id: number; readonly start: number; readonly end: number }[] = [];
  readonly #released = new Set<number>();
  /** Where the next region starts. */
  #head = 0;

  constructor(doubles: number) {
    this.#memory = new Float64Array(new SharedArrayBuffer(8 * doubles));
  }

  /** A copy of `values` in shared memory for job `id`, or null when there is no room. */
  take<V extends Float64Array | Uint32Array>(id: number, values: V): V | null {
    const doubles = Math.ceil(values.byteLength / 8);
    const start = this.#place(doubles);
    if (start < 0) return null;
    const buffer = this.#memory.buffer;
    const view = (
      values instanceof Float64Array
        ? new Float64Array(buffer, 8 * start, values.length)
        : new Uint32Array(buffer, 8 * start, values.length)
    ) as V;
    view.set(values);
    this.#regions.push({ id, start, end: start + doubles });
    this.#head = start + doubles;
    return view;
  }

  /** Job `id`'s region (if it has one) is free once those before it are. */
  release(id: number): void {
    if (!this.#regions.some((region) => region.id === id)) return;
    this.#released.add(id);
    while (this.#regions.length > 0 && this.#released.delete(this.#regions[0].id)) {
      this.#regions.shift();
    }
    if (this.#regions.length === 0) this.#head = 0;
  }

  clear(): void {
    this.#regions.length = 0;
    this.#released.clear();
    this.#head = 0;
  }

  /** Where n doubles fit without overwriting a region in use, or −1. */
  #place(n: number): number {
    const capacity = this.#memory.length;
    if (n === 0 || n > capacity) return -1;
    if (this.#regions.length === 0) return 0;
    const oldest = this.#regions[0].start;
    const head = this.#head;
    if (head > oldest) {
      // In use: [oldest, head). Free: after head, then from 0 to oldest.
      if (head + n <= capacity) return head;
      return n <= oldest ? 0 : -1;
    }
    // Wrapped (in use: [oldest, capacity) and [0, head)): free between head and oldest.
    return head + n <= oldest ? head : -1;
  }
}

function unpack(reply: MaskReply): MaskResult<MaskJob> {
  if (reply.ok) return reply.result;
  const f = reply.fixedPoint;
  if (f !== null) throw new FixedPointError(f.field, f.index, f.detail, f.sharedDetail);
  throw new SecureAggregationError(reply.message);
}

/** The memory of a result's vectors (what the thread moves to the caller rather than copies). */
export function resultBuffers(result: MaskResult<MaskJob>): ArrayBuffer[] {
  const vectors = "coarse" in result ? [result.coarse, result.fine] : [result.ring];
  return vectors.map((v) => v.buffer as ArrayBuffer);
}

/**
 * The thread's answer to `request` (what maskWorker.ts posts). A ring masked in place in the
 * staging area is copied out: the area is reused once the job is answered.
 */
export function answer(request: MaskRequest): MaskReply {
  try {
    const result = runMaskJob(request.job);
    if ("ring" in result && result.ring.buffer instanceof SharedArrayBuffer) {
      return { id: request.id, ok: true, result: { ...result, ring: result.ring.slice() } };
    }
    return { id: request.id, ok: true, result };
  } catch (error) {
    return {
      id: request.id,
      ok: false,
      fixedPoint:
        error instanceof FixedPointError
          ? {
              field: error.field,
              index: error.index,
              detail: error.detail,
              sharedDetail: error.sharedDetail,
            }
          : null,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}
