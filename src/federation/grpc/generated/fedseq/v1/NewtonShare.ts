// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';

export interface NewtonShare {
  'round'?: (number);
  'points'?: (number);
  'nll'?: (_fedseq_v1_Float64Tensor | null);
  'residual'?: (_fedseq_v1_Float64Tensor | null);
  'information'?: (_fedseq_v1_Float64Tensor | null);
}

export interface NewtonShare__Output {
  'round': (number);
  'points': (number);
  'nll': (_fedseq_v1_Float64Tensor__Output | null);
  'residual': (_fedseq_v1_Float64Tensor__Output | null);
  'information': (_fedseq_v1_Float64Tensor__Output | null);
}
