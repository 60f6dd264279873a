// Original file: proto/fedseq.proto

import type { Welcome as _fedseq_v1_Welcome, Welcome__Output as _fedseq_v1_Welcome__Output } from '../../fedseq/v1/Welcome.js';
import type { StepRequest as _fedseq_v1_StepRequest, StepRequest__Output as _fedseq_v1_StepRequest__Output } from '../../fedseq/v1/StepRequest.js';
import type { Shutdown as _fedseq_v1_Shutdown, Shutdown__Output as _fedseq_v1_Shutdown__Output } from '../../fedseq/v1/Shutdown.js';

export interface AggregatorMessage {
  'welcome'?: (_fedseq_v1_Welcome | null);
  'request'?: (_fedseq_v1_StepRequest | null);
  'shutdown'?: (_fedseq_v1_Shutdown | null);
  'body'?: "welcome"|"request"|"shutdown";
}

export interface AggregatorMessage__Output {
  'welcome'?: (_fedseq_v1_Welcome__Output | null);
  'request'?: (_fedseq_v1_StepRequest__Output | null);
  'shutdown'?: (_fedseq_v1_Shutdown__Output | null);
  'body'?: "welcome"|"request"|"shutdown";
}
