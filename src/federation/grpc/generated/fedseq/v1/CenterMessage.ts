// Original file: proto/fedseq.proto

import type { Hello as _fedseq_v1_Hello, Hello__Output as _fedseq_v1_Hello__Output } from '../../fedseq/v1/Hello.js';
import type { StepReply as _fedseq_v1_StepReply, StepReply__Output as _fedseq_v1_StepReply__Output } from '../../fedseq/v1/StepReply.js';
import type { Refusal as _fedseq_v1_Refusal, Refusal__Output as _fedseq_v1_Refusal__Output } from '../../fedseq/v1/Refusal.js';

export interface CenterMessage {
  'hello'?: (_fedseq_v1_Hello | null);
  'reply'?: (_fedseq_v1_StepReply | null);
  'refusal'?: (_fedseq_v1_Refusal | null);
  'body'?: "hello"|"reply"|"refusal";
}

export interface CenterMessage__Output {
  'hello'?: (_fedseq_v1_Hello__Output | null);
  'reply'?: (_fedseq_v1_StepReply__Output | null);
  'refusal'?: (_fedseq_v1_Refusal__Output | null);
  'body'?: "hello"|"reply"|"refusal";
}
