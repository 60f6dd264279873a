// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';

export interface IrlsShare {
  'round'?: (number);
  'nll'?: (_fedseq_v1_Float64Tensor | null);
  'hatMatrix'?: (_fedseq_v1_Float64Tensor | null);
  'features'?: (_fedseq_v1_Float64Tensor | null);
}

export interface IrlsShare__Output {
  'round': (number);
  'nll': (_fedseq_v1_Float64Tensor__Output | null);
  'hatMatrix': (_fedseq_v1_Float64Tensor__Output | null);
  'features': (_fedseq_v1_Float64Tensor__Output | null);
}
