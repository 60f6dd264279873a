// Original file: proto/fedseq.proto

import type { Hello as _fedseq_v1_Hello, Hello__Output as _fedseq_v1_Hello__Output } from '../../fedseq/v1/Hello.js';
import type { StepReply as _fedseq_v1_StepReply, StepReply__Output as _fedseq_v1_StepReply__Output } from '../../fedseq/v1/StepReply.js';
import type { Refusal as _fedseq_v1_Refusal, Refusal__Output as _fedseq_v1_Refusal__Output } from '../../fedseq/v1/Refusal.js';
import type { KeyAnnouncement as _fedseq_v1_KeyAnnouncement, KeyAnnouncement__Output as _fedseq_v1_KeyAnnouncement__Output } from '../../fedseq/v1/KeyAnnouncement.js';
import type { KeyAgreement as _fedseq_v1_KeyAgreement, KeyAgreement__Output as _fedseq_v1_KeyAgreement__Output } from '../../fedseq/v1/KeyAgreement.js';

export interface CenterMessage {
  'hello'?: (_fedseq_v1_Hello | null);
  'reply'?: (_fedseq_v1_StepReply | null);
  'refusal'?: (_fedseq_v1_Refusal | null);
  'announcement'?: (_fedseq_v1_KeyAnnouncement | null);
  'keyAgreement'?: (_fedseq_v1_KeyAgreement | null);
  'body'?: "hello"|"reply"|"refusal"|"announcement"|"keyAgreement";
}

export interface CenterMessage__Output {
  'hello'?: (_fedseq_v1_Hello__Output | null);
  'reply'?: (_fedseq_v1_StepReply__Output | null);
  'refusal'?: (_fedseq_v1_Refusal__Output | null);
  'announcement'?: (_fedseq_v1_KeyAnnouncement__Output | null);
  'keyAgreement'?: (_fedseq_v1_KeyAgreement__Output | null);
  'body'?: "hello"|"reply"|"refusal"|"announcement"|"keyAgreement";
}
