// Original file: proto/fedseq.proto

import type { Tag as _fedseq_v1_Tag, Tag__Output as _fedseq_v1_Tag__Output } from '../../fedseq/v1/Tag.js';
import type { Record as _fedseq_v1_Record, Record__Output as _fedseq_v1_Record__Output } from '../../fedseq/v1/Record.js';
import type { Evidence as _fedseq_v1_Evidence, Evidence__Output as _fedseq_v1_Evidence__Output } from '../../fedseq/v1/Evidence.js';

export interface StepRequest {
  'tag'?: (_fedseq_v1_Tag | null);
  'record'?: (_fedseq_v1_Record | null);
  'evidence'?: (_fedseq_v1_Evidence | null);
  'step'?: "record";
}

export interface StepRequest__Output {
  'tag': (_fedseq_v1_Tag__Output | null);
  'record'?: (_fedseq_v1_Record__Output | null);
  'evidence': (_fedseq_v1_Evidence__Output | null);
  'step'?: "record";
}
