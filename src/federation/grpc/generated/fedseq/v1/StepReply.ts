// Original file: proto/fedseq.proto

import type { Tag as _fedseq_v1_Tag, Tag__Output as _fedseq_v1_Tag__Output } from '../../fedseq/v1/Tag.js';
import type { Record as _fedseq_v1_Record, Record__Output as _fedseq_v1_Record__Output } from '../../fedseq/v1/Record.js';
import type { StepError as _fedseq_v1_StepError, StepError__Output as _fedseq_v1_StepError__Output } from '../../fedseq/v1/StepError.js';

export interface StepReply {
  'tag'?: (_fedseq_v1_Tag | null);
  'record'?: (_fedseq_v1_Record | null);
  'error'?: (_fedseq_v1_StepError | null);
  'step'?: "record"|"error";
}

export interface StepReply__Output {
  'tag': (_fedseq_v1_Tag__Output | null);
  'record'?: (_fedseq_v1_Record__Output | null);
  'error'?: (_fedseq_v1_StepError__Output | null);
  'step'?: "record"|"error";
}
