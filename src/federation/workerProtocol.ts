/**
 * Messages between the aggregator's thread and a center's worker thread.
 */

import type { KeyAnnouncement } from "./secureAggregation/keyAgreement.js";
import type { RequestTag, StepName } from "./steps.js";
import type { CenterInfo } from "./transport.js";

/** Main thread → worker: secure aggregation's key agreement (the worker is the center). */
export type WorkerKeyRequest =
  | {
      readonly type: "announce";
      readonly id: number;
      readonly runId: string;
      readonly centers: readonly string[];
    }
  | {
      readonly type: "agree";
      readonly id: number;
      readonly runId: string;
      readonly announcements: readonly KeyAnnouncement[];
    };

/** A center worker's credentials for secure aggregation (simulation: a throwaway PKI). */
export interface WorkerSecureSetup {
  readonly certificate: string;
  /** PKCS #8 PEM. */
  readonly key: string;
  readonly ca: string;
}

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
  | { readonly type: "announced"; readonly id: number; readonly announcement: KeyAnnouncement }
  | { readonly type: "agreed"; readonly id: number }
  | {
      readonly type: "error";
      readonly id: number;
      readonly message: string;
      readonly userError: boolean;
    };
