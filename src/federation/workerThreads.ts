/**
 * Worker-thread transport: one worker per center, each loading its own data; the aggregator's
 * thread only ever sees the centers' shares.
 */

import { Worker } from "node:worker_threads";
import { threadEntry } from "../compute/threadEntry.js";
import { InputError } from "../io/errors.js";
import type { CenterSource } from "./centerData.js";
import { secureReplyBytes } from "./grpc/wireBytes.js";
import type { KeyAnnouncement } from "./secureAggregation/keyAgreement.js";
import { agreeKeys, type ProtectedReply, SecureAggregator } from "./secureAggregation/layer.js";
import { simulationPki } from "./secureAggregation/simulationCertificates.js";
import type { RequestTag, StepInput, StepName, StepOutput } from "./steps.js";
import type { CenterInfo } from "./transport.js";
import {
  byName,
  CenterError,
  receivedReply,
  type Transport,
  type TransportOptions,
} from "./transport.js";
import type {
  WorkerKeyRequest,
  WorkerReply,
  WorkerRequest,
  WorkerSecureSetup,
} from "./workerProtocol.js";

interface Pending {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

class CenterWorker {
  readonly name: string;
  readonly worker: Worker;
  info: CenterInfo | null = null;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #failure: Error | null = null;

  constructor(name: string, source: CenterSource, secure?: WorkerSecureSetup) {
    this.name = name;
    this.worker = new Worker(threadEntry(import.meta.url, "federation", "workerEntry.js"), {
      workerData: { source, secure },
    });
  }

  /** Resolves when the worker has loaded its data. */
  ready(): Promise<CenterInfo> {
    return new Promise((resolvePromise, reject) => {
      this.worker.on("message", (message: WorkerReply) => {
        if (message.type === "ready") {
          this.info = message.info;
          resolvePromise(message.info);
        } else if (message.type === "failed") {
          const error = message.userError
            ? new InputError(message.message)
            : new CenterError(this.name, message.message, false);
          reject(error);
        } else {
          const pending = this.#pending.get(message.id);
          if (pending === undefined) return;
          this.#pending.delete(message.id);
          if (message.type === "reply") pending.resolve(message.output);
          else if (message.type === "announced") pending.resolve(message.announcement);
          else if (message.type === "agreed") pending.resolve(null);
          else pending.reject(new CenterError(this.name, message.message, message.userError));
        }
      });
      const fail = (error: Error) => {
        this.#failure = new CenterError(this.name, `worker stopped: ${error.message}`, false);
        reject(this.#failure);
        for (const p of this.#pending.values()) p.reject(this.#failure);
        this.#pending.clear();
      };
      this.worker.on("error", fail);
      this.worker.on("exit", (code) => {
        if (code !== 0 || this.#pending.size > 0) fail(new Error(`exit code ${code}`));
      });
    });
  }

  request(tag: RequestTag, step: StepName, input: unknown): Promise<unknown> {
    return this.#post((id) => ({ type: "request", id, tag, step, input }) satisfies WorkerRequest);
  }

  /** Secure aggregation's key agreement, at the worker (the center). */
  keys(
    message:
      | Omit<Extract<WorkerKeyRequest, { type: "announce" }>, "id">
      | Omit<Extract<WorkerKeyRequest, { type: "agree" }>, "id">,
  ): Promise<unknown> {
    return this.#post((id) => ({ ...message, id }) as WorkerKeyRequest);
  }

  #post(make: (id: number) => WorkerRequest | WorkerKeyRequest): Promise<unknown> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolvePromise, reject) => {
      this.#pending.set(id, { resolve: resolvePromise, reject });
      this.worker.postMessage(make(id));
    });
  }
}

/** One worker thread per center. Create with {@link WorkerThreadsTransport.start}. */
export class WorkerThreadsTransport implements Transport {
  readonly centers: readonly CenterInfo[];
  readonly secure: SecureAggregator | null;
  readonly #workers: readonly CenterWorker[];
  #agreedRun: string | null = null;

  private constructor(workers: readonly CenterWorker[], secure: boolean) {
    this.#workers = workers;
    this.centers = workers.map((w) => w.info as CenterInfo);
    this.secure = secure ? new SecureAggregator(workers.map((w) => w.name)) : null;
  }

  /** Start one worker per center and wait until each has loaded its data. */
  static async start(
    sources: readonly { name: string; source: CenterSource }[],
    options: TransportOptions = {},
  ): Promise<WorkerThreadsTransport> {
    const sorted = byName(sources);
    // Simulation: a throwaway CA and center certificates made in memory for this run.
    const pki =
      options.secureAggregation === true ? simulationPki(sorted.map((s) => s.name)) : null;
    const workers = sorted.map(
      (s) =>
        new CenterWorker(
          s.name,
          s.source,
          pki === null
            ? undefined
            : {
                certificate: pki.centers[s.name].certificate,
                key: pki.centers[s.name].key.export({ type: "pkcs8", format: "pem" }) as string,
                ca: pki.trust.ca,
              },
        ),
    );
    try {
      await Promise.all(workers.map((w) => w.ready()));
    } catch (error) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw error;
    }
    return new WorkerThreadsTransport(workers, pki !== null);
  }

  async #agree(runId: string): Promise<void> {
    if (this.secure === null || this.#agreedRun === runId) return;
    const workers = this.#workers;
    await agreeKeys(runId, this.secure.centers, {
      announce: async (c, run, centers) =>
        (await workers[c].keys({ type: "announce", runId: run, centers })) as KeyAnnouncement,
      relay: async (c, run, announcements) => {
        try {
          await workers[c].keys({ type: "agree", runId: run, announcements });
        } catch (error) {
          throw new CenterError(
            workers[c].name,
            `refused the run: ${(error as Error).message}`,
            false,
          );
        }
      },
    });
    this.#agreedRun = runId;
  }

  async request<K extends StepName>(
    tag: RequestTag,
    step: K,
    inputs: readonly StepInput<K>[],
  ): Promise<StepOutput<K>[]> {
    await this.#agree(tag.runId);
    const sent = await Promise.all(this.#workers.map((w, c) => w.request(tag, step, inputs[c])));
    const outputs =
      this.secure === null
        ? sent
        : this.secure.open(tag, step, inputs, sent as ProtectedReply[], (r) =>
            secureReplyBytes(tag, step, r),
          );
    return outputs.map((output, c) =>
      receivedReply(this.#workers[c].name, step, inputs[c], output),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}
