/**
 * Messages between the aggregator's thread and a center's worker thread.
 */
import type { CenterInfo } from "./centerSession.js";
import type { RequestTag, StepName } from "./steps.js";

/** Main thread → worker: run a step. */
export interface WorkerRequest {
  readonly type: "request";
  readonly id: number;
  readonly tag: RequestTag;
  readonly step: StepName;
  // biome-ignore lint/suspicious/noExplicitAny: the step's input type depends on `step`
  readonly input: any;
}

/** Worker → main thread. */
export type WorkerReply =
  | { readonly type: "ready"; readonly info: CenterInfo }
  | { readonly type: "failed"; readonly message: string; readonly userError: boolean }
  | { readonly type: "reply"; readonly id: number; readonly output: unknown }
  | {
      readonly type: "error";
      readonly id: number;
      readonly message: string;
      readonly userError: boolean;
    };
