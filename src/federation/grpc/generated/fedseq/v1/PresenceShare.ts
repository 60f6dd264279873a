// Original file: proto/fedseq.proto

import type { BitMask as _fedseq_v1_BitMask, BitMask__Output as _fedseq_v1_BitMask__Output } from '../../fedseq/v1/BitMask.js';

export interface PresenceShare {
  'present'?: (_fedseq_v1_BitMask | null);
}

export interface PresenceShare__Output {
  'present': (_fedseq_v1_BitMask__Output | null);
}
