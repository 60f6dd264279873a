// Original file: proto/fedseq.proto

import type { FactorLevels as _fedseq_v1_FactorLevels, FactorLevels__Output as _fedseq_v1_FactorLevels__Output } from '../../fedseq/v1/FactorLevels.js';

export interface LevelsShare {
  'factors'?: (_fedseq_v1_FactorLevels)[];
}

export interface LevelsShare__Output {
  'factors': (_fedseq_v1_FactorLevels__Output)[];
}
