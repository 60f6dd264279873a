// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';
import type { BitMask as _fedseq_v1_BitMask, BitMask__Output as _fedseq_v1_BitMask__Output } from '../../fedseq/v1/BitMask.js';

export interface NewtonState {
  'round'?: (number);
  'refit'?: (boolean);
  'beta'?: (_fedseq_v1_Float64Tensor | null);
  'mask'?: (_fedseq_v1_BitMask | null);
  'step'?: (_fedseq_v1_Float64Tensor | null);
  'stepSizes'?: (_fedseq_v1_Float64Tensor | null);
}

export interface NewtonState__Output {
  'round': (number);
  'refit': (boolean);
  'beta': (_fedseq_v1_Float64Tensor__Output | null);
  'mask': (_fedseq_v1_BitMask__Output | null);
  'step': (_fedseq_v1_Float64Tensor__Output | null);
  'stepSizes': (_fedseq_v1_Float64Tensor__Output | null);
}
