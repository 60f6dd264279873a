// Original file: proto/fedseq.proto

import type { Tag as _fedseq_v1_Tag, Tag__Output as _fedseq_v1_Tag__Output } from '../../fedseq/v1/Tag.js';
import type { Record as _fedseq_v1_Record, Record__Output as _fedseq_v1_Record__Output } from '../../fedseq/v1/Record.js';

export interface Evidence {
  'tag'?: (_fedseq_v1_Tag | null);
  'step'?: (string);
  'replies'?: (_fedseq_v1_Record)[];
}

export interface Evidence__Output {
  'tag': (_fedseq_v1_Tag__Output | null);
  'step': (string);
  'replies': (_fedseq_v1_Record__Output)[];
}
