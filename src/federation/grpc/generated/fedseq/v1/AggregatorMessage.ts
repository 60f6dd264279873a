// Original file: proto/fedseq.proto

import type { Welcome as _fedseq_v1_Welcome, Welcome__Output as _fedseq_v1_Welcome__Output } from '../../fedseq/v1/Welcome.js';
import type { StepRequest as _fedseq_v1_StepRequest, StepRequest__Output as _fedseq_v1_StepRequest__Output } from '../../fedseq/v1/StepRequest.js';
import type { Shutdown as _fedseq_v1_Shutdown, Shutdown__Output as _fedseq_v1_Shutdown__Output } from '../../fedseq/v1/Shutdown.js';
import type { KeyRequest as _fedseq_v1_KeyRequest, KeyRequest__Output as _fedseq_v1_KeyRequest__Output } from '../../fedseq/v1/KeyRequest.js';
import type { KeyRelay as _fedseq_v1_KeyRelay, KeyRelay__Output as _fedseq_v1_KeyRelay__Output } from '../../fedseq/v1/KeyRelay.js';

export interface AggregatorMessage {
  'welcome'?: (_fedseq_v1_Welcome | null);
  'request'?: (_fedseq_v1_StepRequest | null);
  'shutdown'?: (_fedseq_v1_Shutdown | null);
  'keyRequest'?: (_fedseq_v1_KeyRequest | null);
  'keyRelay'?: (_fedseq_v1_KeyRelay | null);
  'body'?: "welcome"|"request"|"shutdown"|"keyRequest"|"keyRelay";
}

export interface AggregatorMessage__Output {
  'welcome'?: (_fedseq_v1_Welcome__Output | null);
  'request'?: (_fedseq_v1_StepRequest__Output | null);
  'shutdown'?: (_fedseq_v1_Shutdown__Output | null);
  'keyRequest'?: (_fedseq_v1_KeyRequest__Output | null);
  'keyRelay'?: (_fedseq_v1_KeyRelay__Output | null);
  'body'?: "welcome"|"request"|"shutdown"|"keyRequest"|"keyRelay";
}
