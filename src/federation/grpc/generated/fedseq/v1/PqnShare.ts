// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';

export interface PqnShare {
  'round'?: (number);
  'steps'?: (number);
  'nll'?: (_fedseq_v1_Float64Tensor | null);
  'gradient'?: (_fedseq_v1_Float64Tensor | null);
  'fisher'?: (_fedseq_v1_Float64Tensor | null);
}

export interface PqnShare__Output {
  'round': (number);
  'steps': (number);
  'nll': (_fedseq_v1_Float64Tensor__Output | null);
  'gradient': (_fedseq_v1_Float64Tensor__Output | null);
  'fisher': (_fedseq_v1_Float64Tensor__Output | null);
}
