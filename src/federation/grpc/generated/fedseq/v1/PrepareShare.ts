// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';

export interface PrepareShare {
  'gram'?: (_fedseq_v1_Float64Tensor | null);
  'samples'?: (number);
  'normalizedSums'?: (_fedseq_v1_Float64Tensor | null);
}

export interface PrepareShare__Output {
  'gram': (_fedseq_v1_Float64Tensor__Output | null);
  'samples': (number);
  'normalizedSums': (_fedseq_v1_Float64Tensor__Output | null);
}
