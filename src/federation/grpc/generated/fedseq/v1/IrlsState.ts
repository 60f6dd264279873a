// Original file: proto/fedseq.proto

import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';
import type { BitMask as _fedseq_v1_BitMask, BitMask__Output as _fedseq_v1_BitMask__Output } from '../../fedseq/v1/BitMask.js';

export interface IrlsState {
  'round'?: (number);
  'refit'?: (boolean);
  'beta'?: (_fedseq_v1_Float64Tensor | null);
  'mask'?: (_fedseq_v1_BitMask | null);
  'diverged'?: (_fedseq_v1_BitMask | null);
  'nll'?: (_fedseq_v1_Float64Tensor | null);
}

export interface IrlsState__Output {
  'round': (number);
  'refit': (boolean);
  'beta': (_fedseq_v1_Float64Tensor__Output | null);
  'mask': (_fedseq_v1_BitMask__Output | null);
  'diverged': (_fedseq_v1_BitMask__Output | null);
  'nll': (_fedseq_v1_Float64Tensor__Output | null);
}
