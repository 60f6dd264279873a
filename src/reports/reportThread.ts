/**
 * report.html rendered on a thread of its own, while the caller writes its tables: the report
 * (vega's scenegraphs, the scatter plots' paths, 2 MB of page) is the slowest of a run's outputs
 * — 0.6–0.9 s on li_lncap and bodymap, against 0.25–0.4 s for all the tables — and by then the
 * run's other threads are idle. Started with a run's first round ({@link ReportThread.start}),
 * the thread loads the plotting libraries while the rounds run, on a core the main thread leaves
 * partly idle, and draws the dispersion plot once the dispersions are estimated
 * ({@link ReportThread.dispersionsEstimated}) while the fit goes on: that first plot also runs
 * vega's code cold, which a thread's first rendering pays (li_lncap's report: 0.92 s the first
 * time, 0.50–0.60 s again). The report is then only asked for at the end. The thread only
 * renders: the page comes back as text and the calling thread writes it, atomically.
 *
 * Importing this module loads no plotting library (html.js is imported by the thread only).
 */
import { Worker } from "node:worker_threads";
import { threadEntry } from "../compute/threadEntry.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { DispersionFigureSource, ReportInput } from "./html.js";

/**
 * What the thread is sent: the dispersion plot's numbers ahead of the report (at most once),
 * then the report's input.
 */
export type ReportMessage =
  | { readonly kind: "dispersions"; readonly source: DispersionFigureSource }
  | { readonly kind: "report"; readonly input: ReportInput };

/** What the thread answers: the page, or why not. */
export type ReportReply =
  | { readonly ok: true; readonly html: string }
  | { readonly ok: false; readonly message: string };

/**
 * A copy of `value` in which every typed array that views part of a larger buffer is its own
 * (a message copies a view's whole buffer); shared memory is left shared.
 */
function compactViews(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof SharedArrayBuffer || value.byteLength === value.buffer.byteLength)
      return value;
    return (value as unknown as { slice(): unknown }).slice();
  }
  if (Array.isArray(value))
    return value.some((v) => typeof v === "object" && v !== null) ? value.map(compactViews) : value;
  if (
    typeof value === "object" &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  )
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compactViews(v)]));
  return value;
}

/** A thread that renders one report (see the module's comment). */
export class ReportThread {
  readonly #worker: Worker;
  #failure: Error | null = null;
  #asked = false;
  #closed = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    // Unused (the run failed), the thread must not keep the process alive, nor its failure
    // to load end the process: it is reported when a report is asked for.
    worker.unref();
    worker.on("error", (error) => {
      this.#failure ??= error;
    });
  }

  /** Start the thread; it loads the plotting libraries and waits for the report's input. */
  static start(): ReportThread {
    return new ReportThread(new Worker(threadEntry(import.meta.url, "reports", "reportWorker.js")));
  }

  /**
   * The dispersion plot's numbers, once the dispersions are estimated: the thread draws the plot
   * while the analysis goes on, and the report uses it if its own numbers are the same (a refit
   * after Cook's outliers changes some: the report then draws it again).
   */
  dispersionsEstimated(source: DispersionFigureSource): void {
    if (this.#asked || this.#closed || this.#failure !== null) return;
    const message: ReportMessage = {
      kind: "dispersions",
      source: compactViews(source) as DispersionFigureSource,
    };
    this.#worker.postMessage(message);
  }

  /**
   * Render `input` on the thread (html.ts `renderReport`, with the dispersion plot drawn ahead
   * when its numbers are the report's); the thread ends afterwards (one report per thread).
   * @throws Error (the promise rejects) as renderReport, or when the thread failed, stopped or
   *   was closed
   */
  render(input: ReportInput): Promise<string> {
    if (this.#asked) return Promise.reject(new Error("a report thread renders one report"));
    this.#asked = true;
    if (this.#closed) return Promise.reject(new Error("the report thread was closed"));
    const worker = this.#worker;
    return new Promise<string>((resolve, reject) => {
      const fail = (error: Error) => {
        worker.unref();
        reject(error);
        void worker.terminate();
      };
      if (this.#failure !== null) {
        fail(this.#failure);
        return;
      }
      worker.once("error", fail);
      worker.once("exit", (code) =>
        fail(new Error(`the report thread stopped (exit code ${code})`)),
      );
      worker.once("message", (reply: ReportReply) => {
        if (reply.ok) resolve(reply.html);
        else reject(new Error(reply.message));
        void worker.terminate();
      });
      const message: ReportMessage = { kind: "report", input: compactViews(input) as ReportInput };
      try {
        worker.postMessage(message);
      } catch (error) {
        fail(error as Error);
        return;
      }
      // Waiting for the page: the thread keeps the process alive until it answers or ends.
      worker.ref();
    });
  }

  /**
   * {@link render} the report while `tables` runs on the calling thread, then write it to `file`
   * atomically, here (a signal that ends the command never leaves half a page, nor a temporary
   * file, behind). When `tables` throws, its error is the outcome once the thread has answered,
   * and no report is written.
   * @throws Error as `tables`, {@link render}, or the file system
   */
  async writeAlongside(file: string, input: ReportInput, tables: () => void): Promise<void> {
    const rendered = this.render(input);
    try {
      tables();
    } catch (error) {
      await rendered.catch(() => undefined);
      throw error;
    }
    writeFileAtomic(file, await rendered);
  }

  /** End the thread unless a report was asked of it (idempotent). */
  close(): void {
    this.#closed = true;
    if (!this.#asked) void this.#worker.terminate();
  }
}
