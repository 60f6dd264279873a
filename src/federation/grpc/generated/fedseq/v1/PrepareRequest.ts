// Original file: proto/fedseq.proto

import type { FactorLevels as _fedseq_v1_FactorLevels, FactorLevels__Output as _fedseq_v1_FactorLevels__Output } from '../../fedseq/v1/FactorLevels.js';
import type { Float64Tensor as _fedseq_v1_Float64Tensor, Float64Tensor__Output as _fedseq_v1_Float64Tensor__Output } from '../../fedseq/v1/Float64Tensor.js';
import type { Hyperparameters as _fedseq_v1_Hyperparameters, Hyperparameters__Output as _fedseq_v1_Hyperparameters__Output } from '../../fedseq/v1/Hyperparameters.js';

export interface PrepareRequest {
  'formula'?: (string);
  'levels'?: (_fedseq_v1_FactorLevels)[];
  'references'?: ({[key: string]: string});
  'genes'?: (string)[];
  'dispersions'?: (_fedseq_v1_Float64Tensor | null);
  'sizeFactors'?: (_fedseq_v1_Float64Tensor | null);
  'hyperparameters'?: (_fedseq_v1_Hyperparameters | null);
}

export interface PrepareRequest__Output {
  'formula': (string);
  'levels': (_fedseq_v1_FactorLevels__Output)[];
  'references': ({[key: string]: string});
  'genes': (string)[];
  'dispersions': (_fedseq_v1_Float64Tensor__Output | null);
  'sizeFactors': (_fedseq_v1_Float64Tensor__Output | null);
  'hyperparameters': (_fedseq_v1_Hyperparameters__Output | null);
}
